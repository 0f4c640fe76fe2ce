"""Handing cards to households (发卡), voiding lost cards and issuing their replacements.

A card is handed out by its serial (typed, or scanned: the QR carries the card's URL) to a
household (楼栋-单元-门牌, see `households`), with an optional phone that is stored and shown
masked. A campaign may limit how many cards one household holds; a voided card no longer
counts. A lost card is voided and replaced by a new card that carries over its uses, so the
household keeps exactly what it had left. Every change writes an audit row; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import local_today, utcnow
from ..database import locked
from ..models import (
    Campaign,
    CampaignStatus,
    Card,
    CardStatus,
    HandoutLine,
    HandoutList,
    HandoutStatus,
    Role,
    User,
)
from . import accounts, audit, roster
from .cards import generate_batch, normalise_serial, normalise_token
from .errors import N_, DomainError, Problems
from .households import HouseholdError, household_label, parse_household
from .sheets import SheetColumn, SheetRow

CARD_FIELDS = ["status", "household", "holder_phone", "uses_count", "void_reason", "replaces_id"]
_PHONE_DIGITS = re.compile(r"\d{7,12}")


class IssueError(DomainError):
    messages = {
        "card_required": N_("Please scan or type the card's serial."),
        "card_not_found": N_("No card of this community has that serial. Check it and retry."),
        "already_issued": N_("This card was already handed out (to %(household)s)."),
        "card_void": N_("This card is void and cannot be handed out."),
        "campaign_ended": N_("This card's campaign has ended."),
        "campaign_over": N_("This card's campaign was valid until %(until)s."),
        "household_limit": N_(
            "This household already holds %(count)s cards of this campaign, the most allowed."
        ),
        "phone_format": N_("Write the phone with digits only, e.g. 13912345678."),
        "reason_required": N_("Please give a reason."),
        "not_issued": N_("Only a card that was handed out can be replaced."),
        "already_replaced": N_("This card was already replaced by %(serial)s."),
        "nothing_left": N_("This card has no uses left, so there is nothing to carry over."),
        "replacement_campaign": N_("The new card must belong to the same campaign."),
        "replacement_not_new": N_("The new card must be one that was not handed out yet."),
        "already_void": N_("This card is already void."),
        "wave_not_open": N_(
            "This card is of wave %(wave)s, which is handed out from %(day)s. "
            "Hand out a card of a wave that is open."
        ),
        "wave_over": N_("This card is of wave %(wave)s, whose cards were valid until %(day)s."),
        "card_reserved": N_(
            "This card is set aside for %(household)s on hand-out list %(list)s. "
            "Hand out another card, or take it off that list first."
        ),
    }


def find_card(session: Session, ref: str, community_id: int | None) -> Card | None:
    """Return the card a serial, a token or a scanned card URL names (within a community)."""
    ref = (ref or "").strip()
    if "/" in ref:
        ref = ref.rstrip("/").rsplit("/", 1)[-1]
    if not ref:
        return None
    stmt = select(Card).where(
        (Card.serial == normalise_serial(ref)) | (Card.token == normalise_token(ref))
    )
    if community_id is not None:
        stmt = stmt.where(Card.community_id == community_id)
    return session.scalar(stmt)


def scope_of(actor: User) -> int | None:
    """Return the community an actor works in (None: the district admin sees all)."""
    return None if actor.role == Role.DISTRICT_ADMIN else actor.community_id


def clean_phone(text: str) -> str | None:
    """Return a holder's phone as stored (digits), None when blank, or refuse it."""
    phone = accounts.normalise_phone((text or "").strip())
    if not phone:
        return None
    if not _PHONE_DIGITS.fullmatch(phone):
        raise IssueError("phone_format")
    return phone


def locked_card(session: Session, card_id: int) -> tuple[Card, Campaign]:
    """Return a card and its campaign read afresh, their rows locked (PostgreSQL)."""
    card = locked(session, Card, Card.id == card_id)
    campaign = locked(session, Campaign, Campaign.id == card.campaign_id)
    return card, campaign


def check_campaign(campaign: Campaign) -> None:
    if campaign.status == CampaignStatus.ENDED:
        raise IssueError("campaign_ended")
    if local_today() > campaign.valid_until:
        raise IssueError("campaign_over", until=campaign.valid_until.isoformat())


