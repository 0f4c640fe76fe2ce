"""Redemption throughput on SQLite and on PostgreSQL, each against the shared floor on the same
backend, in the same run.

Both sides run the same way: gunicorn with 2 sync workers, wrk with 2 threads and 16
connections, each request a new redemption of a random one of 2000 cards. The floor
(../shared/bench/run_floor.sh, floor_app.py) does the least a redemption can do: one guarded
UPDATE and one INSERT in one transaction (on PostgreSQL when FLOOR_DATABASE_URL names a
database). Ours is the real JSON API: it authenticates the till's key, reads and locks the card
with its campaign, offer and shop, checks every limit, writes the redemption once per key, the
card's use, the campaign's spent sum under the budget's guard and the audit row.

Beside requests/s and p99 it reports the workers' CPU time per redemption, read from
/proc/<pid>/stat of both gunicorn workers around wrk's run (for the floor, sampled while
run_floor.sh's wrk runs): on a shared machine CPU per request is far steadier than throughput.

    python bench/redeem_throughput.py [SECONDS] [RUNS]

PostgreSQL is measured when BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/
postgres) answers; each side gets a scratch database of its own there, dropped afterwards.
Targets: throughput ≥ 0.7 × floor, p99 ≤ 1.5 × floor's p99, CPU per redemption ≤ 2 × floor's.
"""

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    ROOT,
    Figure,
    Gunicorn,
    ScratchDatabase,
    child_pids,
    cpu_seconds,
    flask,
    flask_env,
    instance,
    ms,
    shared_bench,
    wrk,
)

CARDS = 2000
POSTGRESQL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: throughput, latency and the workers' CPU per request."""

    rps: float
    p50: str
    p99: str
    cpu_ms: float  # both workers' CPU time per request
    non_2xx: int = 0


def prepare(folder: Path, url: str) -> tuple[str, Path]:
    """Create one shop in one campaign with 2000 issued cards; return an API key and tokens."""
    from datetime import date

    os.environ.update(flask_env(folder, url))
    from app import create_app
    from app.database import write_transaction
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
    with app.app_context(), write_transaction(db.session):
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
        tokens = list(db.session.scalars(db.select(Card.token)))
    token_file = folder / "tokens.txt"
    token_file.write_text("\n".join(tokens) + "\n")
    return key, token_file


def count_rows(url: str) -> tuple[int, int, int, int]:
    """Return redemptions, card uses, audit rows of redemptions and the campaign's spent sum."""
    from sqlalchemy import create_engine, text

    from app.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as c:
            return tuple(
                c.execute(text(sql)).scalar_one()
                for sql in (
                    "select count(*) from redemption",
                    "select coalesce(sum(uses_count), 0) from card",
                    "select count(*) from audit_log where action = 'redemption.create'",
                    "select coalesce(sum(spent_fen), 0) - (select coalesce(sum(discount_fen), 0)"
                    " from redemption) from campaign",
                )
            )
    finally:
        engine.dispose()


def ours(seconds: int, database_url: str) -> tuple[Side, tuple]:
    """Run the real API under wrk; return its side and the rows it wrote."""
    folder = instance('API_RATE_LIMIT = "100000000 per minute"\n')
    env = flask_env(folder, database_url)
    flask(["init-db"], env)
    key, tokens = prepare(folder, database_url)
    server = Gunicorn("app:create_app()", env, wait=60)
    try:
        workers = child_pids(server.process.pid)
        before = sum(cpu_seconds(pid) for pid in workers)
        result = wrk(
            server.url,
            ROOT / "bench" / "redeem.lua",
            seconds,
            env={"TOKENS": str(tokens), "API_KEY": key},
        )
        used = sum(cpu_seconds(pid) for pid in workers) - before
    finally:
        server.stop()
    requests = int(re.search(r"(\d+) requests in", result["raw"]).group(1))
    side = Side(
        result["rps"],
        result["p50"],
        result["p99"],
        1000 * used / max(requests, 1),
        result["non_2xx"],
    )
    return side, count_rows(database_url)


