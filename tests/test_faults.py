"""Faults under load: a worker killed mid-redemption, the database going away and coming back,
a read-only or full SQLite file. Money must come out exactly right every time.

These start the real app under gunicorn on a free port, against the test database of this run
(SQLite file or PostgreSQL), and drive it over HTTP like shop tills would. They wait for what
they need (answers served, a worker back, the budget spent) rather than for a fixed time, so a
busy machine makes them slower, never wrong.
"""

import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Campaign, Card, CardStatus, Funding, Redemption, RedemptionStatus
from app.services import apikeys
from harness import Gunicorn

from . import factories
from .conftest import PG_URL
from .faults.proxy import Proxy

pytestmark = pytest.mark.slow

USES_PER_CARD = 3
BUDGET_FEN = 80_000  # room for 80 redemptions of ¥10 off; the cards have 180 uses
PATIENCE = 120  # seconds to wait for a condition before the test fails, on a busy machine


@pytest.fixture
def shop_with_cards(db, community, merchant_user):
    """A shop in a community-funded campaign: 60 cards of 3 uses, ¥10 off, a budget for 80."""
    campaign = factories.campaign(
        community,
        funding=Funding.COMMUNITY,
        rule="立减10",
        uses_per_card=USES_PER_CARD,
        budget_fen=BUDGET_FEN,
    )
    factories.offer(campaign, merchant_user.merchant)
    cards = factories.cards(campaign, 60)
    _row, key = apikeys.create_key(db.session, merchant_user, "faults")
    db.session.commit()
    return campaign, [c.token for c in cards], key


def serve(app, tmp_path, database_url, workers=2, **options):
    folder = tmp_path / "served"
    folder.mkdir(exist_ok=True)
    (folder / "config.py").write_text(
        f'API_RATE_LIMIT = "1000000 per minute"\nSECRET_KEY = "{secrets.token_hex(16)}"\n'
    )
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        LINLI_INSTANCE_PATH=str(folder),
        LINLI_LOG_LEVEL="ERROR",
    )
    return Gunicorn("app:create_app()", env, workers=workers, **{"wait": PATIENCE, **options})


