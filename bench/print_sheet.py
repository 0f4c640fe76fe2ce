"""Generating a batch of 2000 cards and printing it, against floors measured in the same run.

Usage: `make bench`, or .venv/bin/python bench/print_sheet.py

A community office's big day (紫荆花社区 made 2000 cards for 邻里互助日) is one batch of 2000
cards and one print job of 200 A4 sheets. This measures, on the 紫荆花/江博 demo in a temporary
SQLite database, through the office's own pages (the Flask test client, signed in as staff):

1. Generating the batch (`POST /admin/campaigns/<id>/batches`: serials, PINs, tokens, one bulk
   insert, the audit row), against the floor of writing the same 2000 rows: one `executemany`
   of as many random strings into a plain SQLite table, with no checks and no audit.
2. The print sheet of the whole batch (`GET /admin/batches/<id>/print?first=1&last=200`): the
   first print draws 2000 QR codes and keeps them on the cards; a second print reuses them. The
   floor is `../shared/bench/qr_floor.py`: raw `qrcode` SVG encoding of card URLs and nothing
   else (no page, no database), run in the same run; we compare time per card.

Figures vary with the machine's load; compare ratios from the same run only.
"""

import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Campaign, Card, CardBatch, Community  # noqa: E402
from app.services import demo  # noqa: E402
from bench._common import Figure, shared_bench  # noqa: E402

CARDS = 2000
FLOOR_CODES = 300  # enough codes of the raw encoder for a steady figure
BASE_URL = "https://linli.example.cn"


def make_app(folder: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "SECRET_KEY": "bench",  # noqa: S106 - a throwaway benchmark app
            "INSTANCE_PATH": str(folder / "instance"),
            "BASE_URL": BASE_URL,
            "WTF_CSRF_ENABLED": False,  # the form as a person posts it, less the token
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        demo.seed_demo(db.session)
        db.session.commit()
    return app


def signed_in(app):
    client = app.test_client()
    response = client.post(
        "/login", data={"login": "zijinghua", "password": demo.DEMO_PASSWORD, "next": ""}
    )
    if response.status_code != 302:
        raise RuntimeError(f"staff login failed: {response.status_code}")
    return client


def generate(app, client) -> tuple[float, int]:
    """Generate CARDS cards through the office's form; return (seconds, batch id)."""
    with app.app_context():
        campaign_id = db.session.scalar(
            select(Campaign.id)
            .join(Community, Community.id == Campaign.community_id)
            .where(Community.slug == "zijinghua", Campaign.kind == "card")
            .order_by(Campaign.id)
        )
        before = db.session.scalar(select(func.max(CardBatch.id))) or 0
    began = time.perf_counter()
    response = client.post(f"/admin/campaigns/{campaign_id}/batches", data={"size": CARDS})
    seconds = time.perf_counter() - began
    if response.status_code != 302:
        raise RuntimeError(f"batch form answered {response.status_code}")
    with app.app_context():
        batch_id = db.session.scalar(select(func.max(CardBatch.id)))
        made = db.session.scalar(select(func.count(Card.id)).where(Card.batch_id == batch_id))
    if batch_id == before or made != CARDS:
        raise RuntimeError(f"expected a new batch of {CARDS} cards, found {made}")
    return seconds, batch_id


def print_all(client, batch_id: int) -> tuple[float, int]:
    """Fetch the print sheet of the whole batch; return (seconds, cards on it)."""
    began = time.perf_counter()
    response = client.get(f"/admin/batches/{batch_id}/print?first=1&last={CARDS // 10}")
    seconds = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"print sheet answered {response.status_code}")
    html = response.get_data(as_text=True)
    return seconds, html.count('<svg class="qr"')


def insert_floor(folder: Path) -> float:
    """Seconds to write CARDS rows of random strings in one executemany: the least a batch is."""
    connection = sqlite3.connect(folder / "floor.sqlite", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE card (id INTEGER PRIMARY KEY, serial, pin, token)")
    rows = [
        (secrets.token_hex(6), secrets.token_hex(3), secrets.token_hex(13)) for _ in range(CARDS)
    ]
    began = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO card (serial, pin, token) VALUES (?, ?, ?)", rows)
    connection.execute("COMMIT")
    seconds = time.perf_counter() - began
    connection.close()
    return seconds


def qr_floor_ms() -> float | None:
    """Milliseconds a code for raw `qrcode` SVG encoding of card URLs (../shared/bench)."""
    folder = shared_bench()
    if folder is None:
        return None
    out = subprocess.run(
        [sys.executable, str(folder / "qr_floor.py"), str(FLOOR_CODES), f"{BASE_URL}/C/".upper()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"\(([\d.]+) ms/code\)", out).group(1))


def measure() -> dict:
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-print-"))
    app = make_app(folder)
    client = signed_in(app)
    figures = {"insert floor": statistics.median(insert_floor_runs(folder))}
    figures["generate"], batch_id = generate(app, client)
    figures["qr floor ms"] = qr_floor_ms()
    figures["print first"], figures["printed"] = print_all(client, batch_id)
    figures["print again"], _ = print_all(client, batch_id)
    return figures


def insert_floor_runs(folder: Path) -> list[float]:
    runs = []
    for i in range(3):
        sub = folder / f"floor{i}"
        sub.mkdir()
        runs.append(insert_floor(sub))
    return runs


def figures(seconds: int = 10) -> list[Figure]:
    """The benchmark's lines for docs/benchmarks.md (bench/run_all.py); `seconds` is unused."""
    m = measure()
    lines = [
        Figure(
            f"generate a batch of {CARDS:,} cards (SQLite)",
            f"{m['generate'] * 1000:.0f} ms",
            f"bare executemany {m['insert floor'] * 1000:.0f} ms",
            round(m["generate"] / m["insert floor"], 1),
            "—",
            None,
            "the office's form: serials, PINs, tokens, audit",
        )
    ]
    floor = m["qr floor ms"]
    for label, key in (
        ("first print, draws every QR", "print first"),
        ("print again", "print again"),
    ):
        per_card = m[key] * 1000 / m["printed"]
        lines.append(
            Figure(
                f"print sheet of {m['printed']:,} cards, {label}",
                f"{m[key]:.1f} s ({per_card:.2f} ms/card)",
                f"raw qrcode SVG {floor:.2f} ms/code" if floor else "floor not found",
                round(per_card / floor, 2) if floor else "—",
                "≤ 1.00 ×",
                per_card <= floor if floor else None,
                "the whole page: query, QR, HTML",
            )
        )
    return lines


def main() -> None:
    for figure in figures():
        print(figure.row())


if __name__ == "__main__":
    main()
