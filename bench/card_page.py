"""The resident's card page against its budgets, in one run.

Budgets (issue 7): the card page with everything it needs is at most 30 KB compressed on a first
visit and 10 KB on a repeat visit; the server renders it in at most 2 x the time a bare Flask
view takes to return a static string of the same size.

Usage: `make bench`, or .venv/bin/python bench/card_page.py [SECONDS a run, default 2]
(needs gunicorn; `wrk` from Debian). It takes about a minute, 40 s of it under load.

It builds the 紫荆花/江博 demo in a temporary SQLite database and measures:

1. Bytes, with the app's test client asking for gzip as a phone does: the page, then everything
   a first visit fetches (stylesheet, script, icon, manifest, service worker), and what a repeat
   visit costs (the page revalidated with its ETag: 304 if the card did not change, the page
   again if it did; the service worker's update check). Headers are counted too. Assets carry a
   content hash and a year's max-age, so a repeat visit does not ask for them at all.
2. Server time, under gunicorn (1 sync worker) driven by wrk (1 thread, 4 connections): the
   card page against `/bench/bare`, a view added to the same app that returns the card page's
   HTML as a static string: same size, same compression, the same request machinery (security
   headers), no data and no template. Why gunicorn and wrk rather than the test client: that
   is the server a phone talks to, and the test client's own overhead would blur the
   comparison. Time per request is 1 / req/s (one worker kept busy by four connections); bare
   and card runs alternate for ROUNDS rounds and the median of the rounds' ratios is taken.
   The card page is measured three ways. Warm: a worker has shown this card before and
   nothing on it changed; it still reads the card, its uses and its shops from the database,
   and its memos of pages built from those rows and of rendered HTML answer. Changed: as
   after a use of the card, the page is built and rendered again (the QR drawing, rule texts
   and dates are known). Cold: every memo off, so every request also draws the QR and reads
   every rule. For context, the bare view in a plain Flask app.

Figures vary with the machine's load; compare ratios from the same run only.
"""

import gzip
import os
import re
import shutil
import statistics
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
from bench._common import Figure, Gunicorn, wrk  # noqa: E402

GZIP = {"Accept-Encoding": "gzip"}
LUA = Path(__file__).resolve().parent / "gzip.lua"
ROUNDS = 3
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

    def __init__(self, target: str, env: dict):
        super().__init__(f"bench.card_page_app:{target}", env, workers=1)
        self.worker = self._worker_pid()

    def _worker_pid(self) -> int:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the master's child
                return int(stat.parent.name)
        raise RuntimeError("no gunicorn worker")

    def _cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.worker}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self, path: str, seconds: int) -> Run:
        """Drive `path` for `seconds`; return requests per second and CPU ms per request."""
        cpu = self._cpu_seconds()
        result = wrk(self.url + path, LUA, seconds, connections=4)
        cpu = self._cpu_seconds() - cpu
        if result["non_2xx"]:
            raise RuntimeError(f"{path}: {result['non_2xx']} error responses")
        requests = int(re.search(r"(\d+) requests in", result["raw"]).group(1))
        return Run(result["rps"], 1000 * cpu / max(requests, 1))