def household_cards(session: Session, campaign_id: int, household: str) -> int:
    """Return how many live (not void) cards of a campaign a household holds."""
    return session.scalar(
        select(func.count(Card.id)).where(
            Card.campaign_id == campaign_id,
            Card.household == household,
            Card.status != CardStatus.VOID,
        )
    )


def check_wave(card: Card) -> None:
    """Refuse a card of a wave that does not open yet, or whose days are over."""
    batch = card.batch
    if batch is None or batch.wave is None:
        return
    today = local_today()
    if batch.hand_out_from is not None and today < batch.hand_out_from:
        raise IssueError("wave_not_open", wave=batch.wave, day=batch.hand_out_from.isoformat())
    if batch.valid_until is not None and today > batch.valid_until:
        raise IssueError("wave_over", wave=batch.wave, day=batch.valid_until.isoformat())


def check_household(session: Session, campaign: Campaign, household: str) -> None:
    """Refuse a card of `campaign` to a household outside its groups or at its limit."""
    limit = roster.household_limit(session, campaign, household).limit
    if limit is not None:
        held = household_cards(session, campaign.id, household)
        if held >= limit:
            raise IssueError("household_limit", count=held)


def reserved_line(session: Session, card_id: int) -> HandoutLine | None:
    """Return the open hand-out line a card is set aside on, if any."""
    return session.scalar(
        select(HandoutLine)
        .join(HandoutList, HandoutList.id == HandoutLine.handout_id)
        .where(
            HandoutLine.card_id == card_id,
            HandoutList.status == HandoutStatus.OPEN,
            HandoutLine.received_at.is_(None),
            HandoutLine.returned_at.is_(None),
        )
    )


def issue_card(
    session: Session, actor: User, ref: str, household_text: str, phone_text: str = ""
) -> Card:
    """Hand the card `ref` names to a household, within the campaign's cards-per-household."""
    problems = Problems()
    found = None
    if not (ref or "").strip():
        problems.add(IssueError("card_required"))
    elif (found := find_card(session, ref, scope_of(actor))) is None:
        problems.add(IssueError("card_not_found"))
    household = problems.check(lambda: parse_household(household_text))
    phone = problems.check(lambda: clean_phone(phone_text))
    problems.raise_any()
    card, campaign = locked_card(session, found.id)
    return hand_out(session, actor, card, campaign, household, phone)


def hand_out(session, actor, card, campaign, household, phone, replaces: Card | None = None):
    """Hand a locked new card to a household by the office's rules (or replace a lost one)."""
    if card.status == CardStatus.VOID:
        raise IssueError("card_void")
    if card.status != CardStatus.NEW:
        raise IssueError("already_issued", household=household_label(card.household) or "—")
    check_campaign(campaign)
    check_wave(card)
    line = reserved_line(session, card.id)
    if line is not None and line.household.address != household:
        raise IssueError(
            "card_reserved",
            household=household_label(line.household.address),
            list=line.handout_id,
        )
    if replaces is None:
        check_household(session, campaign, household)
    if line is not None:
        line.received_at = utcnow()  # signed for at the office instead of at the door
    before = audit.snapshot(card, CARD_FIELDS)
    card.status = CardStatus.ISSUED
    card.household = household
    card.holder_phone = phone
    card.issued_at = utcnow()
    card.issued_by_id = actor.id
    if replaces is not None:
        card.replaces_id = replaces.id
        card.uses_count = replaces.uses_count
    session.flush()
    audit.record(
        session,
        actor,
        "card.replace" if replaces is not None else "card.issue",
        card,
        before=before,
        after=audit.snapshot(card, CARD_FIELDS) | {"serial": card.serial},
        note=f"补发 {replaces.serial}" if replaces is not None else "",
    )
    return card


def issue_new_card(
    session: Session,
    actor: User,
    campaign: Campaign,
    household: str,
    phone: str | None,
    note: str = "",
) -> Card:
    """Make one card of `campaign` and hand it to a household, by the same rules as at the office.

    For a card that is never printed (exchanged for points: its page is the card). The caller
    holds the write lock and has locked the campaign's row.
    """
    check_campaign(campaign)
    check_household(session, campaign, household)
    batch = generate_batch(session, campaign, 1, actor, note=note)
    card = session.scalar(select(Card).where(Card.batch_id == batch.id).with_for_update())
    return hand_out(session, actor, card, campaign, household, phone)


