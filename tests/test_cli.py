"""Every command-line task, through the CLI runner."""

import pytest
from sqlalchemy import func, select

from app.models import (
    AuditLog,
    Campaign,
    Card,
    CardStatus,
    Community,
    Merchant,
    MerchantStatus,
    Redemption,
    RedemptionStatus,
    Role,
    Street,
    User,
)
from app.services.demo import DEMO_PASSWORD


def test_init_db_upgrades_an_empty_database(app, db):
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "数据库已就绪" in result.output
    assert db.session.scalar(select(func.count(Community.id))) == 0


def test_create_admin_makes_a_district_admin_who_can_sign_in(app, db, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--username", "boss", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "boss"))
    assert user.role == Role.DISTRICT_ADMIN
    assert user.community_id is None
    response = client.post("/login", data={"login": "boss", "password": "s3cret-pass"})
    assert response.headers["Location"] == "/admin/"


def test_create_admin_refuses_a_taken_name_and_a_short_password(app, db):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-admin", "--username", "boss", "--password", "s3cret-pass"])
    taken = runner.invoke(args=["create-admin", "--username", "boss", "--password", "s3cret-pass"])
    assert taken.exit_code != 0
    assert "已被使用" in taken.output
    short = runner.invoke(args=["create-admin", "--username", "other", "--password", "short"])
    assert short.exit_code != 0
    assert "至少需要 8 个字符" in short.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_seed_demo_builds_the_two_communities_and_prints_logins(app, db, client):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "zijinghua" in result.output and DEMO_PASSWORD in result.output
    names = set(db.session.scalars(select(Community.name)))
    assert {"紫荆花社区", "江博社区"} <= names
    # 汉阳区's streets: 紫荆花 and five more in 琴断口街, 江博 and more in 江堤街
    streets = {
        street.name: {c.name for c in street.communities}
        for street in db.session.scalars(select(Street))
    }
    assert "紫荆花社区" in streets["琴断口街"] and len(streets["琴断口街"]) >= 6
    assert "江博社区" in streets["江堤街"] and len(streets["江堤街"]) >= 2
    assert "qinduankou" in result.output and "jiangdi" in result.output
    zjh = db.session.scalar(select(Community).where(Community.slug == "zijinghua"))
    active = db.session.scalar(
        select(func.count(Merchant.id)).where(
            Merchant.community_id == zjh.id, Merchant.status == MerchantStatus.ACTIVE
        )
    )
    assert active == 12
    card_campaign = db.session.scalar(
        select(Campaign).where(Campaign.community_id == zjh.id, Campaign.code == "ZJH")
    )
    assert card_campaign.valid_from.month == 5 and card_campaign.valid_from.day == 12
    assert (
        db.session.scalar(select(func.count(Card.id)).where(Card.campaign_id == card_campaign.id))
        == 2000
    )
    jiangbo = db.session.scalar(select(Community).where(Community.slug == "jiangbo"))
    assert (
        db.session.scalar(
            select(func.count(Merchant.id)).where(Merchant.community_id == jiangbo.id)
        )
        == 19
    )
    # the printed logins work
    response = client.post("/login", data={"login": "zjh01", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/m/"
    street = app.test_client().post(
        "/login", data={"login": "qinduankou", "password": DEMO_PASSWORD}
    )
    assert street.headers["Location"] == "/admin/"


@pytest.mark.demo  # seeded once a run: tests/conftest.py DemoDatabase
def test_the_demo_help_board_has_residents_posts_in_every_state_and_exact_points(app, db, client):
    from app.models import HelpPost, PointsEntry, Role, User
    from app.services.points import ledger_sum

    states = set(db.session.scalars(select(HelpPost.status)))
    assert {s.value for s in states} == {"open", "taken", "done", "confirmed", "cancelled"}
    residents = db.session.scalars(  # the help board's: with a household (cadres have none)
        select(User).where(User.role == Role.RESIDENT, User.household.is_not(None))
    ).all()
    assert len(residents) == 10 and sum(r.confirmed_at is None for r in residents) == 2
    assert sum(not r.has_login for r in residents) == 2  # 代办: served at the office
    for resident in residents:
        assert resident.points_balance == ledger_sum(db.session, resident.id) >= 0
    assert db.session.scalar(select(func.count(PointsEntry.id))) >= 5
    exchangeable = db.session.scalar(select(Campaign).where(Campaign.points_price.is_not(None)))
    assert exchangeable.points_price == 50
    result = app.test_cli_runner().invoke(args=["demo-logins"])
    assert "13800000001" in result.output
    response = client.post("/login", data={"login": "13800000001", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/aid/"


@pytest.mark.demo  # seeded once a run: tests/conftest.py DemoDatabase
def test_the_demo_volunteers_turned_out_and_their_points_are_on_the_ledger(app, db, client):
    from app.models import ActivityStatus, PointsEntry, VolunteerActivity, VolunteerSignup

    closed = db.session.scalars(
        select(VolunteerActivity).where(VolunteerActivity.status == ActivityStatus.CLOSED)
    ).all()
    assert len(closed) == 3
    credited = db.session.scalar(
        select(func.sum(VolunteerSignup.points)).where(
            VolunteerSignup.activity_id.in_([a.id for a in closed])
        )
    )
    on_ledger = db.session.scalar(
        select(func.sum(PointsEntry.amount)).where(PointsEntry.signup_id.is_not(None))
    )
    assert credited == on_ledger > 0
    assert db.session.scalar(select(VolunteerActivity).where(VolunteerActivity.urgent.is_(True)))
    response = client.post("/login", data={"login": "13800000021", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/v/"


@pytest.mark.demo
def test_the_demo_s_sent_reports_show_only_the_one_correction_it_made(app, db):
    """Reports are sent once the whole demo is in: only 十里铺's voided use corrects a month."""
    from app.clock import local_today
    from app.models import Community
    from app.services import reports

    this_month = local_today().replace(day=1)
    corrected = {}
    for place in db.session.scalars(select(Community)).all():
        for month in (this_month, reports.previous_month(this_month)):
            found = reports.report(db.session, place, month)
            if found.corrections:
                corrected[place.slug] = found.corrections
    assert list(corrected) == ["shilipu"]
    assert set(corrected["shilipu"]) <= {"uses", "cards_used", "bills", "shop_discounts",
                                         "community_discounts"}  # fmt: skip


@pytest.mark.demo  # seeded once a run: tests/conftest.py DemoDatabase
def test_demo_redemptions_respect_the_money_and_the_limits(app, db):
    rows = db.session.scalars(select(Redemption)).all()
    assert len(rows) > 300
    assert all(r.paid_fen + r.discount_fen == r.bill_fen and r.discount_fen > 0 for r in rows)
    pairs = [(r.card_id, r.merchant_id, r.local_day) for r in rows if r.campaign.code == "ZJH"]
    assert len(pairs) == len(set(pairs)), "one use per card per shop per day"
    for card in db.session.scalars(select(Card).where(Card.uses_count > 0)):
        assert card.status in (CardStatus.ISSUED, CardStatus.USED_UP)
        used = sum(1 for r in rows if r.card_id == card.id and r.status == RedemptionStatus.OK)
        limit = card.campaign.uses_per_card  # None: a card of no limit (the streets' demo)
        assert used == card.uses_count and (limit is None or used <= limit)
    for campaign in db.session.scalars(select(Campaign)):
        spent = sum(  # a use voided (the streets' demo voids one) gives its discount back
            r.discount_fen
            for r in rows
            if r.campaign_id == campaign.id and r.status == RedemptionStatus.OK
        )
        assert campaign.spent_fen == spent
        assert campaign.budget_fen is None or spent <= campaign.budget_fen
    # every use went through the till's service: each has its audit row, at its moment
    audited = {
        a.object_id: a.created_at
        for a in db.session.scalars(select(AuditLog).where(AuditLog.action == "redemption.create"))
    }
    assert audited == {r.id: r.created_at for r in rows}


@pytest.mark.demo  # seeded once a run: tests/conftest.py DemoDatabase
def test_seed_demo_twice_changes_nothing(app, db):
    runner = app.test_cli_runner()
    before = db.session.scalar(select(func.count(Card.id)))
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "已存在" in result.output
    assert db.session.scalar(select(func.count(Card.id))) == before


def test_seed_demo_if_empty_leaves_a_real_database_alone(app, db):
    from . import factories

    factories.community("七里庙社区", slug="qilimiao", street="琴断口街")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert "跳过" in result.output
    assert db.session.scalar(select(func.count(Community.id))) == 1


def test_demo_logins_prints_the_table(app):
    result = app.test_cli_runner().invoke(args=["demo-logins"])
    assert "hanyang" in result.output and "zjh01-cashier" in result.output


def test_rule_quote_prints_canonical_rule_discount_and_what_to_pay(app):
    result = app.test_cli_runner().invoke(args=["rule-quote", "8折,最高减20", "188.00"])
    assert result.exit_code == 0, result.output
    assert "优惠: ¥20.00" in result.output
    assert "实付: ¥168.00" in result.output


def test_rule_quote_explains_a_bad_rule_in_chinese(app):
    result = app.test_cli_runner().invoke(args=["rule-quote", "8折送饮料", "100"])
    assert result.exit_code != 0
    assert "看不懂" in result.output
