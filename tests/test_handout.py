"""Door-to-door hand-out lists: cards set aside, signed for, the rest back in stock."""

import pytest
from sqlalchemy import select

from app.models import AuditLog, Card, CardStatus, HandoutStatus, HouseholdGroup
from app.services import handout, issuing, roster
from app.services.handout import HandoutError
from app.services.issuing import IssueError
from app.services.roster import HouseholdFields

from . import factories


def add(db, staff_user, community, address, groups=""):
    return roster.add_household(
        db.session, staff_user, community.id, HouseholdFields.read(address, groups=groups)
    )


@pytest.fixture
def street(db, community, staff_user):
    """Two buildings: three 低保 households in 3, one in 10, and a household in no group."""
    for address in ("3-2-502", "3-1-101", "3-2-1001"):
        add(db, staff_user, community, address, "低保")
    add(db, staff_user, community, "10-1-101", "特困")
    add(db, staff_user, community, "3-1-102")
    campaign = factories.campaign(community, cards_per_household=1)
    roster.set_campaign_groups(
        db.session,
        staff_user,
        campaign,
        {HouseholdGroup.LOW_INCOME: None, HouseholdGroup.EXTREME_POVERTY: 2},
    )
    db.session.commit()
    factories.cards(campaign, 10, issued=False)
    return campaign


def test_a_list_sets_aside_one_card_per_allowed_card_for_each_eligible_household(
    db, staff_user, street
):
    made = handout.make_list(db.session, staff_user, street, None, factories.a_date())
    db.session.commit()
    addresses = [line.household.address for line in made.lines]
    # in door-to-door order: building 3 (units, then rooms as numbers), then building 10 twice
    assert addresses == ["3-1-101", "3-2-502", "3-2-1001", "10-1-101", "10-1-101"]
    assert len({line.card_id for line in made.lines}) == 5
    assert all(line.card.status == CardStatus.NEW for line in made.lines)
    assert [b for b, _ in handout.buildings_of(made.lines)] == ["3", "10"]
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "handout.create"))
    assert row.after["lines"] == 5


def test_a_second_list_leaves_out_households_whose_cards_are_already_on_a_list(
    db, staff_user, street
):
    handout.make_list(db.session, staff_user, street, ["3"], factories.a_date())
    second = handout.make_list(db.session, staff_user, street, None, factories.a_date())
    assert [line.household.address for line in second.lines] == ["10-1-101", "10-1-101"]
    with pytest.raises(HandoutError) as e:
        handout.make_list(db.session, staff_user, street, None, factories.a_date())
    assert e.value.code == "nobody_eligible"


def test_a_list_needing_more_cards_than_in_stock_is_refused_and_says_how_many(
    db, community, staff_user
):
    campaign = factories.campaign(community, code="ZJB")
    for room in range(101, 106):
        add(db, staff_user, community, f"5-1-{room}")
    db.session.commit()
    factories.cards(campaign, 3, issued=False)
    with pytest.raises(HandoutError) as e:
        handout.make_list(db.session, staff_user, campaign, None, factories.a_date())
    assert e.value.code == "not_enough_cards"
    assert e.value.details == {"needed": 5, "stock": 3, "short": 2}


def test_ticked_lines_hand_their_cards_out_and_closing_puts_the_rest_back_in_stock(
    db, staff_user, street
):
    made = handout.make_list(db.session, staff_user, street, None, factories.a_date())
    db.session.commit()
    first, second = made.lines[0], made.lines[1]
    result = handout.record_received(db.session, staff_user, made, [first.id, second.id])
    db.session.commit()
    assert len(result.signed) == 2 and not result.refused
    card = db.session.get(Card, first.card_id)
    assert (card.status, card.household) == (CardStatus.ISSUED, "3-1-101")
    counts = handout.close_list(db.session, staff_user, made)
    db.session.commit()
    assert (counts.lines, counts.received, counts.returned, counts.waiting) == (5, 2, 3, 0)
    assert made.status == HandoutStatus.CLOSED
    returned = db.session.get(Card, made.lines[2].card_id)
    assert returned.status == CardStatus.NEW
    assert issuing.reserved_line(db.session, returned.id) is None
    # back in stock: the next list may use them
    again = handout.make_list(db.session, staff_user, street, None, factories.a_date())
    assert {line.card_id for line in again.lines} >= {returned.id}
    with pytest.raises(HandoutError) as e:
        handout.close_list(db.session, staff_user, made)
    assert e.value.code == "list_closed"


def test_scanning_a_card_at_the_door_signs_its_line(db, staff_user, street):
    made = handout.make_list(db.session, staff_user, street, ["10"], factories.a_date())
    db.session.commit()
    line = handout.receive_scanned(db.session, staff_user, made, made.lines[1].card.serial.lower())
    db.session.commit()
    assert line.received_at is not None
    assert db.session.get(Card, line.card_id).status == CardStatus.ISSUED
    other = factories.cards(street, 1, issued=False)[0]
    with pytest.raises(HandoutError) as e:
        handout.receive_scanned(db.session, staff_user, made, other.serial)
    assert e.value.code == "card_not_on_list"


def test_a_card_set_aside_for_one_household_is_refused_to_another_at_the_office(
    db, staff_user, street
):
    made = handout.make_list(db.session, staff_user, street, ["3"], factories.a_date())
    db.session.commit()
    line = made.lines[0]
    with pytest.raises(IssueError) as e:
        issuing.issue_card(db.session, staff_user, line.card.serial, "3-2-502")
    assert e.value.code == "card_reserved"
    db.session.rollback()
    # to its own household at the office, it counts as signed for
    issuing.issue_card(db.session, staff_user, line.card.serial, "3-1-101")
    db.session.commit()
    db.session.refresh(line)
    assert line.received_at is not None


def test_a_line_whose_household_lost_its_group_meanwhile_is_refused_when_ticked(
    db, staff_user, street
):
    made = handout.make_list(db.session, staff_user, street, ["3"], factories.a_date())
    db.session.commit()
    household = made.lines[0].household
    roster.update_household(
        db.session, staff_user, household, HouseholdFields.read(household.address)
    )
    db.session.commit()
    result = handout.record_received(db.session, staff_user, made, [made.lines[0].id])
    db.session.commit()
    assert [error.code for _line, error in result.refused] == ["not_eligible"]
    assert db.session.get(Card, made.lines[0].card_id).status == CardStatus.NEW
