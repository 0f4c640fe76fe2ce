"""核销: look at a card at the till, quote a bill, redeem exactly once, void.

`redeem` is the one place money moves. It takes the write lock (BEGIN IMMEDIATE on SQLite; the
card row FOR UPDATE on PostgreSQL), reads card, campaign, offer and shop in one query, checks
the campaign, the card, the shop and every limit, adds the discount to the campaign's spent sum
with a guarded UPDATE (so a budget is never overspent, whatever runs at the same time), writes
the redemption and its audit row, and commits. An idempotency key makes a double tap or a
retried request return the first answer and write nothing more. Every refusal is written to
the attempt log.

The locked part is kept short and in SQL expressions rather than ORM units of work: on SQLite
every shop's redemptions queue for that lock, so its length bounds the whole site's throughput.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
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
from ..rules import MAX_BILL_FEN, Rule, parse_money
from . import audit, summary
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


# --- what the checks read ----------------------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    """A card with its campaign, this shop's offer and the shop's status, read in one query."""

    card_id: int
    serial: str
    token: str
    pin: str
    status: CardStatus
    uses_count: int
    community_id: int
    campaign_id: int
    campaign_status: CampaignStatus
    valid_from: date
    valid_until: date
    uses_per_card: int | None
    daily_uses_per_merchant: int | None
    budget_fen: int | None
    spent_fen: int
    default_rule: dict[str, Any] | None
    offer_rule: dict[str, Any] | None
    offer_status: OfferStatus | None
    merchant_status: MerchantStatus

    @property
    def uses_left(self) -> int | None:
        if self.uses_per_card is None:
            return None
        return max(self.uses_per_card - self.uses_count, 0)

    def rule(self) -> Rule:
        """Return the rule this shop applies: its own, or the campaign's default."""
        return Rule.from_dict(self.offer_rule if self.offer_rule is not None else self.default_rule)


_STATE_COLUMNS = (
    Card.id.label("card_id"),
    Card.serial,
    Card.token,
    Card.pin,
    Card.status,
    Card.uses_count,
    Card.community_id,
    Card.campaign_id,
    Campaign.status.label("campaign_status"),
    Campaign.valid_from,
    Campaign.valid_until,
    Campaign.uses_per_card,
    Campaign.daily_uses_per_merchant,
    Campaign.budget_fen,
    Campaign.spent_fen,
    Campaign.default_rule,
    Offer.rule.label("offer_rule"),
    Offer.status.label("offer_status"),
    Merchant.status.label("merchant_status"),
)


def _state_select(condition):
    return (
        select(*_STATE_COLUMNS)
        .join(Campaign, Campaign.id == Card.campaign_id)
        .join(Merchant, Merchant.id == bindparam("merchant_id"))
        .outerjoin(
            Offer,
            and_(
                Offer.campaign_id == Card.campaign_id, Offer.merchant_id == bindparam("merchant_id")
            ),
        )
        .where(Card.community_id == bindparam("community_id"), condition)
    )


# Built once: the hot path only binds values (statement building costs more than the query).
_STATE_BY_REF = _state_select(
    or_(Card.token == bindparam("token"), Card.serial == bindparam("serial"))
)
_STATE_BY_REF_LOCKED = _STATE_BY_REF.with_for_update(of=Card)
_STATE_BY_ID = _state_select(Card.id == bindparam("card_id"))


def _token_and_serial(ref: str | None) -> tuple[str, str | None]:
    """Read what a scan or a person gave: a token (the card URL or its last part), or a serial."""
    ref = (ref or "").strip()[:200]
    if "/" in ref:
        ref = ref.rstrip("/").rsplit("/", 1)[-1]
    serial = normalise_serial(ref)
    return normalise_token(ref), serial if len(serial) > SERIAL_RANDOM_LENGTH + 1 else None


