"""The real app in a real browser: gunicorn on a free port, Debian's Chromium, a phone viewport.

One server per test session: a fresh database (SQLite; PostgreSQL of its own when
TEST_DATABASE_URL is set) made by `flask init-db`, filled by
`flask seed-demo` (the 紫荆花/江博 demo, through the app's services, 2000 cards included) and
one more community with nothing in it but its staff login, for the walkthrough to build from
nothing. One browser per session; every test gets its own context (cookies, storage) and a
guard that fails the test on a console error, an uncaught exception, a Content-Security-Policy
violation or a request to any host but the app's.

`make test` runs them in both passes: on SQLite, then with the server on PostgreSQL.
"""

import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db as _db
from app.models import Community, Role, Street, User
from app.services import communities
from app.services.communities import CommunityDetails
from app.services.logins import Login
from harness import Gunicorn, ScratchDatabase

from ..conftest import PG_URL, compile_catalogue
from . import longest as longest_data

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
DEMO_PASSWORD = "linli-demo"
# The walkthrough's community: empty but for its staff login.
WALK_COMMUNITY = "七里庙社区"
WALK_STAFF, WALK_PASSWORD = "qilimiao", "qilimiao-2026"

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            # Under xdist (`--dist loadgroup`) one worker runs them all, so one server is seeded.
            item.add_marker(pytest.mark.xdist_group("e2e"))


@dataclass
class Server:
    """The running app: its address, and an app object on the same database for lookups."""

    url: str
    database_url: str
    instance: Path
    app: object = field(repr=False)
    log: Path = field(repr=False)

    @contextmanager
    def db(self):
        """A fresh session on the server's database (never a stale SQLite snapshot)."""
        with self.app.app_context():
            try:
                yield _db.session
            finally:
                _db.session.remove()


def _cli(env, *args):
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Serve the demo with gunicorn (2 workers, as `make serve`) on a free port."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")
    compile_catalogue()
    tmp = tmp_path_factory.mktemp("e2e")
    instance = tmp / "instance"
    instance.mkdir()
    # Browser tests log in many times a minute from one address.
    (instance / "config.py").write_text(
        'LOGIN_RATE_LIMIT = "1000 per minute"\nCARD_RATE_LIMIT = "5000 per minute"\n'
    )
    database = ScratchDatabase(PG_URL, "linli_e2e", tmp / "linli.sqlite")
    database_url = database.url
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LINLI_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"))
    }
    env |= {
        "DATABASE_URL": database_url,
        "LINLI_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "e2e-secret-key",
        "LINLI_LOG_LEVEL": "WARNING",
    }
    _cli(env, "init-db")
    _cli(env, "seed-demo")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance), "TESTING": True}
    )
    with app.app_context():
        admin = _db.session.scalar(
            _db.select(User).where(User.role == Role.DISTRICT_ADMIN).limit(1)
        )
        street = _db.session.scalar(_db.select(Street).where(Street.name == "琴断口街"))
        community = communities.create(
            _db.session, admin, CommunityDetails(WALK_COMMUNITY, "qilimiao", street.id, "汉阳区")
        )
        communities.add_staff(
            _db.session, admin, community, Login("七里庙社区工作人员", WALK_STAFF, WALK_PASSWORD)
        )
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    process = Gunicorn(
        "app:create_app()", env, workers=2, threads=4, log=tmp / "gunicorn.log", wait=30
    )
    try:
        yield Server(process.url, database_url, instance, app, process.log)
    finally:
        process.stop()
        with app.app_context():
            _db.engine.dispose()
        database.drop()


@pytest.fixture(scope="session")
def playwright():
    with sync_api.sync_playwright() as playwright:
        yield playwright


def launch(playwright, *extra_args):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


def launch_with_camera(playwright, video):
    """A Chromium whose camera plays `video` (media.camera_file), camera access granted."""
    return launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )


@pytest.fixture(scope="session")
def browser(playwright, server):
    browser = launch(playwright)
    yield browser
    browser.close()


