"""How fast the office's figures are with a year of a district's data.

Builds a throwaway database (SQLite file, or a PostgreSQL database created and dropped) with
the real migrations, fills it with bulk inserts: COMMUNITIES communities of SHOPS shops and
CARDS cards each, and REDEMPTIONS redemptions spread over a year. Then times, as the median of
a few runs each:

- the reference: a bare ``SELECT count(*) FROM redemption`` (the whole table, no index help),
- summarising the year's days into the daily summary, which happens once (the first time
  figures ask for those days; afterwards one new day a day),
- the dashboard's services for one community over the year, and for one campaign,
- the district-wide overview over the year,
- the whole /admin/dashboard page (rendered HTML) as community staff and as the district admin,

and prints each as milliseconds and as a ratio to the reference measured in the same run.

    .venv/bin/python bench/dashboard.py                      # SQLite
    .venv/bin/python bench/dashboard.py postgresql://postgres@127.0.0.1:5432/postgres
    REDEMPTIONS=200000 .venv/bin/python bench/dashboard.py   # a smaller run

`make bench` runs it on SQLite, and on PostgreSQL when BENCH_POSTGRES_URL (or the test
server at 127.0.0.1:5432) answers; the target is a page in well under a second (< 500 ms).
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, literal_column, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Campaign,
    Card,
    Community,
    Merchant,
    Offer,
    Redemption,
    Role,
    Street,
    User,
)
from app.services import dashboard, misuse, summary  # noqa: E402
from app.services.dashboard import Scope  # noqa: E402
from bench._common import ScratchDatabase  # noqa: E402

COMMUNITIES = int(os.environ.get("COMMUNITIES", 100))
STREETS = int(os.environ.get("STREETS", 12))
SHOPS = int(os.environ.get("SHOPS", 30))
CARDS = int(os.environ.get("CARDS", 2000))
REDEMPTIONS = int(os.environ.get("REDEMPTIONS", 1_000_000))
RUNS = int(os.environ.get("RUNS", 5))
CHUNK = 20_000
END = date.today() - timedelta(days=1)  # the days of the year up to yesterday
START = END - timedelta(days=364)
NO_LOGIN = "!"  # noqa: S105 - a hash no password matches; the bench signs sessions directly
CATEGORIES = ["餐饮", "美发", "超市副食", "药店", "维修", "洗衣", "水果生鲜", "早点"]


PAGE_TARGET = 0.5  # seconds: "well under a second"


def main() -> None:
    measure(sys.argv[1] if len(sys.argv) > 1 else "")


def measure(pg_url: str = "") -> tuple[str, list[tuple[str, float]]]:
    """Fill a throwaway database, time everything, print it; return (backend, figures)."""
    with tempfile.TemporaryDirectory() as tmp:
        database = ScratchDatabase(pg_url, "linli_bench", Path(tmp) / "bench.sqlite")
        try:
            return run(database.url, Path(tmp))
        finally:
            database.drop()


def figures(seconds: int = 10) -> list:
    """The benchmark's lines for docs/benchmarks.md (bench/run_all.py); `seconds` is unused."""
    from bench._common import Figure, backends

    lines = []
    for url in backends():
        backend, measured = measure(url)
        reference = measured[0][1]
        for label, seconds_taken in measured[1:]:
            page = label.startswith("page")
            lines.append(
                Figure(
                    f"figures, {label} ({backend}, {REDEMPTIONS:,} uses)",
                    f"{seconds_taken * 1000:.0f} ms",
                    f"count(*) {reference * 1000:.1f} ms",
                    round(seconds_taken / reference, 2),
                    f"< {PAGE_TARGET * 1000:.0f} ms" if page else "—",
                    seconds_taken < PAGE_TARGET if page else None,
                    f"median of {RUNS}" if "once" not in label else "first time only",
                )
            )
    return lines