def load_state(
    session: Session,
    merchant: Merchant,
    *,
    ref: str | None = None,
    card_id: int | None = None,
    pin: str | None = None,
    lock: bool = False,
) -> CardState | None:
    """Read the card that `ref` (or `card_id`) names, as `merchant` sees it; None if not found.

    A typed serial also needs the card's PIN, printed beside it: the serial alone is not a
    secret, and a shop must not be able to redeem cards it has never seen. A card of another
    community is not found, so its existence does not leak. `lock` takes the card row FOR
    UPDATE (PostgreSQL; on SQLite the caller holds the write lock already).
    """
    params = {"merchant_id": merchant.id, "community_id": merchant.community_id}
    if card_id is not None:
        stmt, token = _STATE_BY_ID, None
        params["card_id"] = card_id
    else:
        stmt = _STATE_BY_REF_LOCKED if lock else _STATE_BY_REF
        token, serial = _token_and_serial(ref)
        params.update(token=token, serial=serial)
    row = session.connection().execute(stmt, params).first()
    if row is None:
        return None
    state = CardState(**row._mapping)
    if card_id is None and state.token != token:  # named by its serial: the PIN must match
        if not secrets.compare_digest((pin or "").strip().encode(), state.pin.encode()):
            return None
    return state


def find_card(
    session: Session, ref: str, community_id: int, *, pin: str | None = None
) -> Card | None:
    """Return the card of `community_id` that `ref` names (a serial needs its PIN), or None."""
    token, serial = _token_and_serial(ref)
    card = session.scalar(
        select(Card).where(
            Card.community_id == community_id, or_(Card.token == token, Card.serial == serial)
        )
    )
    if card is not None and card.token != token:
        if not secrets.compare_digest((pin or "").strip().encode(), card.pin.encode()):
            return None
    return card


def check(state: CardState | None, merchant_status: MerchantStatus, today: date) -> None:
    """Raise the refusal that applies to a card in `state` at a shop today, if any.

    The order is what a cashier needs to hear first: the shop itself, then the card, then the
    campaign, then the card's uses. The daily limit and the budget depend on more than the
    state and are checked where they are known.
    """
    if merchant_status != MerchantStatus.ACTIVE:
        raise RedeemError("merchant_suspended")
    if state is None:
        raise RedeemError("not_found")
    if state.status == CardStatus.VOID:
        raise RedeemError("void")
    if state.status == CardStatus.NEW:
        raise RedeemError("not_issued")
    if state.offer_status != OfferStatus.ACTIVE:
        raise RedeemError("merchant_not_in_campaign")
    if state.campaign_status == CampaignStatus.PAUSED:
        raise RedeemError("campaign_paused")
    if state.campaign_status == CampaignStatus.DRAFT or today < state.valid_from:
        raise RedeemError("not_started")
    if (
        state.campaign_status == CampaignStatus.ENDED
        or today > state.valid_until
        or state.status == CardStatus.EXPIRED
    ):
        raise RedeemError("expired")
    if state.status == CardStatus.USED_UP or state.uses_left == 0:
        raise RedeemError("used_up")
    if state.budget_fen is not None and state.spent_fen >= state.budget_fen:
        raise RedeemError("budget_exhausted")


def _uses_here_on(session: Session, card_id: int, merchant_id: int, day: date) -> int:
    return session.scalar(
        select(func.count(Redemption.id)).where(
            Redemption.card_id == card_id,
            Redemption.merchant_id == merchant_id,
            Redemption.local_day == day,
            Redemption.status == RedemptionStatus.OK,
        )
    )


def _check_daily(state: CardState, uses_here: int) -> None:
    limit = state.daily_uses_per_merchant
    if limit is not None and uses_here >= limit:
        raise RedeemError("daily_limit")


