"""The resident's card page against its budgets (issue 15), in one run.

Usage: `make bench`, or .venv/bin/python bench/card_page.py [SECONDS a run, default 2]
(needs gunicorn, `wrk` from Debian, Chromium and Playwright; Redis when it answers). It builds
the 紫荆花/江博 demo in a temporary SQLite database and measures:

1. Bytes, with the app's test client asking for gzip as a phone does: the page, then
   everything a first visit fetches (stylesheet, script, icons, manifest, service worker), and
   what a repeat visit costs (the page revalidated with its ETag: 304 if the card did not
   change, the page again if it did; the service worker's update check). Headers are counted.
   Budgets: first visit ≤ 30 KB, repeat visit ≤ 10 KB.
2. The worker's CPU per request under gunicorn (1 sync worker) driven by wrk (4
   connections), read from /proc around each run, beside requests per second. A repeat
   visit (If-None-Match: the page's ETag, answered 304) against `/bench/bare-304`, a bare Flask
   view answering 304 in the same app: budget ≤ 1.5 ×. A changed page (no If-None-Match: the
   rows read, the page made, rendered and compressed) against `/bench/bare-render`, a bare
   view rendering a template of the same size in the same app: budget ≤ 3 ×. Card and
   reference runs alternate for ROUNDS rounds and the median of the rounds' ratios is taken.
   Rate limits count in Redis as in production when it answers (else in memory, said so).
3. What a resident feels (bench/card_page_phone.py): Chromium with the network throttled to
   400 kbit/s each way and 400 ms round trips and the CPU slowed 4 × through the DevTools
   protocol; the time until the QR is on screen on a first and on a repeat visit against the
   physical floor of the same bytes over the same link: budget ≤ 1.3 ×.
4. Lines of application code on the card page's path, now and before issue 15 (git).

Figures vary with the machine's load; compare ratios from the same run only.
"""

import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import local_today  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Card, Redemption  # noqa: E402
from app.services import demo  # noqa: E402
from bench._common import Figure, Gunicorn, child_pids, cpu_seconds, wrk  # noqa: E402
from bench.card_page_app import BARE_ETAG  # noqa: E402

GZIP = {"Accept-Encoding": "gzip"}
LUA = Path(__file__).resolve().parent / "gzip.lua"
CONDITIONAL = Path(__file__).resolve().parent / "conditional.lua"
ROUNDS = 3
PHONE_ROUNDS = 5
BASE_URL = "https://linli.example.cn"


def header_bytes(response) -> int:
    """Bytes of the status line and headers as an HTTP/1.1 server sends them."""
    lines = [f"HTTP/1.1 {response.status}"] + [f"{k}: {v}" for k, v in response.headers.items()]
    return len("\r\n".join(lines).encode()) + 4


def fetch(client, url, **headers):
    """GET `url` asking for gzip; return (response, body bytes as sent, header bytes)."""
    response = client.get(url, headers=GZIP | headers)
    body = response.get_data()
    response.close()
    return response, len(body), header_bytes(response)


def build_demo(folder: Path) -> str:
    """Seed the demo into a SQLite file in `folder`; return its URL."""
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    app = create_app(config(url, folder))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        demo.seed_demo(db.session)
        db.session.commit()
        db.engine.dispose()
    return url


def config(url: str, folder: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",  # noqa: S106 - a throwaway benchmark app
        "INSTANCE_PATH": str(folder / "instance"),
        "BASE_URL": BASE_URL,
        "CARD_RATE_LIMIT": "100000000 per minute",
        "CARD_MISS_RATE_LIMIT": "100000000 per minute",
    }


