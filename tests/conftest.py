"""Fixtures: an app on a fresh database per test, clients per role, factories.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set (`make test`
does both). The schema is built once per run with the real migrations; each test then starts
from empty tables: a copy of the migrated SQLite file, or its rows deleted on PostgreSQL.
Under pytest-xdist (`make test` runs `-n auto`) each worker builds a database of its own.
"""

import os
import secrets
import shutil
from collections import Counter
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from werkzeug.routing import Rule

from app import create_app, models
from app.extensions import db as _db
from app.models import Role
from harness import ScratchDatabase

from . import factories

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

# scrypt is slow on purpose; tests create hundreds of users and need no such protection.
models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


def _remember_url_builders() -> None:
    """Build each URL rule's builder once a run, not once an app.

    Every test makes an app (`create_app`), and three quarters of that was werkzeug compiling
    the same ~170 URL builders anew (Python source made and compiled per rule per app): some
    50 ms a test, minutes a run. The builder is a function of the rule's parsed parts, its
    defaults and converters only (it reads the rule's converters when called), so one compiled
    for an identical rule of an earlier app is the same function.
    """
    compile_builder = Rule._compile_builder
    built: dict = {}

    def remembered(self, append_unknown: bool = True):
        converters = tuple(sorted((k, type(v), v.regex) for k, v in self._converters.items()))
        defaults = tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items()))
        key = (self.rule, tuple(self._trace), defaults, converters, append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = remembered


_remember_url_builders()


# What the hostile-input, access and fault tests tried, printed at the end of a run: the
# figures the README's "Reliability" section quotes come from here.
TALLY: Counter = Counter()


def pytest_report_header(config):
    return f"database backend: {'postgresql' if PG_URL else 'sqlite'}"


def pytest_sessionfinish(session):
    """Under xdist, hand this worker's tally to the controller (pytest_testnodedown sums them)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["tally"] = dict(TALLY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    TALLY.update(getattr(node, "workeroutput", {}).get("tally", {}))


def pytest_terminal_summary(terminalreporter):
    if TALLY:
        terminalreporter.section(f"what was tried ({'postgresql' if PG_URL else 'sqlite'})")
        for name, count in sorted(TALLY.items()):
            terminalreporter.write_line(f"{count:>9,}  {name}")


@pytest.fixture(scope="session")
def tally() -> Counter:
    """Counters for the end-of-run figures: `tally["requests fuzzed"] += 1`."""
    return TALLY


def base_config(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key",  # noqa: S105
        "INSTANCE_PATH": str(instance),
        "RATELIMIT_STORAGE_URI": "memory://",
    }


class Database:
    """A migrated test database that hands each test an empty copy."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.scratch = ScratchDatabase(PG_URL, "linli_test", tmp / "template.sqlite")
        self.url = self.scratch.url
        app = create_app(base_config(self.url, tmp / "instance"))
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            self.tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
            if not PG_URL:
                with _db.engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            _db.engine.dispose()

    def fresh(self, tmp_path: Path) -> str:
        """Return the URL of an empty, migrated database for one test."""
        if not PG_URL:
            target = tmp_path / "test.sqlite"
            shutil.copyfile(self.tmp / "template.sqlite", target)
            return f"sqlite:///{target}"
        return self.url

    def empty(self, engine) -> None:
        """Delete every row and restart the ids (PostgreSQL; SQLite tests get a fresh copy).

        TRUNCATE makes new files for every table, which made it most of a PostgreSQL run;
        deleting the few rows a test wrote is quick. The replica role lets the delete past the
        audit log's append-only trigger and the foreign keys, for this transaction only.
        """
        if PG_URL:
            with engine.begin() as c:
                c.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for table in self.tables:
                    c.exec_driver_sql(f'DELETE FROM "{table}"')  # noqa: S608 - our table names
                c.exec_driver_sql("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")

    def drop(self) -> None:
        self.scratch.drop()


class DemoDatabase:
    """The demo (`flask seed-demo`), seeded once per run (per xdist worker) for the tests that
    read it (`@pytest.mark.demo`): each gets a copy of its own, a file on SQLite, a database
    made from it as a template on PostgreSQL. Seeding it for every such test was most of their
    time."""

    def __init__(self, database: Database, tmp: Path):
        from app.database import write_transaction
        from app.services.demo import seed_demo

        self.tmp = tmp
        self.path = tmp / "demo.sqlite"
        if not PG_URL:
            shutil.copyfile(database.tmp / "template.sqlite", self.path)
        self.scratch = ScratchDatabase(PG_URL, "linli_demo", self.path)
        app = create_app(base_config(self.scratch.url, tmp / "instance"))
        with app.app_context():
            if PG_URL:
                upgrade(directory=str(ROOT / "migrations"))
            with write_transaction(_db.session):
                seed_demo(_db.session)
            _db.session.remove()
            if not PG_URL:
                with _db.engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            _db.engine.dispose()
        self.copies: list[ScratchDatabase] = []

    def fresh(self, tmp_path: Path) -> str:
        """Return the URL of a copy of the seeded demo for one test."""
        if not PG_URL:
            target = tmp_path / "test.sqlite"
            shutil.copyfile(self.path, target)
            return f"sqlite:///{target}"
        copy = self.scratch.copy(str(len(self.copies)))
        self.copies.append(copy)
        return copy.url

    def drop_copies(self) -> None:
        while self.copies:
            self.copies.pop().drop()

    def drop(self) -> None:
        self.drop_copies()
        self.scratch.drop()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    compile_catalogue()
    database = Database(tmp_path_factory.mktemp("db"))
    yield database
    database.drop()


@pytest.fixture(scope="session")
def demo_database(database, tmp_path_factory):
    demo = DemoDatabase(database, tmp_path_factory.mktemp("demo"))
    yield demo
    demo.drop()


def compile_catalogue() -> None:
    """Compile the Chinese catalogue when the .po is newer than the .mo (as `make` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    mo = po.with_suffix(".mo")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        with po.open("rb") as f:
            catalog = read_po(f, locale="zh_Hans_CN")
        with mo.open("wb") as f:
            write_mo(f, catalog)


class Client(FlaskClient):
    """A test client that puts a valid CSRF token into every form it posts.

    Pass `csrf=False` to post without one (to test that the site refuses it). Each request runs
    in an app context of its own, as in production: the test's `db.session` and `g` are not
    the request's. The test's session is committed before and after each request, so the
    request sees what the test changed and the test then reads what the request wrote (on
    SQLite an open transaction would otherwise keep reading its old snapshot).
    """

    def open(self, *args, **kwargs):
        outer = has_app_context()
        if outer:
            _db.session.commit()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            if outer:
                _db.session.commit()

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def post(self, *args, csrf=True, **kwargs):
        if csrf and "json" not in kwargs and not isinstance(kwargs.get("data"), str | bytes):
            data = dict(kwargs.get("data") or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


@pytest.fixture
def app(request, database, tmp_path):
    """The app on an empty database; under `@pytest.mark.demo`, on a copy of the seeded demo."""
    demo = (
        request.getfixturevalue("demo_database")
        if request.node.get_closest_marker("demo")
        else None
    )
    url = demo.fresh(tmp_path) if demo else database.fresh(tmp_path)
    app = create_app(base_config(url, tmp_path / "instance"))
    app.test_client_class = Client
    with app.app_context():
        if demo is None:
            database.empty(_db.engine)
        yield app
        _db.session.remove()
        _db.engine.dispose()
    if demo is not None:
        demo.drop_copies()


@pytest.fixture
def make_app(database, tmp_path):
    """Build extra apps with config changes; their connections are closed afterwards."""
    made = []

    def make(**config):
        app = create_app(base_config(database.fresh(tmp_path), tmp_path / "instance") | config)
        app.test_client_class = Client
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


def login(app, user) -> Client:
    """Return a client signed in as `user`."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def community(db):
    return factories.community("紫荆花社区", slug="zijinghua", street="琴断口街")


@pytest.fixture
def other_community(db):
    return factories.community("江博社区", slug="jiangbo", street="江堤街")


@pytest.fixture
def shop(community):
    return factories.merchant(community, "张记热干面", category="餐饮")


@pytest.fixture
def district_admin_user(db):
    return factories.user(Role.DISTRICT_ADMIN, username="hanyang")


@pytest.fixture
def staff_user(community):
    return factories.user(Role.STAFF, community=community, username="zjh-staff")


@pytest.fixture
def other_staff_user(other_community):
    return factories.user(Role.STAFF, community=other_community, username="jb-staff")


@pytest.fixture
def merchant_user(shop):
    return factories.user(Role.MERCHANT_OWNER, merchant=shop, username="zjh01")


@pytest.fixture
def cashier_user(shop):
    return factories.user(Role.CASHIER, merchant=shop, username="zjh01-cashier")


@pytest.fixture
def street_staff_user(community):
    """Staff of 琴断口街, the street of `community` (紫荆花)."""
    return factories.street_staff(community.street, "qinduankou", name="周敏")


@pytest.fixture
def other_street_staff_user(other_community):
    """Staff of 江堤街, the street of `other_community` (江博)."""
    return factories.street_staff(other_community.street, "jiangdi", name="陈刚")


@pytest.fixture
def street_staff(app, street_staff_user):
    return login(app, street_staff_user)


@pytest.fixture
def district_admin(app, district_admin_user):
    return login(app, district_admin_user)


@pytest.fixture
def staff(app, staff_user):
    return login(app, staff_user)


@pytest.fixture
def other_staff(app, other_staff_user):
    return login(app, other_staff_user)


@pytest.fixture
def merchant(app, merchant_user):
    return login(app, merchant_user)


@pytest.fixture
def cashier(app, cashier_user):
    return login(app, cashier_user)
