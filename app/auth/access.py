"""Who may see what: the role decorator and the one helper that scopes queries to a community.

Staff and merchant users see only their own community; merchant users see only their own
shop's rows; street staff see the communities of their street; the district admin sees
everything. Anything outside a user's scope is a 404,
never a 403, so ids of other communities don't leak.
"""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, false, select

from ..extensions import db
from ..models import Community, Merchant, Role, User


def roles_required(*roles: Role):
    """Let only signed-in users with one of `roles` through; others get 403."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the access-matrix test
        return wrapped

    return decorator


def scope(stmt: Select, model, user: User | None = None) -> Select:
    """Restrict `stmt` over `model` to what `user` (default: the current user) may see."""
    user = user if user is not None else current_user
    _require_community(model)
    if user.role == Role.DISTRICT_ADMIN:
        return stmt
    if user.role == Role.STREET_STAFF:  # every community of the street, and nothing else
        return stmt.where(model.community_id.in_(street_communities(user)))
    stmt = stmt.where(model.community_id == user.community_id)
    if user.is_merchant:
        if model is Merchant:
            stmt = stmt.where(Merchant.id == user.merchant_id)
        elif hasattr(model, "merchant_id"):
            stmt = stmt.where(model.merchant_id == user.merchant_id)
    return stmt


def street_communities(user: User) -> Select:
    """Return a query of the ids of the communities in a street staff member's street."""
    if user.street_id is None:  # never so (a CHECK), but never "the unplaced communities"
        return select(Community.id).where(false())
    return select(Community.id).where(Community.street_id == user.street_id)


def scoped(model, user: User | None = None) -> Select:
    """Return `select(model)` restricted to what the user may see."""
    _require_community(model)
    return scope(select(model), model, user)


def _require_community(model) -> None:
    if not hasattr(model, "community_id"):
        raise TypeError(f"{model.__name__} has no community_id and cannot be scoped")


def get_or_404(model, ident, user: User | None = None):
    """Return the `model` row with id `ident` if the user may see it, else abort with 404."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404)
    obj = db.session.scalar(scoped(model, user).where(model.id == ident))
    if obj is None:
        abort(404)
    return obj


def load_user(user_id: str) -> User | None:
    """Return the user of a session id `<id>.<session_version>` if it is still valid."""
    ident, _, version = user_id.partition(".")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
