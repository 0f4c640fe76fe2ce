"""Wrong PINs, counted per card on every path that takes one: the till, the API and /card.

A card's serial is printed and not a secret; its 4-digit PIN is. Limits per address or per API
key do not protect it (a shop may make any number of keys; a guesser may use many addresses),
so the count is kept on the card: every wrong PIN is an attempt-log row (`wrong_pin`) naming
the card, and after `PIN_TRIES` wrong ones within `PIN_WINDOW` the card is refused by PIN on
every path (`pin_locked`), the right PIN too, until the hour has passed or staff release it.
Guessing one PIN of 10,000 at five an hour takes more than 80 days on average, and the misuse
watch shows the card long before. The card's QR (its token) is never refused for this: the
holder who has the card in hand can always use it.

Nothing here commits: the caller's transaction writes the release; the attempt rows are
written where refusals are logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import AttemptLog, AuditLog, Card, User
from . import audit
from .errors import N_, DomainError

PIN_TRIES = 5
PIN_WINDOW = timedelta(hours=1)
WRONG_PIN = "wrong_pin"
PIN_LOCKED = "pin_locked"
RELEASE_ACTION = "card.pin_release"
LOCKED_MESSAGE = N_(
    "Too many wrong PINs for this card: it cannot be used by its number for an hour. "
    "Scan its QR code instead, or ask the community office to release it."
)


class PinError(DomainError):
    messages = {
        "not_locked": N_("This card is not locked; there is nothing to release."),
    }


_RELEASED = (
    select(func.max(AuditLog.created_at))
    .where(
        AuditLog.object_type == "card",
        AuditLog.object_id == bindparam("card_id"),
        AuditLog.action == RELEASE_ACTION,
    )
    .scalar_subquery()
)
_WRONG_SINCE = select(func.count(AttemptLog.id)).where(
    AttemptLog.card_id == bindparam("card_id"),
    AttemptLog.code == WRONG_PIN,
    AttemptLog.created_at > bindparam("since"),
    AttemptLog.created_at > func.coalesce(_RELEASED, bindparam("since")),
)


def wrong_pins(session: Session, card_id: int, now: datetime | None = None) -> int:
    """Return the wrong PINs counted against a card now: within the window, since a release."""
    since = (now or utcnow()) - PIN_WINDOW
    return session.connection().execute(_WRONG_SINCE, {"card_id": card_id, "since": since}).scalar()


def is_locked(session: Session, card_id: int, now: datetime | None = None) -> bool:
    """Whether the card is refused by PIN now (the right PIN too)."""
    return wrong_pins(session, card_id, now) >= PIN_TRIES


@dataclass(frozen=True)
class LockedCard:
    """A card refused by PIN now, for the misuse watch."""

    card_id: int
    serial: str
    wrong: int
    last_at: datetime
    shops: int  # how many shops the wrong PINs came from (0: only from /card)


def locked_cards(session: Session, community_id: int, now: datetime | None = None) -> list:
    """Return the community's cards refused by PIN now, the most-guessed first."""
    return locked_cards_of(session, [community_id], now).get(community_id, [])


def locked_cards_of(
    session: Session, community_ids: list[int], now: datetime | None = None
) -> dict[int, list[LockedCard]]:
    """Return {community id: its cards refused by PIN now, the most-guessed first}, in one query."""
    if not community_ids:
        return {}
    now = now or utcnow()
    since = now - PIN_WINDOW
    released = (
        select(AuditLog.object_id, func.max(AuditLog.created_at).label("at"))
        .where(AuditLog.object_type == "card", AuditLog.action == RELEASE_ACTION)
        .where(AuditLog.community_id.in_(community_ids), AuditLog.created_at > since)
        .group_by(AuditLog.object_id)
        .subquery()
    )
    rows = session.execute(
        select(
            AttemptLog.community_id,
            AttemptLog.card_id,
            Card.serial,
            func.count(AttemptLog.id).label("wrong"),
            func.max(AttemptLog.created_at).label("last_at"),
            func.count(func.distinct(AttemptLog.merchant_id)).label("shops"),
        )
        .join(Card, Card.id == AttemptLog.card_id)
        .outerjoin(released, released.c.object_id == AttemptLog.card_id)
        .where(
            AttemptLog.community_id.in_(community_ids),
            AttemptLog.code == WRONG_PIN,
            AttemptLog.created_at > since,
            (released.c.at.is_(None)) | (AttemptLog.created_at > released.c.at),
        )
        .group_by(AttemptLog.community_id, AttemptLog.card_id, Card.serial)
        .having(func.count(AttemptLog.id) >= PIN_TRIES)
        .order_by(func.count(AttemptLog.id).desc(), Card.serial)
    ).all()
    found: dict[int, list[LockedCard]] = {}
    for r in rows:
        found.setdefault(r.community_id, []).append(
            LockedCard(r.card_id, r.serial, r.wrong, r.last_at, r.shops)
        )
    return found


def release(session: Session, actor: User, card: Card, now: datetime | None = None) -> None:
    """Let a locked card be used by PIN again at once (staff, after checking with the holder).

    Writes the audit row the count starts again from; the caller commits.
    """
    if not is_locked(session, card.id, now):
        raise PinError("not_locked")
    audit.record(
        session,
        actor,
        RELEASE_ACTION,
        card,
        after={"wrong_pins": wrong_pins(session, card.id, now)},
    )
