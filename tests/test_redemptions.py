"""The redemption service: exactly once, every limit, every refusal with its code."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import till
from app.clock import local_today
from app.extensions import db as _db
from app.models import (
    AttemptLog,
    AuditLog,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Card,
    CardStatus,
    Funding,
    MerchantStatus,
    OfferStatus,
    Redemption,
    RedemptionStatus,
)
from app.services import redemptions
from app.services.redemptions import RedeemError, TillRequest, card_at_till, price

from . import factories
from .calls import redeem, run
from .concurrently import run_together


@pytest.fixture
def campaign(community):
    return factories.campaign(community, rule="8折")


@pytest.fixture
def offer(campaign, shop):
    return factories.offer(campaign, shop, "8折,最高减20")


@pytest.fixture
def card(campaign, offer):
    return factories.cards(campaign, 1)[0]


def fresh(db, obj):
    db.session.rollback()
    return db.session.get(type(obj), obj.id)


def redeemed(db, *args, **kwargs):
    """Redeem and return the redemption row."""
    return db.session.get(Redemption, redeem(db.session, *args, **kwargs).id)


def void_redemption(db, *args, **kwargs):
    """Void as the pages do, in one write transaction."""
    return run(db, redemptions.void_redemption, *args, **kwargs)


def refused(code, db, *args, **kwargs):
    with pytest.raises(RedeemError) as refusal:
        redeem(db.session, *args, **kwargs)
    assert refusal.value.code == code
    return refusal.value


def test_redeeming_a_card_records_bill_discount_and_pay_in_fen(db, card, shop, cashier_user):
    outcome = redeem(db.session, card.token, shop, cashier_user, 18800, "key-00000001")
    assert not outcome.replayed
    row = db.session.scalar(select(Redemption))
    assert (row.bill_fen, row.discount_fen, row.paid_fen) == (18800, 2000, 16800)
    assert row.rule_text == "8折，最高减20"
    assert row.cashier_id == cashier_user.id
    assert row.local_day == local_today()
    assert fresh(db, card).uses_count == 1
    assert fresh(db, card.campaign).spent_fen == 2000
    logged = db.session.scalar(select(AuditLog).where(AuditLog.action == "redemption.create"))
    assert logged.object_id == row.id and logged.after["discount_fen"] == 2000


def test_the_shops_own_rule_wins_over_the_campaign_default(db, community, shop):
    campaign = factories.campaign(community, rule="9折")
    factories.offer(campaign, shop, None)  # no rule of its own: the campaign's 9折
    card = factories.cards(campaign, 1)[0]
    outcome = redeem(db.session, card.token, shop, None, 10000, "key-00000002")
    assert outcome.discount_fen == 1000


def test_same_idempotency_key_twice_writes_one_row_and_gives_the_same_answer(db, card, shop):
    first = redeem(db.session, card.token, shop, None, 18800, "double-tap-1")
    again = redeem(db.session, card.token, shop, None, 18800, "double-tap-1")
    assert again.replayed and not first.replayed
    assert dataclasses.replace(again, replayed=False) == first
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    assert fresh(db, card).uses_count == 1
    assert fresh(db, card.campaign).spent_fen == 2000


def test_a_key_reused_for_another_bill_is_refused(db, card, shop):
    redeem(db.session, card.token, shop, None, 18800, "same-key-01")
    refused("key_reused", db, card.token, shop, None, 5000, "same-key-01")


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space", None])
def test_a_missing_or_malformed_key_is_refused(db, card, shop, key):
    refused("bad_key", db, card.token, shop, None, 10000, key)
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_second_redeem_of_single_use_coupon_is_refused_used_up(db, community, shop):
    coupon_campaign = factories.campaign(
        community, code="JB", kind=CampaignKind.COUPON, rule="满50减10"
    )
    factories.offer(coupon_campaign, shop)
    coupon = factories.cards(coupon_campaign, 1)[0]
    redeem(db.session, coupon.token, shop, None, 6000, "coupon-use-1")
    assert fresh(db, coupon).status == CardStatus.USED_UP
    refused("used_up", db, coupon.token, shop, None, 6000, "coupon-use-2")
    assert db.session.scalar(select(func.count(Redemption.id))) == 1


def test_a_card_with_uses_left_counts_down_to_used_up(db, community, shop):
    campaign = factories.campaign(community, uses_per_card=2)
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    redeem(db.session, card.token, shop, None, 1000, "count-down-1")
    assert fresh(db, card).status == CardStatus.ISSUED
    redeem(db.session, card.token, shop, None, 1000, "count-down-2")
    assert fresh(db, card).status == CardStatus.USED_UP
    refused("used_up", db, card.token, shop, None, 1000, "count-down-3")


def test_a_typed_serial_needs_the_pin_printed_beside_it(db, card, shop):
    refused("pin_required", db, card.serial, shop, None, 10000, "typed-000001")
    refused("wrong_pin", db, card.serial, shop, None, 10000, "typed-000002", pin="0000x")
    typed = card.serial.lower().replace("-", " ")
    outcome = redeem(db.session, typed, shop, None, 10000, "typed-000003", pin=card.pin)
    assert outcome.card_id == card.id


def test_a_scanned_url_works_as_well_as_the_bare_token(db, card, shop):
    url = f"HTTPS://LINLI.EXAMPLE.CN/C/{card.token}"
    assert not redeem(db.session, url, shop, None, 10000, "scan-url-001").replayed


def test_every_refusal_is_written_to_the_attempt_log(db, card, shop, cashier_user):
    refused("not_found", db, "NOSUCHTOKEN", shop, cashier_user, 10000, "attempt-0001")
    refused("no_discount", db, card.token, shop, cashier_user, 1, "attempt-0002")  # 8折 of 1 fen
    rows = db.session.scalars(select(AttemptLog).order_by(AttemptLog.id)).all()
    assert [r.code for r in rows] == ["not_found", "no_discount"]
    assert rows[1].bill_fen == 1
    assert rows[0].card_ref == "NOSUCHTOKEN" and rows[0].card_id is None
    assert rows[1].card_id == card.id and rows[1].card_ref == card.serial
    assert all(r.merchant_id == shop.id and r.user_id == cashier_user.id for r in rows)


def test_a_card_of_another_community_is_refused_as_another_communitys(db, other_community, card):
    their_shop = factories.merchant(other_community, "江堤小吃店")
    refused("other_community", db, card.token, their_shop, None, 10000, "elsewhere-01")


def test_a_serial_of_another_community_is_refused_without_its_pin_being_tried(
    db, other_community, card
):
    their_shop = factories.merchant(other_community, "江堤小吃店")
    refused("other_community", db, card.serial, their_shop, None, 10000, "elsewhere-02")


def test_a_card_not_yet_handed_out_is_refused(db, campaign, offer, shop):
    new = factories.cards(campaign, 1, issued=False)[0]
    refused("not_issued", db, new.token, shop, None, 10000, "not-issued-1")


def test_a_voided_card_is_refused(db, card, shop):
    card.status = CardStatus.VOID
    db.session.commit()
    refused("void", db, card.token, shop, None, 10000, "void-card-01")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (CampaignStatus.PAUSED, "campaign_paused"),
        (CampaignStatus.DRAFT, "not_started"),
        (CampaignStatus.ENDED, "expired"),
    ],
)
def test_campaign_status_decides_before_the_card(db, card, shop, status, code):
    campaign = card.campaign
    campaign.status = status
    db.session.commit()
    refused(code, db, card.token, shop, None, 10000, "campaign-0001")


def test_before_the_first_day_is_not_started_and_after_the_last_is_expired(db, card, shop):
    campaign = card.campaign
    campaign.valid_from = local_today() + timedelta(days=1)
    campaign.valid_until = local_today() + timedelta(days=10)
    db.session.commit()
    refused("not_started", db, card.token, shop, None, 10000, "window-00001")
    campaign.valid_from = local_today() - timedelta(days=10)
    campaign.valid_until = local_today() - timedelta(days=1)
    db.session.commit()
    refused("expired", db, card.token, shop, None, 10000, "window-00002")


def test_validity_follows_the_shanghai_calendar_day(db, card, shop):
    campaign = card.campaign
    campaign.valid_until = datetime(2026, 11, 30).date()
    campaign.valid_from = datetime(2026, 11, 1).date()
    db.session.commit()
    # 2026-11-30 23:30 in Shanghai is 15:30 UTC: still the last day
    with time_machine.travel(datetime(2026, 11, 30, 15, 30, tzinfo=UTC), tick=False):
        assert not redeem(db.session, card.token, shop, None, 1000, "last-day-001").replayed
    # 2026-12-01 00:30 in Shanghai is 16:30 UTC on the 30th: already over
    with time_machine.travel(datetime(2026, 11, 30, 16, 30, tzinfo=UTC), tick=False):
        refused("expired", db, card.token, shop, None, 1000, "last-day-002")


def test_a_suspended_shop_cannot_redeem(db, card, shop):
    shop.status = MerchantStatus.SUSPENDED
    db.session.commit()
    refused("merchant_suspended", db, card.token, shop, None, 10000, "suspended-01")


def test_a_shop_outside_the_campaign_or_withdrawn_from_it_is_refused(db, card, community, offer):
    stranger = factories.merchant(community, "隔壁超市", category="超市副食")
    refused("merchant_not_in_campaign", db, card.token, stranger, None, 10000, "stranger-001")
    offer.status = OfferStatus.WITHDRAWN
    db.session.commit()
    refused("merchant_not_in_campaign", db, card.token, offer.merchant, None, 10000, "withdrawn-1")


def test_the_daily_limit_per_shop_resets_on_the_next_shanghai_day(db, community, shop):
    campaign = factories.campaign(community, daily_uses_per_merchant=1)
    factories.offer(campaign, shop)
    other_shop = factories.merchant(community, "李妈妈豆皮")
    factories.offer(campaign, other_shop)
    card = factories.cards(campaign, 1)[0]
    with time_machine.travel(datetime(2026, 11, 23, 15, 0, tzinfo=UTC), tick=False):  # 23:00
        redeem(db.session, card.token, shop, None, 1000, "daily-00001")
        refused("daily_limit", db, card.token, shop, None, 1000, "daily-00002")
        assert not redeem(db.session, card.token, other_shop, None, 1000, "daily-00003").replayed
    with time_machine.travel(datetime(2026, 11, 23, 16, 5, tzinfo=UTC), tick=False):  # 00:05
        assert not redeem(db.session, card.token, shop, None, 1000, "daily-00004").replayed


def test_a_bill_below_the_rule_gives_no_discount_and_is_refused(db, community, shop):
    campaign = factories.campaign(community, rule="满100减10")
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    refused("no_discount", db, card.token, shop, None, 9999, "below-00001")
    assert not redeem(db.session, card.token, shop, None, 10000, "below-00002").replayed


@pytest.mark.parametrize("bill", [0, -5, "100", 1.5, True])
def test_a_bill_that_is_not_a_positive_number_of_fen_is_refused(db, card, shop, bill):
    refused("bad_bill", db, card.token, shop, None, bill, "bad-bill-001")
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_a_budget_is_never_overspent(db, community, shop):
    campaign = factories.campaign(
        community, funding=Funding.COMMUNITY, rule="立减10", budget_fen=2500
    )
    factories.offer(campaign, shop)
    cards = factories.cards(campaign, 3)
    redeem(db.session, cards[0].token, shop, None, 5000, "budget-00001")
    redeem(db.session, cards[1].token, shop, None, 5000, "budget-00002")
    refused("budget_exhausted", db, cards[2].token, shop, None, 5000, "budget-00003")
    assert fresh(db, campaign).spent_fen == 2000


def test_quote_computes_without_writing(db, card, shop):
    q = price(card_at_till(db.session, shop, card.token), 18800)
    assert (q.bill_fen, q.discount_fen, q.pay_fen) == (18800, 2000, 16800)
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_the_till_shows_uses_left_and_logs_a_refused_look(db, community, shop):
    campaign = factories.campaign(community, uses_per_card=5, daily_uses_per_merchant=2)
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    redeem(db.session, card.token, shop, None, 1000, "inspect-0001")
    at_till = card_at_till(db.session, shop, card.token)
    assert (at_till.uses_left, at_till.uses_here_today, at_till.daily_left) == (4, 1, 1)
    with pytest.raises(RedeemError) as refusal:
        card_at_till(db.session, shop, "NOSUCH")
    till.keep_refusal(db.session, refusal.value)
    assert db.session.scalar(select(AttemptLog.code)) == "not_found"


# --- voiding ---------------------------------------------------------------------------------


def test_a_shop_voids_its_own_redemption_within_ten_minutes(db, card, shop, merchant_user):
    made = redeemed(db, card.token, shop, merchant_user, 18800, "void-me-0001")
    void_redemption(db, made, merchant_user, "输错金额")
    made = fresh(db, made)
    assert made.status == RedemptionStatus.VOID and made.void_reason == "输错金额"
    assert fresh(db, card).uses_count == 0
    assert fresh(db, card.campaign).spent_fen == 0
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "redemption.void"))


def test_a_shop_cannot_void_after_ten_minutes_but_staff_can_with_a_reason(
    db, card, shop, merchant_user, staff_user
):
    made = redeemed(db, card.token, shop, None, 18800, "late-void-01")
    later = made.created_at + timedelta(minutes=11)
    with pytest.raises(RedeemError) as late:
        void_redemption(db, made, merchant_user, now=later)
    assert late.value.code == "void_too_late"
    with pytest.raises(RedeemError) as no_reason:
        void_redemption(db, made, staff_user, "  ", now=later)
    assert no_reason.value.code == "reason_required"
    void_redemption(db, made, staff_user, "居民投诉重复扣次", now=later)
    assert fresh(db, made).status == RedemptionStatus.VOID


def test_a_cashier_of_another_shop_cannot_void(db, card, shop, community):
    made = redeemed(db, card.token, shop, None, 18800, "not-yours-01")
    neighbour = factories.merchant(community, "隔壁超市")
    from app.models import Role

    their_cashier = factories.user(Role.CASHIER, merchant=neighbour, username="gebi")
    with pytest.raises(RedeemError) as refusal:
        void_redemption(db, made, their_cashier)
    assert refusal.value.code == "not_found"
    assert fresh(db, made).status == RedemptionStatus.OK


def test_voiding_twice_is_refused_and_gives_back_only_once(db, card, shop, staff_user):
    made = redeemed(db, card.token, shop, None, 18800, "twice-void-1")
    void_redemption(db, made, staff_user, "测试")
    with pytest.raises(RedeemError) as again:
        void_redemption(db, made, staff_user, "测试")
    assert again.value.code == "already_void"
    assert fresh(db, card).uses_count == 0
    assert fresh(db, card.campaign).spent_fen == 0


def test_voiding_the_last_use_of_a_coupon_makes_it_usable_again(db, community, shop, staff_user):
    campaign = factories.campaign(community, kind=CampaignKind.COUPON, rule="立减5")
    factories.offer(campaign, shop)
    coupon = factories.cards(campaign, 1)[0]
    made = redeemed(db, coupon.token, shop, None, 3000, "coupon-void-1")
    void_redemption(db, made, staff_user, "误操作")
    assert fresh(db, coupon).status == CardStatus.ISSUED
    assert not redeem(db.session, coupon.token, shop, None, 3000, "coupon-void-2").replayed


# --- at the same time --------------------------------------------------------------------------


@pytest.mark.slow
def test_fifty_concurrent_redeems_of_a_card_with_one_use_left_succeed_once(app, db, community):
    campaign = factories.campaign(community, uses_per_card=3)
    shops = [factories.merchant(community, f"店{i}") for i in range(5)]
    for s in shops:
        factories.offer(campaign, s)
    card = factories.cards(campaign, 1)[0]
    card.uses_count = 2
    db.session.commit()
    token, shop_ids = card.token, [s.id for s in shops]

    def attempt(i):
        from app.models import Merchant

        shop = _db.session.get(Merchant, shop_ids[i % 5])
        asked = TillRequest(token, 1000, f"race-{i:06d}")
        return not redemptions.redeem(_db.session, shop, None, asked).replayed

    results = run_together(app, 50, attempt)
    assert results.count(True) == 1
    assert results.count("used_up") == 49
    db.session.rollback()
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    assert db.session.get(Card, card.id).uses_count == 3


@pytest.mark.slow
def test_concurrent_redeems_never_take_more_than_the_budget(app, db, community):
    campaign = factories.campaign(
        community, funding=Funding.COMMUNITY, rule="立减10", budget_fen=10_000
    )
    shop = factories.merchant(community, "江堤超市")
    factories.offer(campaign, shop)
    tokens = [c.token for c in factories.cards(campaign, 30)]
    shop_id = shop.id

    def attempt(i):
        from app.models import Merchant

        merchant = _db.session.get(Merchant, shop_id)
        asked = TillRequest(tokens[i], 5000, f"budget-{i:06d}")
        return not redemptions.redeem(_db.session, merchant, None, asked).replayed

    results = run_together(app, 30, attempt)
    assert results.count(True) == 10
    assert results.count("budget_exhausted") == 20
    db.session.rollback()
    spent = db.session.scalar(select(func.sum(Redemption.discount_fen)))
    assert spent == 10_000 == db.session.get(Campaign, campaign.id).spent_fen


@pytest.mark.slow
def test_the_same_key_sent_concurrently_writes_one_redemption(app, db, card, shop):
    token, shop_id = card.token, shop.id

    def attempt(i):
        from app.models import Merchant

        merchant = _db.session.get(Merchant, shop_id)
        asked = TillRequest(token, 18800, "retry-storm-1")
        return redemptions.redeem(_db.session, merchant, None, asked).id

    results = run_together(app, 10, attempt)
    assert len(set(results)) == 1 and isinstance(results[0], int)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    assert db.session.get(Card, card.id).uses_count == 1
