"""Migration 0004 turns communities' free-text streets into street rows, on both backends.

It runs on a database of its own with rows in it (communities, their staff, a shop, audit
rows pointing at users), as an installation upgrading would have: an empty database hides
what foreign keys and CHECKs do to tables that are rebuilt.
"""

from datetime import UTC, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from harness import ScratchDatabase

from .conftest import PG_URL, ROOT, base_config

MIGRATIONS = str(ROOT / "migrations")
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC).replace(tzinfo=None)

# (name, slug, street as typed over the years, district)
COMMUNITIES = [
    ("紫荆花社区", "zijinghua", "琴断口街", "汉阳区"),
    ("七里庙社区", "qilimiao", "琴断口街道", "汉阳区"),
    ("锦绣社区", "jinxiu", " 琴断口　街道办事处 ", "汉阳区"),  # a full-width space inside
    ("十里铺社区", "shilipu", "琴断口街", "汉阳区"),
    ("江博社区", "jiangbo", "江堤街", "汉阳区"),
    ("江欣苑社区", "jiangxinyuan", "江堤街道", "汉阳区"),
    ("汉兴社区", "hanxing", "琴断口街", "江汉区"),  # same name, another district
    ("新区社区", "xinqu", "", "汉阳区"),  # never placed in a street
]


@pytest.fixture
def old_database(tmp_path):
    """A database migrated to 0003 and filled the way 0003's schema allowed."""
    scratch = ScratchDatabase(PG_URL, "linli_migration", tmp_path / "old.sqlite")
    app = create_app(base_config(scratch.url, tmp_path / "instance"))
    try:
        with app.app_context():
            upgrade(directory=MIGRATIONS, revision="0003")
            from app.extensions import db

            with db.engine.begin() as c:
                for name, slug, street, district in COMMUNITIES:
                    c.execute(
                        text(
                            "INSERT INTO community (name, slug, street, district, created_at, "
                            "leaderboard_on) VALUES (:n, :s, :st, :d, :t, :on)"
                        ),
                        {"n": name, "s": slug, "st": street, "d": district, "t": NOW, "on": True},
                    )
                c.execute(
                    text(
                        "INSERT INTO users (username, name, password_hash, role, community_id, "
                        "active, session_version, created_at, points_balance, "
                        "must_change_password) VALUES ('zijinghua', '李芳', 'x', 'staff', "
                        "(SELECT id FROM community WHERE slug = 'zijinghua'), :on, 0, :t, 0, :off)"
                    ),
                    {"t": NOW, "on": True, "off": False},
                )
                c.execute(
                    text(
                        "INSERT INTO audit_log (created_at, actor_id, actor_label, action, "
                        "object_type, note, ip) VALUES (:t, (SELECT id FROM users), '李芳', "
                        "'community.update', 'community', '', '')"
                    ),
                    {"t": NOW},
                )
            yield app, db
    finally:
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
        scratch.drop()


def test_text_streets_become_rows_merging_spellings_of_one_street(old_database):
    app, db = old_database
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as c:
            streets = c.execute(
                text("SELECT id, district, name FROM street ORDER BY district, name")
            ).all()
            placed = dict(
                c.execute(
                    text(
                        "SELECT community.slug, street.name FROM community "
                        "LEFT JOIN street ON street.id = community.street_id"
                    )
                ).all()
            )
    assert [(s.district, s.name) for s in streets] == [
        ("汉阳区", "江堤街"),  # 江堤街 and 江堤街道 once each: the shorter spelling
        ("汉阳区", "琴断口街"),  # the spelling two of four communities used
        ("江汉区", "琴断口街"),
    ]
    assert placed == {
        "zijinghua": "琴断口街",
        "qilimiao": "琴断口街",
        "jinxiu": "琴断口街",
        "shilipu": "琴断口街",
        "jiangbo": "江堤街",
        "jiangxinyuan": "江堤街",
        "hanxing": "琴断口街",
        "xinqu": None,
    }
    by_district = {(s.district, s.name): s.id for s in streets}
    with app.app_context(), db.engine.connect() as c:
        hanxing_street = c.execute(
            text("SELECT street_id FROM community WHERE slug = 'hanxing'")
        ).scalar()
    assert hanxing_street == by_district[("江汉区", "琴断口街")]


def test_after_the_migration_a_street_staff_login_fits_and_old_rows_are_kept(old_database):
    app, db = old_database
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        from app.models import Role, Street, User

        street = db.session.query(Street).filter_by(name="江堤街").one()
        db.session.add(
            User(
                username="jiangdi",
                name="周敏",
                password_hash="x",
                role=Role.STREET_STAFF,
                street_id=street.id,
            )
        )
        db.session.commit()
        staff = db.session.query(User).filter_by(username="zijinghua").one()
        assert staff.role == Role.STAFF and staff.community.name == "紫荆花社区"
        assert db.session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1
        # a street staff login belongs to no community
        db.session.add(
            User(
                username="bad",
                name="x",
                password_hash="x",
                role=Role.STREET_STAFF,
                street_id=street.id,
                community_id=staff.community_id,
            )
        )
        with pytest.raises(Exception, match="(?i)check"):
            db.session.commit()
        db.session.rollback()
        # a community office's staff still needs a community
        db.session.add(User(username="bad2", name="x", password_hash="x", role=Role.STAFF))
        with pytest.raises(Exception, match="(?i)check"):
            db.session.commit()
        db.session.rollback()
