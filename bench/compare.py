"""How fast 互看互比 answers with a district's year: the street's page and the district's page.

Fills a throwaway database as `bench/dashboard.py` does (COMMUNITIES communities over STREETS
streets, with households; REDEMPTIONS uses over a year; cards handed out over the year, each
shop in its community's campaign), adds residents confirmed on the help board, confirmed help
posts and refused attempts (bursts at a shop, cards tried at several shops) so every measure
has something to count, and then times through the real app (Flask's test client, each
request in its own app context, signed in as the biggest street's staff and as the district
admin):

- /admin/compare (the biggest street's communities side by side) and its .xlsx export,
- /admin/compare/district (the district's streets side by side) and its .xlsx export,

for the page's own period (last month, against the month before) and for a year, each against
the reference: the same figures worked out by raw SQL written here (GROUP BY over the uses,
cards, offers, help posts, residents, attempts and volunteers' tables, for the period and the
one before), timed in the same loop, alternating with the page. Before timing, each page's CSV
export is checked against those raw figures, measure by measure, row by row.

Reported: the median wall time of each, the ratio page / raw SQL, and the CPU spent per
request: this process's (time.process_time; for SQLite that includes the database's work,
which runs in the process) and, on PostgreSQL, the server's backends for this database (from
/proc/<pid>/stat). On a loaded machine the CPU figures are the steadier ones.

    .venv/bin/python bench/compare.py                      # SQLite
    .venv/bin/python bench/compare.py postgresql://postgres@127.0.0.1:5432/postgres
    REDEMPTIONS=100000 .venv/bin/python bench/compare.py   # a smaller run

BENCH_SQLITE_FILE=/tmp/compare.sqlite keeps the SQLite database in that file, and a later run
of the same day times it again without filling it (the data's year ends yesterday).

`make bench` runs it on SQLite, and on PostgreSQL when BENCH_POSTGRES_URL (or the test server
at 127.0.0.1:5432) answers. The target: each page in well under a second (< 500 ms).
"""

from __future__ import annotations

import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import Date, bindparam, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import local_day_bounds, local_today  # noqa: E402
from app.database import UTCDateTime  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import AttemptLog, Community, HelpPost, Redemption, Role, Street, User  # noqa: E402
from app.services import compare  # noqa: E402
from bench import dashboard as data  # noqa: E402
from bench._common import ScratchDatabase, cpu_seconds  # noqa: E402

RUNS = int(os.environ.get("RUNS", 5))
RESIDENTS = int(os.environ.get("RESIDENTS", 40))  # confirmed residents a community
HELP_POSTS = int(os.environ.get("HELP_POSTS", 60))  # confirmed help posts a community
ATTEMPTS = int(os.environ.get("ATTEMPTS", 200))  # refused attempts a community, over the year
PAGE_TARGET = 0.5  # seconds: "well under a second"
PG_SERIAL = {"options": "-c max_parallel_workers_per_gather=0"}
THRESHOLDS = {"满100减10": 10_000}  # the bench's 满减 rule (bench/dashboard.py) and its 满 amount
RULES = ["8折", "6折", "满100减10"]  # bench/dashboard.py: a shop's rule is RULES[shop id % 3]


def main() -> None:
    measure(sys.argv[1] if len(sys.argv) > 1 else "")


def measure(pg_url: str = "") -> tuple[str, list[dict]]:
    """Fill a throwaway database, check and time the pages, print; return (backend, rows)."""
    kept = os.environ.get("BENCH_SQLITE_FILE")
    with tempfile.TemporaryDirectory() as tmp:
        if kept and not pg_url:  # a file filled by an earlier run (of the same day) is kept
            return run(f"sqlite:///{Path(kept).resolve()}", Path(tmp))
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
        for m in measured:
            lines.append(
                Figure(
                    f"互看互比, {m['label']} ({backend}, {data.REDEMPTIONS:,} uses)",
                    describe(m, "page").split(",")[0],
                    f"raw SQL of the same figures: {describe(m, 'raw')}",
                    round(m["page"] / m["raw"], 2),
                    f"< {PAGE_TARGET * 1000:.0f} ms",
                    m["page"] < PAGE_TARGET,
                    f"CPU {cpu_of(m, 'page') / cpu_of(m, 'raw'):.2f}× the raw SQL's; median of "
                    f"{RUNS}, alternating with it; every figure equal",
                )
            )
    return lines