def wait_until(condition, what: str) -> None:
    """Poll `condition` until it holds; fail saying `what` did not happen in PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"waited {PATIENCE} s for {what}"
        time.sleep(0.05)


def answered(tills, *statuses) -> int:
    """How many redemptions the tills have had a final answer with one of `statuses` for."""
    return sum(till.final[status] for till in tills for status in statuses)


class Till(threading.Thread):
    """A shop till: sends redemptions, retrying with the same key after a network failure."""

    def __init__(self, port, key, tokens, stop, seed):
        super().__init__(daemon=True)
        self.port, self.key, self.tokens, self.stop = port, key, tokens, stop
        self.random = random.Random(seed)
        self.answers: dict[str, tuple[int, dict]] = {}  # idempotency key -> last answer
        self.final: Counter = Counter()  # status -> how many final answers had it
        self.refused: Counter = Counter()  # error code -> how many refusals gave it
        self.failures = 0
        self.statuses: list[int] = []

    def post(self, body: dict, key: str) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                "POST",
                "/api/v1/redemptions",
                json.dumps(body),
                {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self.key}",
                    "Idempotency-Key": key,
                },
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def run(self):
        while not self.stop.is_set():
            key = f"till-{secrets.token_hex(8)}"
            body = {"card": self.random.choice(self.tokens), "bill_fen": 5000}
            for _attempt in range(20):
                try:
                    status, answer = self.post(body, key)
                except (OSError, http.client.HTTPException, json.JSONDecodeError):
                    self.failures += 1
                    time.sleep(0.05)
                    continue  # a real till retries with the same key
                self.statuses.append(status)
                if status == 503:
                    time.sleep(0.05)
                    continue
                self.answers[key] = (status, answer)
                self.final[status] += 1
                if status == 409:
                    self.refused[answer.get("error")] += 1
                break


def check_books(db, campaign_id, tills):
    """Every success answered is in the database exactly once; no card or budget overspent."""
    db.session.rollback()
    successes = {
        key: answer
        for till in tills
        for key, (status, answer) in till.answers.items()
        if status in (200, 201)
    }
    rows = db.session.scalars(select(Redemption)).all()
    by_key = {}
    for row in rows:
        by_key.setdefault(row.idempotency_key, []).append(row)
    for key, answer in successes.items():
        assert len(by_key.get(key, [])) == 1, (
            f"{key} answered success but is stored {by_key.get(key)}"
        )
        assert by_key[key][0].id == answer["id"]
    live = [r for r in rows if r.status == RedemptionStatus.OK]
    for card in db.session.scalars(select(Card).where(Card.campaign_id == campaign_id)):
        used = sum(1 for r in live if r.card_id == card.id)
        assert card.uses_count == used <= USES_PER_CARD
        if used == USES_PER_CARD:
            assert card.status == CardStatus.USED_UP
    campaign = db.session.get(Campaign, campaign_id)
    spent = sum(r.discount_fen for r in live)
    assert campaign.spent_fen == spent <= BUDGET_FEN
    return successes, rows


def worker_pids(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def test_killing_a_worker_mid_load_loses_or_doubles_nothing(
    app, db, tmp_path, shop_with_cards, tally
):
    campaign, tokens, key = shop_with_cards
    server = serve(app, tmp_path, app.config["SQLALCHEMY_DATABASE_URI"])
    stop = threading.Event()
    tills = [Till(server.port, key, tokens, stop, seed) for seed in range(6)]
    try:
        for till in tills:
            till.start()
        for kill in range(3):
            # Kill only while both workers are up and redemptions are going through.
            wait_until(lambda: len(worker_pids(server.process.pid)) == 2, "two workers")
            done = answered(tills, 200, 201)
            wait_until(
                lambda done=done: answered(tills, 200, 201) >= done + 10, f"load before kill {kill}"
            )
            os.kill(worker_pids(server.process.pid)[0], signal.SIGKILL)
        # Go on until the budget is spent and the tills are refused for it.
        wait_until(
            lambda: any(till.refused["budget_exhausted"] for till in tills), "the budget to run out"
        )
        stop.set()
        for till in tills:
            till.join(timeout=60)
    finally:
        stop.set()
        server.stop()
    successes, rows = check_books(db, campaign.id, tills)
    refused = [a for t in tills for (s, a) in t.answers.values() if s == 409]
    assert len(successes) > 50, "the load did real work"
    assert db.session.get(Campaign, campaign.id).spent_fen == BUDGET_FEN, "all of it, no more"
    assert {a["error"] for a in refused} <= {"used_up", "budget_exhausted"}
    assert 500 not in {s for t in tills for s in t.statuses}
    tally["faults: workers SIGKILLed under load"] += 3
    tally["faults: redemption requests during the kills"] += sum(len(t.statuses) for t in tills)
    tally["faults: successes answered, each stored exactly once"] += len(successes)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL through a proxy that can be cut")
def test_the_database_going_away_gives_503_and_the_site_recovers_by_itself(
    app, db, tmp_path, shop_with_cards, tally
):
    from sqlalchemy import make_url

    campaign, tokens, key = shop_with_cards
    real = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    server = serve(
        app, tmp_path, real.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    )
    stop = threading.Event()
    tills = [Till(server.port, key, tokens, stop, seed) for seed in range(3)]
    pages = []
    try:
        for till in tills:
            till.start()
        wait_until(lambda: answered(tills, 200, 201) >= 10, "redemptions before the outage")
        proxy.stop()  # PostgreSQL "restarts": connections reset, new ones refused
        for _ in range(10):
            pages.append(_get(server.port, "/"))  # the start page lists communities
        proxy.start()
        wait_until(lambda: _get(server.port, "/healthz")[0] == 200, "recovery without a restart")
        done = answered(tills, 200, 201, 409)
        wait_until(lambda: answered(tills, 200, 201, 409) >= done + 10, "tills served again")
        stop.set()
        for till in tills:
            till.join(timeout=60)
    finally:
        stop.set()
        server.stop()
        proxy.stop()
    statuses = [s for t in tills for s in t.statuses]
    assert 500 not in statuses and 500 not in [s for s, _ in pages]
    assert 503 in statuses or 503 in [s for s, _ in pages], "the outage was seen"
    outage = [body for status, body in pages if status == 503]
    assert outage and all("暂时无法使用" in body for body in outage)
    successes, _rows = check_books(db, campaign.id, tills)
    tally["faults: PostgreSQL outages survived, recovered without restart"] += 1
    tally["faults: redemption requests across the outage"] += len(statuses)
    tally["faults: successes answered, each stored exactly once"] += len(successes)


def _get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    except OSError:
        return 0, ""
    finally:
        connection.close()


sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite file faults")


@sqlite_only
def test_a_read_only_database_gives_a_clear_503_and_writes_nothing(make_app, db, shop_with_cards):
    campaign, tokens, key = shop_with_cards
    path = Path(db.engine.url.database)
    read_only = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")
    response = read_only.test_client().post(
        "/api/v1/redemptions",
        json={"card": tokens[0], "bill_fen": 5000},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "read-only-01"},
    )
    assert response.status_code == 503
    assert response.json["error"] == "unavailable"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Redemption.id))) == 0
    assert db.session.get(Campaign, campaign.id).spent_fen == 0


@sqlite_only
def test_a_full_disk_gives_a_clear_503_and_nothing_half_written(make_app, db, shop_with_cards):
    from sqlalchemy import event

    campaign, tokens, key = shop_with_cards
    full = make_app()
    with full.app_context():
        from app.extensions import db as full_db

        @event.listens_for(full_db.engine, "connect")
        def no_room(dbapi_connection, record):
            cursor = dbapi_connection.cursor()
            count = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {count}")  # the disk is now "full"
            cursor.close()

        full_db.engine.dispose()
    client = full.test_client()
    statuses = []
    for i in range(40):  # fill the last free pages, then hit the wall
        response = client.post(
            "/api/v1/redemptions",
            json={"card": tokens[i % len(tokens)], "bill_fen": 5000},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"disk-full-{i:03d}"},
        )
        statuses.append(response.status_code)
    assert 503 in statuses and 500 not in statuses
    db.session.rollback()
    rows = db.session.scalars(select(Redemption)).all()
    assert len(rows) == statuses.count(201)
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.spent_fen == sum(r.discount_fen for r in rows)