def price(state: CardState, bill_fen: int) -> tuple[int, int]:
    """Return (discount, to pay) in fen for a bill, or raise `bad_bill`, `no_discount` or
    `budget_exhausted`."""
    if type(bill_fen) is not int or not 0 < bill_fen <= MAX_BILL_FEN:
        raise RedeemError("bad_bill")
    discount = state.rule().discount(bill_fen)
    if discount <= 0:
        raise RedeemError("no_discount")
    if state.budget_fen is not None and state.spent_fen + discount > state.budget_fen:
        raise RedeemError("budget_exhausted")
    return discount, bill_fen - discount


def parse_bill(text: str) -> int:
    """Read a bill typed at the till into fen, or raise `bad_bill` (a person's message)."""
    try:
        bill_fen = parse_money(text)
    except ValueError as error:
        raise RedeemError("bad_bill", str(error)) from error
    if bill_fen <= 0:
        raise RedeemError("bad_bill", N_("The bill must be more than ¥0.00."))
    return bill_fen


# --- the till's three steps ----------------------------------------------------------------------


@dataclass(frozen=True)
class CardAtTill:
    """What the till shows about a card before the bill is typed."""

    card: Card
    campaign: Campaign
    state: CardState
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
class Receipt:
    """A redemption as recorded, for the till's answer."""

    id: int
    card_id: int
    card_serial: str
    merchant_id: int
    bill_fen: int
    discount_fen: int
    paid_fen: int
    rule_text: str
    status: str
    created_at: datetime
    local_day: date
    void_reason: str = ""

    @classmethod
    def of(cls, r: Redemption, card_serial: str) -> Receipt:
        return cls(
            r.id,
            r.card_id,
            card_serial,
            r.merchant_id,
            r.bill_fen,
            r.discount_fen,
            r.paid_fen,
            r.rule_text,
            r.status.value,
            r.created_at,
            r.local_day,
            r.void_reason,
        )


@dataclass(frozen=True)
class Outcome:
    """What `redeem` did: the receipt, and whether this call wrote it (False: a replay)."""

    receipt: Receipt
    created: bool


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
    state = load_state(session, merchant, ref=ref, pin=pin)
    try:
        check(state, state.merchant_status if state else merchant.status, today)
        uses_here = _uses_here_on(session, state.card_id, merchant.id, today)
        _check_daily(state, uses_here)
    except RedeemError as refusal:
        _log_refusal(session, refusal, _Attempt.of(ref, merchant, user, state), None, channel)
        raise
    daily_left = None
    if state.daily_uses_per_merchant is not None:
        daily_left = state.daily_uses_per_merchant - uses_here
    return CardAtTill(
        card=session.get(Card, state.card_id),
        campaign=session.get(Campaign, state.campaign_id),
        state=state,
        rule=state.rule(),
        uses_left=state.uses_left,
        uses_here_today=uses_here,
        daily_left=daily_left,
    )


