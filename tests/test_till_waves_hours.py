"""At the till: a wave's own days, and a rule's days and hours of use, in Asia/Shanghai time."""

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.clock import LOCAL
from app.models import AttemptLog, Card
from app.services import cardview, issuing, waves
from app.services.redemptions import RedeemError, card_at_till
from app.services.waves import WavePlan

from . import factories
from .calls import redeem

FRIDAY = datetime(2026, 12, 4, 12, 0, tzinfo=LOCAL)


@pytest.fixture
def lunch_shop(db, community, shop):
    campaign = factories.campaign(community)
    factories.offer(campaign, shop, "8折，周一至周五可用，每天10:00-14:00")
    card = factories.cards(campaign, 1)[0]
    return campaign, card


@pytest.mark.parametrize(
    ("moment", "refused"),
    [
        (datetime(2026, 12, 4, 9, 59, tzinfo=LOCAL), True),
        (datetime(2026, 12, 4, 10, 0, tzinfo=LOCAL), False),
        (datetime(2026, 12, 4, 13, 59, tzinfo=LOCAL), False),
        (datetime(2026, 12, 4, 14, 0, tzinfo=LOCAL), True),
        (datetime(2026, 12, 5, 11, 0, tzinfo=LOCAL), True),  # a Saturday
    ],
)
def test_a_card_is_refused_outside_the_shops_days_and_hours(
    db, shop, cashier_user, lunch_shop, moment, refused
):
    _campaign, card = lunch_shop
    if refused:
        with pytest.raises(RedeemError) as e:
            redeem(db.session, card.token, shop, cashier_user, 10000, "hours-0001", now=moment)
        assert e.value.code == "outside_hours"
        db.session.rollback()
        attempt = db.session.scalar(select(AttemptLog).order_by(AttemptLog.id.desc()))
        assert attempt.code == "outside_hours"
        assert db.session.get(Card, card.id).uses_count == 0
    else:
        receipt = redeem(
            db.session, card.token, shop, cashier_user, 10000, "hours-0002", now=moment
        )
        assert (receipt.discount_fen, receipt.paid_fen) == (2000, 8000)


def test_the_refusal_says_when_the_card_can_be_used_here_next(db, shop, lunch_shop):
    _campaign, card = lunch_shop
    friday_evening = datetime(2026, 12, 4, 18, 30, tzinfo=LOCAL)
    with pytest.raises(RedeemError) as e:
        card_at_till(db.session, shop, card.token, now=friday_evening)
    assert e.value.details == {"when": "周一至周五 10:00-14:00", "next": "12-07 周一 10:00"}


def test_the_window_is_asia_shanghai_time_not_utc(db, shop, cashier_user, lunch_shop):
    _campaign, card = lunch_shop
    # 02:30 UTC is 10:30 in Wuhan: inside the window
    moment = datetime(2026, 12, 4, 2, 30, tzinfo=LOCAL).replace(tzinfo=None)
    from datetime import UTC

    receipt = redeem(
        db.session,
        card.token,
        shop,
        cashier_user,
        5000,
        "hours-0003",
        now=moment.replace(tzinfo=UTC),
    )
    assert receipt.discount_fen == 1000


def test_another_shop_without_hours_takes_the_same_card_any_time(
    db, community, cashier_user, lunch_shop
):
    campaign, card = lunch_shop
    other = factories.merchant(community, "鲜果园", "水果生鲜")
    factories.offer(campaign, other, "9折")
    late = datetime(2026, 12, 5, 22, 0, tzinfo=LOCAL)
    receipt = redeem(db.session, card.token, other, None, 10000, "hours-0004", now=late)
    assert receipt.discount_fen == 1000


# --- waves at the till and on the card's page ---------------------------------------------------


@pytest.fixture
def wave_card(db, community, shop, staff_user):
    campaign = factories.campaign(community)
    factories.offer(campaign, shop, "8折")
    today = factories.a_date()
    (batch,) = waves.plan_waves(
        db.session, staff_user, campaign, WavePlan(1, 1, today, 7, valid_days=10)
    )
    db.session.commit()
    card = db.session.scalar(select(Card).where(Card.batch_id == batch.id))
    issuing.issue_card(db.session, staff_user, card.serial, "3-2-501")
    db.session.commit()
    return campaign, batch, card


def test_a_wave_card_is_refused_after_its_waves_last_day_though_the_campaign_runs(
    db, shop, cashier_user, wave_card
):
    campaign, batch, card = wave_card
    assert campaign.valid_until > batch.valid_until
    later = datetime.combine(batch.valid_until + timedelta(days=1), datetime.min.time(), LOCAL)
    with time_machine.travel(later.replace(hour=12), tick=False):
        with pytest.raises(RedeemError) as e:
            redeem(db.session, card.token, shop, cashier_user, 10000, "wave-late-01")
        assert e.value.code == "expired"
        db.session.rollback()
        rows = cardview.read_card(db.session, card.token)
        page = cardview.build_page(rows, "http://test")
        assert page.state.code == "expired"
        assert page.valid_until == batch.valid_until


def test_a_wave_card_works_inside_its_days_and_its_page_says_them(
    db, shop, cashier_user, wave_card
):
    _campaign, batch, card = wave_card
    receipt = redeem(db.session, card.token, shop, cashier_user, 10000, "wave-in-001")
    assert receipt.discount_fen == 2000
    page = cardview.build_page(cardview.read_card(db.session, card.token), "http://test")
    assert (page.valid_from, page.valid_until) == (batch.valid_from, batch.valid_until)
    assert page.days_left == 10
