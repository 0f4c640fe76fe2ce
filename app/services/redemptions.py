"""核销: look at a card at the till, quote a bill, redeem exactly once, void.

`redeem` is the one place money moves. It runs inside the write transaction its caller opened
(`database.write_transaction`: BEGIN IMMEDIATE on SQLite), reads card, campaign, offer and shop
in one statement that locks the card row (FOR UPDATE on PostgreSQL), checks the campaign, the
card, the shop and every limit, writes the redemption once per idempotency key (INSERT ... ON
CONFLICT DO NOTHING: a double tap or a retried request gets the first answer and writes
nothing more), counts the card's use, writes the audit row and, last, adds the discount to the
campaign's spent sum with a guarded UPDATE (so a budget is never overspent, whatever runs at
the same time). It never commits: the edge does, once.

A refusal raises `RedeemError` with the attempt it refused; the edge rolls back and writes the
attempt to the attempt log in a transaction of its own (`log_refusal`), so every refusal is
kept and nothing of the refused redemption is.

The locked part is kept short and in SQL expressions rather than ORM units of work: on SQLite
every shop's redemptions queue for that lock, so its length bounds the whole site's throughput.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..clock import local_today, to_local, utcnow
from ..database import locked
from ..models import (
    AttemptLog,
    Campaign,
    CampaignStatus,
    Card,
    CardBatch,
    CardStatus,
    Community,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    RedemptionStatus,
    User,
)
from ..rules import MAX_BILL_FEN, MoneyError, Rule, parse_money, weekday_name
from . import audit, pins, summary
from .cards import SERIAL_RANDOM_LENGTH, normalise_serial, normalise_token
from .errors import N_, DomainError

VOID_WINDOW = timedelta(minutes=10)  # a shop may take back its own redemption this long
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


class RedeemError(DomainError):
    """A redemption, quote or void that cannot go ahead, with the stable code people see."""

    messages = {
        "not_found": N_("No such card. Check the code and try again."),
        "other_community": N_(
            "This is a card of %(community)s; it can be used only at that community's shops."
        ),
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
        "outside_hours": N_(
            "At this shop the card is taken %(when)s. It can be used here next on %(next)s."
        ),
        "no_discount": N_("This bill does not reach the shop's rule, so there is nothing off."),
        "bad_bill": N_("Please enter the bill as an amount in yuan, e.g. 188.00."),
        "bad_key": N_("The request's idempotency key is missing or malformed."),
        "key_reused": N_("This idempotency key was already used for a different redemption."),
        "already_void": N_("This redemption has already been voided."),
        "void_too_late": N_("A shop can void its own redemption only within 10 minutes."),
        "reason_required": N_("Please give a reason for voiding."),
        "pin_required": N_("A typed card number needs the card's PIN, printed beside it."),
        "wrong_pin": N_("The card number and the PIN do not match. Check both and try again."),
        "pin_locked": pins.LOCKED_MESSAGE,
    }

    attempt: Attempt | None = None  # what was refused, for the attempt log (`log_refusal`)


# --- what a till sends, reads and gets back ---------------------------------------------------


@dataclass(frozen=True)
class TillRequest:
    """What a till asks for: redeem this card for this bill, once under this key."""

    card_ref: str  # what was scanned or typed: the card's URL, its token, or its serial
    bill_fen: int
    key: str  # the idempotency key: a repeat with the same key gets the first answer
    pin: str | None = None  # printed beside the serial; needed when the serial was typed
    channel: str = "web"  # web | api


@dataclass(frozen=True)
class CardAtTill:
    """A card as one shop's till sees it: with its campaign, the shop's offer and the shop's
    status, read in one statement."""

    card_id: int
    serial: str
    token: str
    pin: str
    status: CardStatus
    uses_count: int
    community_id: int
    campaign_id: int
    campaign_name: str
    campaign_status: CampaignStatus
    valid_from: date
    valid_until: date
    wave_from: date | None  # a wave's own days (分批发放), inside the campaign's
    wave_until: date | None
    uses_per_card: int | None
    daily_uses_per_merchant: int | None
    budget_fen: int | None
    spent_fen: int
    default_rule: dict[str, Any] | None
    offer_rule: dict[str, Any] | None
    offer_status: OfferStatus | None
    merchant_status: MerchantStatus
    uses_here_today: int = 0  # counted only when the campaign limits uses per shop and day

    @property
    def first_day(self) -> date:
        """The first day the card may be used: its campaign's, or its wave's if later."""
        return max(self.valid_from, self.wave_from or self.valid_from)

    @property
    def last_day(self) -> date:
        """The last day the card may be used: its campaign's, or its wave's if sooner."""
        return min(self.valid_until, self.wave_until or self.valid_until)

    @property
    def uses_left(self) -> int | None:
        """How many more times the card can be used; None: no limit."""
        if self.uses_per_card is None:
            return None
        return max(self.uses_per_card - self.uses_count, 0)

    @property
    def daily_left(self) -> int | None:
        """How many more times the card can be used at this shop today; None: no daily limit."""
        if self.daily_uses_per_merchant is None:
            return None
        return max(self.daily_uses_per_merchant - self.uses_here_today, 0)

    @cached_property
    def rule(self) -> Rule:
        """The rule this shop applies: its own, or the campaign's default."""
        return Rule.from_dict(self.offer_rule if self.offer_rule is not None else self.default_rule)