def measure(seconds: int) -> tuple[dict, dict | None, int]:
    """Return the byte figures per card, the server times (None without wrk) and page size."""
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    try:
        url = build_demo(folder)
        app = create_app(config(url, folder))
        with app.app_context():
            cards = choose_cards()
            client = app.test_client()
            sizes = {name: measure_bytes(client, token) for name, token in cards.items()}
            html_file = folder / "card.html"
            html_file.write_bytes(client.get(f"/C/{cards['typical card']}").get_data())
            db.engine.dispose()
        html_size = len(html_file.read_bytes())
        if shutil.which("wrk") is None:
            return sizes, None, html_size
        env = os.environ | {
            "BENCH_HTML": str(html_file),
            "BENCH_DATABASE_URL": url,
            "BENCH_INSTANCE": str(folder / "instance"),
            "BENCH_BASE_URL": BASE_URL,
            "LINLI_LOG_LEVEL": "WARNING",
        }
        card = f"/C/{cards['typical card']}"
        times = {}
        runs = (("changed", {}),)  # no If-None-Match: every page is made and rendered
        for label, extra in runs:
            server = Server("site()", env | extra)
            try:
                server.run(card, 2)  # warm up: imports, compiled templates, the memos
                server.run("/bench/bare", 1)
                for _ in range(ROUNDS):  # interleaved, so drifting load hits both alike
                    for name, path in ((f"bare ({label} run)", "/bench/bare"), (label, card)):
                        times.setdefault(name, []).append(server.run(path, seconds))
            finally:
                server.stop()
        server = Server("plain()", env)
        try:
            server.run("/bench/bare", 2)
            times["plain"] = [server.run("/bench/bare", seconds)]
        finally:
            server.stop()
        return sizes, times, html_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ratios(times: dict, label: str) -> tuple[float, float, float, float]:
    """Return the medians over the rounds of card/bare CPU and wall time, and mean CPU ms."""
    pairs = list(zip(times[f"bare ({label} run)"], times[label], strict=True))
    cpu = statistics.median(card.cpu_ms / bare.cpu_ms for bare, card in pairs)
    wall = statistics.median(bare.rps / card.rps for bare, card in pairs)
    card_ms = statistics.mean(card.cpu_ms for _bare, card in pairs)
    bare_ms = statistics.mean(bare.cpu_ms for bare, _card in pairs)
    return cpu, wall, card_ms, bare_ms


def figures(seconds: int) -> list[Figure]:
    """The card page's lines of docs/benchmarks.md (bench/run_all.py)."""
    sizes, times, html_size = measure(seconds)
    report_bytes(sizes)

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
    if times is None:
        return rows
    report_times(times, html_size)
    notes = {"changed": "no If-None-Match: the rows read, the page made and rendered"}
    for label, note in notes.items():
        cpu, _wall, card_ms, bare_ms = ratios(times, label)
        rows.append(
            Figure(
                f"card page server time, {label}",
                f"{card_ms:.2f} ms CPU",
                f"bare view, same HTML: {bare_ms:.2f} ms CPU",
                cpu,
                "≤ 2×",
                cpu <= 2,
                note + "; gunicorn 1 worker, wrk; CPU time per request",
            )
        )
    return rows


def main(seconds: int) -> None:
    sizes, times, html_size = measure(seconds)
    report_bytes(sizes)
    if times is None:
        print("\nwrk is not installed (apt-get install -y wrk): no server times.")
    else:
        report_times(times, html_size)


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


def report_times(times: dict, html_size: int) -> None:
    print(f"Server time, gunicorn 1 worker, wrk 2 threads 4 connections ({html_size:,} B page),")
    print(f"{ROUNDS} interleaved rounds. Wall: 1 / (req/s). CPU: the worker's CPU time per")
    print("request, which other programs on the machine disturb far less.\n")
    names = {
        "bare (changed run)": "bare view, same app",
        "changed": "card page, changed",
        "plain": "bare view, plain Flask app",
    }
    for name, runs in times.items():
        wall = statistics.mean(1000 / run.rps for run in runs)
        cpu = statistics.mean(run.cpu_ms for run in runs)
        rates = ", ".join(f"{run.rps:,.0f}" for run in runs)
        print(f"  {names[name]:<28} wall {wall:5.2f} ms, CPU {cpu:5.2f} ms  ({rates} req/s)")
    print()
    for label in ("changed",):
        cpu, wall, _card_ms, _bare_ms = ratios(times, label)
        verdict = "ok" if cpu <= 2 else "OVER"
        print(
            f"  card page, {label} / bare view: CPU {cpu:.2f} x (budget 2 x: {verdict}),"
            f" wall {wall:.2f} x  (medians of the rounds)"
        )
    plain = statistics.mean(run.cpu_ms for run in times["plain"])
    same = statistics.mean(run.cpu_ms for run in times["bare (changed run)"])
    print(f"  bare view, same app / plain Flask app: CPU {same / plain:.2f} x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
