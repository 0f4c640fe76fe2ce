"""Communities and their staff, which the district admin creates."""

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..database import locked
from ..models import Community, Role, User
from . import audit, logins, streets
from .accounts import create_user
from .errors import N_, DomainError, Problems
from .logins import Login

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
PHONE = re.compile(r"[0-9+\-() ]{5,20}")  # as a shop's: 027-84651234
COMMUNITY_FIELDS = ["name", "slug", "district", "households", "residents", "phone"]
MAX_SIZE = 1_000_000  # households or residents of one community


class CommunityError(DomainError):
    messages = {
        "name_required": N_("Please enter the community's name."),
        "name_taken": N_("A community with this name already exists."),
        "slug_format": N_(
            "The web name is 2 to 40 lower-case letters, digits or dashes, e.g. zijinghua."
        ),
        "slug_taken": N_("Another community already has this web name."),
        "street_required": N_("Please choose the street (街道)."),
        "size_range": N_("Households and residents are whole numbers up to 1,000,000."),
        "district_required": N_("Please enter the district (区)."),
        "phone_format": N_("Write the office's phone with digits, e.g. 027-84651234."),
        "not_staff": N_("That login is not staff of this community."),
        "already_archived": N_("This community is archived already."),
        "not_archived": N_("This community is not archived."),
    }


@dataclass
class CommunityDetails:
    name: str
    slug: str
    street_id: int | None
    district: str
    households: int | None = None
    residents: int | None = None
    phone: str | None = None  # the office's, for the poster; "" none; None: left as it is

    def cleaned(self) -> "CommunityDetails":
        details = CommunityDetails(
            name=" ".join((self.name or "").split())[:80],
            slug=(self.slug or "").strip().lower(),
            street_id=self.street_id or None,
            district=streets.clean(self.district),
            households=self.households,
            residents=self.residents,
            phone=None if self.phone is None else " ".join(self.phone.split()),
        )
        problems = Problems()
        if any(
            size is not None and not 0 <= size <= MAX_SIZE
            for size in (details.households, details.residents)
        ):
            problems.add(CommunityError("size_range"))
        if not details.name:
            problems.add(CommunityError("name_required"))
        if not SLUG.fullmatch(details.slug):
            problems.add(CommunityError("slug_format"))
        if not details.street_id:
            problems.add(CommunityError("street_required"))
        if not details.district:
            problems.add(CommunityError("district_required"))
        if details.phone and not PHONE.fullmatch(details.phone):
            problems.add(CommunityError("phone_format"))
        problems.raise_any()
        return details


def _check_unique(session: Session, details: CommunityDetails, but: int | None = None) -> None:
    for column, code in ((Community.name, "name_taken"), (Community.slug, "slug_taken")):
        value = getattr(details, column.key)
        stmt = select(Community.id).where(column == value)
        if but is not None:
            stmt = stmt.where(Community.id != but)
        if session.scalar(stmt) is not None:
            raise CommunityError(code)


def create(session: Session, actor: User, details: CommunityDetails) -> Community:
    """Create a community."""
    details = details.cleaned()
    _check_unique(session, details)
    street = streets.street_for(session, details.street_id, details.district)
    community = Community(**(vars(details) | {"phone": details.phone or ""}))
    session.add(community)
    session.flush()
    audit.record(
        session,
        actor,
        "community.create",
        community,
        after=audit.snapshot(community, COMMUNITY_FIELDS) | {"street": street.name},
    )
    return community


def update(session: Session, actor: User, community: Community, details: CommunityDetails) -> None:
    """Change a community's name, web name, district or size; move it to another street."""
    details = details.cleaned()
    _check_unique(session, details, but=community.id)
    street = streets.street_for(session, details.street_id, details.district)
    before = audit.snapshot(community, COMMUNITY_FIELDS)
    for key, value in vars(details).items():
        if key != "street_id" and not (key == "phone" and value is None):
            setattr(community, key, value)
    after = audit.snapshot(community, COMMUNITY_FIELDS)
    changed = [key for key in COMMUNITY_FIELDS if before[key] != after[key]]
    if changed:
        audit.record(
            session,
            actor,
            "community.update",
            community,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    streets.move_community(session, actor, community, street)


def set_phone(session: Session, actor: User, community: Community, phone: str) -> Community:
    """Set the office's phone, which the poster and the paper residents keep print ("" none)."""
    phone = " ".join((phone or "").split())
    if phone and not PHONE.fullmatch(phone):
        raise CommunityError("phone_format")
    community = locked(session, Community, Community.id == community.id)
    if community.phone != phone:
        audit.record(
            session,
            actor,
            "community.update",
            community,
            before={"phone": community.phone},
            after={"phone": phone},
        )
        community.phone = phone
    return community


def archive(session: Session, actor: User, community: Community) -> Community:
    """Archive a community: hidden from the home page, sign-up lists and /s/<slug>, data kept."""
    community = locked(session, Community, Community.id == community.id)
    if community.archived_at is not None:
        raise CommunityError("already_archived")
    community.archived_at = utcnow()
    audit.record(
        session,
        actor,
        "community.archive",
        community,
        before={"archived": False},
        after={"archived": True},
    )
    return community


def restore(session: Session, actor: User, community: Community) -> Community:
    """Bring an archived community back where the public sees it."""
    community = locked(session, Community, Community.id == community.id)
    if community.archived_at is None:
        raise CommunityError("not_archived")
    community.archived_at = None
    audit.record(
        session,
        actor,
        "community.restore",
        community,
        before={"archived": True},
        after={"archived": False},
    )
    return community


def public_communities():
    """Return a query of the communities the public sees (not archived), in order of id."""
    return select(Community).where(Community.archived_at.is_(None)).order_by(Community.id)


def add_staff(session: Session, actor: User, community: Community, login: Login) -> User:
    """Create a staff login for a community."""
    return create_user(
        session,
        actor,
        role=Role.STAFF,
        password=login.password,
        community_id=community.id,
        **login.fields(),
    )


def set_staff_active(
    session: Session, actor: User, community: Community, user: User, active: bool
) -> None:
    """Disable a staff login (its sessions end at once) or enable it again."""
    if user.role != Role.STAFF or user.community_id != community.id:
        raise CommunityError("not_staff")
    logins.set_active(session, actor, user, active)