@dataclass(frozen=True)
class PricedBill:
    """A bill with its discount and what to collect, before anything is written."""

    card: CardAtTill
    bill_fen: int
    discount_fen: int
    pay_fen: int


@dataclass(frozen=True)
class Receipt:
    """A redemption as recorded, for the till's answer; `replayed` when an earlier call with
    the same key wrote it and this one wrote nothing."""

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
    replayed: bool = False

    @classmethod
    def of(cls, r: Redemption, card_serial: str, *, replayed: bool = False) -> Receipt:
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
            replayed,
        )


# --- reading the card ---------------------------------------------------------------------------

_CARD_COLUMNS = (
    Card.id.label("card_id"),
    Card.serial,
    Card.token,
    Card.pin,
    Card.status,
    Card.uses_count,
    Card.community_id,
    Card.campaign_id,
    Campaign.name.label("campaign_name"),
    Campaign.status.label("campaign_status"),
    Campaign.valid_from,
    Campaign.valid_until,
    CardBatch.valid_from.label("wave_from"),
    CardBatch.valid_until.label("wave_until"),
    Campaign.uses_per_card,
    Campaign.daily_uses_per_merchant,
    Campaign.budget_fen,
    Campaign.spent_fen,
    Campaign.default_rule,
    Offer.rule.label("offer_rule"),
    Offer.status.label("offer_status"),
    Merchant.status.label("merchant_status"),
)

# Built once: the hot path only binds values (building a statement costs more than running it).
_CARD_AT_TILL = (
    select(*_CARD_COLUMNS)
    .join(Campaign, Campaign.id == Card.campaign_id)
    .outerjoin(CardBatch, CardBatch.id == Card.batch_id)
    .join(Merchant, Merchant.id == bindparam("merchant_id"))
    .outerjoin(
        Offer,
        and_(Offer.campaign_id == Card.campaign_id, Offer.merchant_id == bindparam("merchant_id")),
    )
    .where(
        Card.community_id == bindparam("community_id"),
        or_(Card.token == bindparam("token"), Card.serial == bindparam("serial")),
    )
)
_CARD_AT_TILL_LOCKED = _CARD_AT_TILL.with_for_update(of=Card)
_USES_HERE_ON = select(func.count(Redemption.id)).where(
    Redemption.card_id == bindparam("card_id"),
    Redemption.merchant_id == bindparam("merchant_id"),
    Redemption.local_day == bindparam("day"),
    Redemption.status == RedemptionStatus.OK,
)