def void_card(session: Session, actor: User, card: Card, reason: str) -> Card:
    """Void a card (lost, damaged, handed out by mistake); it can no longer be used."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise IssueError("reason_required")
    card, _campaign = locked_card(session, card.id)
    _void(session, actor, card, reason)
    return card


def _void(session, actor, card, reason) -> None:
    if card.status == CardStatus.VOID:
        raise IssueError("already_void")
    before = audit.snapshot(card, CARD_FIELDS)
    card.status = CardStatus.VOID
    card.voided_at = utcnow()
    card.void_reason = reason
    audit.record(
        session,
        actor,
        "card.void",
        card,
        before=before,
        after=audit.snapshot(card, CARD_FIELDS),
        note=reason,
    )


def replace_card(
    session: Session, actor: User, lost: Card, reason: str, replacement_ref: str = ""
) -> Card:
    """Void a lost card and hand its household a new one carrying over the uses left.

    The new card is one not yet handed out, named by `replacement_ref` (a spare from the
    printed stack), or when that is blank, a card made for the purpose (print it from its page).
    """
    reason = (reason or "").strip()[:200]
    if not reason:
        raise IssueError("reason_required")
    lost, campaign = locked_card(session, lost.id)
    if lost.household is None or lost.status == CardStatus.NEW:
        raise IssueError("not_issued")
    successor = session.scalar(select(Card).where(Card.replaces_id == lost.id))
    if successor is not None:
        raise IssueError("already_replaced", serial=successor.serial)
    if campaign.uses_per_card is not None and lost.uses_count >= campaign.uses_per_card:
        raise IssueError("nothing_left")
    check_campaign(campaign)
    if replacement_ref.strip():
        new = find_card(session, replacement_ref, lost.community_id)
        if new is None:
            raise IssueError("card_not_found")
        if new.campaign_id != lost.campaign_id:
            raise IssueError("replacement_campaign")
        if new.status != CardStatus.NEW:
            raise IssueError("replacement_not_new")
        new = session.scalar(select(Card).where(Card.id == new.id).with_for_update())
    else:
        batch = generate_batch(session, campaign, 1, actor, note=f"补发 {lost.serial}")
        new = session.scalar(select(Card).where(Card.batch_id == batch.id))
    if lost.status != CardStatus.VOID:
        _void(session, actor, lost, reason)
    return hand_out(session, actor, new, campaign, lost.household, lost.holder_phone, lost)


# --- handing out from a sheet ---------------------------------------------------------------

ISSUE_COLUMNS = [
    SheetColumn("serial", ("卡号", "序列号", "serial"), required=True),
    SheetColumn("household", ("户号", "住户", "楼栋单元门牌", "household"), required=True),
    SheetColumn("phone", ("电话", "手机", "phone")),
]
ISSUE_TEMPLATE_ROWS = [
    ["ZJH-7K3M-Q9", "3-2-501", "13912345678"],
    ["ZJH-8PXR-4D", "3栋2单元502", ""],
]


@dataclass
class IssueReport:
    """What a sheet of cards to hand out did: cards handed out, and rows refused with why."""

    issued: list[tuple[int, Card]] = field(default_factory=list)
    refused: list[tuple[int, str, DomainError]] = field(default_factory=list)


def issue_sheet(session: Session, actor: User, rows: list[SheetRow]) -> IssueReport:
    """Hand out a card for each good row of a sheet; refuse the others, saying why, row by row."""
    report = IssueReport()
    for row in rows:
        serial = row.get("serial")
        try:
            if not serial:
                raise IssueError("card_required")
            household = parse_household(row.get("household"))
            phone = clean_phone(row.get("phone"))
            found = find_card(session, serial, scope_of(actor))
            if found is None:
                raise IssueError("card_not_found")
            card, campaign = locked_card(session, found.id)
            with session.begin_nested():
                hand_out(session, actor, card, campaign, household, phone)
        except (IssueError, HouseholdError, roster.RosterError) as error:
            report.refused.append((row.line, serial, error))
            continue
        report.issued.append((row.line, card))
    audit.record(
        session,
        actor,
        "card.issue_sheet",
        object_type="card",
        after={"issued": len(report.issued), "refused": len(report.refused)},
    )
    return report