def run(url: str, tmp: Path) -> tuple[str, list[tuple[str, float]]]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(tmp / "instance"),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        backend = db.engine.dialect.name
        started = time.perf_counter()
        staff_id, admin_id, community_id, campaign_id = fill()
        print(
            f"{backend}: {COMMUNITIES} communities, {COMMUNITIES * SHOPS} shops, "
            f"{COMMUNITIES * CARDS} cards, {REDEMPTIONS} redemptions "
            f"filled in {time.perf_counter() - started:.0f} s"
        )
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        year = (START, END)
        community = Scope(community_id, None, *year)
        campaign = Scope(community_id, campaign_id, *year)
        district = Scope(None, None, *year)

        def services(scope):
            dashboard.overview(db.session, scope)
            if scope.community_id is not None:
                by_bills = literal_column("bills_fen").desc()  # the page's default order
                db.session.execute(
                    dashboard.merchant_totals(scope).order_by(by_bills).limit(50)
                ).all()
                dashboard.category_totals(db.session, scope)
                misuse.findings(db.session, scope)

        reference = median(lambda: db.session.scalar(select(func.count()).select_from(Redemption)))
        started = time.perf_counter()
        summary.close_days(db.session, START, summary.closed_until(END))
        summarised = time.perf_counter() - started
        figures = [
            ("SELECT count(*) FROM redemption (reference)", reference),
            ("summarising a year of days (once, then daily)", summarised),
            ("services: one community, one year", median(lambda: services(community))),
            ("services: one campaign, one year", median(lambda: services(campaign))),
            ("services: district overview, one year", median(lambda: services(district))),
        ]
        staff = signed_in(app, staff_id)
        admin = signed_in(app, admin_id)
        query = f"from={START.isoformat()}&to={END.isoformat()}"
        for label, client, path in [
            ("page: /admin/dashboard as staff, one year", staff, f"/admin/dashboard?{query}"),
            ("page: as staff, one campaign", staff, f"/admin/dashboard?campaign={campaign_id}"),
            ("page: as district admin, one year", admin, f"/admin/dashboard?{query}"),
        ]:
            figures.append((label, median(lambda c=client, p=path: fetch(c, p))))
        for label, seconds in figures:
            print(f"  {label:<48} {seconds * 1000:8.1f} ms  {seconds / reference:6.2f}× reference")
        return backend, figures


def median(work) -> float:
    work()  # warm caches and connections
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
        db.session.rollback()
    return statistics.median(times)


class Client(FlaskClient):
    """Each request in an app context of its own, as in production (not the bench's)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def signed_in(app, user_id):
    app.test_client_class = Client
    client = app.test_client()
    user = db.session.get(User, user_id)
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def fetch(client, path) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")


def issued_on(n: int) -> datetime:
    """When the bench's n-th card of a community was handed out: one day of the year each."""
    day = START + timedelta(days=n % 365)
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)