def _token_and_serial(ref: str | None) -> tuple[str, str | None]:
    """Read what a scan or a person gave: a token (the card URL or its last part), or a serial."""
    ref = (ref or "").strip()[:200]
    if "/" in ref:
        ref = ref.rstrip("/").rsplit("/", 1)[-1]
    serial = normalise_serial(ref)
    return normalise_token(ref), serial if len(serial) > SERIAL_RANDOM_LENGTH + 1 else None


def read_card(
    session: Session,
    merchant: Merchant,
    ref: str | None,
    *,
    pin: str | None = None,
    today: date | None = None,
    lock: bool = False,
) -> CardAtTill | None:
    """Read the card that `ref` names, as `merchant`'s till sees it on `today`; None if not found.

    A typed serial also needs the card's PIN, printed beside it: the serial alone is not a
    secret, and a shop must not be able to redeem cards it has never seen. A card of another
    community is refused as such (`other_community`), its PIN never consulted. `lock` takes the
    card row FOR UPDATE (PostgreSQL; on SQLite the write transaction holds the lock already).
    """
    token, serial = _token_and_serial(ref)
    connection = session.connection()
    row = connection.execute(
        _CARD_AT_TILL_LOCKED if lock else _CARD_AT_TILL,
        {
            "merchant_id": merchant.id,
            "community_id": merchant.community_id,
            "token": token,
            "serial": serial,
        },
    ).first()
    if row is None:
        _refuse_another_communitys(session, token, serial, merchant.community_id)
        return None
    card = CardAtTill(**row._mapping)
    if card.token != token:  # named by its serial: the PIN must match
        check_pin(session, card.card_id, card.serial, card.pin, pin)
    if card.daily_uses_per_merchant is not None:
        # A statement of its own, after the lock: it must see a use committed while it waited.
        uses = connection.execute(
            _USES_HERE_ON,
            {"card_id": card.card_id, "merchant_id": merchant.id, "day": today or local_today()},
        ).scalar_one()
        card = dataclasses.replace(card, uses_here_today=uses)
    return card


def _refuse_another_communitys(session, token, serial, community_id) -> None:
    """Say so when the card named is another community's (the lookup's miss path only). Its PIN
    is not looked at, so this is no way round the PIN count; a serial says whose it is anyway."""
    found = session.scalar(
        select(Community.name)
        .join(Card, Card.community_id == Community.id)
        .where(Card.community_id != community_id, or_(Card.token == token, Card.serial == serial))
        .limit(1)
    )
    if found is not None:
        raise RedeemError("other_community", community=found)


def check_pin(session: Session, card_id: int, serial: str, expected: str, typed: str | None):
    """Refuse a card named by its serial unless the PIN typed is its own and it is not locked.

    Raises `pin_required`, `pin_locked` (five wrong PINs within the hour, counted on every
    path by `pins`; the right PIN is refused too) or `wrong_pin`; each names the card, so the
    refusal logged counts against it.
    """
    typed = (typed or "").strip()
    if not typed:
        raise RedeemError("pin_required", card_id=card_id, serial=serial)
    if pins.is_locked(session, card_id):
        raise RedeemError("pin_locked", card_id=card_id, serial=serial)
    if not secrets.compare_digest(typed.encode()[:16], expected.encode()):
        raise RedeemError("wrong_pin", card_id=card_id, serial=serial)


# --- the rules of the till ------------------------------------------------------------------------


