"""志愿服务: volunteers, 共驻共建 units, activities, sign-ups, on-site check-in, hours and points.

- A resident of the help board registers as a volunteer and is one at once (the office has
  confirmed their household); a 下沉 cadre or party member who lives elsewhere registers with
  name, phone, unit and whether they report as a party member (报到), and the office confirms
  them (`register_outside`, `confirm`).
- An activity is published `open`, then `closed` (hours confirmed, points credited) or
  `cancelled`. Volunteers sign up while it is open and not over: a place while fewer than
  `needed` have one, else the waiting list, in order; a place given back goes to the first
  who waits (`sign_up`, `withdraw`).
- On site the activity's QR opens its check-in page. A check-in counts from `MARGIN` before the
  start to the end, a check-out until `MARGIN` after the end; checking in twice is once,
  checking out without a check-in is refused. Hours are check-in to check-out rounded to the
  half hour (`round_half_hour`); staff may correct them with a reason.
- `close` credits each person's points (hours × points per hour) to the points ledger
  (`services.points`) once: under the activity's row lock, and `PointsEntry.signup_id` is
  unique.

Services lock what they decide on (`database.locked`) and flush; the caller (a page's
action, a CLI command, a test) opens and commits the write transaction.
"""

from __future__ import annotations

import base64
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..clock import local_day_bounds, local_today, to_local, utcnow
from ..database import locked
from ..inputs import clean_text
from ..models import (
    ActivityKind,
    ActivityStatus,
    Community,
    PointsKind,
    Role,
    SignupStatus,
    User,
    Volunteer,
    VolunteerActivity,
    VolunteerCertificate,
    VolunteerCorrection,
    VolunteerOrigin,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerUnit,
)
from . import accounts, audit, compare, points
from .errors import N_, DomainError, Problems

MARGIN = timedelta(minutes=30)  # check in this early; check out this late
MAX_DURATION = timedelta(days=3)
MAX_NEEDED = 1000
MAX_POINTS_PER_HOUR = 100
MAX_CORRECTED_MINUTES = 24 * 60
TOKEN_BYTES = 16  # 128 bits, base32: the QR URL fits the compact alphanumeric mode
CERTIFICATE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I look-alikes
CERTIFICATE_RANDOM = 10  # 50 bits: a serial cannot be guessed to read someone's record

SIGNUP_FIELDS = ["status", "checked_in_at", "checked_out_at", "minutes", "points"]
ACTIVITY_FIELDS = [
    "title",
    "kind",
    "place",
    "leader",
    "starts_at",
    "ends_at",
    "needed",
    "points_per_hour",
    "urgent",
    "status",
]
UNIT_FIELDS = ["name", "contact_name", "contact_phone", "agreement_date", "commitment", "active"]
VOLUNTEER_FIELDS = ["origin", "unit_id", "party_report", "skills", "availability", "status"]


class VolunteerError(DomainError):
    messages = {
        "not_found": N_("Not found."),
        "not_volunteer": N_("Please register as a volunteer first."),
        "not_confirmed": N_(
            "The community office has not confirmed you as a volunteer yet; "
            "you can sign up once it has."
        ),
        "inactive": N_("Your volunteer registration is turned off; please ask the office."),
        "already_volunteer": N_("You are already registered as a volunteer."),
        "already_confirmed": N_("This volunteer is already confirmed."),
        "other_community": N_("This activity belongs to another community."),
        "name_required": N_("Please enter a name."),
        "name_too_long": N_("A name may have at most 40 characters."),
        "phone_format": N_("Please enter an 11-digit mobile number, e.g. 13912345678."),
        "unit_required": N_("Please choose your unit."),
        "unit_name_required": N_("Please enter the unit's name."),
        "unit_name_too_long": N_("A unit's name may have at most 80 characters."),
        "unit_name_taken": N_("A unit of this name is already recorded."),
        "text_too_long": N_("This text is too long."),
        "title_required": N_("Please give the activity a title."),
        "title_too_long": N_("A title may have at most 80 characters."),
        "kind_invalid": N_("Please choose the kind of activity."),
        "place_required": N_("Please say where it takes place."),
        "place_too_long": N_("The place may have at most 120 characters."),
        "times_required": N_("Please give the start and the end."),
        "ends_before_start": N_("The end must be after the start."),
        "too_long": N_("An activity may last at most three days."),
        "needed_range": N_("People needed: a whole number from 1 to 1000."),
        "needed_below_signed": N_(
            "%(count)s people already have a place; the number needed cannot be lower."
        ),
        "points_range": N_("Points per hour: a whole number from 0 to 100."),
        "not_open": N_("This activity is closed or cancelled."),
        "over": N_("This activity is over."),
        "checked_in": N_("You have already checked in; you can no longer withdraw."),
        "not_signed_up": N_("You have not signed up for this activity."),
        "too_early": N_("Check-in opens 30 minutes before the start (%(opens)s)."),
        "too_late": N_("The activity has ended; check-in is closed. Please ask the organiser."),
        "full": N_(
            "All places are taken. Please ask the organiser on site, who can add you to the list."
        ),
        "not_checked_in": N_("You have not checked in, so you cannot check out."),
        "checkout_closed": N_(
            "Check-out closed 30 minutes after the end. Please ask the organiser to correct "
            "your hours."
        ),
        "not_started": N_("The activity has not started yet."),
        "already_closed": N_("This activity is already closed; its points were credited."),
        "cancelled": N_("This activity was cancelled."),
        "minutes_range": N_("Hours: from 0 to 24, in half hours."),
        "reason_required": N_("Please give a reason."),
        "not_on_list": N_("Only someone with a place on the list can be checked in."),
        "period_invalid": N_("Please give a period whose end is not before its start."),
        "nothing_to_certify": N_("There are no confirmed hours in this period."),
    }


