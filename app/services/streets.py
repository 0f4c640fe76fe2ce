"""Streets (街道): the district admin creates them, places communities in them, and gives them
staff logins. Street staff read their communities' rows and compare them; they act on a
community's behalf only where the district allowed it (`Street.staff_may_act`)."""

import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Community, Role, Street, User
from . import audit, logins
from .accounts import create_user
from .errors import N_, DomainError
from .logins import Login

SUFFIXES = ("街道办事处", "街道办", "街道", "街")
STREET_FIELDS = ["name", "district", "staff_may_act"]


class StreetError(DomainError):
    messages = {
        "name_required": N_("Please enter the street's name."),
        "district_required": N_("Please enter the district (区)."),
        "name_taken": N_("This district already has a street of that name (or spelt alike)."),
        "street_unknown": N_("Choose a street of the community's district."),
        "not_street_staff": N_("That login is not staff of this street."),
        "not_allowed": N_(
            "The district has not allowed this street's staff to do this for a community."
        ),
        "not_in_street": N_("That community is not in your street."),
    }


def clean(text: str) -> str:
    """Return a name as stored: full-width letters and digits made plain, spaces collapsed."""
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(unicodedata.normalize("NFKC", text).split())[:80]


def street_key(text: str) -> str:
    """Return what spellings of one street share: 琴断口街, 琴断口街道, 琴断口 街道办事处."""
    text = "".join(clean(text).split())
    for suffix in SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


@dataclass
class StreetDetails:
    name: str
    district: str
    staff_may_act: bool = False

    def cleaned(self) -> "StreetDetails":
        details = StreetDetails(clean(self.name), clean(self.district), bool(self.staff_may_act))
        if not street_key(details.name):
            raise StreetError("name_required")
        if not details.district:
            raise StreetError("district_required")
        return details


def _check_unique(session: Session, details: StreetDetails, but: int | None = None) -> None:
    key = street_key(details.name)
    for ident, name in session.execute(
        select(Street.id, Street.name).where(Street.district == details.district)
    ):
        if ident != but and street_key(name) == key:
            raise StreetError("name_taken")


def create(session: Session, actor: User, details: StreetDetails) -> Street:
    """Create a street of a district."""
    details = details.cleaned()
    _check_unique(session, details)
    street = Street(**vars(details))
    session.add(street)
    session.flush()
    audit.record(
        session, actor, "street.create", street, after=audit.snapshot(street, STREET_FIELDS)
    )
    return street


def update(session: Session, actor: User, street: Street, details: StreetDetails) -> None:
    """Rename a street or change what its staff may do for its communities."""
    details = details.cleaned()
    if details.district != street.district:
        raise StreetError("district_required")  # a street does not change district
    _check_unique(session, details, but=street.id)
    before = audit.snapshot(street, STREET_FIELDS)
    street.name, street.staff_may_act = details.name, details.staff_may_act
    after = audit.snapshot(street, STREET_FIELDS)
    changed = [key for key in STREET_FIELDS if before[key] != after[key]]
    if changed:
        audit.record(
            session,
            actor,
            "street.update",
            street,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )


def street_for(session: Session, street_id: int | None, district: str) -> Street:
    """Return the street a community of `district` is placed in, or refuse one of elsewhere."""
    street = session.get(Street, street_id) if street_id else None
    if street is None or street.district != district:
        raise StreetError("street_unknown")
    return street


def move_community(session: Session, actor: User, community: Community, street: Street) -> None:
    """Place a community in another street of its district; its street staff change with it."""
    street = street_for(session, street.id, community.district)
    if community.street_id == street.id:
        return
    before = {"street": community.street_name}
    community.street = street
    audit.record(
        session, actor, "community.move", community, before=before, after={"street": street.name}
    )


def add_staff(session: Session, actor: User, street: Street, login: Login) -> User:
    """Create a street staff login (街道工作人员)."""
    return create_user(
        session,
        actor,
        role=Role.STREET_STAFF,
        password=login.password,
        street_id=street.id,
        **login.fields(session),
    )


def set_staff_active(
    session: Session, actor: User, street: Street, user: User, active: bool
) -> None:
    """Disable a street staff login (its sessions end at once) or enable it again."""
    if user.role != Role.STREET_STAFF or user.street_id != street.id:
        raise StreetError("not_street_staff")
    logins.set_active(session, actor, user, active)


def community_ids(session: Session, street_id: int | None) -> list[int]:
    """Return the ids of a street's communities."""
    if street_id is None:
        return []
    return list(
        session.scalars(
            select(Community.id).where(Community.street_id == street_id).order_by(Community.id)
        )
    )


def may_act_for(session: Session, actor: User, community_id: int | None) -> None:
    """Refuse a street staff member acting for a community outside the street or unallowed."""
    if actor.role != Role.STREET_STAFF:
        return
    community = session.get(Community, community_id) if community_id else None
    if community is None or community.street_id != actor.street_id:
        raise StreetError("not_in_street")
    if not actor.street.staff_may_act:
        raise StreetError("not_allowed")
