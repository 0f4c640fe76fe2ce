"""What every office page shares: who may come in, how a service's refusal is shown."""

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, request
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import roles_required, street_communities
from ..database import write_transaction
from ..extensions import db
from ..i18n import message  # noqa: F401 - the office's pages import it from here
from ..models import Community, Role
from ..services.errors import DomainError, Refusals

# Office pages: community staff, the district admin, and street staff (read-only, see
# `street_staff_read_only`).
staff_required = roles_required(Role.STAFF, Role.DISTRICT_ADMIN, Role.STREET_STAFF)
district_admin_required = roles_required(Role.DISTRICT_ADMIN)
# What street staff may do for a community of their street, when the district allows it.
STREET_MAY_ACT = frozenset({"admin.merchant_new", "admin.merchant_import", "admin.campaign_new"})
# Forms of the street's own (the monthly report of a street has none that writes).
STREET_FORMS: set[str] = set()
# Pages street staff do not open although they read: the cards' print sheet carries PINs; the
# household roster and its hand-out lists carry households' names, which the street does not need;
# a resident's passbook is the office's to print and hand over.
STREET_REFUSED = frozenset(
    {
        "admin.batch_print",
        "admin.households",
        "admin.handout",
        "admin.handout_print",
        "admin.aid_resident_passbook",
    }
)


def street_staff_read_only():
    """Refuse street staff every office form (403), but those their street is allowed."""
    if not current_user.is_authenticated or current_user.role != Role.STREET_STAFF:
        return
    endpoint = request.endpoint or ""
    if endpoint in STREET_REFUSED:
        abort(403)
    if endpoint in STREET_MAY_ACT:
        if not current_user.street.staff_may_act:
            abort(403)
        return
    rule = request.url_rule
    if rule is not None and "POST" in (rule.methods or ()) and endpoint not in STREET_FORMS:
        abort(403)


@dataclass
class Done:
    """What `perform` did: whether the service went through, its result or its refusal."""

    ok: bool
    value: Any = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.ok


def perform(service, *args, form=None, fields=None, success=None, **kwargs) -> Done:
    """Call `service(db.session, current_user, ...)` in one write transaction; flash `success`.

    On a refusal, roll back (nothing half-written stays) and show the message beside the form
    field `fields[code]` names, or at the top of the page.
    """
    actor = current_user._get_current_object()
    return _run(lambda: service(db.session, actor, *args, **kwargs), form, fields, success)


def perform_public(service, *args, form=None, fields=None, **kwargs) -> Done:
    """Like `perform`, for a service a visitor without a login calls (no acting user)."""
    return _run(lambda: service(db.session, *args, **kwargs), form, fields, None)


def _run(call, form, fields, success) -> Done:
    try:
        with write_transaction(db.session):
            value = call()
    except DomainError as error:
        show_error(error, form, fields)
        return Done(False, error=error)
    if success:
        flash(success, "success")
    return Done(True, value)


def show_error(error: DomainError, form=None, fields=None) -> None:
    """Put a refusal beside the form field it is about, or at the top of the page.

    Several refusals at once (`Refusals`) each go beside their own field.
    """
    if isinstance(error, Refusals):
        for each in error.errors:
            show_error(each, form, fields)
        return
    name = (fields or {}).get(error.code)
    field = form._fields.get(name) if form is not None and name else None
    if field is not None:
        field.errors = [*field.errors, message(error)]
    else:
        flash(message(error), "error")


def check_too(check, form, fields) -> None:
    """Show a service's checks beside a form that failed its own, so every field's problem
    shows at once; a field that has an error already keeps only its own."""
    try:
        check()
    except DomainError as error:
        for each in error.errors if isinstance(error, Refusals) else [error]:
            name = fields.get(each.code)
            field = form._fields.get(name) if name else None
            if field is not None and not field.errors:
                field.errors = [*field.errors, message(each)]


def had_errors(form) -> bool:
    return any(field.errors for field in form)


def is_district_admin() -> bool:
    return current_user.role == Role.DISTRICT_ADMIN


def is_street_staff() -> bool:
    return current_user.role == Role.STREET_STAFF


def sees_many() -> bool:
    """Tell whether the user's pages cover several communities (district admin, street)."""
    return current_user.role in (Role.DISTRICT_ADMIN, Role.STREET_STAFF)


def visible_communities_stmt():
    """Return a query of the communities the signed-in user sees, by name's order of ids."""
    stmt = select(Community).order_by(Community.id)
    if is_street_staff():
        return stmt.where(Community.id.in_(street_communities(current_user)))
    if not is_district_admin():
        return stmt.where(Community.id == current_user.community_id)
    return stmt


def visible_communities() -> list[Community]:
    return list(db.session.scalars(visible_communities_stmt()))


def community_choices() -> list[tuple[int, str]]:
    """Return the communities one may pick from: the district's, or a street's for its staff;
    never an archived one (the sign-up forms and new shops and campaigns use this list)."""
    if current_user.is_authenticated and is_street_staff():
        return [(c.id, c.name) for c in visible_communities() if c.archived_at is None]
    rows = db.session.execute(
        select(Community.id, Community.name)
        .where(Community.archived_at.is_(None))
        .order_by(Community.id)
    )
    return [(row.id, row.name) for row in rows]


def own_community_id(chosen: int | None = None) -> int | None:
    """Return the community new things belong to: the staff's own, or the admin's choice
    (a street's staff choose among their street's communities)."""
    if is_district_admin():
        return chosen or None
    if is_street_staff():
        return chosen if chosen in {c for c, _name in community_choices()} else None
    return current_user.community_id