def choose_cards() -> dict[str, str]:
    """Return the tokens of a typical card, a worst case (50 uses shown) and a coupon."""
    busiest = db.session.execute(
        select(Card.token, func.count(Redemption.id))
        .join(Redemption, Redemption.card_id == Card.id)
        .where(Card.serial.like("ZJH-%"))
        .group_by(Card.id)
        .order_by(func.count(Redemption.id).desc(), Card.id)
    ).first()[0]
    worst = db.session.scalars(
        select(Card).where(Card.serial.like("ZJH-%"), Card.status == "issued", Card.uses_count == 0)
    ).first()
    first = db.session.scalars(select(Redemption).order_by(Redemption.id)).first()
    today = local_today()
    for i in range(50):  # a card used every day for 50 days at the shop with the longest name
        day = today - timedelta(days=50 - i)
        db.session.add(
            Redemption(
                community_id=worst.community_id,
                campaign_id=worst.campaign_id,
                card_id=worst.id,
                merchant_id=first.merchant_id,
                bill_fen=18800 + i,
                discount_fen=2000,
                paid_fen=16800 + i,
                rule_text="8折，最高减20",
                created_at=first.created_at.replace(year=day.year, month=day.month, day=day.day),
                local_day=day,
                idempotency_key=f"bench-{i}",
            )
        )
    worst.uses_count = 50
    coupon = db.session.scalars(
        select(Card.token).where(Card.serial.like("JB-%"), Card.status == "issued")
    ).first()
    db.session.commit()
    return {"typical card": busiest, "worst case (50 uses shown)": worst.token, "coupon": coupon}


def measure_bytes(client, token: str) -> dict:
    """Bytes of a first visit and of repeat visits, compressed as sent, headers included."""
    page, html_gz, html_head = fetch(client, f"/C/{token}")
    html = gzip.decompress(page.get_data()).decode() if html_gz else ""
    assets = re.findall(r'<(?:link|script)[^>]+(?:href|src)="([^"]+)"', html)
    first = {"page": html_gz + html_head}
    for url in assets + ["/sw.js"]:
        _response, size, head = fetch(client, url)
        first[url.split("?")[0]] = size + head
    # The service worker keeps the page on the first visit: a revalidation, answered 304.
    kept, size, head = fetch(client, f"/C/{token}", **{"If-None-Match": page.headers["ETag"]})
    first["offline copy (304)"] = size + head
    sw, _size, _head = fetch(client, "/sw.js")
    unchanged, size, head = fetch(client, f"/C/{token}", **{"If-None-Match": page.headers["ETag"]})
    sw_check, sw_size, sw_head = fetch(client, "/sw.js", **{"If-None-Match": sw.headers["ETag"]})
    return {
        "html_raw": len(html.encode()),
        "html_gzip": html_gz,
        "first": first,
        "repeat_unchanged": size + head + sw_size + sw_head,
        "repeat_changed": html_gz + html_head + sw_size + sw_head,
        "statuses": (kept.status_code, unchanged.status_code, sw_check.status_code),
    }


@dataclass(frozen=True)
class Run:
    rps: float  # requests per second
    cpu_ms: float  # the worker's CPU time per request


class Server(Gunicorn):
    """gunicorn with one sync worker, whose CPU time is read around each run of wrk."""

    def __init__(self, env: dict):
        super().__init__("bench.card_page_app:site()", env, workers=1)
        workers = child_pids(self.process.pid)
        if not workers:
            raise RuntimeError("no gunicorn worker")
        self.worker = workers[0]

    def _cpu_seconds(self) -> float:
        return cpu_seconds(self.worker)

    def run(self, path: str, seconds: int, etag: str | None = None) -> Run:
        """Drive `path` for `seconds` (with `etag` as If-None-Match: every answer must be a
        304); return requests per second and the worker's CPU ms per request."""
        script = CONDITIONAL if etag else LUA
        cpu = self._cpu_seconds()
        result = wrk(self.url + path, script, seconds, {"BENCH_ETAG": etag or ""}, connections=4)
        cpu = self._cpu_seconds() - cpu
        done = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)([KMG]?B) read", result["raw"])
        requests = int(done.group(1))
        read = (
            float(done.group(2)) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[done.group(3)]
        )
        # wrk counts neither 2xx nor 3xx as errors: a 304 carries no body, so a run of 304s
        # reads less than 1 KB a request (headers), a run of pages several.
        if result["non_2xx"] or (read / max(requests, 1) < 1024) != bool(etag):
            raise RuntimeError(f"{path}: {requests} requests, {read:.0f} B read: not as expected")
        return Run(result["rps"], 1000 * cpu / max(requests, 1))


