"""Waves (分批发放): cards in rounds with their own dates, handed out only once a wave opens."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import AuditLog, Card, CardBatch
from app.services import handout, issuing, roster, waves
from app.services.issuing import IssueError
from app.services.roster import HouseholdFields
from app.services.waves import WaveError, WavePlan

from . import factories
from .calls import redeem


def plan(first_day, size=5, count=4, every_days=7, valid_days=30):
    return WavePlan(size, count, first_day, every_days, valid_days)


def test_four_weekly_waves_get_their_own_numbers_and_dates(db, community, staff_user):
    campaign = factories.campaign(community)
    today = factories.a_date()
    made = waves.plan_waves(db.session, staff_user, campaign, plan(today))
    db.session.commit()
    assert [(b.wave, b.size, b.hand_out_from, b.valid_until) for b in made] == [
        (n + 1, 5, today + timedelta(days=7 * n), today + timedelta(days=7 * n + 29))
        for n in range(4)
    ]
    assert db.session.query(Card).count() == 20
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "wave.plan"))
    assert len(row.after["waves"]) == 4
    more = waves.plan_waves(db.session, staff_user, campaign, plan(today, count=1))
    assert more[0].wave == 5


def test_a_wave_never_lasts_past_the_campaign(db, community, staff_user):
    campaign = factories.campaign(community, valid_until=factories.a_date(10))
    made = waves.plan_waves(db.session, staff_user, campaign, plan(factories.a_date(), count=2))
    assert made[1].valid_until == campaign.valid_until


def test_a_wave_opening_after_the_campaign_ends_is_refused_and_nothing_is_made(
    db, community, staff_user
):
    campaign = factories.campaign(community, valid_until=factories.a_date(10))
    with pytest.raises(WaveError) as e:
        waves.plan_waves(db.session, staff_user, campaign, plan(factories.a_date(), count=3))
    assert e.value.code == "wave_after_campaign"
    assert e.value.details["wave"] == 3
    db.session.rollback()
    assert db.session.query(CardBatch).count() == 0


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"size": 0}, "wave_size"),
        ({"size": 10_001}, "wave_size"),
        ({"count": 53}, "wave_count"),
        ({"every_days": 0}, "wave_every"),
        ({"valid_days": 367}, "wave_days"),
    ],
)
def test_absurd_plans_are_refused(db, community, staff_user, changes, code):
    campaign = factories.campaign(community)
    with pytest.raises(WaveError) as e:
        waves.plan_waves(db.session, staff_user, campaign, plan(factories.a_date(), **changes))
    assert e.value.code == code


def test_a_card_of_a_wave_not_open_yet_is_refused_at_the_desk(db, community, staff_user):
    campaign = factories.campaign(community)
    first, second = waves.plan_waves(
        db.session, staff_user, campaign, plan(factories.a_date(), count=2)
    )
    db.session.commit()
    later = db.session.scalar(select(Card).where(Card.batch_id == second.id).limit(1))
    with pytest.raises(IssueError) as e:
        issuing.issue_card(db.session, staff_user, later.serial, "3-2-501")
    assert e.value.code == "wave_not_open"
    assert e.value.details == {"wave": 2, "day": second.hand_out_from.isoformat()}
    db.session.rollback()
    now = db.session.scalar(select(Card).where(Card.batch_id == first.id).limit(1))
    issuing.issue_card(db.session, staff_user, now.serial, "3-2-501")


def test_a_hand_out_list_takes_cards_only_of_waves_open_on_its_day(db, community, staff_user):
    campaign = factories.campaign(community)
    for room in (101, 102, 103):
        roster.add_household(
            db.session, staff_user, community.id, HouseholdFields.read(f"2-1-{room}")
        )
    first, second = waves.plan_waves(
        db.session, staff_user, campaign, plan(factories.a_date(), size=2, count=2)
    )
    db.session.commit()
    with pytest.raises(handout.HandoutError) as e:
        handout.make_list(db.session, staff_user, campaign, None, factories.a_date())
    assert e.value.details == {"needed": 3, "stock": 2, "short": 1}
    db.session.rollback()
    # a week later both waves are open: the earlier wave's cards go first
    made = handout.make_list(db.session, staff_user, campaign, None, factories.a_date(7))
    assert [line.card.batch_id for line in made.lines] == [first.id, first.id, second.id]


def test_each_waves_figures_count_its_own_cards_and_uses(
    db, community, staff_user, shop, cashier_user
):
    campaign = factories.campaign(community)
    factories.offer(campaign, shop, "8折")
    first, second = waves.plan_waves(
        db.session, staff_user, campaign, plan(factories.a_date(), size=3, count=2)
    )
    db.session.commit()
    cards = db.session.scalars(select(Card).where(Card.batch_id == first.id)).all()
    issuing.issue_card(db.session, staff_user, cards[0].serial, "3-2-501")
    issuing.issue_card(db.session, staff_user, cards[1].serial, "3-2-502")
    db.session.commit()
    redeem(db.session, cards[0].token, shop, cashier_user, 10000, "wave-use-1")
    db.session.commit()
    other = factories.merchant(community, "鲜果园", "水果生鲜")
    factories.offer(campaign, other, "8折")
    redeem(db.session, cards[0].token, other, None, 5000, "wave-use-2")
    db.session.commit()
    figures = waves.wave_figures(db.session, campaign.id)
    assert [(f.batch.wave, f.handed_out, f.used, f.uses, f.discount_fen) for f in figures] == [
        (1, 2, 1, 2, 3000),
        (2, 0, 0, 0, 0),
    ]


def test_the_waves_page_plans_waves_and_shows_each_in_words(staff, db, community):
    campaign = factories.campaign(community)
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/waves",
        data={
            "size": "500",
            "count": "4",
            "first_day": factories.a_date().isoformat(),
            "every_days": "7",
            "valid_days": "30",
        },
    )
    assert response.status_code == 302
    page = staff.get(f"/admin/campaigns/{campaign.id}/waves").get_data(as_text=True)
    assert "第 4 批" in page and "2000" in page
    bad = staff.post(
        f"/admin/campaigns/{campaign.id}/waves",
        data={
            "size": "1e9",
            "count": "²",
            "first_day": factories.a_date().isoformat(),
            "every_days": "7",
            "valid_days": "99999",
        },
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "1 到 10,000" in text or "10000" in text
    assert db.session.query(CardBatch).count() == 4
