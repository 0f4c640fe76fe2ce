"""Door-to-door hand-out lists (签收单): cards set aside for households, signed for at the door.

Staff make a list for a campaign: every household of the roster the campaign's cards may go to
(see `roster.household_limit`), in the buildings chosen, gets as many new cards set aside as it
may still hold. The list prints per building on A4 with each card's serial, a signature column
and the date. Staff go door to door, then take the list back in by ticking who signed (or by
scanning the cards as they hand them over); each signed line hands its card out by the same
rules as at the office (`issuing`). Closing the list puts the cards nobody signed for back in
stock. Every step writes an audit row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..database import locked
from ..models import (
    Campaign,
    Card,
    CardBatch,
    CardStatus,
    HandoutLine,
    HandoutList,
    HandoutStatus,
    Household,
    User,
)
from . import audit, issuing, roster
from .errors import N_, DomainError
from .households import household_label

MAX_LINES = 3000  # one list is a morning's round of a few buildings, not the whole district


class HandoutError(DomainError):
    messages = {
        "nobody_eligible": N_(
            "No household of the roster in these buildings may receive more cards of this campaign."
        ),
        "not_enough_cards": N_(
            "The list needs %(needed)s cards but only %(stock)s new cards may be handed out "
            "that day. Make a batch of at least %(short)s more cards, or plan a wave, first."
        ),
        "too_many_lines": N_(
            "A list may hold at most 3000 cards. Choose fewer buildings and make several lists."
        ),
        "list_closed": N_("This list was already taken back in and closed."),
        "card_not_on_list": N_("Card %(serial)s is not on this list."),
        "campaign_closed": N_("This campaign has ended; its cards can no longer be handed out."),
    }


@dataclass(frozen=True)
class Counts:
    """A list's progress: lines, signed for, back in stock, still out."""

    lines: int
    received: int
    returned: int

    @property
    def waiting(self) -> int:
        return self.lines - self.received - self.returned


def _open_lines_by_household(session: Session, campaign_id: int) -> dict[int, int]:
    """Return, per household, how many cards of a campaign are set aside on open lists."""
    rows = session.execute(
        select(HandoutLine.household_id, func.count())
        .join(HandoutList, HandoutList.id == HandoutLine.handout_id)
        .where(
            HandoutList.campaign_id == campaign_id,
            HandoutList.status == HandoutStatus.OPEN,
            HandoutLine.received_at.is_(None),
            HandoutLine.returned_at.is_(None),
        )
        .group_by(HandoutLine.household_id)
    )
    return dict(rows.all())


def _stock(session: Session, campaign_id: int, needed: int, day: date) -> list[Card]:
    """Return up to `needed` new cards of a campaign that no open list sets aside, locked.

    Only cards that may be handed out on `day` count: of no wave, or of a wave open that day;
    the earliest wave's first.
    """
    set_aside = (
        select(HandoutLine.card_id)
        .join(HandoutList, HandoutList.id == HandoutLine.handout_id)
        .where(
            HandoutList.status == HandoutStatus.OPEN,
            HandoutLine.received_at.is_(None),
            HandoutLine.returned_at.is_(None),
        )
    )
    stmt = (
        select(Card)
        .outerjoin(CardBatch, CardBatch.id == Card.batch_id)
        .where(
            Card.campaign_id == campaign_id,
            Card.status == CardStatus.NEW,
            Card.id.not_in(set_aside),
            or_(CardBatch.hand_out_from.is_(None), CardBatch.hand_out_from <= day),
            or_(CardBatch.valid_until.is_(None), CardBatch.valid_until >= day),
        )
        .order_by(CardBatch.wave.is_(None), CardBatch.wave, Card.id)
        .limit(needed)
        .with_for_update(of=Card)
    )
    return list(session.scalars(stmt))