def refuse_unless_usable(card: CardAtTill | None, merchant_status: MerchantStatus, today: date):
    """Raise the refusal that applies to `card` at a shop of `merchant_status` today, if any.

    The order is what a cashier needs to hear first: the shop itself, then the card, then the
    campaign, then the card's uses. The budget is checked again where the discount is known.
    """
    if merchant_status != MerchantStatus.ACTIVE:
        raise RedeemError("merchant_suspended")
    if card is None:
        raise RedeemError("not_found")
    if card.status == CardStatus.VOID:
        raise RedeemError("void")
    if card.status == CardStatus.NEW:
        raise RedeemError("not_issued")
    if card.offer_status != OfferStatus.ACTIVE:
        raise RedeemError("merchant_not_in_campaign")
    if card.campaign_status == CampaignStatus.PAUSED:
        raise RedeemError("campaign_paused")
    if card.campaign_status == CampaignStatus.DRAFT or today < card.first_day:
        raise RedeemError("not_started")
    if (
        card.campaign_status == CampaignStatus.ENDED
        or today > card.last_day
        or card.status == CardStatus.EXPIRED
    ):
        raise RedeemError("expired")
    if card.status == CardStatus.USED_UP or card.uses_left == 0:
        raise RedeemError("used_up")
    if card.budget_fen is not None and card.spent_fen >= card.budget_fen:
        raise RedeemError("budget_exhausted")
    if card.daily_left == 0:
        raise RedeemError("daily_limit")


def refuse_outside_hours(card: CardAtTill, now: datetime) -> None:
    """Refuse a card whose rule at this shop is limited to days and hours, outside them."""
    rule = card.rule
    if not rule.limited_in_time:
        return
    here = to_local(now)
    if rule.usable_at(here):
        return
    after = rule.next_usable(here)
    raise RedeemError(
        "outside_hours",
        when=rule.when_text(),
        next=f"{after:%m-%d} {weekday_name(after.weekday())} {after:%H:%M}" if after else "—",
    )


def price(card: CardAtTill, bill_fen: int) -> PricedBill:
    """Return the discount and what to pay for a bill, or raise `bad_bill`, `no_discount` or
    `budget_exhausted`."""
    if type(bill_fen) is not int or not 0 < bill_fen <= MAX_BILL_FEN:
        raise RedeemError("bad_bill")
    discount = card.rule.discount(bill_fen)
    if discount <= 0:
        raise RedeemError("no_discount")
    if card.budget_fen is not None and card.spent_fen + discount > card.budget_fen:
        raise RedeemError("budget_exhausted")
    return PricedBill(card, bill_fen, discount, bill_fen - discount)


def parse_bill(text: str) -> int:
    """Read a bill typed at the till into fen, or raise `bad_bill` (a person's message)."""
    try:
        bill_fen = parse_money(text)
    except MoneyError as error:
        raise RedeemError("bad_bill", error.message, **error.carried()) from error
    if bill_fen <= 0:
        raise RedeemError("bad_bill", N_("The bill must be more than ¥0.00."))
    return bill_fen


# --- the till's three steps ----------------------------------------------------------------------


def card_at_till(
    session: Session,
    merchant: Merchant,
    ref: str,
    *,
    pin: str | None = None,
    user: User | None = None,
    channel: str = "web",
    today: date | None = None,
    now: datetime | None = None,
) -> CardAtTill:
    """Look up the card a shop scanned or typed and check it can be used there now.

    Writes nothing. A refusal carries the attempt for the edge to write to the attempt log
    (`log_refusal`).
    """
    now = now or utcnow()
    today = today or local_today(now)
    card = None
    try:
        card = read_card(session, merchant, ref, pin=pin, today=today)
        refuse_unless_usable(card, card.merchant_status if card else merchant.status, today)
        refuse_outside_hours(card, now)
    except RedeemError as refusal:
        refusal.attempt = Attempt.of(merchant, user, ref, card, None, channel, refusal)
        raise
    return card