def quote(
    session: Session, card: Card, merchant: Merchant, bill_fen: int, *, today: date | None = None
) -> Quote:
    """Return bill, discount and what to pay for `card` at `merchant`, writing nothing."""
    today = today or local_today()
    state = load_state(session, merchant, card_id=card.id)
    check(state, state.merchant_status if state else merchant.status, today)
    uses_here = _uses_here_on(session, state.card_id, merchant.id, today)
    _check_daily(state, uses_here)
    discount, pay = price(state, bill_fen)
    daily_left = None
    if state.daily_uses_per_merchant is not None:
        daily_left = state.daily_uses_per_merchant - uses_here
    at_till = CardAtTill(
        card,
        session.get(Campaign, state.campaign_id),
        state,
        state.rule(),
        state.uses_left,
        uses_here,
        daily_left,
    )
    return Quote(at_till, bill_fen, discount, pay)


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

    Commits. Returns the receipt; calling again with the same key returns the same one and
    writes nothing. Raises `RedeemError` (after logging the attempt) when it must refuse.
    """
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise RedeemError("bad_key")
    now = now or utcnow()
    today = local_today(now)
    # A repeat of an earlier call is not looked for up front (one query less on every
    # redemption): it either fails the unique (merchant, key) index at the insert, or is
    # refused because the first call used the card up; both paths look for it then.
    # Read what is needed of the ORM objects now: the commit in begin_write expires them.
    attempt = _Attempt.of(ref, merchant, cashier, None)
    shop = _Shop(merchant.id, merchant.community_id, merchant.status)
    cashier_id, cashier_label = (cashier.id, audit.label(cashier)) if cashier else (None, None)
    state = None
    begin_write(session)
    try:
        state = load_state(session, shop, ref=ref, pin=pin, lock=True)
        check(state, state.merchant_status if state else shop.status, today)
        if state.daily_uses_per_merchant is not None:
            _check_daily(state, _uses_here_on(session, state.card_id, shop.id, today))
        discount, pay = price(state, bill_fen)
        _spend(session, state.campaign_id, discount)
        receipt = _write(
            session,
            state,
            shop.id,
            cashier_id,
            cashier_label,
            bill_fen,
            discount,
            pay,
            now,
            today,
            idempotency_key,
            channel,
        )
        session.commit()
    except RedeemError as refusal:
        session.rollback()
        replay = _earlier(session, shop.id, idempotency_key)
        if replay is not None:
            return _replayed(session, shop, replay, ref, pin, bill_fen)
        if state is not None:
            attempt = dataclasses.replace(attempt, card_id=state.card_id, card_ref=state.serial)
        _log_refusal(session, refusal, attempt, bill_fen, channel)
        raise
    except IntegrityError:
        # Another request with the same key committed first; answer as it did.
        session.rollback()
        replay = _earlier(session, shop.id, idempotency_key)
        if replay is None:
            raise
        return _replayed(session, shop, replay, ref, pin, bill_fen)
    return Outcome(receipt, True)


@dataclass(frozen=True)
class _Shop:
    """The few facts of a merchant the locked part needs, read before the lock."""

    id: int
    community_id: int
    status: MerchantStatus


_EARLIER = select(Redemption.id).where(
    Redemption.merchant_id == bindparam("merchant_id"),
    Redemption.idempotency_key == bindparam("key"),
)


def _earlier(session: Session, merchant_id: int, key: str) -> Redemption | None:
    """Return the redemption this shop already recorded under `key`, if any."""
    found = session.connection().execute(_EARLIER, {"merchant_id": merchant_id, "key": key})
    redemption_id = found.scalar()
    return session.get(Redemption, redemption_id) if redemption_id is not None else None


def _replayed(session, merchant, earlier: Redemption, ref, pin, bill_fen) -> Outcome:
    state = load_state(session, merchant, ref=ref, pin=pin)
    if state is None or earlier.card_id != state.card_id or earlier.bill_fen != bill_fen:
        raise RedeemError("key_reused")
    return Outcome(Receipt.of(earlier, state.serial), False)


def _spend(session: Session, campaign_id: int, discount_fen: int) -> None:
    """Add the discount to what the campaign has spent, refusing to pass its budget.

    One guarded UPDATE: PostgreSQL re-checks the condition on the newest row version after
    waiting for a concurrent redemption, and SQLite holds the write lock, so two redemptions
    can never both take the last of a budget.
    """
    result = session.connection().execute(
        _SPEND, {"campaign_id": campaign_id, "discount": discount_fen}
    )
    if result.rowcount != 1:
        raise RedeemError("budget_exhausted")


_SPEND = (
    update(Campaign.__table__)
    .where(
        Campaign.id == bindparam("campaign_id"),
        Campaign.budget_fen.is_(None)
        | (Campaign.spent_fen + bindparam("discount") <= Campaign.budget_fen),
    )
    .values(spent_fen=Campaign.spent_fen + bindparam("discount"))
)
_USE_CARD = (
    update(Card.__table__)
    .where(Card.id == bindparam("card_id"))
    .values(uses_count=Card.uses_count + 1, status=bindparam("new_status"))
)
_INSERT_REDEMPTION = insert(Redemption.__table__).returning(Redemption.id)


def _write(
    session,
    state: CardState,
    merchant_id,
    cashier_id,
    cashier_label,
    bill_fen,
    discount,
    pay,
    now,
    today,
    key,
    channel,
) -> Receipt:
    used_up = state.uses_left is not None and state.uses_left <= 1
    connection = session.connection()
    connection.execute(
        _USE_CARD,
        {
            "card_id": state.card_id,
            "new_status": (CardStatus.USED_UP if used_up else state.status).value,
        },
    )
    rule_text = state.rule().render()
    redemption_id = connection.execute(
        _INSERT_REDEMPTION,
        {
            "community_id": state.community_id,
            "campaign_id": state.campaign_id,
            "card_id": state.card_id,
            "merchant_id": merchant_id,
            "cashier_id": cashier_id,
            "bill_fen": bill_fen,
            "discount_fen": discount,
            "paid_fen": pay,
            "rule_text": rule_text,
            "created_at": now,
            "local_day": today,
            "idempotency_key": key,
            "channel": channel,
            "status": RedemptionStatus.OK.value,
            "void_reason": "",
            "voided_at": None,
            "voided_by_id": None,
        },
    ).scalar_one()
    audit.insert_row(
        connection,
        actor_id=cashier_id,
        actor_label=cashier_label or "system",
        community_id=state.community_id,
        action="redemption.create",
        object_type="redemption",
        object_id=redemption_id,
        after={
            "card": state.serial,
            "merchant_id": merchant_id,
            "bill_fen": bill_fen,
            "discount_fen": discount,
            "paid_fen": pay,
            "rule": rule_text,
            "channel": channel,
        },
        at=now,
    )
    return Receipt(
        redemption_id,
        state.card_id,
        state.serial,
        merchant_id,
        bill_fen,
        discount,
        pay,
        rule_text,
        RedemptionStatus.OK.value,
        now,
        today,
    )


@dataclass(frozen=True)
class _Attempt:
    """Who tried what, captured before a rollback expires the objects it came from."""

    community_id: int
    merchant_id: int
    user_id: int | None
    card_id: int | None
    card_ref: str

    @classmethod
    def of(cls, ref, merchant: Merchant, user: User | None, state: CardState | None) -> _Attempt:
        return cls(
            merchant.community_id,
            merchant.id,
            user.id if user is not None else None,
            state.card_id if state is not None else None,
            state.serial if state is not None else (ref or "")[:16],
        )


def _log_refusal(session: Session, refusal, attempt: _Attempt, bill_fen, channel) -> None:
    """Write a refused attempt to the attempt log in a write transaction of its own."""
    begin_write(session)
    session.execute(
        insert(AttemptLog).values(
            code=refusal.code,
            community_id=attempt.community_id,
            merchant_id=attempt.merchant_id,
            user_id=attempt.user_id,
            card_id=attempt.card_id,
            card_ref=attempt.card_ref,
            bill_fen=bill_fen if type(bill_fen) is int and 0 <= bill_fen <= MAX_BILL_FEN else None,
            channel=channel,
            ip=audit.client_ip.get(),
            created_at=utcnow(),
        )
    )
    session.commit()


# --- taking a redemption back --------------------------------------------------------------------


def void_redemption(
    session: Session,
    redemption: Redemption,
    actor: User,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Receipt:
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
        .where(Campaign.id == redemption.campaign_id)
        .values(spent_fen=Campaign.spent_fen - redemption.discount_fen)
        .execution_options(synchronize_session=False)
    )
    summary.refresh_day(session, redemption.campaign_id, redemption.local_day)
    audit.record(
        session,
        actor,
        "redemption.void",
        redemption,
        before=before,
        after={"status": "void", "card": card.serial, "uses_count": card.uses_count},
        note=reason,
    )
    receipt = Receipt.of(redemption, card.serial)
    session.commit()
    return receipt
