"""核销: look at a card at the till, quote a bill, redeem exactly once, void.

`redeem` is the one place money moves. In one transaction it takes the write lock (BEGIN
IMMEDIATE on SQLite; the card row FOR UPDATE on PostgreSQL), checks the campaign, the card, the
shop and every limit, adds the discount to the campaign's spent sum with a guarded UPDATE (so a
budget is never overspent, whatever runs at the same time), writes the redemption and its audit
row, and commits. An idempotency key makes a double tap or a retried request return the first
answer and write nothing more. Every refusal is written to the attempt log.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import local_today, utcnow
from ..database import begin_write
from ..models import (
    AttemptLog,
    Campaign,
    CampaignStatus,
    Card,
    CardStatus,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    RedemptionStatus,
    User,
)
from ..rules import Rule, parse_money
from . import audit
from .cards import SERIAL_RANDOM_LENGTH, normalise_serial, normalise_token
from .errors import N_, DomainError

VOID_WINDOW = timedelta(minutes=10)  # a shop may take back its own redemption this long
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


class RedeemError(DomainError):
    """A redemption, quote or void that cannot go ahead, with the stable code people see."""

    messages = {
        "not_found": N_("No such card. Check the code and try again."),
        "not_issued": N_("This card has not been handed out yet; it cannot be used."),
        "expired": N_("This card's campaign is over; the card has expired."),
        "not_started": N_("This card's campaign has not started yet."),
        "used_up": N_("This card has no uses left."),
        "daily_limit": N_("This card has reached its limit at your shop for today."),
        "budget_exhausted": N_("The campaign's budget is used up; no more discounts can be given."),
        "merchant_not_in_campaign": N_("Your shop does not take part in this card's campaign."),
        "merchant_suspended": N_("Your shop is suspended and cannot redeem cards at the moment."),
        "void": N_("This card has been voided and cannot be used."),
        "campaign_paused": N_("This card's campaign is paused for now."),
        "no_discount": N_("This bill does not reach the shop's rule, so there is nothing off."),
        "bad_bill": N_("Please enter the bill as an amount in yuan, e.g. 188.00."),
        "bad_key": N_("The request's idempotency key is missing or malformed."),
        "key_reused": N_("This idempotency key was already used for a different redemption."),
        "already_void": N_("This redemption has already been voided."),
        "void_too_late": N_("A shop can void its own redemption only within 10 minutes."),
        "reason_required": N_("Please give a reason for voiding."),
    }


@dataclass(frozen=True)
class CardAtTill:
    """What the till needs to know about a card before the bill is typed."""

    card: Card
    campaign: Campaign
    rule: Rule
    uses_left: int | None  # None: no limit
    uses_here_today: int
    daily_left: int | None  # at this shop today; None: no daily limit


@dataclass(frozen=True)
class Quote:
    """A bill with its discount, before anything is written."""

    at_till: CardAtTill
    bill_fen: int
    discount_fen: int
    pay_fen: int


@dataclass(frozen=True)
class Outcome:
    """A redemption and whether this call wrote it (False: a replay of an earlier call)."""

    redemption: Redemption
    created: bool


# --- finding and checking a card -------------------------------------------------------------


def find_card(
    session: Session, ref: str, community_id: int, *, pin: str | None = None, lock: bool = False
) -> Card | None:
    """Return the card of `community_id` that `ref` names, or None.

    `ref` is a token (what a scan gives: the card URL or its last part) or a typed serial. A
    typed serial also needs the card's PIN, printed beside it: the serial alone is not a
    secret, and a shop must not be able to redeem cards it has never seen. A card of another
    community is not found, so its existence does not leak.
    """
    ref = (ref or "").strip()
    if "/" in ref:  # a whole scanned URL: keep its last part
        ref = ref.rstrip("/").rsplit("/", 1)[-1]
    serial = normalise_serial(ref)
    named = Card.token == normalise_token(ref)
    if len(serial) > SERIAL_RANDOM_LENGTH + 1:
        named = or_(named, Card.serial == serial)
    stmt = select(Card).where(Card.community_id == community_id, named)
    if lock:
        stmt = stmt.with_for_update()
    card = session.scalar(stmt)
    if card is not None and card.token != normalise_token(ref):
        if not secrets.compare_digest((pin or "").strip(), card.pin):
            return None
    return card


def rule_for(offer: Offer, campaign: Campaign) -> Rule:
    """Return the rule a shop applies: its own, or the campaign's default."""
    return Rule.from_dict(offer.rule if offer.rule is not None else campaign.default_rule)


