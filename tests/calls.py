"""Calling a service as a route does, for tests of the services themselves."""

import pytest

from app.services.errors import DomainError


def run(db, service, *args):
    """Call `service(db.session, *args)`: commit on success, roll back on a refusal."""
    try:
        value = service(db.session, *args)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return value


def refused(db, code, service, *args, error: type[DomainError] = DomainError) -> DomainError:
    """Check that the call is refused with an `error` of `code`; return the refusal."""
    with pytest.raises(error) as caught:
        run(db, service, *args)
    assert caught.value.code == code, caught.value.code
    db.session.expire_all()
    return caught.value