def redis_limits() -> str:
    """Redis for the rate limits, as in production, when it answers; else memory."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1).ping()
    except Exception:  # noqa: BLE001 - no Redis: count in memory and say so
        return "memory://"
    return url


PAIRS = {  # label: (the reference's path, whether the requests carry the ETag: 304s)
    "repeat visit (304)": ("/bench/bare-304", True),
    "changed page": ("/bench/bare-render", False),
}


def measure(seconds: int) -> dict:
    """Return every figure of this benchmark, measured in one run."""
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    try:
        url = build_demo(folder)
        app = create_app(config(url, folder))
        with app.app_context():
            cards = choose_cards()
            client = app.test_client()
            sizes = {name: measure_bytes(client, token) for name, token in cards.items()}
            typical = f"/C/{cards['typical card']}"
            first = client.get(typical, headers=GZIP)
            html_file = folder / "card.html"
            html_file.write_bytes(client.get(typical).get_data())
            db.engine.dispose()
        limits = redis_limits()
        env = os.environ | {
            "BENCH_HTML": str(html_file),
            "BENCH_DATABASE_URL": url,
            "BENCH_INSTANCE": str(folder / "instance"),
            "BENCH_BASE_URL": BASE_URL,
            "BENCH_LIMITS": limits,
            "LINLI_LOG_LEVEL": "WARNING",
        }
        result = {"sizes": sizes, "limits": limits, "html_size": len(html_file.read_bytes())}
        server = Server(env)
        try:
            etag = first.headers["ETag"]
            if shutil.which("wrk"):
                result["times"] = server_times(server, typical, etag, seconds)
            result["phone"] = phone(server.url + typical)
            # The same HTML from a bare view (its own ETag, 304 on a repeat): what the browser
            # itself takes for these bytes on this machine, without our server's work.
            result["phone_bare"] = phone(server.url + "/bench/bare-304")
        finally:
            server.stop()
        result["lines"] = {"now": path_lines(None), "before": path_lines(BEFORE)}
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def server_times(server: Server, card: str, etag: str, seconds: int) -> dict:
    """CPU and throughput of the card page and its references, runs interleaved."""
    for path, tag in ((card, None), (card, etag), ("/bench/bare-304", BARE_ETAG)):
        server.run(path, 1, tag)  # warm up: imports, compiled templates, connections
    server.run("/bench/bare-render", 1)
    times: dict[str, list[Run]] = {}
    for _ in range(ROUNDS):  # interleaved, so drifting load hits both alike
        for label, (bare, conditional) in PAIRS.items():
            tag = etag if conditional else None
            times.setdefault(label, []).append(server.run(card, seconds, tag))
            bare_tag = BARE_ETAG if conditional else None
            times.setdefault(f"bare ({label})", []).append(server.run(bare, seconds, bare_tag))
    return times


def phone(url: str) -> dict | None:
    """First and repeat visits in throttled Chromium; None without Playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright

        from bench.card_page_phone import phone_visits
        from tests.e2e.conftest import launch
    except Exception:  # noqa: BLE001 - no browser here: say so in the figures
        return None
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            return phone_visits(browser, url, PHONE_ROUNDS)
        finally:
            browser.close()


# --- lines of application code on the card page's path -------------------------------------

BEFORE = "45032e7"  # main before issue 15
PATH_FILES = [  # what a card page request runs of ours, whole files
    "app/resident/routes.py",
    "app/services/cardview.py",
    "app/services/qr.py",
    "app/view_limits.py",
    "app/compression.py",
    "app/database.py",
    "app/templating.py",
    "templates/resident/card.html",
    "templates/resident/layout.html",
    "templates/resident/_shops.html",
]


def path_lines(revision: str | None) -> int | None:
    """Non-blank lines that are not only a comment, in the card page's files at `revision`
    (None: the working tree); None when git cannot show that revision."""
    total = 0
    for name in PATH_FILES:
        if revision is None:
            path = ROOT / name
            text = path.read_text() if path.exists() else ""
        else:
            shown = subprocess.run(
                ["git", "show", f"{revision}:{name}"], cwd=ROOT, capture_output=True, text=True
            )
            if shown.returncode and "does not exist" not in shown.stderr:
                return None
            text = shown.stdout if shown.returncode == 0 else ""
        total += sum(1 for line in text.splitlines() if line.strip() and not _comment(line))
    return total