def _active_offer(session: Session, campaign_id: int, merchant_id: int) -> Offer | None:
    return session.scalar(
        select(Offer).where(
            Offer.campaign_id == campaign_id,
            Offer.merchant_id == merchant_id,
            Offer.status == OfferStatus.ACTIVE,
        )
    )


def _uses_here_on(session: Session, card_id: int, merchant_id: int, day: date) -> int:
    return session.scalar(
        select(func.count(Redemption.id)).where(
            Redemption.card_id == card_id,
            Redemption.merchant_id == merchant_id,
            Redemption.local_day == day,
            Redemption.status == RedemptionStatus.OK,
        )
    )


def check_card(session: Session, card: Card | None, merchant: Merchant, today: date) -> CardAtTill:
    """Return what the till shows for `card` at `merchant` today, or raise the refusal."""
    if merchant.status != MerchantStatus.ACTIVE:
        raise RedeemError("merchant_suspended")
    if card is None:
        raise RedeemError("not_found")
    if card.status == CardStatus.VOID:
        raise RedeemError("void")
    if card.status == CardStatus.NEW:
        raise RedeemError("not_issued")
    campaign = session.get(Campaign, card.campaign_id)
    offer = _active_offer(session, campaign.id, merchant.id)
    if offer is None:
        raise RedeemError("merchant_not_in_campaign")
    if campaign.status == CampaignStatus.PAUSED:
        raise RedeemError("campaign_paused")
    if campaign.status == CampaignStatus.DRAFT or today < campaign.valid_from:
        raise RedeemError("not_started")
    if (
        campaign.status == CampaignStatus.ENDED
        or today > campaign.valid_until
        or card.status == CardStatus.EXPIRED
    ):
        raise RedeemError("expired")
    uses_left = None
    if campaign.uses_per_card is not None:
        uses_left = max(campaign.uses_per_card - card.uses_count, 0)
    if card.status == CardStatus.USED_UP or uses_left == 0:
        raise RedeemError("used_up")
    uses_here = _uses_here_on(session, card.id, merchant.id, today)
    daily_left = None
    if campaign.daily_uses_per_merchant is not None:
        daily_left = max(campaign.daily_uses_per_merchant - uses_here, 0)
        if daily_left == 0:
            raise RedeemError("daily_limit")
    if campaign.budget_fen is not None and campaign.spent_fen >= campaign.budget_fen:
        raise RedeemError("budget_exhausted")
    return CardAtTill(card, campaign, rule_for(offer, campaign), uses_left, uses_here, daily_left)


def parse_bill(text: str) -> int:
    """Read a bill typed at the till into fen, or raise `bad_bill` (a person's message)."""
    try:
        bill_fen = parse_money(text)
    except ValueError as error:
        raise RedeemError("bad_bill", str(error)) from error
    if bill_fen <= 0:
        raise RedeemError("bad_bill", N_("The bill must be more than ¥0.00."))
    return bill_fen


def _priced(at_till: CardAtTill, bill_fen: int) -> Quote:
    if isinstance(bill_fen, bool) or not isinstance(bill_fen, int) or bill_fen <= 0:
        raise RedeemError("bad_bill")
    discount = at_till.rule.discount(bill_fen)
    if discount <= 0:
        raise RedeemError("no_discount")
    campaign = at_till.campaign
    if campaign.budget_fen is not None and campaign.spent_fen + discount > campaign.budget_fen:
        raise RedeemError("budget_exhausted")
    return Quote(at_till, bill_fen, discount, bill_fen - discount)


