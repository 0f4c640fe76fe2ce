"""互助积分: the ledger and its balance, exchanging points for a card within the campaign's
limits, stock and budget, the leaderboard, and no negative balance under concurrent writes on
either backend."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import (
    AuditLog,
    CampaignStatus,
    Card,
    CardStatus,
    Funding,
    PointsEntry,
    PointsKind,
    User,
)
from app.services import points
from app.services.points import PointsError

from . import factories
from .calls import refused, run
from .concurrently import run_together


@pytest.fixture
def resident(community):
    return factories.resident(community, "13900000001", "3-2-501", "王小明")


def give(db, user, amount, kind=PointsKind.EARNED):
    user = points.lock_user(db.session, user.id)
    points.post_entry(db.session, None, user, kind, amount, "test")
    db.session.commit()


def balance(db, user):
    db.session.rollback()
    return db.session.get(User, user.id).points_balance


def test_staff_add_and_take_off_points_with_a_reason(db, staff_user, resident):
    run(db, points.adjust, staff_user, resident, 50, "春节义务劳动")
    run(db, points.adjust, staff_user, resident, -20, "重复记分")
    assert balance(db, resident) == 30 == points.ledger_sum(db.session, resident.id)
    entries = db.session.scalars(select(PointsEntry).order_by(PointsEntry.id)).all()
    assert [(e.kind, e.amount, e.balance_after) for e in entries] == [
        (PointsKind.ADJUSTED, 50, 50),
        (PointsKind.ADJUSTED, -20, 30),
    ]
    notes = db.session.scalars(
        select(AuditLog.note).where(AuditLog.action == "points.adjust")
    ).all()
    assert notes == ["春节义务劳动", "重复记分"]


@pytest.mark.parametrize(
    ("amount", "reason", "code"),
    [
        (0, "x", "amount_required"),
        (None, "x", "amount_required"),
        (5, " ", "reason_required"),
        (10_001, "x", "amount_too_big"),
        (-31, "x", "below_zero"),
    ],
)
def test_an_adjustment_that_is_empty_too_big_or_below_zero_is_refused(
    db, staff_user, resident, amount, reason, code
):
    give(db, resident, 30)
    refused(db, code, points.adjust, staff_user, resident, amount, reason)
    assert balance(db, resident) == 30
    assert db.session.scalar(select(func.count(PointsEntry.id))) == 1


def test_the_database_refuses_a_negative_balance_even_past_the_service(db, resident):
    from sqlalchemy.exc import IntegrityError

    resident = db.session.get(User, resident.id)
    resident.points_balance = -1
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.integers(min_value=-60, max_value=60).filter(bool), max_size=12))
def test_the_balance_is_always_the_ledgers_sum_and_never_negative(
    db, staff_user, resident, amounts
):
    for amount in amounts:
        try:
            run(db, points.adjust, staff_user, resident, amount, "调整")
        except PointsError as error:
            assert error.code == "below_zero"
    now = balance(db, resident)
    assert now >= 0
    assert now == points.ledger_sum(db.session, resident.id)
    last = db.session.scalar(
        select(PointsEntry.balance_after)
        .where(PointsEntry.user_id == resident.id)
        .order_by(PointsEntry.id.desc())
    )
    assert now == (last or 0)


# --- exchange -------------------------------------------------------------------------------


def test_a_resident_exchanges_points_for_a_card_issued_to_their_household(db, community, resident):
    campaign = factories.exchange_campaign(community, price=100, stock=5)
    give(db, resident, 130)
    card = run(db, points.exchange, resident, campaign.id)
    assert (card.status, card.household, card.holder_phone, card.campaign_id) == (
        CardStatus.ISSUED,
        "3-2-501",
        "13900000001",
        campaign.id,
    )
    assert balance(db, resident) == 30 == points.ledger_sum(db.session, resident.id)
    entry = db.session.scalar(select(PointsEntry).where(PointsEntry.kind == PointsKind.EXCHANGED))
    assert (entry.amount, entry.card_id, entry.campaign_id) == (-100, card.id, campaign.id)
    actions = set(db.session.scalars(select(AuditLog.action)).all())
    assert {"points.exchange", "card.issue", "batch.create"} <= actions
    assert points.exchangeable_campaigns(db.session, community.id) == [(campaign, 4)]


def exchange_refused(db, resident, campaign, code, message_part=""):
    before = (balance(db, resident), db.session.scalar(select(func.count(Card.id))))
    error = refused(db, code, points.exchange, resident, campaign.id)
    assert (balance(db, resident), db.session.scalar(select(func.count(Card.id)))) == before
    if message_part:
        from flask_babel import force_locale

        from app.i18n import message

        with force_locale("zh_Hans_CN"):
            assert message_part in message(error)


def test_exchange_is_refused_when_points_are_short(db, community, resident):
    campaign = factories.exchange_campaign(community, price=100)
    give(db, resident, 99)
    exchange_refused(db, resident, campaign, "not_enough", "99")


def test_exchange_is_refused_when_the_stock_is_gone(db, community, resident):
    campaign = factories.exchange_campaign(community, price=10, stock=1)
    give(db, resident, 100)
    run(db, points.exchange, resident, campaign.id)
    exchange_refused(db, resident, campaign, "out_of_stock")
    assert balance(db, resident) == 90


def test_exchange_is_refused_past_the_cards_per_household(db, community, resident):
    campaign = factories.exchange_campaign(community, price=10, cards_per_household=1)
    neighbour = factories.resident(community, "13900000002", "3-2-501", "王太太")  # same household
    give(db, resident, 100)
    give(db, neighbour, 100)
    run(db, points.exchange, resident, campaign.id)
    exchange_refused(db, neighbour, campaign, "household_limit")


def test_exchange_is_refused_when_the_budget_is_used_up(db, community, resident):
    campaign = factories.exchange_campaign(community, price=10, budget_fen=5000)
    campaign.spent_fen = 5000
    db.session.commit()
    give(db, resident, 100)
    exchange_refused(db, resident, campaign, "budget_exhausted")


@pytest.mark.parametrize(
    "change",
    [
        {"status": CampaignStatus.PAUSED},
        {"status": CampaignStatus.DRAFT},
        {"status": CampaignStatus.ENDED},
        {"valid_from": factories.a_date(1), "valid_until": factories.a_date(9)},
        {"valid_from": factories.a_date(-9), "valid_until": factories.a_date(-1)},
    ],
)
def test_exchange_is_refused_when_the_campaign_is_not_running(db, community, resident, change):
    campaign = factories.exchange_campaign(community, price=10, **change)
    give(db, resident, 100)
    exchange_refused(db, resident, campaign, "not_running")
    assert points.exchangeable_campaigns(db.session, community.id) == []


def test_only_a_marked_community_funded_card_campaign_can_be_exchanged(
    db, community, other_community, resident
):
    give(db, resident, 1000)
    unmarked = factories.campaign(community, code="WB", funding=Funding.COMMUNITY)
    shops_pay = factories.campaign(community, code="SP", points_price=10)
    elsewhere = factories.exchange_campaign(other_community, price=10, code="JB")
    for campaign in (unmarked, shops_pay, elsewhere):
        exchange_refused(db, resident, campaign, "not_exchangeable")


def test_a_resident_not_confirmed_cannot_exchange(db, community):
    campaign = factories.exchange_campaign(community, price=10)
    pending = factories.resident(community, "13900000007", confirmed=False)
    exchange_refused(db, pending, campaign, "not_confirmed")


def test_staff_mark_only_community_funded_card_campaigns_exchangeable(
    db, staff_user, community, resident
):
    shops_pay = factories.campaign(community, code="SP")
    refused(db, "community_funded_only", points.set_exchange, staff_user, shops_pay, 10, None)
    campaign = factories.exchange_campaign(community, price=None)
    refused(db, "price_min", points.set_exchange, staff_user, campaign, 0, None)
    refused(db, "stock_min", points.set_exchange, staff_user, campaign, 10, -1)
    run(db, points.set_exchange, staff_user, campaign, 10, 1)
    give(db, resident, 10)
    run(db, points.exchange, resident, campaign.id)
    refused(db, "stock_below_exchanged", points.set_exchange, staff_user, campaign, 10, 0)
    run(db, points.set_exchange, staff_user, campaign, None, None)
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "campaign.points")
        )
        == 2
    )


# --- the leaderboard ------------------------------------------------------------------------


def test_the_leaderboard_ranks_by_points_earned_with_masked_names_and_buildings(
    db, community, other_community, resident
):
    helper = factories.resident(community, "13900000002", "5-1-302", "李红")
    outsider = factories.resident(other_community, "13900000003", "1-1-101", "江大")
    give(db, resident, 40)
    give(db, helper, 30)
    give(db, helper, 25)
    give(db, resident, 500, PointsKind.ADJUSTED)  # not earned by helping
    give(db, outsider, 999)
    board = points.leaderboard(db.session, community.id)
    assert [(b.rank, b.name, b.building, b.earned) for b in board] == [
        (1, "李*", "5栋", 55),
        (2, "王*", "3栋", 40),
    ]


# --- at the same time -----------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_exchanges_never_spend_more_points_than_there_are(app, db, community, resident):
    campaign = factories.exchange_campaign(community, price=100)
    give(db, resident, 350)
    resident_id, campaign_id = resident.id, campaign.id

    def attempt(i):
        user = _db.session.get(User, resident_id)
        return points.exchange(_db.session, user, campaign_id).id

    results = run_together(app, 12, attempt)
    assert sum(isinstance(r, int) for r in results) == 3
    assert results.count("not_enough") == 9
    assert balance(db, resident) == 50 == points.ledger_sum(db.session, resident_id)
    assert db.session.scalar(select(func.count(Card.id))) == 3


@pytest.mark.slow
def test_concurrent_exchanges_and_deductions_keep_the_balance_the_ledgers_sum(
    app, db, community, staff_user, resident
):
    campaign = factories.exchange_campaign(community, price=30, stock=4)
    give(db, resident, 200)
    resident_id, campaign_id, staff_id = resident.id, campaign.id, staff_user.id

    def attempt(i):
        user = _db.session.get(User, resident_id)
        if i % 2:
            return points.exchange(_db.session, user, campaign_id).id
        staff = _db.session.get(User, staff_id)
        return points.adjust(_db.session, staff, user, -25, "扣减").id

    results = run_together(app, 16, attempt)
    db.session.rollback()
    now = balance(db, resident)
    assert 0 <= now == points.ledger_sum(db.session, resident_id)
    exchanged = db.session.scalar(
        select(func.count(PointsEntry.id)).where(PointsEntry.kind == PointsKind.EXCHANGED)
    )
    assert exchanged <= 4
    assert db.session.scalar(select(func.count(Card.id))) == exchanged
    assert set(r for r in results if isinstance(r, str)) <= {
        "not_enough",
        "below_zero",
        "out_of_stock",
    }
    assert now < 30 or exchanged == 4  # it stopped only when it had to