def _comment(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("#") or (stripped.startswith("{#") and stripped.endswith("#}"))


# --- figures ---------------------------------------------------------------------------------


def ratios(times: dict, label: str) -> tuple[float, float, float, float, float, float]:
    """Medians over the rounds of card/reference CPU and wall time, and the mean CPU ms and
    requests a second of each."""
    pairs = list(zip(times[label], times[f"bare ({label})"], strict=True))
    cpu = statistics.median(card.cpu_ms / bare.cpu_ms for card, bare in pairs)
    wall = statistics.median(bare.rps / card.rps for card, bare in pairs)
    card_ms = statistics.mean(card.cpu_ms for card, _bare in pairs)
    bare_ms = statistics.mean(bare.cpu_ms for _card, bare in pairs)
    card_rps = statistics.mean(card.rps for card, _bare in pairs)
    bare_rps = statistics.mean(bare.rps for _card, bare in pairs)
    return cpu, wall, card_ms, bare_ms, card_rps, bare_rps


CPU_BUDGETS = {"repeat visit (304)": 1.5, "changed page": 3.0}
REFERENCES = {
    "repeat visit (304)": "bare view answering 304",
    "changed page": "bare view rendering a template of the same size",
}


def figures(seconds: int) -> list[Figure]:
    """The card page's lines of docs/benchmarks.md (bench/run_all.py)."""
    result = measure(seconds)
    report(result)
    sizes = result["sizes"]

    def worst(key):  # over the three demo cards
        return max(size[key] for size in sizes.values())

    first = max(sum(size["first"].values()) for size in sizes.values())
    rows = [
        Figure(
            "card page: first visit, everything, gzip",
            f"{first / 1024:.1f} KB",
            "—",
            "—",
            "≤ 30 KB",
            first <= 30 * 1024,
            "worst of 3 demo cards; HTML, CSS, JS, icons, manifest, service worker; headers",
        ),
        Figure(
            "card page: repeat visit, card unchanged",
            f"{worst('repeat_unchanged') / 1024:.1f} KB",
            "—",
            "—",
            "≤ 10 KB",
            worst("repeat_unchanged") <= 10 * 1024,
            "the page and the service worker answered 304; assets are not asked for",
        ),
        Figure(
            "card page: repeat visit after a use",
            f"{worst('repeat_changed') / 1024:.1f} KB",
            "—",
            "—",
            "≤ 10 KB",
            worst("repeat_changed") <= 10 * 1024,
            "the page again; assets are not asked for",
        ),
    ]
    times = result.get("times")
    for label, budget in CPU_BUDGETS.items():
        if times is None:
            break
        cpu, _wall, card_ms, bare_ms, card_rps, bare_rps = ratios(times, label)
        rows.append(
            Figure(
                f"card page worker CPU, {label}",
                f"{card_ms:.2f} ms CPU ({card_rps:,.0f} req/s)",
                f"{REFERENCES[label]}: {bare_ms:.2f} ms CPU ({bare_rps:,.0f} req/s)",
                cpu,
                f"≤ {budget:g}×",
                cpu <= budget,
                f"gunicorn 1 worker, wrk 4 connections; median of {ROUNDS} interleaved rounds;"
                f" limits in {'Redis' if result['limits'].startswith('redis') else 'memory'}",
            )
        )
    visits = result.get("phone")
    if visits is not None:
        from bench.card_page_phone import median_visit, summary

        for label, key in (("first visit", "first"), ("repeat visit", "repeat")):
            visit = median_visit(visits[key])
            rows.append(
                Figure(
                    f"card page on a slow phone, {label}: QR on screen",
                    f"{visit.seconds:.2f} s",
                    f"floor: {visit.bytes:,} B at 400 kbit/s + {visit.chain} × 400 ms"
                    f" = {visit.floor:.2f} s",
                    visit.ratio,
                    "≤ 1.3×",
                    visit.ratio <= 1.3,
                    f"Chromium, DevTools throttling, CPU 4× slower; {len(visits[key])} visits:"
                    f" {summary(visits[key])}; the same HTML from a bare view:"
                    f" {summary(result['phone_bare'][key])} of its floor",
                )
            )
    lines = result["lines"]
    rows.append(
        Figure(
            "card page: lines of application code on its path",
            f"{lines['now']:,}",
            f"before issue 15: {lines['before']:,}" if lines["before"] else "—",
            lines["now"] / lines["before"] if lines["before"] else "—",
            "fewer",
            bool(lines["before"]) and lines["now"] < lines["before"],
            "non-blank, non-comment lines of " + ", ".join(p.split("/")[-1] for p in PATH_FILES),
        )
    )
    return rows


def main(seconds: int) -> None:
    """Print the figures, and the table rows `make bench` writes to docs/benchmarks.md."""
    rows = figures(seconds)
    print("\nRows for docs/benchmarks.md:\n")
    print("\n".join(row.row() for row in rows))


def report(result: dict) -> None:
    report_bytes(result["sizes"])
    times = result.get("times")
    if times is None:
        print("\nwrk is not installed (apt-get install -y wrk): no server times.")
    else:
        report_times(times, result["html_size"], result["limits"])
    visits = result.get("phone")
    if visits is None:
        print("\nNo Chromium or Playwright here: no phone times.")
    else:
        report_phone(visits)
        print("\n  The same HTML from a bare view (/bench/bare-304), for comparison:")
        report_phone(result["phone_bare"])
    lines = result["lines"]
    print(f"\nLines on the card page's path: {lines['now']:,} now, {lines['before']} before.")


def report_bytes(sizes: dict) -> None:
    print("Bytes on the wire (gzip as a phone asks for it; headers included)\n")
    for name, size in sizes.items():
        first_total = sum(size["first"].values())
        print(f"{name}: HTML {size['html_raw']:,} B raw, {size['html_gzip']:,} B gzip")
        for what, n in size["first"].items():
            print(f"    {what:<28} {n:>7,} B")
        print(
            f"  first visit, everything      {first_total:>7,} B = {first_total / 1024:.1f} KB"
            f"  (budget 30 KB: {'ok' if first_total <= 30 * 1024 else 'OVER'})"
        )
        for label, key in (("unchanged", "repeat_unchanged"), ("after a use", "repeat_changed")):
            n = size[key]
            print(
                f"  repeat visit, {label:<14} {n:>7,} B = {n / 1024:.1f} KB"
                f"  (budget 10 KB: {'ok' if n <= 10 * 1024 else 'OVER'})"
            )
        print(f"  revalidations answered: {size['statuses']} (304 expected)\n")


def report_times(times: dict, html_size: int, limits: str) -> None:
    print(f"Worker CPU, gunicorn 1 worker, wrk 2 threads 4 connections ({html_size:,} B page),")
    print(f"{ROUNDS} interleaved rounds; rate limits in {limits.split(':')[0]}. CPU: the worker's")
    print("CPU time per request, which other programs on the machine disturb far less.\n")
    for name, runs in times.items():
        wall = statistics.mean(1000 / run.rps for run in runs)
        cpu = statistics.mean(run.cpu_ms for run in runs)
        rates = ", ".join(f"{run.rps:,.0f}" for run in runs)
        print(f"  {name:<34} wall {wall:6.2f} ms, CPU {cpu:5.2f} ms  ({rates} req/s)")
    print()
    for label, budget in CPU_BUDGETS.items():
        cpu, wall, *_ = ratios(times, label)
        verdict = "ok" if cpu <= budget else "OVER"
        print(
            f"  card page, {label} / {REFERENCES[label]}: CPU {cpu:.2f} x"
            f" (budget {budget:g} x: {verdict}), wall {wall:.2f} x"
        )


def report_phone(visits: dict) -> None:
    from bench.card_page_phone import summary

    print("\nOn a slow phone (Chromium: 400 kbit/s, 400 ms round trips, CPU 4x slower)\n")
    for key, runs in visits.items():
        print(f"  {key} visit: QR on screen / floor: {summary(runs)} (budget 1.3 x)")
        for visit in runs:
            print(
                f"    {visit.seconds:5.2f} s, floor {visit.floor:4.2f} s"
                f" ({visit.bytes:,} B, {visit.chain} requests in a chain, page {visit.status})"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