# --- the till's three steps ------------------------------------------------------------------


def inspect(
    session: Session,
    ref: str,
    merchant: Merchant,
    *,
    pin: str | None = None,
    user: User | None = None,
    channel: str = "web",
    today: date | None = None,
) -> CardAtTill:
    """Look up the card a shop scanned or typed and check it can be used there now.

    A refusal is written to the attempt log (and committed) before it is raised.
    """
    today = today or local_today()
    card = find_card(session, ref, merchant.community_id, pin=pin)
    try:
        return check_card(session, card, merchant, today)
    except RedeemError as refusal:
        attempt = _Attempt.of(ref, merchant, user, card)
        session.rollback()
        _log_refusal(session, refusal, attempt, None, channel)
        raise


def quote(
    session: Session, card: Card, merchant: Merchant, bill_fen: int, *, today: date | None = None
) -> Quote:
    """Return bill, discount and what to pay for `card` at `merchant`, writing nothing."""
    return _priced(check_card(session, card, merchant, today or local_today()), bill_fen)


def redeem(
    session: Session,
    ref: str,
    merchant: Merchant,
    cashier: User | None,
    bill_fen: int,
    idempotency_key: str,
    *,
    pin: str | None = None,
    channel: str = "web",
    now: datetime | None = None,
) -> Outcome:
    """Redeem the card `ref` (token, or serial with `pin`) at `merchant` for a bill, exactly once.

    Commits. Returns the redemption; calling again with the same key returns the same one and
    writes nothing. Raises `RedeemError` (after logging the attempt) when it must refuse.
    """
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise RedeemError("bad_key")
    now = now or utcnow()
    today = local_today(now)
    merchant_id, community_id = merchant.id, merchant.community_id
    begin_write(session)
    try:
        card = find_card(session, ref, community_id, pin=pin, lock=True)
        replay = _earlier(session, merchant_id, idempotency_key)
        if replay is not None:
            session.rollback()
            return _replayed(replay, card, bill_fen)
        merchant = session.get(Merchant, merchant_id, populate_existing=True)
        price = _priced(check_card(session, card, merchant, today), bill_fen)
        _spend(session, price.at_till.campaign, price.discount_fen)
        redemption = _write(session, price, merchant, cashier, now, today, idempotency_key, channel)
        session.commit()
    except RedeemError as refusal:
        attempt = _Attempt.of(ref, merchant, cashier, card)
        session.rollback()
        _log_refusal(session, refusal, attempt, bill_fen, channel)
        raise
    except IntegrityError:
        # Another request with the same key committed first; answer as it did.
        session.rollback()
        replay = _earlier(session, merchant_id, idempotency_key)
        if replay is None:
            raise
        return _replayed(replay, card, bill_fen)
    return Outcome(redemption, True)


def _earlier(session: Session, merchant_id: int, key: str) -> Redemption | None:
    return session.scalar(
        select(Redemption).where(
            Redemption.merchant_id == merchant_id, Redemption.idempotency_key == key
        )
    )


def _replayed(earlier: Redemption, card: Card | None, bill_fen: int) -> Outcome:
    if card is None or earlier.card_id != card.id or earlier.bill_fen != bill_fen:
        raise RedeemError("key_reused")
    return Outcome(earlier, False)


def _spend(session: Session, campaign: Campaign, discount_fen: int) -> None:
    """Add the discount to what the campaign has spent, refusing to pass its budget.

    One guarded UPDATE: PostgreSQL re-checks the condition on the newest row version after
    waiting for a concurrent redemption, and SQLite holds the write lock, so two redemptions
    can never both take the last of a budget.
    """
    result = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign.id,
            (Campaign.budget_fen.is_(None))
            | (Campaign.spent_fen + discount_fen <= Campaign.budget_fen),
        )
        .values(spent_fen=Campaign.spent_fen + discount_fen)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise RedeemError("budget_exhausted")