def fill() -> tuple[int, int, int, int]:
    """Insert the district in bulk; return ids of a staff member, the admin, one community."""
    rng = random.Random(2020_05_12)  # noqa: S311 - bench data
    session = db.session
    now = datetime.now(UTC)
    admin = User(
        role=Role.DISTRICT_ADMIN, name="区管理员", username="admin", password_hash=NO_LOGIN
    )
    session.add(admin)
    session.execute(
        insert(Street),
        [
            {"name": f"街道{s:02d}", "district": "汉阳区", "staff_may_act": False,
             "created_at": now}
            for s in range(STREETS)
        ],
    )  # fmt: skip
    streets = session.scalars(select(Street.id).order_by(Street.id)).all()
    session.execute(
        insert(Community),
        [
            {"name": f"社区{c:03d}", "slug": f"c{c:03d}", "street_id": streets[c % STREETS],
             "district": "汉阳区", "households": 1500 + 37 * c, "residents": 4000 + 91 * c,
             "created_at": now}
            for c in range(COMMUNITIES)
        ],
    )  # fmt: skip
    communities = session.scalars(select(Community.id).order_by(Community.id)).all()
    session.execute(
        insert(Merchant),
        [
            {"community_id": cid, "name": f"店{m:02d}", "category": CATEGORIES[m % len(CATEGORIES)],
             "address": "", "phone": "", "hours": "", "note": "", "status": "active",
             "status_reason": "", "created_at": now}
            for cid in communities
            for m in range(SHOPS)
        ],
    )  # fmt: skip
    session.execute(
        insert(Campaign),
        [
            {"community_id": cid, "name": "邻里互助消费卡", "code": "ZJH", "kind": "card",
             "status": "active", "funding": "community" if cid % 2 else "merchant",
             "valid_from": START, "valid_until": END + timedelta(days=30), "uses_per_card": 100,
             "daily_uses_per_merchant": 2, "cards_per_household": 2, "spent_fen": 0,
             "default_rule": {"v": 1, "kind": "percent", "pay_permille": 800, "cap_fen": None,
                              "min_bill_fen": None},
             "default_rule_text": "8折", "description": "", "created_at": now}
            for cid in communities
        ],
    )  # fmt: skip
    staff = User(role=Role.STAFF, name="工作人员", username="staff", password_hash=NO_LOGIN,
                 community_id=communities[0])  # fmt: skip
    session.add(staff)
    session.flush()
    campaign_of = dict(session.execute(select(Campaign.community_id, Campaign.id)).all())
    shops_of: dict[int, list[int]] = {}
    for mid, cid in session.execute(select(Merchant.id, Merchant.community_id)):
        shops_of.setdefault(cid, []).append(mid)
    session.execute(
        insert(Offer),
        [
            {"community_id": cid, "campaign_id": campaign_of[cid], "merchant_id": mid,
             "rule": None, "rule_text": "", "status": "active", "created_at": now}
            for cid, shops in shops_of.items()
            for mid in shops
        ],
    )  # fmt: skip
    for cid in communities:
        session.execute(
            insert(Card),
            [
                {"community_id": cid, "campaign_id": campaign_of[cid],
                 "serial": f"C{cid:03d}-{n:04d}", "pin": "0000",
                 "token": secrets.token_hex(13).upper(), "status": "issued", "uses_count": 0,
                 "household": f"{n % 18 + 1}-{n % 3 + 1}-{n // 54 + 101}", "void_reason": "",
                 "issued_at": issued_on(n),
                 "created_at": now}
                for n in range(CARDS)
            ],
        )  # fmt: skip
    cards_of: dict[int, list[int]] = {}
    for card_id, cid in session.execute(select(Card.id, Card.community_id)):
        cards_of.setdefault(cid, []).append(card_id)
    rules = {0: (800, "8折"), 1: (600, "6折"), 2: (None, "满100减10")}
    rows = []
    per_community = REDEMPTIONS // COMMUNITIES
    for cid in communities:
        shops, cards = shops_of[cid], cards_of[cid]
        for n in range(per_community):
            day = START + timedelta(days=rng.randrange(365))
            shop = rng.choice(shops)
            permille, rule = rules[shop % 3]
            bill = rng.randrange(1000, 30000)
            if permille is None:
                discount = 1000 if bill >= 10000 else 0
            else:
                discount = (bill * (1000 - permille) + 500) // 1000
            moment = datetime(day.year, day.month, day.day, rng.randrange(0, 14), tzinfo=UTC)
            rows.append(
                {"community_id": cid, "campaign_id": campaign_of[cid],
                 "card_id": rng.choice(cards), "merchant_id": shop, "bill_fen": bill,
                 "discount_fen": discount, "paid_fen": bill - discount, "rule_text": rule,
                 "created_at": moment, "local_day": day, "idempotency_key": f"b-{cid}-{n}",
                 "channel": "web", "status": "void" if n % 97 == 0 else "ok", "void_reason": ""}
            )  # fmt: skip
            if len(rows) >= CHUNK:
                session.execute(insert(Redemption), rows)
                rows.clear()
    if rows:
        session.execute(insert(Redemption), rows)
    session.commit()
    return staff.id, admin.id, communities[0], campaign_of[communities[0]]


if __name__ == "__main__":
    main()
