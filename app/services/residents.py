"""Residents' logins: joining a community with a phone and a household, staff confirming them,
password resets at the office, and the community's leaderboard switch.

No SMS provider is available: a resident who forgot the password asks at the office, where
staff set a temporary one, shown once, that must be changed at the next login.
"""

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..database import locked
from ..models import (
    Community,
    HelpKind,
    HelpPost,
    HelpStatus,
    PointsEntry,
    PointsKind,
    Role,
    User,
)
from . import accounts, audit
from .errors import N_, AccountError, DomainError, Problems
from .households import parse_household

RESIDENT_FIELDS = ["name", "phone", "household", "confirmed_at", "active"]
# Letters and digits that cannot be mistaken for one another when read out at the office.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_LENGTH = 10

# --- the office's report per resident: correlated to the `User` of the row ---------------------

# Points earned for help (not adjustments, not exchanges), all time.
EARNED = (
    select(func.coalesce(func.sum(PointsEntry.amount), 0))
    .where(PointsEntry.user_id == User.id, PointsEntry.kind == PointsKind.EARNED)
    .correlate(User)
    .scalar_subquery()
)
# Help given and confirmed: requests the resident took on, offers the resident made.
HELPED = (
    select(func.count(HelpPost.id))
    .where(
        HelpPost.status == HelpStatus.CONFIRMED,
        ((HelpPost.kind == HelpKind.REQUEST) & (HelpPost.taker_id == User.id))
        | ((HelpPost.kind == HelpKind.OFFER) & (HelpPost.author_id == User.id)),
    )
    .correlate(User)
    .scalar_subquery()
)
# A resident's login by its state: waiting for the office's confirmation, confirmed, disabled.
STATES = {
    "pending": (User.confirmed_at.is_(None) & User.active.is_(True)),
    "confirmed": (User.confirmed_at.is_not(None) & User.active.is_(True)),
    "disabled": User.active.is_(False),
    # no phone and so no login: the office acts on the resident's behalf
    "no_phone": (User.username.is_(None) & User.phone.is_(None)),
}


def state_of(user: User) -> str:
    """The key of `STATES` the resident's login is in (a disabled one without a phone is
    disabled; the list's filters may find a resident under more than one key)."""
    if not user.active:
        return "disabled"
    if not user.has_login:
        return "no_phone"
    return "pending" if user.confirmed_at is None else "confirmed"


class ResidentError(DomainError):
    messages = {
        "community_required": N_("Please choose your community."),
        "name_required": N_("Please enter your name."),
        "name_too_long": N_("A name may have at most 40 characters."),
        "phone_format": N_("Please enter an 11-digit mobile number, e.g. 13912345678."),
        "not_resident": N_("This login is not a resident's."),
        "already_confirmed": N_("This resident is already confirmed."),
        "no_login": N_("This resident has no phone and no login; the office acts on their behalf."),
    }


def _check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ResidentError("name_required")
    if len(name) > 40:
        raise ResidentError("name_too_long")
    return name


def check_join(
    session: Session, community_id: int | None, name: str, phone: str, household: str, password: str
) -> tuple[Community, str, str, str]:
    """Return the community, name, phone and household of a sign-up, or raise every problem
    of it at once (a phone already signed up included). Writes nothing."""
    problems = Problems()
    community = session.get(Community, community_id) if community_id else None
    if community is None or community.archived_at is not None:
        problems.add(ResidentError("community_required"))
    name = problems.check(lambda: _check_name(name))
    phone = accounts.normalise_phone(phone or "")
    if not accounts.is_mobile(phone):
        problems.add(ResidentError("phone_format"))
    elif accounts.login_taken(session, None, phone):
        problems.add(AccountError("login_taken"))
    household = problems.check(lambda: parse_household(household))
    problems.check(lambda: accounts.check_new_password(password))
    problems.raise_any()
    return community, name, phone, household


def join(
    session: Session, community_id: int | None, name: str, phone: str, household: str, password: str
) -> User:
    """Sign a resident up to their community; they sign in once staff confirm the household."""
    community, name, phone, household = check_join(
        session, community_id, name, phone, household, password
    )
    user = accounts.create_user(
        session,
        None,
        role=Role.RESIDENT,
        name=name,
        password=password,
        phone=phone,
        community_id=community.id,
    )
    user.household = household
    session.flush()
    audit.record(session, None, "resident.join", user, after=audit.snapshot(user, RESIDENT_FIELDS))
    return user


def _locked_resident(session: Session, resident: User) -> User:
    user = locked(session, User, User.id == resident.id)
    if user.role != Role.RESIDENT:
        raise ResidentError("not_resident")
    return user


def confirm(session: Session, actor: User, resident: User) -> User:
    """Confirm that a resident lives in the household they gave: they may now sign in."""
    user = _locked_resident(session, resident)
    if user.confirmed_at is not None:
        raise ResidentError("already_confirmed")
    before = audit.snapshot(user, RESIDENT_FIELDS)
    user.confirmed_at = utcnow()
    user.active = True
    audit.record(
        session,
        actor,
        "resident.confirm",
        user,
        before=before,
        after=audit.snapshot(user, RESIDENT_FIELDS),
    )
    return user


def set_active(session: Session, actor: User, resident: User, active: bool) -> User:
    """Turn a resident's login off (moved away, refused) or on again."""
    user = _locked_resident(session, resident)
    before = audit.snapshot(user, RESIDENT_FIELDS)
    user.active = active
    if not active:
        user.session_version += 1  # signed-in sessions end
    audit.record(
        session,
        actor,
        "resident.enable" if active else "resident.disable",
        user,
        before=before,
        after=audit.snapshot(user, RESIDENT_FIELDS),
    )
    return user


def set_household(session: Session, actor: User, resident: User, text: str) -> User:
    """Correct a resident's household as staff know it."""
    household = parse_household(text)
    user = _locked_resident(session, resident)
    before = audit.snapshot(user, RESIDENT_FIELDS)
    user.household = household
    audit.record(
        session,
        actor,
        "resident.household",
        user,
        before=before,
        after=audit.snapshot(user, RESIDENT_FIELDS),
    )
    return user


def new_temporary_password() -> str:
    return "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))


def reset_password(session: Session, actor: User, resident: User) -> str:
    """Give a resident a temporary password, to be changed at the next login; return it."""
    user = _locked_resident(session, resident)
    if not user.has_login:
        raise ResidentError("no_login")
    password = new_temporary_password()
    user.set_password(password)
    user.must_change_password = True
    audit.record(session, actor, "resident.reset_password", user)
    return password


def set_leaderboard(session: Session, actor: User, community: Community, on: bool) -> None:
    """Switch the community's help leaderboard on or off."""
    community = locked(session, Community, Community.id == community.id)
    before = {"leaderboard_on": community.leaderboard_on}
    community.leaderboard_on = on
    audit.record(
        session,
        actor,
        "community.leaderboard",
        community,
        before=before,
        after={"leaderboard_on": on},
    )