def _write(session, price: Quote, merchant, cashier, now, today, key, channel) -> Redemption:
    at_till = price.at_till
    card = at_till.card
    card.uses_count += 1
    if at_till.uses_left is not None and at_till.uses_left <= 1:
        card.status = CardStatus.USED_UP
    redemption = Redemption(
        community_id=card.community_id,
        campaign_id=card.campaign_id,
        card_id=card.id,
        merchant_id=merchant.id,
        cashier_id=cashier.id if cashier is not None else None,
        bill_fen=price.bill_fen,
        discount_fen=price.discount_fen,
        paid_fen=price.pay_fen,
        rule_text=at_till.rule.render(),
        created_at=now,
        local_day=today,
        idempotency_key=key,
        channel=channel,
    )
    session.add(redemption)
    session.flush()
    audit.record(
        session,
        cashier,
        "redemption.create",
        redemption,
        after={
            "card": card.serial,
            "merchant_id": merchant.id,
            "bill_fen": price.bill_fen,
            "discount_fen": price.discount_fen,
            "paid_fen": price.pay_fen,
            "rule": redemption.rule_text,
            "channel": channel,
        },
    )
    return redemption


@dataclass(frozen=True)
class _Attempt:
    """Who tried what, captured before a rollback expires the objects it came from."""

    community_id: int
    merchant_id: int
    user_id: int | None
    card_id: int | None
    card_ref: str

    @classmethod
    def of(cls, ref: str, merchant: Merchant, user: User | None, card: Card | None) -> _Attempt:
        return cls(
            merchant.community_id,
            merchant.id,
            user.id if user is not None else None,
            card.id if card is not None else None,
            card.serial if card is not None else (ref or "")[:16],
        )


def _log_refusal(session: Session, refusal, attempt: _Attempt, bill_fen, channel) -> None:
    """Write a refused attempt to the attempt log in a write transaction of its own."""
    begin_write(session)
    session.add(
        AttemptLog(
            code=refusal.code,
            community_id=attempt.community_id,
            merchant_id=attempt.merchant_id,
            user_id=attempt.user_id,
            card_id=attempt.card_id,
            card_ref=attempt.card_ref,
            bill_fen=bill_fen if type(bill_fen) is int and bill_fen >= 0 else None,
            channel=channel,
            ip=audit.client_ip.get(),
        )
    )
    session.commit()


# --- taking a redemption back ----------------------------------------------------------------


def void_redemption(
    session: Session,
    redemption: Redemption,
    actor: User,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Redemption:
    """Take a redemption back: the card gets its use back and the campaign its budget. Commits.

    A shop may void its own redemption within ten minutes; staff may void any redemption of
    their community, with a reason. The caller has checked the actor may see the redemption.
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    redemption_id = redemption.id
    begin_write(session)
    redemption = session.scalar(
        select(Redemption).where(Redemption.id == redemption_id).with_for_update()
    )
    try:
        if redemption.status == RedemptionStatus.VOID:
            raise RedeemError("already_void")
        if actor.is_merchant:
            if actor.merchant_id != redemption.merchant_id:
                raise RedeemError("not_found")
            if now - redemption.created_at > VOID_WINDOW:
                raise RedeemError("void_too_late")
        elif not reason:
            raise RedeemError("reason_required")
    except RedeemError:
        session.rollback()
        raise
    card = session.scalar(select(Card).where(Card.id == redemption.card_id).with_for_update())
    campaign = session.get(Campaign, redemption.campaign_id)
    before = audit.snapshot(redemption, ["status", "bill_fen", "discount_fen", "paid_fen"])
    redemption.status = RedemptionStatus.VOID
    redemption.voided_at = now
    redemption.voided_by_id = actor.id
    redemption.void_reason = reason[:200]
    card.uses_count -= 1
    if card.status == CardStatus.USED_UP:
        card.status = CardStatus.ISSUED
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(spent_fen=Campaign.spent_fen - redemption.discount_fen)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor,
        "redemption.void",
        redemption,
        before=before,
        after={"status": "void", "card": card.serial, "uses_count": card.uses_count},
        note=reason,
    )
    session.commit()
    return redemption