def make_list(
    session: Session,
    actor: User,
    campaign: Campaign,
    buildings: list[str] | None,
    hand_out_on: date,
    note: str = "",
) -> HandoutList:
    """Set aside new cards for every household in `buildings` (None: all) that may have more."""
    campaign = locked(session, Campaign, Campaign.id == campaign.id)
    try:
        issuing.check_campaign(campaign)
    except issuing.IssueError as error:
        raise HandoutError("campaign_closed") from error
    stmt = select(Household).where(
        Household.community_id == campaign.community_id, Household.erased_at.is_(None)
    )
    if buildings:
        stmt = stmt.where(Household.building.in_(buildings))
    households = session.scalars(stmt.order_by(Household.sort_key)).all()
    on_lists = _open_lines_by_household(session, campaign.id)
    wanted: list[Household] = []
    for household in households:
        try:
            limit = roster.household_limit(session, campaign, household.address).limit
        except roster.RosterError:
            continue
        held = issuing.household_cards(session, campaign.id, household.address)
        held += on_lists.get(household.id, 0)
        more = 1 if limit is None else limit - held
        if limit is None and held:
            more = 0  # no limit: one card each, as a first round
        wanted.extend([household] * max(more, 0))
    if not wanted:
        raise HandoutError("nobody_eligible")
    if len(wanted) > MAX_LINES:
        raise HandoutError("too_many_lines")
    cards = _stock(session, campaign.id, len(wanted), hand_out_on)
    if len(cards) < len(wanted):
        raise HandoutError(
            "not_enough_cards", needed=len(wanted), stock=len(cards), short=len(wanted) - len(cards)
        )
    handout = HandoutList(
        community_id=campaign.community_id,
        campaign_id=campaign.id,
        hand_out_on=hand_out_on,
        note=roster.clean_text(note, 200, "note_too_long"),
        created_by_id=actor.id,
    )
    session.add(handout)
    session.flush()
    session.add_all(
        HandoutLine(handout_id=handout.id, position=i, household_id=h.id, card_id=card.id)
        for i, (h, card) in enumerate(zip(wanted, cards, strict=True), start=1)
    )
    session.flush()
    audit.record(
        session,
        actor,
        "handout.create",
        handout,
        after={
            "campaign": campaign.name,
            "buildings": sorted(set(buildings or [])) or None,
            "lines": len(wanted),
            "first_serial": cards[0].serial,
            "last_serial": cards[-1].serial,
        },
    )
    return handout


def buildings_of(lines: list[HandoutLine]) -> list[tuple[str, list[HandoutLine]]]:
    """Return a list's lines grouped by building, in the order they go door to door."""
    groups: dict[str, list[HandoutLine]] = defaultdict(list)
    for line in lines:
        groups[line.household.building].append(line)
    return sorted(groups.items(), key=lambda item: roster.sort_key(item[0]))


def counts(handout: HandoutList) -> Counts:
    lines = handout.lines
    return Counts(
        lines=len(lines),
        received=sum(1 for line in lines if line.received_at is not None),
        returned=sum(1 for line in lines if line.returned_at is not None),
    )


@dataclass
class Received:
    """What taking a list back in did: lines signed for, and lines refused with why."""

    signed: list[HandoutLine]
    refused: list[tuple[HandoutLine, DomainError]]


def record_received(
    session: Session, actor: User, handout: HandoutList, line_ids: list[int]
) -> Received:
    """Hand out the card of every ticked line, by the rules of handing out at the office."""
    handout = locked(session, HandoutList, HandoutList.id == handout.id)
    if handout.status != HandoutStatus.OPEN:
        raise HandoutError("list_closed")
    ticked = set(line_ids)
    result = Received([], [])
    for line in handout.lines:
        if line.id not in ticked or line.received_at is not None or line.returned_at is not None:
            continue
        try:
            with session.begin_nested():
                _sign(session, actor, line)
        except (issuing.IssueError, roster.RosterError) as error:
            result.refused.append((line, error))
            continue
        result.signed.append(line)
    if result.signed:
        audit.record(
            session,
            actor,
            "handout.receive",
            handout,
            after={"signed": len(result.signed), "refused": len(result.refused)},
            note="、".join(line.card.serial for line in result.signed[:20]),
        )
    return result


def _sign(session: Session, actor: User, line: HandoutLine) -> None:
    card, campaign = issuing.locked_card(session, line.card_id)
    issuing.hand_out(session, actor, card, campaign, line.household.address, None)
    line.received_at = utcnow()
    session.flush()


def receive_scanned(session: Session, actor: User, handout: HandoutList, ref: str) -> HandoutLine:
    """Take back the line of the card a scan or a typed serial names, as signed for."""
    card = issuing.find_card(session, ref, handout.community_id)
    line = next((ln for ln in handout.lines if card is not None and ln.card_id == card.id), None)
    if line is None:
        raise HandoutError("card_not_on_list", serial=(ref or "").strip()[:40] or "—")
    result = record_received(session, actor, handout, [line.id])
    if result.refused:
        raise result.refused[0][1]
    return line


def close_list(session: Session, actor: User, handout: HandoutList) -> Counts:
    """Close a list: the cards nobody signed for go back to stock, for another list or the desk."""
    handout = locked(session, HandoutList, HandoutList.id == handout.id)
    if handout.status != HandoutStatus.OPEN:
        raise HandoutError("list_closed")
    now = utcnow()
    returned = []
    for line in handout.lines:
        if line.received_at is None and line.returned_at is None:
            line.returned_at = now
            returned.append(line.card.serial)
    handout.status = HandoutStatus.CLOSED
    handout.closed_at = now
    session.flush()
    result = counts(handout)
    audit.record(
        session,
        actor,
        "handout.close",
        handout,
        before={"status": HandoutStatus.OPEN.value},
        after={
            "status": HandoutStatus.CLOSED.value,
            "signed": result.received,
            "returned": result.returned,
        },
        note="、".join(returned[:20]),
    )
    return result


def describe(line: HandoutLine) -> str:
    """Return a line as people say it: household and serial."""
    return f"{household_label(line.household.address)} · {line.card.serial}"