def run(url: str, tmp: Path) -> tuple[str, list[dict]]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(tmp / "instance"),
            "RATELIMIT_STORAGE_URI": "memory://",
            # PostgreSQL: no parallel workers, so all of a query's CPU is in the backend whose
            # /proc/<pid>/stat is read (the same for the page and for the raw SQL)
            **(
                {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 300, "connect_args": PG_SERIAL}}
                if url.startswith("postgresql")
                else {}
            ),
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        backend = db.engine.dialect.name
        if db.session.scalar(select(User.id).where(User.username == "street")) is None:
            started = time.perf_counter()
            data.fill()
            fill_more()
            street_id, size = biggest_street()
            db.session.add(
                User(
                    role=Role.STREET_STAFF,
                    name="街道工作人员",
                    username="street",
                    password_hash=data.NO_LOGIN,
                    street_id=street_id,
                )
            )
            db.session.commit()
            print(
                f"{backend}: {data.COMMUNITIES} communities in {data.STREETS} streets, "
                f"{data.REDEMPTIONS} uses filled in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        analyse()
        street_id, size = biggest_street()
        staff = data.signed_in(app, user_named("street"))
        admin = data.signed_in(app, user_named("admin"))
        today = local_today()
        month = compare.Period.of_month((today.replace(day=1) - timedelta(days=1)), today)
        year = compare.Period.of_days(data.START, data.END)
        span = f"from={data.START.isoformat()}&to={data.END.isoformat()}"
        street_ids = community_ids(street_id)
        district = streets_of_district()
        district_ids = [cid for ids in district.values() for cid in ids]
        pages = [
            (f"street ({size} communities), last month", staff, "/admin/compare", month),
            ("street, last month, .xlsx", staff, "/admin/compare?export=xlsx", month),
            (f"street, one year ({span})", staff, f"/admin/compare?{span}", year),
            ("district (12 streets), last month", admin, "/admin/compare/district", month),
            ("district, last month, .xlsx", admin, "/admin/compare/district?export=xlsx", month),
            ("district, one year", admin, f"/admin/compare/district?{span}", year),
        ]
        results = []
        for label, client, path, period in pages:
            on_district = "district" in path
            ids = district_ids if on_district else street_ids

            def raw(ids=ids, period=period, on_district=on_district):
                with db.engine.connect() as connection:
                    now = raw_figures(connection, ids, period.start, period.end)
                    before = raw_figures(
                        connection, ids, period.previous_start, period.previous_end
                    )
                if on_district:
                    now, before = by_street(now, district), by_street(before, district)
                return now, before

            if "xlsx" not in path:
                check(client, path, raw(), names(on_district, district))
            m = alternate(lambda c=client, p=path: data.fetch(c, p), raw)
            m["label"] = label
            results.append(m)
            print(f"  {label:<50} {describe(m, 'page')}  raw SQL {describe(m, 'raw')}", flush=True)
        return backend, results


def describe(m: dict, name: str) -> str:
    """Write one side of a measurement: wall ms, CPU ms (here + the database server's)."""
    cpu = f"{m[name + '_cpu'] * 1000:.0f}"
    if m[name + "_server_cpu"]:
        cpu += f" + {m[name + '_server_cpu'] * 1000:.0f} server"
    ratio = ""
    if name == "page":
        cpu_ratio = cpu_of(m, "page") / cpu_of(m, "raw")
        ratio = f", {m['page'] / m['raw']:.2f}× raw SQL, CPU {cpu_ratio:.2f}×"
    return f"{m[name] * 1000:.0f} ms (CPU {cpu} ms){ratio}"


def cpu_of(m: dict, name: str) -> float:
    """CPU seconds of one request: this process's and the database server's."""
    return m[name + "_cpu"] + m[name + "_server_cpu"]


def user_named(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def analyse() -> None:
    """Give the planner its statistics, and PostgreSQL its visibility map (as autovacuum
    would on a database in use), so index-only scans are possible on both."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def alternate(page, raw) -> dict:
    """Time `page` and `raw` in turns (after one of each to warm up); return the medians of
    their wall times, of this process's CPU and of the database server's CPU (PostgreSQL's
    backends of this database, from /proc; SQLite works inside this process)."""
    page()
    raw()
    times: dict[str, list] = {}
    for _ in range(RUNS):
        for name, work in (("page", page), ("raw", raw)):
            backends = server_pids()
            wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu(backends)
            work()
            times.setdefault(name + "_server_cpu", []).append(server_cpu(backends) - server)
            times.setdefault(name + "_cpu", []).append(time.process_time() - cpu)
            times.setdefault(name, []).append(time.perf_counter() - wall)
    return {key: statistics.median(values) for key, values in times.items()}


def server_pids() -> list[int]:
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as connection:
        return connection.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()


def server_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


# --- what the bench adds to bench/dashboard.py's data ------------------------------------


def fill_more() -> None:
    """Residents confirmed over the year, confirmed help posts and refused attempts."""
    rng = random.Random(19)  # noqa: S311 - bench data
    session = db.session
    now = datetime.now(UTC)
    communities = session.scalars(select(Community.id).order_by(Community.id)).all()
    session.execute(
        insert(User),
        [
            {"role": "resident", "name": f"居民{n}", "phone": f"1{cid:04d}{n:06d}",
             "password_hash": data.NO_LOGIN, "community_id": cid, "household": f"1-1-{n}",
             "confirmed_at": moment(rng, data.START, 365) if n % 8 else None,
             "active": n % 17 != 0, "created_at": now}
            for cid in communities
            for n in range(RESIDENTS)
        ],
    )  # fmt: skip
    residents: dict[int, list[int]] = {}
    for uid, cid in session.execute(
        select(User.id, User.community_id).where(User.role == Role.RESIDENT)
    ):
        residents.setdefault(cid, []).append(uid)
    posts = []
    for cid in communities:
        people = residents[cid]
        for n in range(HELP_POSTS):
            author, taker = rng.sample(people, 2)
            closed = moment(rng, data.START, 365)
            confirmed = n % 5 != 0
            posts.append(
                {"community_id": cid, "kind": "request" if n % 2 else "offer",
                 "category": "shopping", "title": f"帮忙{n}", "details": "", "when_text": "",
                 "area": "", "status": "confirmed" if confirmed else "done",
                 "author_id": author, "taker_id": taker, "created_at": closed,
                 "taken_at": closed, "done_at": closed, "closed_at": closed if confirmed else None,
                 "minutes": 30 * rng.randrange(1, 8) if confirmed else None,
                 "points": 10 if confirmed else None, "hidden": False, "hidden_reason": ""}
            )  # fmt: skip
    session.execute(insert(HelpPost), posts)
    shops: dict[int, list[int]] = {}
    for mid, cid in session.execute(text("SELECT id, community_id FROM merchant")):
        shops.setdefault(cid, []).append(mid)
    cards: dict[int, list[int]] = {}
    for card_id, cid in session.execute(text("SELECT id, community_id FROM card")):
        cards.setdefault(cid, []).append(card_id)
    last_month = (local_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    attempts = []
    for cid in communities:
        for _n in range(ATTEMPTS):
            attempts.append(
                attempt(cid, rng.choice(shops[cid]), rng.choice(cards[cid]), moment(rng))
            )
        if cid % 4 == 0:  # someone trying serials at one shop: 12 refusals in 6 minutes
            at = moment(rng, last_month, 28)
            shop = rng.choice(shops[cid])
            attempts += [
                attempt(cid, shop, None, at + timedelta(seconds=30 * k), f"ZZZ-{k:04d}")
                for k in range(12)
            ]
        if cid % 3 == 0:  # one card tried at four shops within ten minutes
            at = moment(rng, last_month, 28)
            card = rng.choice(cards[cid])
            attempts += [
                attempt(cid, shop, card, at + timedelta(minutes=2 * k))
                for k, shop in enumerate(rng.sample(shops[cid], 4))
            ]
    session.execute(insert(AttemptLog), attempts)
    plant_misuse(rng, shops, cards, last_month)
    session.commit()


def plant_misuse(rng, shops, cards, month: date) -> None:
    """In every fifth community, last month: a card used at one shop again and again, bills
    bunched just over a shop's 满100 threshold, and a shop where a card reaches the daily
    limit (2) every day; so each misuse check has findings to count."""
    session = db.session
    campaign_of = dict(session.execute(text("SELECT community_id, id FROM campaign")).all())
    rows = []

    def use(cid, shop, card, day, bill, discount, rule, key):
        at = datetime(day.year, day.month, day.day, 2, rng.randrange(60), tzinfo=UTC)
        rows.append(
            {"community_id": cid, "campaign_id": campaign_of[cid], "card_id": card,
             "merchant_id": shop, "bill_fen": bill, "discount_fen": discount,
             "paid_fen": bill - discount, "rule_text": rule, "created_at": at, "local_day": day,
             "idempotency_key": f"plant-{key}", "channel": "web", "status": "ok",
             "void_reason": ""}
        )  # fmt: skip

    for cid in sorted(shops):
        if cid % 5:
            continue
        by_rule = {rule: [m for m in shops[cid] if m % 3 == n] for n, rule in enumerate(RULES)}
        card = rng.choice(cards[cid])
        shop = by_rule["8折"][0]
        for k in range(12):
            use(cid, shop, card, month + timedelta(days=2 * k), 5000, 1000, "8折", f"{cid}-p{k}")
        shop = by_rule["满100减10"][0]
        for k in range(12):
            day = month + timedelta(days=rng.randrange(28))
            use(cid, shop, rng.choice(cards[cid]), day, 10_000 + rng.randrange(400), 1000,
                "满100减10", f"{cid}-t{k}")  # fmt: skip
        shop, card = by_rule["6折"][0], rng.choice(cards[cid])
        for k in range(28):
            for n in range(2):
                use(cid, shop, card, month + timedelta(days=k), 2000, 800, "6折", f"{cid}-d{k}-{n}")
    session.execute(insert(Redemption), rows)


def moment(rng, start: date | None = None, days: int = 365) -> datetime:
    """A whole second of a random day from `start` (the bench's year by default)."""
    day = (start or data.START) + timedelta(days=rng.randrange(days))
    return datetime(day.year, day.month, day.day, rng.randrange(0, 14), rng.randrange(60),
                    rng.randrange(60), tzinfo=UTC)  # fmt: skip


def attempt(cid, shop, card, at, ref="") -> dict:
    return {"community_id": cid, "merchant_id": shop, "card_id": card, "card_ref": ref,
            "code": "card_not_found" if card is None else "daily_limit", "created_at": at,
            "bill_fen": None, "channel": "web", "ip": ""}  # fmt: skip


def biggest_street() -> tuple[int, int]:
    """Return the street with most communities (the first of them), and how many it has."""
    rows = db.session.execute(
        select(Community.street_id, db.func.count())
        .group_by(Community.street_id)
        .order_by(db.func.count().desc(), Community.street_id)
    ).first()
    return rows[0], rows[1]


def community_ids(street_id: int) -> list[int]:
    return db.session.scalars(select(Community.id).where(Community.street_id == street_id)).all()


def streets_of_district() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for sid, cid in db.session.execute(select(Community.street_id, Community.id)):
        found.setdefault(sid, []).append(cid)
    return found


def names(on_district: bool, district: dict) -> dict[str, int]:
    """Return {name: id} of the rows a page shows: communities, or streets."""
    model = Street if on_district else Community
    return dict(db.session.execute(select(model.name, model.id)).all())


def by_street(values: dict[str, dict[int, int]], district: dict) -> dict[str, dict[int, int]]:
    return {
        key: {sid: sum(per.get(cid, 0) for cid in ids) for sid, ids in district.items()}
        for key, per in values.items()
    }


# --- the reference: the same figures by raw SQL -------------------------------------------

SQL = {
    "uses": """
        SELECT r.community_id, COUNT(*), SUM(r.bill_fen),
               SUM(CASE WHEN c.funding = 'merchant' THEN r.discount_fen ELSE 0 END),
               SUM(CASE WHEN c.funding = 'merchant' THEN 0 ELSE r.discount_fen END),
               COUNT(DISTINCT r.card_id)
        FROM redemption r JOIN campaign c ON c.id = r.campaign_id
        WHERE r.community_id IN :ids AND r.status = 'ok'
          AND r.local_day >= :start AND r.local_day <= :end
        GROUP BY r.community_id""",
    "shops": """
        SELECT o.community_id, COUNT(DISTINCT o.merchant_id)
        FROM offer o
        JOIN campaign c ON c.id = o.campaign_id
        JOIN merchant m ON m.id = o.merchant_id
        WHERE o.community_id IN :ids AND o.status = 'active' AND m.status = 'active'
          AND c.status <> 'draft' AND c.valid_from <= :end AND c.valid_until >= :start
        GROUP BY o.community_id""",
    "cards_issued": """
        SELECT community_id, COUNT(*) FROM card
        WHERE community_id IN :ids AND issued_at >= :since AND issued_at < :until
          AND replaces_id IS NULL
        GROUP BY community_id""",
    "households_reached": """
        SELECT community_id, COUNT(DISTINCT household) FROM card
        WHERE community_id IN :ids AND status <> 'new' AND household IS NOT NULL
          AND issued_at < :until
        GROUP BY community_id""",
    "help": """
        SELECT community_id, COUNT(*), SUM(minutes) FROM help_post
        WHERE community_id IN :ids AND status = 'confirmed'
          AND closed_at >= :since AND closed_at < :until
        GROUP BY community_id""",
    "residents": """
        SELECT community_id, COUNT(*) FROM users
        WHERE community_id IN :ids AND role = 'resident' AND active = :yes
          AND confirmed_at IS NOT NULL AND confirmed_at < :until
        GROUP BY community_id""",
    "volunteers": """
        SELECT a.community_id, COUNT(DISTINCT a.id),
               COUNT(DISTINCT CASE WHEN s.status = 'signed' AND s.minutes > 0
                                   THEN s.volunteer_id END),
               SUM(CASE WHEN s.status = 'signed' THEN s.minutes ELSE 0 END)
        FROM volunteer_activity a LEFT JOIN volunteer_signup s ON s.activity_id = a.id
        WHERE a.community_id IN :ids AND a.status = 'closed'
          AND a.starts_at >= :since AND a.starts_at < :until
        GROUP BY a.community_id""",
    # The misuse checks (services.misuse), each a GROUP BY of its own.
    "repeat_pairs": """
        WITH pairs AS (
            SELECT community_id, card_id, merchant_id, COUNT(*) AS n FROM redemption
            WHERE community_id IN :ids AND status = 'ok'
              AND local_day >= :start AND local_day <= :end
            GROUP BY community_id, card_id, merchant_id),
        usual AS (
            SELECT community_id, CAST(5 * SUM(n) AS BIGINT) / COUNT(*) AS at_least
            FROM pairs GROUP BY community_id)
        SELECT p.community_id, COUNT(*) FROM pairs p
        JOIN usual u ON u.community_id = p.community_id
        WHERE p.n >= 8 AND p.n >= u.at_least
        GROUP BY p.community_id""",
    "thresholds": """
        SELECT community_id, COUNT(*) FROM (
            SELECT community_id, merchant_id,
                   SUM(CASE WHEN bill_fen >= :at AND bill_fen < :at + :step
                            THEN 1 ELSE 0 END) AS near,
                   SUM(CASE WHEN bill_fen >= :at + :step AND bill_fen < :at + 2 * :step
                            THEN 1 ELSE 0 END) AS above
            FROM redemption
            WHERE community_id IN :ids AND status = 'ok' AND rule_text = :rule
              AND local_day >= :start AND local_day <= :end
            GROUP BY community_id, merchant_id) bands
        WHERE near >= 8 AND near >= 3 * (CASE WHEN above > 1 THEN above ELSE 1 END)
        GROUP BY community_id""",
    "daily_limit": """
        WITH live AS (
            SELECT r.community_id, r.campaign_id, r.merchant_id, r.card_id, r.local_day,
                   c.daily_uses_per_merchant AS cap
            FROM redemption r JOIN campaign c ON c.id = r.campaign_id
            WHERE r.community_id IN :ids AND r.status = 'ok'
              AND r.local_day >= :start AND r.local_day <= :end
              AND c.daily_uses_per_merchant >= 2),
        active AS (
            SELECT campaign_id, merchant_id, COUNT(DISTINCT local_day) AS days
            FROM live GROUP BY campaign_id, merchant_id),
        full_days AS (
            SELECT community_id, campaign_id, merchant_id, local_day FROM live
            GROUP BY community_id, campaign_id, merchant_id, card_id, local_day, cap
            HAVING COUNT(*) >= cap),
        capped AS (
            SELECT community_id, campaign_id, merchant_id, COUNT(DISTINCT local_day) AS days
            FROM full_days GROUP BY community_id, campaign_id, merchant_id)
        SELECT k.community_id, COUNT(*) FROM capped k
        JOIN active a ON a.campaign_id = k.campaign_id AND a.merchant_id = k.merchant_id
        WHERE k.days >= 5 AND k.days * 100 >= 80 * a.days
        GROUP BY k.community_id""",
    # Refused attempts: at one shop, 10 within 10 minutes; one card at 3 shops within 10.
    "bursts": """
        WITH a AS (
            SELECT id, community_id, merchant_id, created_at,
                   CASE WHEN card_ref <> '' THEN card_ref
                        WHEN card_id IS NOT NULL THEN CAST(card_id AS VARCHAR(20))
                        ELSE '' END AS card_key
            FROM attempt_log
            WHERE community_id IN :ids AND created_at >= :since AND created_at < :until
              AND merchant_id IS NOT NULL),
        at_shop AS (
            SELECT x.community_id, x.merchant_id, COUNT(*) AS n FROM a x
            JOIN a y ON y.community_id = x.community_id AND y.merchant_id = x.merchant_id
                    AND y.created_at <= x.created_at AND y.created_at >= {ten_minutes_before}
            GROUP BY x.community_id, x.merchant_id, x.id),
        of_card AS (
            SELECT x.community_id, x.card_key, COUNT(DISTINCT y.merchant_id) AS n FROM a x
            JOIN a y ON y.community_id = x.community_id AND y.card_key = x.card_key
                    AND y.created_at <= x.created_at AND y.created_at >= {ten_minutes_before}
            WHERE x.card_key <> ''
            GROUP BY x.community_id, x.card_key, x.id)
        SELECT community_id, COUNT(DISTINCT merchant_id), 0 FROM at_shop WHERE n >= 10
        GROUP BY community_id
        UNION ALL
        SELECT community_id, 0, COUNT(DISTINCT card_key) FROM of_card WHERE n >= 3
        GROUP BY community_id""",
    # Cards locked after five wrong PINs within the hour (the bench releases none).
    "locked": """
        SELECT community_id, COUNT(*) FROM (
            SELECT community_id, card_id FROM attempt_log
            WHERE community_id IN :ids AND code = 'wrong_pin' AND created_at > :hour_ago
              AND card_id IS NOT NULL
            GROUP BY community_id, card_id HAVING COUNT(*) >= 5) locked
        GROUP BY community_id""",
}
TEN_MINUTES_BEFORE = {
    "sqlite": "datetime(x.created_at, '-600 seconds')",
    "postgresql": "x.created_at - INTERVAL '10 minutes'",
}


def raw_figures(connection, ids: list[int], start: date, end: date) -> dict[str, dict[int, int]]:
    """Return {measure key: {community id: value}} worked out by the SQL above."""
    since, until = local_day_bounds(start)[0], local_day_bounds(end)[1]
    params = {
        "ids": ids,
        "start": start,
        "end": end,
        "since": since,
        "until": until,
        "yes": True,
        "hour_ago": datetime.now(UTC) - timedelta(hours=1),
    }
    types = [
        bindparam("ids", expanding=True),
        bindparam("start", type_=Date()),
        bindparam("end", type_=Date()),
        bindparam("since", type_=UTCDateTime()),
        bindparam("until", type_=UTCDateTime()),
        bindparam("hour_ago", type_=UTCDateTime()),
    ]
    window = TEN_MINUTES_BEFORE[connection.dialect.name]

    def rows(name: str, **more):
        sql = text(SQL[name].format(ten_minutes_before=window))
        wanted = [t for t in types if f":{t.key}" in SQL[name]]
        used = {k: v for k, v in {**params, **more}.items() if f":{k}" in SQL[name]}
        return connection.execute(sql.bindparams(*wanted), used).all()

    found: dict[str, dict[int, int]] = {}

    def put(key, cid, value):
        found.setdefault(key, {})[cid] = found.get(key, {}).get(cid, 0) + int(value or 0)

    for cid, uses, bills, shops_gave, office_paid, cards in rows("uses"):
        put("uses", cid, uses)
        put("bills", cid, bills)
        put("merchant_discounts", cid, shops_gave)
        put("community_discounts", cid, office_paid)
        put("cards_used", cid, cards)
    for key in ("shops", "cards_issued", "households_reached", "residents"):
        for cid, value in rows(key):
            put(key, cid, value)
    for cid, done, minutes in rows("help"):
        put("help_done", cid, done)
        put("help_minutes", cid, minutes)
    for cid, held, served, minutes in rows("volunteers"):
        put("volunteer_activities", cid, held)
        put("volunteers_served", cid, served)
        put("volunteer_hours", cid, minutes)
    misuse: dict[int, int] = {}
    for name in ("repeat_pairs", "daily_limit", "locked"):
        for cid, value in rows(name):
            misuse[cid] = misuse.get(cid, 0) + min(value, 10)  # ten of each kind are listed
    for rule, at in THRESHOLDS.items():
        for cid, value in rows("thresholds", rule=rule, at=at, step=at * 5 // 100):
            misuse[cid] = misuse.get(cid, 0) + min(value, 10)
    attempts: dict[int, int] = {}
    for cid, shops, cards in rows("bursts"):
        attempts[cid] = attempts.get(cid, 0) + shops + cards
    for cid, value in attempts.items():
        misuse[cid] = misuse.get(cid, 0) + min(value, 20)  # twenty of bursts and hopping
    for cid, value in misuse.items():
        put("misuse", cid, value)
    return found


# --- the check: the page's figures are the raw SQL's ----------------------------------------


def check(client, path: str, expected, names: dict[str, int]) -> None:
    """Fetch the page's CSV and compare every measure, now and before, with `expected`."""
    response = client.get(path + ("&" if "?" in path else "?") + "export=csv")
    if response.status_code != 200:
        raise RuntimeError(f"{path} (csv) answered {response.status_code}")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    now, before = expected
    wrong, seen = [], 0
    for line in table[1:]:
        if line[0] not in names:
            continue  # the total
        row_id, column = names[line[0]], 2
        seen += 1
        for m in compare.MEASURES:
            value, previous = (number(line[column + i], m.kind) for i in (0, 1))
            want = (now.get(m.key, {}).get(row_id, 0), before.get(m.key, {}).get(row_id, 0))
            if (value, previous) != want:
                wrong.append(f"{line[0]} {m.key}: page {value}, {previous}; raw SQL {want}")
            column += 5 if m.relative else 4
    if wrong or not seen:
        found = "\n".join(wrong)
        raise RuntimeError(f"{path}: the page's figures are not the raw SQL's:\n{found}")
    totals = {m.key: sum(now.get(m.key, {}).values()) for m in compare.MEASURES}
    print(f"  {path}: {seen} rows × {len(compare.MEASURES)} measures equal the raw SQL's {totals}")


def number(cell: str, kind: str) -> int:
    if kind == "money":
        return int(Decimal(cell or "0") * 100)
    return int(cell or 0)


if __name__ == "__main__":
    main()