def floor(seconds: int, database_url: str | None) -> Side | None:
    """Run ../shared/bench/run_floor.sh (on PostgreSQL when `database_url` is given), reading its
    gunicorn workers' CPU from /proc while its wrk runs; None when the floor is not there."""
    folder = shared_bench()
    if folder is None:
        return None
    env = dict(os.environ)
    if database_url:
        env["FLOOR_DATABASE_URL"] = database_url
    script = subprocess.Popen(
        ["bash", str(folder / "run_floor.sh"), os.path.abspath(sys.executable), str(seconds)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    readings: dict[int, list[float]] = {}  # worker pid -> [CPU when wrk started, latest CPU]
    watching = threading.Thread(target=_watch_floor, args=(script, readings), daemon=True)
    watching.start()
    stdout, stderr = script.communicate()
    watching.join(timeout=5)
    if script.returncode or not stdout.strip():
        raise RuntimeError(f"run_floor.sh failed ({script.returncode}): {stderr[-2000:]}")
    out = stdout.strip().splitlines()[-1]
    # floor: <rps> req/s, p50 <x>, p99 <y>
    words = out.replace(",", "").split()
    rps = float(words[1])
    used = sum(latest - start for start, latest in readings.values())
    return Side(rps, words[4], words[6], 1000 * used / max(rps * seconds, 1))


def _watch_floor(script: subprocess.Popen, readings: dict) -> None:
    """Read the floor's gunicorn workers' CPU every 50 ms from when the script's wrk starts
    until it ends (wrk is the script's child or grandchild, gunicorn's master its child)."""
    wrk_pid, workers = None, []
    while script.poll() is None:
        if wrk_pid is None:
            children = child_pids(script.pid)
            grandchildren = [pid for child in children for pid in child_pids(child)]
            wrk_pid = next((pid for pid in children + grandchildren if _name(pid) == "wrk"), None)
            if wrk_pid is not None:
                masters = [pid for pid in children if _name(pid) not in ("wrk", "bash")]
                workers = [pid for master in masters for pid in child_pids(master)]
        elif not Path(f"/proc/{wrk_pid}").exists():
            return
        for worker in workers:
            cpu = cpu_seconds(worker)
            if cpu:
                readings.setdefault(worker, [cpu, cpu])[1] = cpu
        time.sleep(0.05)


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def postgresql_answers() -> bool:
    try:
        import psycopg

        psycopg.connect(POSTGRESQL, connect_timeout=3).close()
    except Exception:  # noqa: BLE001 - no server, no PostgreSQL figures
        return False
    return True


def measure(backend: str, seconds: int) -> dict:
    """Measure ours and the floor on one backend, one after the other."""
    scratch = ours_db = floor_db = None
    try:
        if backend == "sqlite":
            scratch = Path(instance()) / "bench.sqlite"
            ours_url, floor_url = f"sqlite:///{scratch}", None
        else:
            ours_db = ScratchDatabase(POSTGRESQL, "linli_bench", Path("unused"))
            floor_db = ScratchDatabase(POSTGRESQL, "linli_floor", Path("unused"))
            ours_url = ours_db.url
            floor_url = floor_db.url.replace("postgresql+psycopg://", "postgresql://")
        side, rows = ours(seconds, ours_url)
        reference = floor(seconds, floor_url)
    finally:
        for database in (ours_db, floor_db):
            if database is not None:
                database.drop()
    return {"backend": backend, "ours": side, "floor": reference, "rows": rows}


def report(result: dict, seconds: int) -> None:
    side, reference, rows = result["ours"], result["floor"], result["rows"]
    print(
        f"{result['backend']}: linli {side.rps:.0f} req/s, p50 {side.p50}, p99 {side.p99}, "
        f"CPU {side.cpu_ms:.2f} ms/redemption, non-2xx {side.non_2xx}"
    )
    print(
        f"  rows: {rows[0]} redemptions, {rows[1]} card uses, {rows[2]} audit rows, "
        f"spent minus discounts {rows[3]} fen"
    )
    if reference is None:
        print("  floor: ../shared/bench not found; no ratio")
        return
    print(
        f"  floor {reference.rps:.0f} req/s, p50 {reference.p50}, p99 {reference.p99}, "
        f"CPU {reference.cpu_ms:.2f} ms/redemption"
    )
    rps, p99, cpu = ratios(result)
    print(
        f"  ratio: throughput {rps:.2f} × floor (≥ 0.70), p99 {p99:.2f} × floor (≤ 1.5), "
        f"CPU {cpu:.2f} × floor (≤ 2)"
    )


def ratios(result: dict) -> tuple[float, float, float]:
    side, reference = result["ours"], result["floor"]
    return (
        side.rps / reference.rps,
        ms(side.p99) / ms(reference.p99),
        side.cpu_ms / reference.cpu_ms,
    )


def main(seconds: int = 10, runs: int = 1) -> list[dict]:
    backends = ["sqlite"] + (["postgresql"] if postgresql_answers() else [])
    if len(backends) == 1:
        print(f"PostgreSQL at {POSTGRESQL} does not answer: SQLite only")
    results = []
    for run in range(runs):
        for backend in backends:
            result = measure(backend, seconds)
            print(f"run {run + 1}/{runs}, ", end="")
            report(result, seconds)
            results.append(result)
    return results


def figures(seconds: int = 10) -> list[Figure]:
    """The benchmark's lines for docs/benchmarks.md: one run of each backend."""
    lines = []
    for result in main(seconds):
        side, reference, backend = result["ours"], result["floor"], result["backend"]
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        written = f"{result['rows'][0]} redemptions written, non-2xx {side.non_2xx}"
        if reference is None:
            lines.append(
                Figure(f"redeem, JSON API, {name}", f"{side.rps:.0f} req/s", "—", "—", "—", None)
            )
            continue
        rps, p99, cpu = ratios(result)
        lines += [
            Figure(
                f"redeem throughput, JSON API (gunicorn -w 2, wrk -c16), {name}",
                f"{side.rps:.0f} req/s",
                f"floor {reference.rps:.0f} req/s",
                rps,
                "≥ 0.70 × floor",
                rps >= 0.70,
                written,
            ),
            Figure(
                f"redeem p99 at 16 connections, {name}",
                side.p99,
                f"floor p99 {reference.p99}",
                p99,
                "≤ 1.5 × floor",
                p99 <= 1.5,
                "",
            ),
            Figure(
                f"redeem worker CPU per redemption, {name}",
                f"{side.cpu_ms:.2f} ms",
                f"floor {reference.cpu_ms:.2f} ms",
                cpu,
                "≤ 2 × floor",
                cpu <= 2,
                "both workers, from /proc",
            ),
        ]
    return lines


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 10,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1,
    )