# Set before any page script runs: a CSP violation becomes a console error the guard sees.
REPORT_CSP = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);
});
"""


class Guard:
    """Watches a browser context for what must never happen on a page of ours."""

    def __init__(self, server_url: str):
        self.origin = server_url
        self.problems: list[str] = []
        self.allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` (e.g. a 409 page the test asks for).

        The pattern is searched in the message followed by the page's address in brackets.
        """
        self.allowed.append(re.compile(pattern))

    def attach(self, context) -> None:
        context.add_init_script(REPORT_CSP)
        context.route("**/*", self._route)
        context.on("page", self._watch)
        context.on("weberror", lambda error: self._problem(f"uncaught: {error.error}"))

    def _watch(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self._problem(f"page error: {error}"))

    def _console(self, message) -> None:
        text = f"{message.text} ({message.location.get('url')})"
        if message.type == "error" or "Content Security Policy" in text:
            if not any(p.search(text) for p in self.allowed):
                self._problem(f"console {message.type}: {text}")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/") or url == self.origin or url.startswith("data:"):
            route.continue_()
        else:
            self._problem(f"request to another host: {url}")
            route.abort()

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def guard(server):
    return Guard(server.url)


@pytest.fixture
def new_context(browser, guard):
    """Make guarded browser contexts; phone-sized (360 × 740, touch) unless told otherwise."""
    made = []

    def make(phone=True, browser_=None, **options):
        if phone:
            options = {
                "viewport": PHONE,
                "is_mobile": True,
                "has_touch": True,
                "device_scale_factor": 2,
            } | options
        context = (browser_ or browser).new_context(locale="zh-CN", **options)
        guard.attach(context)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
    guard.check()


@pytest.fixture
def phone(new_context):
    """A page in a fresh phone-sized context."""
    return new_context().new_page()


@pytest.fixture
def desk(new_context):
    """A page in a fresh desktop-sized context, for the community office."""
    return new_context(phone=False, viewport={"width": 1280, "height": 900}).new_page()


def log_in(page, server, login, password=DEMO_PASSWORD):
    """Sign in through the login form, as a person would."""
    page.goto(f"{server.url}/login")
    page.locator("#login").fill(login)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.locator(".errors, .notice").all_inner_texts()


@pytest.fixture(scope="session")
def longest(server) -> longest_data.Longest:
    """The community of the longest data (`longest.py`), built once for every test that needs it."""
    with server.db() as session:
        return longest_data.build(session)


@pytest.fixture
def first_community(server):
    with server.db() as session:
        return session.scalar(_db.select(Community).where(Community.slug == "zijinghua"))


@dataclass(frozen=True)
class DemoCard:
    token: str
    serial: str
    pin: str


_handed_out: set[str] = set()


def issued_card(server, community="zijinghua") -> DemoCard:
    """Return an issued, unused demo card of `community` that no other test has had."""
    from app.models import Card, CardStatus

    with server.db() as session:
        rows = session.execute(
            _db.select(Card.token, Card.serial, Card.pin)
            .join(Community, Card.community_id == Community.id)
            .where(
                Community.slug == community,
                Card.status == CardStatus.ISSUED,
                Card.uses_count == 0,
            )
            .order_by(Card.id)  # the community's first campaign: every demo shop takes it
            .limit(len(_handed_out) + 1)
        ).all()
    for row in rows:
        if row.serial not in _handed_out:
            _handed_out.add(row.serial)
            return DemoCard(row.token, row.serial, row.pin)
    raise LookupError("no unused issued card left in the demo")


@pytest.fixture
def card(server) -> DemoCard:
    return issued_card(server)


def demo_resident(server) -> str | None:
    """The login of the demo's first resident (the help board's), or None before there is one."""
    with server.db() as session:
        user = session.scalar(
            _db.select(User)  # one who signs in (the office serves those without a phone)
            .where(User.role == Role.RESIDENT, User.active.is_(True), User.phone.is_not(None))
            .order_by(User.phone, User.id)
            .limit(1)
        )
        return None if user is None else (user.phone or user.username)


@pytest.fixture
def folder(tmp_path) -> Path:
    """Where screenshots and printed pages are kept: LINLI_SCREENSHOTS (`make screenshots`:
    docs/screenshots), else the test's own temporary folder."""
    chosen = os.environ.get("LINLI_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def shoot(page, folder: Path, name: str, full_page=False) -> Path:
    """Take a screenshot of the page into `folder` as `name`.png."""
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=full_page, animations="disabled", caret="initial")
    assert path.stat().st_size > 5_000  # a blank page compresses to less
    return path
