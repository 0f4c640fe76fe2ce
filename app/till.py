"""What the shop's pages and the JSON API share at the till: one write transaction for a till's
action whose refusals are kept in the attempt log, and the HTTP status of a refusal."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from .database import write_transaction
from .services.redemptions import RedeemError, log_refusal


def refusal_status(code: str) -> int:
    """Return the HTTP status of a refusal: 404 for an unknown card, 400 for bad input, 403 for
    a wrong PIN, 429 for a card locked after wrong PINs, else 409."""
    return {
        "not_found": 404,
        "bad_bill": 400,
        "bad_key": 400,
        "pin_required": 400,
        "wrong_pin": 403,
        "pin_locked": 429,
    }.get(code, 409)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Run a till's action as one write transaction; a refusal is rolled back and then kept in
    the attempt log, in a write transaction of its own, before it is raised on."""
    try:
        with write_transaction(session):
            yield session
    except RedeemError as refusal:
        keep_refusal(session, refusal)
        raise


def keep_refusal(session: Session, refusal: RedeemError) -> None:
    """Write the attempt a refusal carries to the attempt log, in a write transaction of its own."""
    if refusal.attempt is not None:
        with write_transaction(session):
            log_refusal(session, refusal)
