"""What every office page shares: who may come in, how a service's refusal is shown."""

from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import roles_required
from ..database import begin_write
from ..extensions import db
from ..i18n import message  # noqa: F401 - the office's pages import it from here
from ..models import Community, Role
from ..services.errors import DomainError

staff_required = roles_required(Role.STAFF, Role.DISTRICT_ADMIN)
district_admin_required = roles_required(Role.DISTRICT_ADMIN)


@dataclass
class Done:
    """What `perform` did: whether the service went through, its result or its refusal."""

    ok: bool
    value: Any = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.ok


def perform(service, *args, form=None, fields=None, success=None, **kwargs) -> Done:
    """Call `service(db.session, current_user, ...)` and commit; flash `success` if given.

    On a refusal, roll back (nothing half-written stays) and show the message beside the form
    field `fields[code]` names, or at the top of the page.
    """
    actor = current_user._get_current_object()
    return _run(lambda: service(db.session, actor, *args, **kwargs), form, fields, success)


def perform_public(service, *args, form=None, fields=None, **kwargs) -> Done:
    """Like `perform`, for a service a visitor without a login calls (no acting user)."""
    return _run(lambda: service(db.session, *args, **kwargs), form, fields, None)


def _run(call, form, fields, success) -> Done:
    # Take the write lock first (BEGIN IMMEDIATE on SQLite): this request has already read
    # (the signed-in user), and a read that a till's commit overtook could not become a write.
    begin_write(db.session)
    try:
        value = call()
    except DomainError as error:
        db.session.rollback()
        show_error(error, form, fields)
        return Done(False, error=error)
    db.session.commit()
    if success:
        flash(success, "success")
    return Done(True, value)


def show_error(error: DomainError, form=None, fields=None) -> None:
    """Put a refusal beside the form field it is about, or at the top of the page."""
    name = (fields or {}).get(error.code)
    field = form._fields.get(name) if form is not None and name else None
    if field is not None:
        field.errors = [*field.errors, message(error)]
    else:
        flash(message(error), "error")


def had_errors(form) -> bool:
    return any(field.errors for field in form)


def is_district_admin() -> bool:
    return current_user.role == Role.DISTRICT_ADMIN


def community_choices() -> list[tuple[int, str]]:
    """Return the communities the district admin may pick from."""
    rows = db.session.execute(select(Community.id, Community.name).order_by(Community.id))
    return [(row.id, row.name) for row in rows]


def own_community_id(chosen: int | None = None) -> int | None:
    """Return the community new things belong to: the staff's own, or the admin's choice."""
    if is_district_admin():
        return chosen or None
    return current_user.community_id
