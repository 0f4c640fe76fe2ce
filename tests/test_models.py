"""The database itself refuses bad money, duplicate serials and edits of the audit log."""

from datetime import datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, StatementError

from app.clock import local_today, utcnow
from app.models import AuditLog, Campaign, Card, Redemption, Role
from app.services import audit

from . import factories


@pytest.fixture
def campaign(community):
    return factories.campaign(community)


@pytest.fixture
def card(campaign):
    return factories.cards(campaign, 1)[0]


def redemption(card, shop, **money):
    values = {"bill_fen": 10000, "discount_fen": 2000, "paid_fen": 8000} | money
    return Redemption(
        community_id=card.community_id,
        campaign_id=card.campaign_id,
        card_id=card.id,
        merchant_id=shop.id,
        rule_text="8折",
        local_day=local_today(),
        idempotency_key="k1",
        **values,
    )


def test_a_sound_redemption_is_stored_with_its_money_in_fen(db, card, shop):
    db.session.add(redemption(card, shop))
    db.session.commit()
    row = db.session.scalar(select(Redemption))
    assert (row.bill_fen, row.discount_fen, row.paid_fen) == (10000, 2000, 8000)


@pytest.mark.parametrize(
    "money",
    [
        {"bill_fen": -1, "discount_fen": 0, "paid_fen": -1},
        {"bill_fen": 100, "discount_fen": -1, "paid_fen": 101},
        {"bill_fen": 100, "discount_fen": 101, "paid_fen": -1},
        {"bill_fen": 100, "discount_fen": 20, "paid_fen": 70},  # does not add up
    ],
)
def test_database_refuses_redemption_money_that_is_negative_or_does_not_add_up(
    db, card, shop, money
):
    db.session.add(redemption(card, shop, **money))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(Redemption)) is None


def test_database_refuses_a_negative_budget_and_spending_beyond_it(db, community):
    campaign = factories.campaign(community, budget_fen=1000)
    db.session.execute(update(Campaign).values(spent_fen=1000))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Campaign).values(spent_fen=1001))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Campaign).values(budget_fen=-5, spent_fen=0))
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).spent_fen == 1000


def test_database_refuses_a_duplicate_serial_and_a_duplicate_token(db, card):
    twin = Card(
        community_id=card.community_id,
        campaign_id=card.campaign_id,
        serial=card.serial,
        pin="1234",
        token="another-token",
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    twin = Card(
        community_id=card.community_id,
        campaign_id=card.campaign_id,
        serial="ZJH-2222-22",
        pin="1234",
        token=card.token,
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_same_idempotency_key_twice_at_one_shop_is_refused_by_the_database(db, card, shop):
    db.session.add(redemption(card, shop))
    db.session.commit()
    db.session.add(redemption(card, shop))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_database_refuses_negative_uses_count(db, card):
    with pytest.raises(IntegrityError):
        db.session.execute(update(Card).values(uses_count=-1))
        db.session.commit()
    db.session.rollback()


def test_a_staff_login_must_belong_to_a_community(db):
    with pytest.raises(IntegrityError):
        factories.user(Role.STAFF, username="nobody")
    db.session.rollback()


def test_an_unknown_role_is_refused(db, community):
    with pytest.raises(StatementError):
        factories.user("wizard", community=community, username="gandalf")
    db.session.rollback()


def test_audit_log_rows_cannot_be_changed_or_deleted(db, staff_user, community):
    audit.record(db.session, staff_user, "community.rename", community, note="why")
    db.session.commit()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(update(AuditLog).values(note="covering tracks"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM audit_log"))
        db.session.commit()
    db.session.rollback()
    row = db.session.scalar(select(AuditLog))
    assert (row.action, row.note, row.community_id) == ("community.rename", "why", community.id)
    assert row.actor_label.startswith(staff_user.name)


def test_timestamps_come_back_timezone_aware_in_utc(db, card):
    before = utcnow()
    fetched = db.session.get(Card, card.id)
    db.session.refresh(fetched)
    assert fetched.created_at.tzinfo is not None
    assert fetched.created_at.utcoffset().total_seconds() == 0
    assert abs((fetched.created_at - before).total_seconds()) < 60


def test_a_naive_datetime_is_refused(db, card):
    card.issued_at = datetime(2026, 5, 12, 10, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive"):
        db.session.commit()
    db.session.rollback()
