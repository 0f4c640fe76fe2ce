"""Redemption throughput: the real JSON endpoint against the shared floor, in the same run.

Both run the same way: gunicorn with 2 workers on SQLite (WAL), wrk with 2 threads and 16
connections, each request a new redemption of a random one of 2000 cards. The floor
(../shared/bench/floor_app.py) does the least a redemption can do: one guarded UPDATE and one
INSERT. Ours authenticates the till's key, checks campaign, card, shop, offer and limits, locks,
updates the card and the campaign's spent sum, writes the redemption and its audit row.

    python bench/redeem_throughput.py [SECONDS]

Prints requests/s and latency of both and the ratio (target: ≥ 0.7 × floor, p99 < 50 ms).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    ROOT,
    Figure,
    Gunicorn,
    flask,
    flask_env,
    floor,
    instance,
    ms,
    wrk,
)

CARDS = 2000


def prepare(folder: Path, url: str) -> tuple[str, Path]:
    """Create one shop in one campaign with 2000 issued cards; return an API key and tokens."""
    import os
    from datetime import date

    os.environ.update(flask_env(folder, url))
    from app import create_app
    from app.extensions import db
    from app.models import (
        Campaign,
        CampaignKind,
        CampaignStatus,
        Card,
        CardStatus,
        Community,
        Funding,
        Merchant,
        MerchantStatus,
        Offer,
        Role,
    )
    from app.rules import parse_rule
    from app.services import accounts, apikeys, cards

    app = create_app()
    with app.app_context():
        community = Community(name="基准社区", slug="bench", district="汉阳区")
        db.session.add(community)
        db.session.flush()
        shop = Merchant(
            community_id=community.id,
            name="基准小店",
            category="餐饮",
            status=MerchantStatus.ACTIVE,
        )
        db.session.add(shop)
        db.session.flush()
        owner = accounts.create_user(
            db.session,
            None,
            role=Role.MERCHANT_OWNER,
            name="店主",
            username="bench-owner",
            password="bench-password",
            community_id=community.id,
            merchant_id=shop.id,
        )
        rule = parse_rule("8折")
        campaign = Campaign(
            community_id=community.id,
            name="基准活动",
            code="BN",
            kind=CampaignKind.CARD,
            status=CampaignStatus.ACTIVE,
            funding=Funding.MERCHANT,
            valid_from=date(2020, 1, 1),
            valid_until=date(2099, 12, 31),
            default_rule=rule.to_dict(),
            default_rule_text=rule.render(),
        )
        db.session.add(campaign)
        db.session.flush()
        db.session.add(
            Offer(community_id=community.id, campaign_id=campaign.id, merchant_id=shop.id)
        )
        cards.generate_batch(db.session, campaign, CARDS, owner)
        db.session.flush()
        db.session.execute(
            Card.__table__.update().values(status=CardStatus.ISSUED.value, household="1-1-101")
        )
        _row, key = apikeys.create_key(db.session, owner, "bench")
        db.session.commit()
        tokens = list(db.session.scalars(db.select(Card.token)))
    token_file = folder / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    return key, token_file


def count_rows(url: str) -> tuple[int, int, int]:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as c:
        return (
            c.execute("select count(*) from redemption").fetchone()[0],
            c.execute("select coalesce(sum(uses_count), 0) from card").fetchone()[0],
            c.execute(
                "select count(*) from audit_log where action = 'redemption.create'"
            ).fetchone()[0],
        )


def main(seconds: int = 10) -> dict:
    folder = instance('API_RATE_LIMIT = "100000000 per minute"\n')
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    env = flask_env(folder, url)
    flask(["init-db"], env)
    key, tokens = prepare(folder, url)
    server = Gunicorn("app:create_app()", env)
    try:
        ours = wrk(
            server.url,
            ROOT / "bench" / "redeem.lua",
            seconds,
            env={"TOKENS": str(tokens), "API_KEY": key},
        )
    finally:
        server.stop()
    rows, uses, audited = count_rows(url)
    reference = floor(seconds)
    result = {
        "ours_rps": ours["rps"],
        "ours_p50": ours["p50"],
        "ours_p99": ours["p99"],
        "non_2xx": ours["non_2xx"],
        "rows": rows,
        "uses": uses,
        "audited": audited,
    }
    print(
        f"linli redeem (JSON API, gunicorn -w 2, wrk -t2 -c16, {seconds}s): "
        f"{ours['rps']:.0f} req/s, p50 {ours['p50']}, p99 {ours['p99']}, "
        f"non-2xx {ours['non_2xx']}"
    )
    print(f"  rows written: {rows} redemptions, {uses} card uses, {audited} audit rows")
    if reference is None:
        print("  floor: ../shared/bench not found; no ratio")
    else:
        ratio = ours["rps"] / reference["rps"]
        result.update(floor_rps=reference["rps"], floor_p99=reference["p99"], ratio=ratio)
        print(f"  {reference['line']}")
        print(
            f"  ratio: {ratio:.2f} × floor throughput (target ≥ 0.70); "
            f"p99 {ms(ours['p99']):.1f} ms (target < 50 ms)"
        )
    return result


def figures(seconds: int = 10) -> list[Figure]:
    """The benchmark's lines for docs/benchmarks.md."""
    result = main(seconds)
    ratio = result.get("ratio")
    p99 = ms(result["ours_p99"])
    return [
        Figure(
            "redeem throughput, JSON API (gunicorn -w 2, wrk -c16, SQLite)",
            f"{result['ours_rps']:.0f} req/s",
            f"floor {result['floor_rps']:.0f} req/s" if ratio else "floor not available",
            ratio if ratio else "—",
            "≥ 0.70 × floor",
            None if ratio is None else ratio >= 0.70,
            f"{result['rows']} redemptions written, non-2xx {result['non_2xx']}",
        ),
        Figure(
            "redeem p99 latency at 16 connections",
            f"{p99:.1f} ms",
            f"floor p99 {result['floor_p99']}" if ratio else "—",
            round(p99 / ms(result["floor_p99"]), 2) if ratio else "—",
            "< 50 ms",
            p99 < 50,
            "absolute target; the floor's own p99 shows how loaded the machine was",
        ),
    ]


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