def redeem(
    session: Session,
    merchant: Merchant,
    cashier: User | None,
    request: TillRequest,
    *,
    now: datetime | None = None,
) -> Receipt:
    """Redeem the card a till names at `merchant` for a bill, exactly once per key.

    Runs inside the caller's write transaction: locks the card, checks it, writes the
    redemption, the card's use, the campaign's spent sum and the audit row, and flushes. A
    repeat of an earlier request with the same key writes nothing and returns the first
    receipt (`replayed`). A refusal raises `RedeemError` carrying the attempt for the attempt
    log; the caller rolls back and writes it (`log_refusal`).
    """
    if not isinstance(request.key, str) or not IDEMPOTENCY_KEY.fullmatch(request.key):
        raise RedeemError("bad_key")
    now = now or utcnow()
    today = local_today(now)
    card = None
    try:
        card = read_card(
            session, merchant, request.card_ref, pin=request.pin, today=today, lock=True
        )
        try:
            refuse_unless_usable(card, card.merchant_status if card else merchant.status, today)
            refuse_outside_hours(card, now)
            priced = price(card, request.bill_fen)
        except RedeemError:
            # A repeat is not looked for up front (one statement less on every redemption):
            # it is refused here, because its first call used the card up, or it meets the
            # first call's row at the insert.
            earlier = _earlier(session, merchant.id, request.key)
            if earlier is None:
                raise
            return _replayed(earlier, card, request)
        return _record(session, merchant, cashier, request, priced, now, today)
    except RedeemError as refusal:
        refusal.attempt = Attempt.of(
            merchant, cashier, request.card_ref, card, request, None, refusal
        )
        raise


def _record(session, merchant, cashier, request, priced: PricedBill, now, today) -> Receipt:
    """Write the redemption, the card's use, the audit row and the campaign's spend."""
    card = priced.card
    connection = session.connection()
    rule_text = card.rule.render()
    redemption_id = connection.execute(
        _INSERT_ONCE[connection.dialect.name],
        {
            "community_id": card.community_id,
            "campaign_id": card.campaign_id,
            "card_id": card.card_id,
            "merchant_id": merchant.id,
            "cashier_id": cashier.id if cashier else None,
            "bill_fen": priced.bill_fen,
            "discount_fen": priced.discount_fen,
            "paid_fen": priced.pay_fen,
            "rule_text": rule_text,
            "created_at": now,
            "local_day": today,
            "idempotency_key": request.key,
            "channel": request.channel,
        },
    ).scalar()
    if redemption_id is None:  # a request with the same key wrote first
        return _replayed(_earlier(session, merchant.id, request.key), card, request)
    used_up = card.uses_left is not None and card.uses_left <= 1
    connection.execute(
        _USE_CARD,
        {
            "card_id": card.card_id,
            "new_status": (CardStatus.USED_UP if used_up else card.status).value,
        },
    )
    audit.insert_row(
        connection,
        actor_id=cashier.id if cashier else None,
        actor_label=audit.label(cashier) if cashier else "system",
        community_id=card.community_id,
        action="redemption.create",
        object_type="redemption",
        object_id=redemption_id,
        after={
            "card": card.serial,
            "merchant_id": merchant.id,
            "bill_fen": priced.bill_fen,
            "discount_fen": priced.discount_fen,
            "paid_fen": priced.pay_fen,
            "rule": rule_text,
            "channel": request.channel,
        },
        at=now,
    )
    # Last: every redemption of the campaign updates this one row, and its lock is held until
    # the commit, so the shorter the time after it, the less the others wait.
    spent = connection.execute(
        _SPEND, {"campaign_id": card.campaign_id, "discount": priced.discount_fen}
    )
    if spent.rowcount != 1:
        raise RedeemError("budget_exhausted")
    return Receipt(
        redemption_id,
        card.card_id,
        card.serial,
        merchant.id,
        priced.bill_fen,
        priced.discount_fen,
        priced.pay_fen,
        rule_text,
        RedemptionStatus.OK.value,
        now,
        today,
    )


