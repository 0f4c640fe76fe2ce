"""代办: community staff acting on a resident's behalf, after a phone call or a visit.

The people who most need a neighbour's help are often those without a smartphone. Staff of
their community can add such a resident (a name, a household and someone to call instead: a
neighbour or family member), post a request for help for them, say for them that the help was
given, cancel a post for them, and exchange their points for a card that is printed on the
spot. A resident with a login may be served the same way (someone phones the office).

Every act goes through the service the resident would use (`helpboard`, `points`), so the
same rules hold; it is recorded twice: on the row (`HelpPost.posted_by_id`, `.done_by_id`,
`.cancelled_by_id`, `PointsEntry.on_behalf_by_id`), so the resident's own pages say
由工作人员代办, and in the audit log, by the staff member with `on_behalf_of` the resident.

Only community staff act for a resident, and only for one of their own community: street
staff, the district admin and shops cannot.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import Card, HelpPost, Role, User
from . import accounts, audit, helpboard, points
from .errors import N_, DomainError
from .households import parse_household
from .residents import _check_name

RESIDENT_FIELDS = ["name", "household", "contact_name", "contact_phone", "confirmed_at"]
# No password matches this (werkzeug reads it as no hash at all), and the resident has no login
# name to type: nobody can sign in as them.
NO_PASSWORD = "!"  # noqa: S105  # nosec B105
_PHONE_DIGITS = re.compile(r"\d{7,12}")


class OnBehalfError(DomainError):
    messages = {
        "staff_only": N_("Only the community's own staff can act on a resident's behalf."),
        "other_community": N_("This resident belongs to another community."),
        "not_resident": N_("This login is not a resident's."),
        "contact_name_required": N_(
            "Please give the name of someone to call: a neighbour or a family member."
        ),
        "contact_name_too_long": N_("The contact's name may have at most 40 characters."),
        "contact_phone_format": N_(
            "Please give the contact's phone in digits: a mobile or a landline, "
            "e.g. 13912345678 or 027-84651234."
        ),
        "already_added": N_("%(name)s of %(household)s is already a resident of this community."),
    }


def check_actor(actor: User, community_id: int | None) -> None:
    """Refuse anyone but community staff of `community_id`."""
    if actor.role != Role.STAFF:
        raise OnBehalfError("staff_only")
    if community_id != actor.community_id:
        raise OnBehalfError("other_community")


def _check_resident(actor: User, resident: User) -> None:
    check_actor(actor, resident.community_id)
    if resident.role != Role.RESIDENT:
        raise OnBehalfError("not_resident")


def _contact(name: str, phone: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise OnBehalfError("contact_name_required")
    if len(name) > 40:
        raise OnBehalfError("contact_name_too_long")
    phone = accounts.normalise_phone((phone or "").strip())
    if not _PHONE_DIGITS.fullmatch(phone):
        raise OnBehalfError("contact_phone_format")
    return name, phone


def add_resident(
    session: Session,
    actor: User,
    name: str,
    household: str,
    contact_name: str,
    contact_phone: str,
) -> User:
    """Add a resident who has no phone or login: staff know them, so they are confirmed."""
    check_actor(actor, actor.community_id)
    name = _check_name(name)
    household = parse_household(household)
    contact_name, contact_phone = _contact(contact_name, contact_phone)
    known = session.scalar(
        select(User.id).where(
            User.community_id == actor.community_id,
            User.role == Role.RESIDENT,
            User.name == name,
            User.household == household,
        )
    )
    if known is not None:
        raise OnBehalfError("already_added", name=name, household=household)
    user = User(
        role=Role.RESIDENT,
        name=name,
        password_hash=NO_PASSWORD,
        community_id=actor.community_id,
        household=household,
        contact_name=contact_name,
        contact_phone=contact_phone,
        confirmed_at=utcnow(),
        session_version=0,
        points_balance=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "resident.add",
        user,
        after=audit.snapshot(user, RESIDENT_FIELDS),
    )
    return user


def post_for(
    session: Session, actor: User, resident: User, details: helpboard.PostDetails
) -> HelpPost:
    """Post a request for help (or an offer) on the board for a resident."""
    _check_resident(actor, resident)
    return helpboard.create_post(session, resident, details, on_behalf_by=actor)


def done_for(session: Session, actor: User, post: HelpPost) -> HelpPost:
    """Say for the one who was helped that the help was given (their confirmation step)."""
    check_actor(actor, post.community_id)
    helped = session.get(User, post.helped_id) if post.helped_id is not None else None
    if helped is None:
        raise helpboard.HelpError("not_taken")
    return helpboard.mark_done(session, helped, post, on_behalf_by=actor)


def cancel_for(session: Session, actor: User, post: HelpPost) -> HelpPost:
    """Cancel a post for its author (no longer needed), while it is open or taken."""
    check_actor(actor, post.community_id)
    return helpboard.cancel(session, session.get(User, post.author_id), post, on_behalf_by=actor)


def exchange_for(session: Session, actor: User, resident: User, campaign_id: int) -> Card:
    """Exchange a resident's points for a card at the office, by every rule of `points`."""
    _check_resident(actor, resident)
    return points.exchange(session, resident, campaign_id, on_behalf_by=actor)
