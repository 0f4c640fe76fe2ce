"""A campaign's name and serial prefix are unique within a community: the service says so,
and when two saves pass the check at once (PostgreSQL, read committed) the database's index
refuses the second with the same words. Migration 0012 adds the index on both backends."""

from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.clock import local_today
from app.models import Campaign
from app.services import campaigns
from app.services.campaigns import CampaignDetails
from harness import ScratchDatabase

from . import factories
from .calls import refused, run
from .conftest import PG_URL, base_config
from .test_streets_migration import MIGRATIONS


def details(name="邻里互助消费卡", code="ZJH") -> CampaignDetails:
    today = local_today()
    return CampaignDetails(
        name=name,
        code=code,
        kind="card",
        funding="merchant",
        valid_from=today,
        valid_until=today + timedelta(days=30),
        rule_text="8折",
    )


@pytest.fixture
def check_overtaken(monkeypatch):
    """As if another office saved between this save's check and its write."""
    monkeypatch.setattr(campaigns, "_check_unique", lambda *args, **kwargs: None)


def campaigns_of(db, community) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(Campaign.id)).where(Campaign.community_id == community.id)
    )


def test_a_taken_name_that_slipped_past_the_check_is_refused_in_words(
    db, community, staff_user, check_overtaken
):
    factories.campaign(community, name="邻里互助消费卡", code="ZJH")
    refused(db, "name_taken", campaigns.create, staff_user, community.id, details(code="ZJK"))
    assert campaigns_of(db, community) == 1


def test_a_taken_prefix_that_slipped_past_the_check_is_refused_in_words(
    db, community, staff_user, check_overtaken
):
    factories.campaign(community, name="邻里互助消费卡", code="ZJH")
    refused(db, "code_taken", campaigns.create, staff_user, community.id, details(name="爱心卡"))
    assert campaigns_of(db, community) == 1


def test_renaming_onto_a_taken_name_past_the_check_is_refused(
    db, community, staff_user, check_overtaken
):
    factories.campaign(community, name="邻里互助消费卡", code="ZJH")
    other = factories.campaign(community, name="爱心卡", code="AXK")
    refused(db, "name_taken", campaigns.update, staff_user, other, details(code="AXK"))
    assert db.session.get(Campaign, other.id).name == "爱心卡"


def test_the_same_name_and_prefix_in_another_community_are_fine(
    db, community, other_community, staff_user, check_overtaken
):
    factories.campaign(other_community, name="邻里互助消费卡", code="ZJH")
    run(db, campaigns.create, staff_user, community.id, details())
    assert campaigns_of(db, community) == 1


def test_the_page_says_the_index_refusal_in_chinese_not_a_500(
    staff, db, community, check_overtaken
):
    factories.campaign(community, name="邻里互助消费卡", code="ZJH")
    response = staff.post(
        "/admin/campaigns/new",
        data={
            "name": "邻里互助消费卡",
            "code": "ZJK",
            "kind": "card",
            "funding": "merchant",
            "rule": "8折",
            "valid_from": local_today().isoformat(),
            "valid_until": (local_today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert "本社区已有同名的活动。" in response.text
    assert campaigns_of(db, community) == 1


@pytest.fixture
def at_0011(tmp_path):
    """A database migrated to 0011, with the app's session on it."""
    scratch = ScratchDatabase(PG_URL, "linli_migration", tmp_path / "old.sqlite")
    app = create_app(base_config(scratch.url, tmp_path / "instance"))
    from app.extensions import db

    try:
        with app.app_context():
            upgrade(directory=MIGRATIONS, revision="0011")
            yield db
            db.session.remove()
            db.engine.dispose()
    finally:
        scratch.drop()


def test_migration_0012_adds_the_unique_indexes(at_0011):
    db = at_0011
    ids = [
        factories.community("紫荆花社区", slug="zijinghua", street="琴断口街").id,
        factories.community("江博社区", slug="jiangbo", street="江堤街").id,
    ]
    for community_id in ids:
        db.session.add(old_campaign(community_id, "邻里互助消费卡", "ZJH"))
    db.session.commit()
    db.session.remove()
    upgrade(directory=MIGRATIONS)
    db.session.add(old_campaign(ids[0], "爱心卡", "AXK"))
    db.session.commit()
    for name, code in (("邻里互助消费卡", "ZJK"), ("另一张卡", "ZJH")):
        db.session.add(old_campaign(ids[0], name, code))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert db.session.scalar(select(func.count(Campaign.id))) == 3


def test_migration_0012_names_the_campaigns_to_rename_first(at_0011, capfd):
    db = at_0011
    community_id = factories.community("紫荆花社区", slug="zijinghua", street="琴断口街").id
    db.session.add(old_campaign(community_id, "邻里互助消费卡", "ZJH"))
    db.session.add(old_campaign(community_id, "邻里互助消费卡", "ZJK"))
    db.session.commit()
    db.session.remove()
    with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits
        upgrade(directory=MIGRATIONS)
    assert "紫荆花社区 邻里互助消费卡" in capfd.readouterr().err
    db.session.remove()
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM campaign").scalar() == 2
        indexes = {i["name"] for i in inspect(c).get_indexes("campaign")}
    assert "uq_campaign_community_name" not in indexes


def old_campaign(community_id, name, code) -> Campaign:
    today = local_today()
    return Campaign(
        community_id=community_id,
        name=name,
        code=code,
        kind="card",
        status="draft",
        funding="merchant",
        valid_from=today,
        valid_until=today,
        default_rule={"kind": "percent", "percent": 80},
        default_rule_text="8折",
    )