def _insert_once(dialect_insert):
    """INSERT a redemption unless the shop already has one under its key; RETURNING its id."""
    return (
        dialect_insert(Redemption.__table__)
        .on_conflict_do_nothing(index_elements=["merchant_id", "idempotency_key"])
        .returning(Redemption.id)
    )


_INSERT_ONCE = {
    "postgresql": _insert_once(postgresql.insert),
    "sqlite": _insert_once(sqlite.insert),
}
# Add the discount to what the campaign has spent, refusing to pass its budget. One guarded
# UPDATE: PostgreSQL re-checks the condition on the newest row version after waiting for a
# concurrent redemption, and SQLite holds the write lock, so two redemptions can never both take
# the last of a budget.
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
_EARLIER = select(Redemption).where(
    Redemption.merchant_id == bindparam("merchant_id"),
    Redemption.idempotency_key == bindparam("key"),
)


def _earlier(session: Session, merchant_id: int, key: str) -> Redemption | None:
    """Return the redemption this shop already recorded under `key`, if any."""
    return session.scalar(_EARLIER, {"merchant_id": merchant_id, "key": key})


def _replayed(earlier: Redemption, card: CardAtTill | None, request: TillRequest) -> Receipt:
    """Answer a repeat as the first call was answered, or refuse a key used for another sale."""
    if card is None or earlier.card_id != card.card_id or earlier.bill_fen != request.bill_fen:
        raise RedeemError("key_reused")
    return Receipt.of(earlier, card.serial, replayed=True)


# --- the attempt log --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """Who tried what at a till and was refused: a row of the attempt log, not yet written.

    Captured when the refusal is raised, before the rollback expires the objects it came from.
    """

    community_id: int
    merchant_id: int
    user_id: int | None
    card_id: int | None
    card_ref: str
    bill_fen: int | None
    channel: str

    @classmethod
    def of(
        cls,
        merchant,
        user,
        ref,
        card: CardAtTill | None,
        request: TillRequest | None,
        channel,
        refusal: RedeemError | None = None,
    ):
        """The attempt; a refused PIN names its card (wrong PINs are counted per card)."""
        bill = request.bill_fen if request is not None else None
        named = refusal.details if refusal is not None else {}
        return cls(
            merchant.community_id,
            merchant.id,
            user.id if user is not None else None,
            card.card_id if card is not None else named.get("card_id"),
            card.serial if card is not None else named.get("serial", (ref or "")[:16]),
            bill if type(bill) is int and 0 <= bill <= MAX_BILL_FEN else None,
            request.channel if request is not None else channel,
        )


def log_refusal(session: Session, refusal: RedeemError) -> None:
    """Add the refused attempt `refusal` carries to the attempt log (the caller commits).

    Call it after rolling back the refused operation: the log keeps what was refused.
    """
    if refusal.attempt is None:  # refused before it was an attempt at a card (a malformed request)
        return
    session.add(AttemptLog(code=refusal.code, ip=audit.client_ip.get(), **asdict(refusal.attempt)))


# --- taking a redemption back --------------------------------------------------------------------


def void_redemption(
    session: Session,
    redemption: Redemption,
    actor: User,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Receipt:
    """Take a redemption back: the card gets its use back and the campaign its budget.

    A shop may void its own redemption within ten minutes; staff may void any redemption of
    their community, with a reason. The caller has checked the actor may see the redemption.
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    redemption = locked(session, Redemption, Redemption.id == redemption.id)
    if redemption.status == RedemptionStatus.VOID:
        raise RedeemError("already_void")
    if actor.is_merchant:
        if actor.merchant_id != redemption.merchant_id:
            raise RedeemError("not_found")
        if now - redemption.created_at > VOID_WINDOW:
            raise RedeemError("void_too_late")
    elif not reason:
        raise RedeemError("reason_required")
    card = locked(session, Card, Card.id == redemption.card_id)
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
    return Receipt.of(redemption, card.serial)
