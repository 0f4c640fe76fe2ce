"""No request may hold a worker: the attacks of issue 16 against gunicorn with four workers.

Four 60-byte requests with a bill of 1e999999999 once kept /healthz from answering for 65 s,
and a 1.5 MB workbook held a worker until gunicorn killed it. Here each attack is sent by
four clients at once, on the run's database (PostgreSQL in the PostgreSQL pass), while
/healthz is asked every few milliseconds: every attack must be refused with a 4xx at once,
and the health check must keep answering throughout (both within WALL_BUDGET).
"""

import http.client
import http.cookiejar
import io
import re
import threading
import time
import urllib.parse
import urllib.request

import pytest

from app.services import apikeys

from . import factories
from .test_faults import serve
from .test_hostile_input import bombs

pytestmark = pytest.mark.slow

ATTACKERS = 4
ROUNDS = 3  # bounded: four attackers send each attack three times
# Wall time on a shared 2-core machine includes waiting for the CPU; an attack that held a
# worker took 13 s to minutes. The in-process property test bounds each request's CPU to 1 s.
WALL_BUDGET = 3.0


@pytest.fixture
def server(app, db, tmp_path, community, shop, merchant_user, staff_user):
    campaign = factories.campaign(community, rule="8折")
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    _row, key = apikeys.create_key(db.session, merchant_user, "attacker")
    db.session.commit()
    served = serve(
        app,
        tmp_path,
        app.config["SQLALCHEMY_DATABASE_URI"],
        workers=4,
        wait=60,
        log=tmp_path / "log",
    )
    try:
        yield served, key, card.token
    finally:
        served.stop()


def post(port, path, body: bytes, headers: dict) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def staff_session(url: str) -> tuple[str, str]:
    """Sign in to the office over HTTP: the session's Cookie header and a CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url + "/login").read().decode()  # noqa: S310 - our own test server
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrf_token": token, "login": "zjh-staff", "password": factories.PASSWORD}
    ).encode()
    opener.open(url + "/login", form)  # noqa: S310
    page = opener.open(url + "/admin/merchants/import").read().decode()  # noqa: S310
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return "; ".join(f"{c.name}={c.value}" for c in jar), token


def multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "linli-attack-boundary"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(f"{value}\r\n".encode())
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="sheet"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    out.write(data + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def test_no_attack_holds_a_worker_and_the_health_check_keeps_answering(server, tally):
    served, key, token = server
    port = served.port
    api = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    attacks = {
        "bill 1e999999999": (
            "/api/v1/redemptions",
            f'{{"card": "{token}", "bill_fen": 1e999999999}}'.encode(),
            {**api, "Idempotency-Key": "attack-0000001"},
        ),
        "bill 1e1000000": (
            "/api/v1/quote",
            f'{{"card": "{token}", "bill_fen": 1e1000000}}'.encode(),
            api,
        ),
        "JSON 1,000 deep": (
            "/api/v1/quote",
            b'{"card": ' + b"[" * 1000 + b"]" * 1000 + b', "bill_fen": 100}',
            api,
        ),
        "JSON of 1 MB": ("/api/v1/quote", b'{"card": "' + b"x" * 1_000_000 + b'"}', api),
    }
    # The key's first use records when it was used (a write); on SQLite four workers doing
    # that at once may answer 503 (noted in issue 16's note), which is not what is tested here.
    assert post(port, "/api/v1/quote", b"{}", api)[0] == 404
    cookie, csrf = staff_session(served.url)
    for name in ("one huge cell", "huge shared strings"):
        body, content_type = multipart({"csrf_token": csrf}, "shops.xlsx", bombs()[name])
        attacks[f"xlsx: {name}"] = (
            "/admin/merchants/import",
            body,
            {"Content-Type": content_type, "Cookie": cookie},
        )

    health: list[float] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            started = time.monotonic()
            with urllib.request.urlopen(served.url + "/healthz", timeout=30):  # noqa: S310
                health.append(time.monotonic() - started)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    answers: dict[str, list[tuple[int, float]]] = {name: [] for name in attacks}

    def attack(name):
        path, body, headers = attacks[name]
        for _ in range(ROUNDS):
            answers[name].append(post(port, path, body, headers))

    try:
        for name in attacks:
            threads = [threading.Thread(target=attack, args=(name,)) for _ in range(ATTACKERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
    finally:
        done.set()
        watcher.join(timeout=30)
    for name, results in answers.items():
        assert len(results) == ATTACKERS * ROUNDS, name
        assert all(400 <= status < 500 for status, _ in results), (name, results)
        assert max(seconds for _, seconds in results) < WALL_BUDGET, (name, results)
        tally[f"gunicorn 4 workers: '{name}' x {len(results)}, slowest answer (ms)"] = round(
            1000 * max(seconds for _, seconds in results)
        )
    assert health and max(health) < WALL_BUDGET, max(health)
    tally["gunicorn 4 workers: /healthz during the attacks, slowest answer (ms)"] = round(
        1000 * max(health)
    )
