"""Calling a service as a route does, for tests of the services themselves."""

import pytest
from sqlalchemy import inspect, select

from app import till
from app.database import write_transaction
from app.services import redemptions
from app.services.errors import DomainError
from app.services.redemptions import TillRequest


def run(db, service, *args, **kwargs):
    """Call `service(db.session, *args, **kwargs)` in one write transaction, as an edge does:
    committed on success, rolled back on a refusal."""
    with write_transaction(db.session):
        return service(db.session, *args, **kwargs)


def redeem(session, ref, shop, cashier, bill_fen, key, *, pin=None, channel="web", now=None):
    """Redeem as the till's pages and the API do: one write transaction, a refusal kept in the
    attempt log. Returns the receipt."""
    asked = TillRequest(ref, bill_fen, key, pin=pin, channel=channel)
    with till.transaction(session):
        return redemptions.redeem(session, shop, cashier, asked, now=now)


def refused(db, code, service, *args, error: type[DomainError] = DomainError) -> DomainError:
    """Check that the call is refused with an `error` of `code`; return the refusal."""
    with pytest.raises(error) as caught:
        run(db, service, *args)
    assert caught.value.code == code, caught.value.code
    db.session.expire_all()
    return caught.value


def rows(db, model, *conditions) -> list:
    """Return the rows of `model` as committed (the session's own state dropped), oldest first:
    in the order of the primary key, which PostgreSQL, unlike SQLite, does not keep unasked."""
    db.session.rollback()
    order = inspect(model).primary_key
    return db.session.scalars(select(model).where(*conditions).order_by(*order)).all()


def fresh(db, obj):
    """Return `obj` as committed, read afresh."""
    db.session.rollback()
    return db.session.get(type(obj), obj.id)