def clean(text: str | None, limit: int, too_long: str = "text_too_long", *, lines=False) -> str:
    """Return text fit to store (`inputs.clean_text`), white space tidied; refuse it too long."""
    text = clean_text((text or "")[: limit * 4 + 100], multiline=lines)
    if lines:
        text = "\n".join(line.strip() for line in text.splitlines()).strip()
    else:
        text = " ".join(text.split())
    if len(text) > limit:
        raise VolunteerError(too_long)
    return text


def _name(text: str) -> str:
    name = clean(text, 40, "name_too_long")
    if not name:
        raise VolunteerError("name_required")
    return name


def _phone(text: str) -> str:
    phone = accounts.normalise_phone((text or "")[:40])
    if not accounts.is_mobile(phone):
        raise VolunteerError("phone_format")
    return phone


def round_half_hour(minutes: int) -> int:
    """Return minutes rounded to the nearest half hour (a quarter hour rounds up)."""
    return max(0, (minutes + 15) // 30 * 30)


def points_for(minutes: int, points_per_hour: int) -> int:
    """Return the points an amount of time earns, rounded half up."""
    return (minutes * points_per_hour + 30) // 60


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=")


def normalise_token(text: str) -> str:
    return (text or "").strip().upper()[:40]


# --- units ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitDetails:
    name: str
    contact_name: str = ""
    contact_phone: str = ""
    agreement_date: date | None = None
    commitment: str = ""
    note: str = ""
    active: bool = True


def save_unit(
    session: Session,
    actor: User,
    community_id: int,
    details: UnitDetails,
    unit: VolunteerUnit | None = None,
) -> VolunteerUnit:
    """Record a 共驻共建 unit, or change one."""
    name = clean(details.name, 80, "unit_name_too_long")
    if not name:
        raise VolunteerError("unit_name_required")
    taken = session.scalar(
        select(VolunteerUnit.id).where(
            VolunteerUnit.community_id == community_id,
            VolunteerUnit.name == name,
            VolunteerUnit.id != (unit.id if unit is not None else -1),
        )
    )
    if taken:
        raise VolunteerError("unit_name_taken")
    before = None
    if unit is None:
        unit = VolunteerUnit(community_id=community_id)
        session.add(unit)
    else:
        unit = locked(session, VolunteerUnit, VolunteerUnit.id == unit.id)
        before = audit.snapshot(unit, UNIT_FIELDS)
    unit.name = name
    unit.contact_name = clean(details.contact_name, 40, "name_too_long")
    unit.contact_phone = clean(details.contact_phone, 20)
    unit.agreement_date = details.agreement_date
    unit.commitment = clean(details.commitment, 200)
    unit.note = clean(details.note, 2000, lines=True)
    unit.active = details.active
    session.flush()
    audit.record(
        session,
        actor,
        "volunteer_unit.update" if before else "volunteer_unit.create",
        unit,
        before=before,
        after=audit.snapshot(unit, UNIT_FIELDS),
    )
    return unit


# --- volunteers -----------------------------------------------------------------------------


def volunteer_of(session: Session, user: User) -> Volunteer | None:
    """Return the volunteer profile of a login, if it has one."""
    return session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


def _unit(session: Session, community_id: int, unit_id: int | None) -> VolunteerUnit:
    unit = session.get(VolunteerUnit, unit_id) if unit_id else None
    if unit is None or unit.community_id != community_id or not unit.active:
        raise VolunteerError("unit_required")
    return unit


def register_resident(
    session: Session, user: User, skills: str = "", availability: str = ""
) -> Volunteer:
    """Register a confirmed resident of the help board as a volunteer, confirmed at once."""
    user = locked(session, User, User.id == user.id)
    if user.role != Role.RESIDENT or user.confirmed_at is None or not user.household:
        raise VolunteerError("not_confirmed")
    if volunteer_of(session, user) is not None:
        raise VolunteerError("already_volunteer")
    now = utcnow()
    volunteer = Volunteer(
        community_id=user.community_id,
        user_id=user.id,
        origin=VolunteerOrigin.RESIDENT,
        skills=clean(skills, 200),
        availability=clean(availability, 200),
        status=VolunteerStatus.CONFIRMED,
        confirmed_at=now,
    )
    session.add(volunteer)
    session.flush()
    audit.record(
        session,
        user,
        "volunteer.register",
        volunteer,
        after=audit.snapshot(volunteer, VOLUNTEER_FIELDS),
    )
    return volunteer


@dataclass(frozen=True)
class OutsideDetails:
    """A 下沉 cadre or party member of a unit, as they or staff give it."""

    name: str
    phone: str
    unit_id: int | None
    party_report: bool = False
    skills: str = ""
    availability: str = ""


def register_outside(
    session: Session, community_id: int | None, details: OutsideDetails, password: str
) -> Volunteer:
    """Sign up a cadre or party member who lives elsewhere; they sign in once confirmed."""
    community = session.get(Community, community_id) if community_id else None
    if community is None or community.archived_at is not None:
        raise VolunteerError("not_found")
    return _outside(session, None, community, details, password, confirmed=False)


def add_outside(session: Session, actor: User, community_id: int, details: OutsideDetails):
    """Record a cadre or party member at the office (a unit sent a list): confirmed at once.

    Their login has a random password; staff give them a temporary one when they want to sign in.
    """
    community = session.get(Community, community_id)
    password = secrets.token_urlsafe(24)
    return _outside(session, actor, community, details, password, confirmed=True)


def _outside(session, actor, community, details, password, *, confirmed) -> Volunteer:
    problems = Problems()  # every field's refusal at once
    name = problems.check(lambda: _name(details.name))
    phone = problems.check(lambda: _phone(details.phone))
    unit = problems.check(lambda: _unit(session, community.id, details.unit_id))
    problems.raise_any()
    user = accounts.create_user(
        session,
        actor,
        role=Role.RESIDENT,
        name=name,
        password=password,
        phone=phone,
        community_id=community.id,
    )
    now = utcnow()
    if confirmed:
        user.confirmed_at = now
    volunteer = Volunteer(
        community_id=community.id,
        user_id=user.id,
        origin=VolunteerOrigin.UNIT,
        unit_id=unit.id,
        party_report=bool(details.party_report),
        skills=clean(details.skills, 200),
        availability=clean(details.availability, 200),
        status=VolunteerStatus.CONFIRMED if confirmed else VolunteerStatus.PENDING,
        confirmed_at=now if confirmed else None,
        confirmed_by_id=actor.id if confirmed and actor is not None else None,
    )
    session.add(volunteer)
    session.flush()
    audit.record(
        session,
        actor,
        "volunteer.add" if confirmed else "volunteer.register",
        volunteer,
        after={**audit.snapshot(volunteer, VOLUNTEER_FIELDS), "name": name},
    )
    return volunteer


def confirm(session: Session, actor: User, volunteer: Volunteer) -> Volunteer:
    """Confirm a volunteer who registered: they may sign in and sign up."""
    volunteer = locked(session, Volunteer, Volunteer.id == volunteer.id)
    if volunteer.status == VolunteerStatus.CONFIRMED:
        raise VolunteerError("already_confirmed")
    before = audit.snapshot(volunteer, VOLUNTEER_FIELDS)
    now = utcnow()
    volunteer.status = VolunteerStatus.CONFIRMED
    volunteer.confirmed_at = now
    volunteer.confirmed_by_id = actor.id
    user = locked(session, User, User.id == volunteer.user_id)
    if user.confirmed_at is None:
        user.confirmed_at = now
    user.active = True
    audit.record(
        session,
        actor,
        "volunteer.confirm",
        volunteer,
        before=before,
        after=audit.snapshot(volunteer, VOLUNTEER_FIELDS),
    )
    return volunteer


def set_active(session: Session, actor: User, volunteer: Volunteer, active: bool) -> Volunteer:
    """Turn a volunteer off (left, or not to be called) or on again; their hours stay."""
    volunteer = locked(session, Volunteer, Volunteer.id == volunteer.id)
    before = audit.snapshot(volunteer, VOLUNTEER_FIELDS)
    volunteer.status = VolunteerStatus.CONFIRMED if active else VolunteerStatus.INACTIVE
    if active and volunteer.confirmed_at is None:
        volunteer.confirmed_at = utcnow()
        volunteer.confirmed_by_id = actor.id
    audit.record(
        session,
        actor,
        "volunteer.enable" if active else "volunteer.disable",
        volunteer,
        before=before,
        after=audit.snapshot(volunteer, VOLUNTEER_FIELDS),
    )
    return volunteer


def _confirmed_volunteer(session: Session, user: User) -> Volunteer:
    volunteer = volunteer_of(session, user)
    if volunteer is None:
        raise VolunteerError("not_volunteer")
    if volunteer.status == VolunteerStatus.PENDING:
        raise VolunteerError("not_confirmed")
    if volunteer.status != VolunteerStatus.CONFIRMED:
        raise VolunteerError("inactive")
    return volunteer


# --- activities -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityDetails:
    title: str
    kind: str
    place: str
    starts_at: datetime | None
    ends_at: datetime | None
    needed: int | None
    points_per_hour: int | None = 0
    details: str = ""
    leader: str = ""
    urgent: bool = False


def _checked(details: ActivityDetails) -> dict:
    """Return an activity's fields fit to store, or refuse every wrong field at once."""
    problems = Problems()
    title = problems.check(lambda: clean(details.title, 80, "title_too_long"))
    if title == "":
        problems.add(VolunteerError("title_required"))
    if details.kind not in ActivityKind._value2member_map_:
        problems.add(VolunteerError("kind_invalid"))
    place = problems.check(lambda: clean(details.place, 120, "place_too_long"))
    if place == "":
        problems.add(VolunteerError("place_required"))
    if details.starts_at is None or details.ends_at is None:
        problems.add(VolunteerError("times_required"))
    elif details.ends_at <= details.starts_at:
        problems.add(VolunteerError("ends_before_start"))
    elif details.ends_at - details.starts_at > MAX_DURATION:
        problems.add(VolunteerError("too_long"))
    if details.needed is None or not 1 <= details.needed <= MAX_NEEDED:
        problems.add(VolunteerError("needed_range"))
    pph = details.points_per_hour or 0
    if not 0 <= pph <= MAX_POINTS_PER_HOUR:
        problems.add(VolunteerError("points_range"))
    text = problems.check(lambda: clean(details.details, 2000, lines=True))
    leader = problems.check(lambda: clean(details.leader, 40, "name_too_long"))
    problems.raise_any()
    return {
        "title": title,
        "kind": ActivityKind(details.kind),
        "place": place,
        "details": text,
        "leader": leader,
        "starts_at": details.starts_at,
        "ends_at": details.ends_at,
        "needed": details.needed,
        "points_per_hour": pph,
        "urgent": bool(details.urgent),
    }


def publish(
    session: Session, actor: User, community_id: int, details: ActivityDetails
) -> VolunteerActivity:
    """Publish an activity: on the board, on /s/<slug>, with its notice and check-in QR."""
    fields = _checked(details)
    activity = VolunteerActivity(
        community_id=community_id,
        token=new_token(),
        status=ActivityStatus.OPEN,
        created_by_id=actor.id,
        **fields,
    )
    session.add(activity)
    session.flush()
    audit.record(
        session,
        actor,
        "activity.publish",
        activity,
        after=audit.snapshot(activity, ACTIVITY_FIELDS),
    )
    return activity


def _locked_activity(session: Session, activity_id: int) -> VolunteerActivity:
    activity = locked(session, VolunteerActivity, VolunteerActivity.id == activity_id)
    if activity is None:
        raise VolunteerError("not_found")
    return activity


def _signed_count(session: Session, activity_id: int) -> int:
    return session.scalar(
        select(func.count(VolunteerSignup.id)).where(
            VolunteerSignup.activity_id == activity_id,
            VolunteerSignup.status == SignupStatus.SIGNED,
        )
    )


def update(
    session: Session, actor: User, activity: VolunteerActivity, details: ActivityDetails
) -> VolunteerActivity:
    """Change an open activity; more places go to those waiting, in order."""
    fields = _checked(details)
    activity = _locked_activity(session, activity.id)
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    signed = _signed_count(session, activity.id)
    if fields["needed"] < signed:
        raise VolunteerError("needed_below_signed", count=signed)
    before = audit.snapshot(activity, ACTIVITY_FIELDS)
    for name, value in fields.items():
        setattr(activity, name, value)
    session.flush()
    _promote(session, actor, activity)
    audit.record(
        session,
        actor,
        "activity.update",
        activity,
        before=before,
        after=audit.snapshot(activity, ACTIVITY_FIELDS),
    )
    return activity


def cancel(session: Session, actor: User, activity: VolunteerActivity, reason: str):
    """Call an open activity off, with a reason; nobody earns points for it."""
    reason = clean(reason, 200)
    if not reason:
        raise VolunteerError("reason_required")
    activity = _locked_activity(session, activity.id)
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    activity.status = ActivityStatus.CANCELLED
    activity.closed_at = utcnow()
    activity.closed_by_id = actor.id
    audit.record(
        session, actor, "activity.cancel", activity, after={"status": "cancelled"}, note=reason
    )
    return activity


# --- signing up -----------------------------------------------------------------------------


def _signup(session: Session, activity_id: int, volunteer_id: int) -> VolunteerSignup | None:
    return session.scalar(
        select(VolunteerSignup)
        .where(
            VolunteerSignup.activity_id == activity_id,
            VolunteerSignup.volunteer_id == volunteer_id,
        )
        .execution_options(populate_existing=True)
    )


def _for_volunteer(session: Session, user: User, activity_id: int):
    """Return the volunteer and the activity locked, refusing another community's activity."""
    volunteer = _confirmed_volunteer(session, user)
    activity = _locked_activity(session, activity_id)
    if activity.community_id != volunteer.community_id:
        raise VolunteerError("not_found")
    return volunteer, activity


def _open_for_signup(activity: VolunteerActivity, now: datetime) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise VolunteerError("cancelled")
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    if now >= activity.ends_at:
        raise VolunteerError("over")


def sign_up(session: Session, user: User, activity_id: int, now: datetime | None = None):
    """Sign a volunteer up: a place while fewer than needed have one, else the waiting list.

    Signing up again is the same sign-up. Under the activity's row lock, so concurrent sign-ups
    never give more places than needed.
    """
    now = now or utcnow()
    volunteer, activity = _for_volunteer(session, user, activity_id)
    _open_for_signup(activity, now)
    signup = _signup(session, activity.id, volunteer.id)
    if signup is not None and signup.status != SignupStatus.WITHDRAWN:
        return signup
    status = (
        SignupStatus.SIGNED
        if _signed_count(session, activity.id) < activity.needed
        else SignupStatus.WAITING
    )
    if signup is None:
        signup = VolunteerSignup(
            community_id=activity.community_id,
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            status=status,
            created_at=now,
        )
        session.add(signup)
    else:  # back after withdrawing: at the end of the queue
        signup.status = status
        signup.created_at = now
        signup.withdrawn_at = None
    session.flush()
    audit.record(
        session,
        user,
        "signup.create",
        signup,
        after={"activity_id": activity.id, "status": status.value},
    )
    return signup


def withdraw(session: Session, user: User, activity_id: int, now: datetime | None = None):
    """Give a place (or a place on the waiting list) back; the first who waits gets it."""
    now = now or utcnow()
    volunteer, activity = _for_volunteer(session, user, activity_id)
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    signup = _signup(session, activity.id, volunteer.id)
    if signup is None or signup.status == SignupStatus.WITHDRAWN:
        raise VolunteerError("not_signed_up")
    if signup.checked_in_at is not None:
        raise VolunteerError("checked_in")
    was = signup.status
    signup.status = SignupStatus.WITHDRAWN
    signup.withdrawn_at = now
    session.flush()
    audit.record(
        session,
        user,
        "signup.withdraw",
        signup,
        before={"status": was.value},
        after={"status": "withdrawn"},
    )
    _promote(session, None, activity)
    return signup


def _promote(session: Session, actor: User | None, activity: VolunteerActivity) -> None:
    """Give free places to those waiting, first come first served (activity locked)."""
    free = activity.needed - _signed_count(session, activity.id)
    if free <= 0:
        return
    waiting = session.scalars(
        select(VolunteerSignup)
        .where(
            VolunteerSignup.activity_id == activity.id,
            VolunteerSignup.status == SignupStatus.WAITING,
        )
        .order_by(VolunteerSignup.created_at, VolunteerSignup.id)
        .limit(free)
    ).all()
    for signup in waiting:
        signup.status = SignupStatus.SIGNED
        audit.record(
            session,
            actor,
            "signup.promote",
            signup,
            before={"status": "waiting"},
            after={"status": "signed"},
        )
    session.flush()


def waiting_position(session: Session, signup: VolunteerSignup) -> int:
    """Return where a sign-up stands on the waiting list (1: next in line)."""
    return 1 + session.scalar(
        select(func.count(VolunteerSignup.id)).where(
            VolunteerSignup.activity_id == signup.activity_id,
            VolunteerSignup.status == SignupStatus.WAITING,
            (VolunteerSignup.created_at < signup.created_at)
            | (
                (VolunteerSignup.created_at == signup.created_at) & (VolunteerSignup.id < signup.id)
            ),
        )
    )


# --- check-in and check-out on site ---------------------------------------------------------


def activity_by_token(session: Session, token: str) -> VolunteerActivity:
    """Return the activity whose QR carries `token`, or raise `not_found`."""
    activity = session.scalar(
        select(VolunteerActivity).where(VolunteerActivity.token == normalise_token(token))
    )
    if activity is None:
        raise VolunteerError("not_found")
    return activity


def _check_in_window(activity: VolunteerActivity, now: datetime) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise VolunteerError("cancelled")
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    if now < activity.starts_at - MARGIN:
        opens = to_local(activity.starts_at - MARGIN).strftime("%m-%d %H:%M")
        raise VolunteerError("too_early", opens=opens)
    if now > activity.ends_at:
        raise VolunteerError("too_late")


def _mark_in(session, actor, signup: VolunteerSignup, now: datetime, by: User | None):
    signup.checked_in_at = now
    signup.checked_in_by_id = by.id if by is not None else None
    session.flush()
    audit.record(
        session,
        actor,
        "signup.check_in",
        signup,
        after={"checked_in_at": now.isoformat(), "by_staff": by is not None},
    )


def check_in(session: Session, user: User, token: str, now: datetime | None = None):
    """Check a volunteer in by the activity's QR: inside the window; twice is once.

    Someone who has no place (waiting, withdrawn, never signed up) is given one while places
    are free; when all are taken the organiser adds them from the list.
    """
    now = now or utcnow()
    found = activity_by_token(session, token)
    volunteer, activity = _for_volunteer(session, user, found.id)
    _check_in_window(activity, now)
    signup = _signup(session, activity.id, volunteer.id)
    if signup is not None and signup.checked_in_at is not None:
        return signup  # twice is once
    if signup is None or signup.status != SignupStatus.SIGNED:
        if _signed_count(session, activity.id) >= activity.needed:
            raise VolunteerError("full")
        if signup is None:
            signup = VolunteerSignup(
                community_id=activity.community_id,
                activity_id=activity.id,
                volunteer_id=volunteer.id,
                created_at=now,
            )
            session.add(signup)
        signup.status = SignupStatus.SIGNED
        signup.withdrawn_at = None
    _mark_in(session, user, signup, now, None)
    return signup


def _mark_out(session, actor, signup: VolunteerSignup, activity, now: datetime, by):
    if signup is None or signup.checked_in_at is None:
        raise VolunteerError("not_checked_in")
    if signup.checked_out_at is not None:
        return signup  # twice is once
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    if now > activity.ends_at + MARGIN:
        raise VolunteerError("checkout_closed")
    now = max(now, signup.checked_in_at)
    signup.checked_out_at = now
    signup.checked_out_by_id = by.id if by is not None else None
    signup.minutes = round_half_hour(int((now - signup.checked_in_at).total_seconds() // 60))
    session.flush()
    audit.record(
        session,
        actor,
        "signup.check_out",
        signup,
        after={
            "checked_out_at": now.isoformat(),
            "minutes": signup.minutes,
            "by_staff": by is not None,
        },
    )
    return signup


def check_out(session: Session, user: User, token: str, now: datetime | None = None):
    """Check a volunteer out by the activity's QR; refused without a check-in."""
    now = now or utcnow()
    found = activity_by_token(session, token)
    volunteer, activity = _for_volunteer(session, user, found.id)
    signup = _signup(session, activity.id, volunteer.id)
    return _mark_out(session, user, signup, activity, now, None)


def _locked_signup(session: Session, signup: VolunteerSignup):
    activity = _locked_activity(session, signup.activity_id)
    fresh = locked(session, VolunteerSignup, VolunteerSignup.id == signup.id)
    return fresh, activity


def staff_check_in(session: Session, actor: User, signup: VolunteerSignup, now=None):
    """The organiser checks someone on the list in (they have no phone, say)."""
    now = now or utcnow()
    signup, activity = _locked_signup(session, signup)
    _check_in_window(activity, now)
    if signup.checked_in_at is not None:
        return signup
    if signup.status != SignupStatus.SIGNED:
        raise VolunteerError("not_on_list")
    _mark_in(session, actor, signup, now, actor)
    return signup


def staff_check_out(session: Session, actor: User, signup: VolunteerSignup, now=None):
    """The organiser checks someone out from the list."""
    now = now or utcnow()
    signup, activity = _locked_signup(session, signup)
    return _mark_out(session, actor, signup, activity, now, actor)


def staff_add(session: Session, actor: User, activity: VolunteerActivity, volunteer_id: int | None):
    """The organiser puts a volunteer on the list with a place, beyond the number if need be."""
    activity = _locked_activity(session, activity.id)
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("not_open")
    volunteer = session.get(Volunteer, volunteer_id) if volunteer_id else None
    if (
        volunteer is None
        or volunteer.community_id != activity.community_id
        or volunteer.status != VolunteerStatus.CONFIRMED
    ):
        raise VolunteerError("not_volunteer")
    signup = _signup(session, activity.id, volunteer.id)
    if signup is None:
        signup = VolunteerSignup(
            community_id=activity.community_id,
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            created_at=utcnow(),
        )
        session.add(signup)
    before = signup.status.value if signup.status else None
    signup.status = SignupStatus.SIGNED
    signup.withdrawn_at = None
    session.flush()
    audit.record(
        session,
        actor,
        "signup.add",
        signup,
        before={"status": before},
        after={"status": "signed", "activity_id": activity.id},
    )
    return signup


def correct_hours(
    session: Session, actor: User, signup: VolunteerSignup, minutes: int | None, reason: str
) -> VolunteerSignup:
    """Set the hours credited for a sign-up, with a reason; after closing, the points follow."""
    reason = clean(reason, 200)
    if minutes is None or not 0 <= minutes <= MAX_CORRECTED_MINUTES or minutes % 30:
        raise VolunteerError("minutes_range")
    if not reason:
        raise VolunteerError("reason_required")
    signup, activity = _locked_signup(session, signup)
    if activity.status == ActivityStatus.CANCELLED:
        raise VolunteerError("cancelled")
    if signup.status != SignupStatus.SIGNED:
        raise VolunteerError("not_on_list")
    before = signup.minutes
    signup.minutes = minutes
    session.add(
        VolunteerCorrection(
            community_id=signup.community_id,
            signup_id=signup.id,
            minutes_before=before,
            minutes_after=minutes,
            reason=reason,
            created_by_id=actor.id,
        )
    )
    if activity.status == ActivityStatus.CLOSED:
        earned = points_for(minutes, activity.points_per_hour)
        change = earned - (signup.points or 0)
        if change:
            volunteer = session.get(Volunteer, signup.volunteer_id)
            user = points.lock_user(session, volunteer.user_id)
            points.post_entry(
                session,
                actor,
                user,
                PointsKind.ADJUSTED,
                change,
                f"{activity.title}：志愿时长更正（{reason}）",
            )
        signup.points = earned
    session.flush()
    audit.record(
        session,
        actor,
        "signup.correct",
        signup,
        before={"minutes": before},
        after={"minutes": minutes, "points": signup.points},
        note=reason,
    )
    return signup


@dataclass(frozen=True)
class Closed:
    credited: int  # people who earned points
    points: int  # points credited in all
    not_checked_out: int  # checked in, never out: no hours unless corrected


def close(session: Session, actor: User, activity: VolunteerActivity, now=None) -> Closed:
    """Close an activity and credit each person's points to the ledger, exactly once.

    The activity's row lock makes a second close (a double click, two staff at once) wait and
    then be refused `already_closed`; the unique `PointsEntry.signup_id` backs it up.
    """
    now = now or utcnow()
    activity = _locked_activity(session, activity.id)
    if activity.status == ActivityStatus.CLOSED:
        raise VolunteerError("already_closed")
    if activity.status != ActivityStatus.OPEN:
        raise VolunteerError("cancelled")
    if now < activity.starts_at:
        raise VolunteerError("not_started")
    signups = session.scalars(
        select(VolunteerSignup)
        .where(
            VolunteerSignup.activity_id == activity.id,
            VolunteerSignup.status == SignupStatus.SIGNED,
        )
        .order_by(VolunteerSignup.id)
        .execution_options(populate_existing=True)
    ).all()
    credited = total = missing = 0
    for signup in signups:
        if (
            signup.checked_in_at is not None
            and signup.checked_out_at is None
            and not signup.minutes
        ):
            missing += 1
        earned = points_for(signup.minutes or 0, activity.points_per_hour)
        signup.points = earned
        if earned > 0:
            volunteer = session.get(Volunteer, signup.volunteer_id)
            user = points.lock_user(session, volunteer.user_id)
            points.post_entry(
                session,
                actor,
                user,
                PointsKind.EARNED,
                earned,
                activity.title,
                signup_id=signup.id,
            )
            credited += 1
            total += earned
    activity.status = ActivityStatus.CLOSED
    activity.closed_at = now
    activity.closed_by_id = actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "activity.close",
        activity,
        after={
            "status": "closed",
            "credited": credited,
            "points": total,
            "not_checked_out": missing,
        },
    )
    return Closed(credited, total, missing)


# --- records, certificates, figures ---------------------------------------------------------


def history(session: Session, volunteer_id: int) -> list[VolunteerSignup]:
    """Return a volunteer's sign-ups, newest activity first, with their activities."""
    return list(
        session.scalars(
            select(VolunteerSignup)
            .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
            .where(VolunteerSignup.volunteer_id == volunteer_id)
            .order_by(VolunteerActivity.starts_at.desc(), VolunteerSignup.id.desc())
        )
    )


def confirmed_minutes(session: Session, volunteer_id: int) -> int:
    """Return the hours (in minutes) of a volunteer's closed activities."""
    return session.scalar(
        select(func.coalesce(func.sum(VolunteerSignup.minutes), 0))
        .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
        .where(
            VolunteerSignup.volunteer_id == volunteer_id,
            VolunteerSignup.status == SignupStatus.SIGNED,
            VolunteerActivity.status == ActivityStatus.CLOSED,
        )
    )


def new_certificate_serial() -> str:
    body = "".join(secrets.choice(CERTIFICATE_ALPHABET) for _ in range(CERTIFICATE_RANDOM))
    return f"ZM-{body[:4]}-{body[4:8]}-{body[8:]}"


def normalise_serial(text: str) -> str:
    """Return a certificate serial as stored, however it was typed (case, spaces, dashes)."""
    compact = re.sub(r"[\s\-_—－]", "", unicodedata.normalize("NFKC", text or "")[:40]).upper()
    if compact.startswith("ZM"):
        compact = compact[2:]
    if len(compact) != CERTIFICATE_RANDOM:
        return ""
    return f"ZM-{compact[:4]}-{compact[4:8]}-{compact[8:]}"


def issue_certificate(
    session: Session,
    actor: User | None,
    volunteer: Volunteer,
    period_from: date | None,
    period_until: date | None,
) -> VolunteerCertificate:
    """Issue a 志愿服务记录证明 of a volunteer's confirmed hours in a period, frozen as issued.

    `actor` is the staff member who issues it (经办人), or the volunteer printing their own.
    """
    if period_from is None or period_until is None or period_until < period_from:
        raise VolunteerError("period_invalid")
    start, _ = local_day_bounds(period_from)
    _, end = local_day_bounds(period_until)
    rows = session.execute(
        select(VolunteerSignup, VolunteerActivity)
        .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
        .where(
            VolunteerSignup.volunteer_id == volunteer.id,
            VolunteerSignup.status == SignupStatus.SIGNED,
            VolunteerSignup.minutes > 0,
            VolunteerActivity.status == ActivityStatus.CLOSED,
            VolunteerActivity.starts_at >= start,
            VolunteerActivity.starts_at < end,
        )
        .order_by(VolunteerActivity.starts_at, VolunteerActivity.id)
    ).all()
    if not rows:
        raise VolunteerError("nothing_to_certify")
    community = session.get(Community, volunteer.community_id)
    lines = [
        {
            "title": activity.title,
            "kind": activity.kind.value,
            "place": activity.place,
            "day": to_local(activity.starts_at).date().isoformat(),
            "from": to_local(activity.starts_at).strftime("%H:%M"),
            "until": to_local(activity.ends_at).strftime("%H:%M"),
            "minutes": signup.minutes,
            "leader": activity.leader,
        }
        for signup, activity in rows
    ]
    user = session.get(User, volunteer.user_id)
    self_printed = actor is None or actor.id == user.id
    certificate = VolunteerCertificate(
        community_id=volunteer.community_id,
        volunteer_id=volunteer.id,
        serial=new_certificate_serial(),
        volunteer_name=user.name,
        volunteer_number=volunteer.number,
        issuer_name=f"{community.district}{community.street_name}{community.name}居民委员会",
        period_from=period_from,
        period_until=period_until,
        minutes=sum(line["minutes"] for line in lines),
        activities=len(lines),
        lines=lines,
        issued_by_id=None if actor is None else actor.id,
        issued_by_label="本人自助打印" if self_printed else actor.name,
    )
    session.add(certificate)
    session.flush()
    audit.record(
        session,
        actor,
        "certificate.issue",
        certificate,
        after={
            "serial": certificate.serial,
            "volunteer_id": volunteer.id,
            "minutes": certificate.minutes,
            "activities": certificate.activities,
        },
    )
    return certificate


def find_certificate(session: Session, serial: str) -> VolunteerCertificate | None:
    """Return the certificate of a serial as typed, for its public check; None when unknown."""
    serial = normalise_serial(serial)
    if not serial:
        return None
    return session.scalar(select(VolunteerCertificate).where(VolunteerCertificate.serial == serial))


def mask_name(name: str) -> str:
    """Show a name on the public check as 王*英: enough to match the paper, not to find anyone."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name + "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class Month:
    month: str  # 2026-05
    volunteers: int  # people who served (hours > 0 in a closed activity)
    activities: int  # activities held and closed
    minutes: int
    new_volunteers: int  # confirmed this month


def monthly_figures(
    session: Session, community_ids: list[int] | None, months: int = 6, today: date | None = None
) -> list[Month]:
    """Return volunteers, activities and hours per month for the last `months` local months.

    `community_ids` None means every community (the district).
    """
    today = today or local_today()
    firsts = []
    year, month = today.year, today.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    result = []
    for first in firsts:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        start, _ = local_day_bounds(first)
        end, _ = local_day_bounds(following)

        def scoped(stmt, model):
            if community_ids is not None:
                stmt = stmt.where(model.community_id.in_(community_ids))
            return stmt

        served = session.execute(
            scoped(
                select(
                    func.count(func.distinct(VolunteerSignup.volunteer_id)),
                    func.count(func.distinct(VolunteerActivity.id)),
                    func.coalesce(func.sum(VolunteerSignup.minutes), 0),
                )
                .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
                .where(
                    VolunteerActivity.status == ActivityStatus.CLOSED,
                    VolunteerActivity.starts_at >= start,
                    VolunteerActivity.starts_at < end,
                    VolunteerSignup.status == SignupStatus.SIGNED,
                    VolunteerSignup.minutes > 0,
                ),
                VolunteerActivity,
            )
        ).one()
        new = session.scalar(
            scoped(
                select(func.count(Volunteer.id)).where(
                    Volunteer.confirmed_at >= start, Volunteer.confirmed_at < end
                ),
                Volunteer,
            )
        )
        result.append(Month(first.strftime("%Y-%m"), served[0], served[1], int(served[2]), new))
    return result


# --- what the pages show --------------------------------------------------------------------

VOLUNTEER_ROLES = (Role.RESIDENT,)  # volunteers sign in as residents do (cadres have no household)


def qr_text(base_url: str, token: str) -> str:
    """Return what an activity's QR encodes: its check-in URL, upper case (QR's compact mode)."""
    return f"{base_url.rstrip('/')}/V/{token}".upper()


def hours_text(minutes: int) -> str:
    """Write minutes as hours the way people say them: 1.5, 2, 0."""
    whole, rest = divmod(minutes or 0, 60)
    if not rest:
        return str(whole)
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Counts:
    signed: int
    waiting: int
    checked_in: int


def counts(session: Session, activity_id: int) -> Counts:
    """Return how many have a place, wait, and checked in: the live count of an urgent call."""
    rows = session.execute(
        select(
            VolunteerSignup.status,
            func.count(VolunteerSignup.id),
            func.count(VolunteerSignup.checked_in_at),
        )
        .where(VolunteerSignup.activity_id == activity_id)
        .group_by(VolunteerSignup.status)
    ).all()
    by = {row[0]: row for row in rows}
    signed = by.get(SignupStatus.SIGNED)
    waiting = by.get(SignupStatus.WAITING)
    return Counts(
        signed=signed[1] if signed else 0,
        waiting=waiting[1] if waiting else 0,
        checked_in=signed[2] if signed else 0,
    )


@dataclass(frozen=True)
class Listed:
    activity: VolunteerActivity
    counts: Counts


def board(session: Session, community_id: int, now: datetime | None = None) -> list[Listed]:
    """Return a community's open activities not yet over: urgent calls first, then by start."""
    now = now or utcnow()
    activities = session.scalars(
        select(VolunteerActivity)
        .where(
            VolunteerActivity.community_id == community_id,
            VolunteerActivity.status == ActivityStatus.OPEN,
            VolunteerActivity.ends_at > now,
        )
        .order_by(
            VolunteerActivity.urgent.desc(), VolunteerActivity.starts_at, VolunteerActivity.id
        )
        .limit(50)
    ).all()
    return [Listed(activity, counts(session, activity.id)) for activity in activities]


def issue_own_certificate(session: Session, user: User, period_from, period_until):
    """A volunteer prints their own certificate (the office issues it through the system)."""
    volunteer = volunteer_of(session, user)
    if volunteer is None:
        raise VolunteerError("not_volunteer")
    return issue_certificate(session, user, volunteer, period_from, period_until)


@dataclass(frozen=True)
class PublicActivity:
    """An activity as the community's public page shows it (a frozen value: the page memoises)."""

    title: str
    kind: str
    place: str
    when: str  # 07-01 20:00–23:00, Asia/Shanghai
    needed: int
    signed: int
    urgent: bool


def when_text(activity: VolunteerActivity) -> str:
    starts, ends = to_local(activity.starts_at), to_local(activity.ends_at)
    end = ends.strftime("%H:%M") if starts.date() == ends.date() else ends.strftime("%m-%d %H:%M")
    return f"{starts.strftime('%m-%d %H:%M')}–{end}"


def public_board(session: Session, slug: str) -> tuple[PublicActivity, ...]:
    """Return the open activities of the community `slug` for its public page."""
    community_id = session.scalar(
        select(Community.id).where(Community.slug == slug, Community.archived_at.is_(None))
    )
    if community_id is None:
        return ()
    return tuple(
        PublicActivity(
            title=item.activity.title,
            kind=item.activity.kind.value,
            place=item.activity.place,
            when=when_text(item.activity),
            needed=item.activity.needed,
            signed=item.counts.signed,
            urgent=item.activity.urgent,
        )
        for item in board(session, community_id)[:10]
    )


# --- 互看互比: the volunteers' measures in the street's comparison (services.compare) ---------


def _held_in(ctx) -> Select:
    """The activities closed by the office that started in the comparison's period."""
    return select(VolunteerActivity.id).where(
        VolunteerActivity.status == ActivityStatus.CLOSED,
        VolunteerActivity.starts_at >= ctx.since,
        VolunteerActivity.starts_at < ctx.until,
    )


def _hours_given(ctx) -> dict[int, int]:
    return ctx.grouped(
        VolunteerSignup.community_id,
        func.sum(VolunteerSignup.minutes),
        VolunteerSignup.status == SignupStatus.SIGNED,
        VolunteerSignup.activity_id.in_(_held_in(ctx)),
    )


def _volunteers_served(ctx) -> dict[int, int]:
    return ctx.grouped(
        VolunteerSignup.community_id,
        func.count(func.distinct(VolunteerSignup.volunteer_id)),
        VolunteerSignup.status == SignupStatus.SIGNED,
        VolunteerSignup.minutes > 0,
        VolunteerSignup.activity_id.in_(_held_in(ctx)),
    )


def _activities_held(ctx) -> dict[int, int]:
    return ctx.grouped(
        VolunteerActivity.community_id,
        func.count(VolunteerActivity.id),
        VolunteerActivity.id.in_(_held_in(ctx)),
    )


compare.register(
    compare.Measure(
        "volunteer_activities",
        N_("Volunteer activities held"),
        N_("Volunteer activities that started in the period and that the office closed."),
        "int",
        _activities_held,
        short=N_("Activities"),
    )
)
compare.register(
    compare.Measure(
        "volunteers_served",
        N_("Volunteers who served"),
        N_(
            "Residents, cadres and party members with confirmed hours in a volunteer activity "
            "of the period, each counted once."
        ),
        "int",
        _volunteers_served,
        relative="per_household",
        short=N_("Volunteers"),
    )
)
compare.register(
    compare.Measure(
        "volunteer_hours",
        N_("Volunteer hours"),
        N_(
            "Hours from on-site check-in to check-out, in half hours, as the office confirmed "
            "them when it closed each activity of the period."
        ),
        "minutes",
        _hours_given,
        relative="per_household",
        short=N_("Volunteer hours"),
    )
)
