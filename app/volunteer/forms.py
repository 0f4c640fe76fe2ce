"""Forms of the volunteers' phone pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, Length, Optional

from ..admin.forms import choice_id, stripped
from ..extensions import db
from ..models import VolunteerUnit
from ..services.volunteers import OutsideDetails

# Fields are made once, in the order the forms show them; each form takes the ones it needs.
_COMMUNITY = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
_NAME = StringField(
    _l("Name"), filters=[stripped], validators=[Length(max=40)], render_kw={"autocomplete": "name"}
)
_PHONE = StringField(
    _l("Mobile number"),
    description=_l("You sign in with it. Only the community office sees it."),
    filters=[stripped],
    validators=[Length(max=20)],
    render_kw={"autocomplete": "tel", "inputmode": "tel"},
)
_UNIT = SelectField(_l("Your unit"), coerce=choice_id, validate_choice=False)
_PARTY_REPORT = BooleanField(_l("I report to the community as a party member (报到)"))
_SKILLS = StringField(
    _l("What you can do"),
    description=_l("e.g. first aid, hairdressing, driving, carrying things."),
    filters=[stripped],
    validators=[Length(max=200)],
)
_AVAILABILITY = StringField(
    _l("When you can give time"),
    description=_l("e.g. weekday evenings, Saturday mornings."),
    filters=[stripped],
    validators=[Length(max=200)],
)
_PASSWORD = PasswordField(
    _l("Password"),
    description=_l("At least 8 characters."),
    validators=[Length(max=200)],
    render_kw={"autocomplete": "new-password"},
)
_CONFIRM = PasswordField(
    _l("Password again"),
    validators=[EqualTo("password", message=_l("The two passwords differ."))],
    render_kw={"autocomplete": "new-password"},
)


class VolunteerProfileForm(FlaskForm):
    """A resident of the help board registering as a volunteer."""

    skills = _SKILLS
    availability = _AVAILABILITY


class StaffOutsideForm(FlaskForm):
    """A cadre or party member a unit sent, entered at the office."""

    community = _COMMUNITY
    name = _NAME
    phone = _PHONE
    unit = _UNIT
    party_report = _PARTY_REPORT
    skills = _SKILLS
    availability = _AVAILABILITY


class OutsideJoinForm(StaffOutsideForm):
    """A 下沉 cadre or party member of a unit registering on their own phone."""

    password = _PASSWORD
    confirm = _CONFIRM


class PeriodForm(FlaskForm):
    period_from = DateField(_l("From"), validators=[Optional()])
    period_until = DateField(_l("Until"), validators=[Optional()])


# --- the office's forms (/admin/volunteers) ---------------------------------------------------


class ActivityForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    title = StringField(_l("Title"), filters=[stripped], validators=[Length(max=200)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    place = StringField(_l("Place"), filters=[stripped], validators=[Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    needed = IntegerField(_l("People needed"), validators=[Optional()])
    points_per_hour = IntegerField(
        _l("Points per hour"),
        description=_l("Credited to each person's points when you close the activity."),
        validators=[Optional()],
        default=10,
    )
    leader = StringField(
        _l("Organiser on site"),
        description=_l("Printed on the notice and on certificates."),
        filters=[stripped],
        validators=[Length(max=40)],
    )
    details = TextAreaField(
        _l("What to do, what to bring"),
        filters=[stripped],
        validators=[Length(max=2000)],
        render_kw={"rows": 4},
    )
    urgent = BooleanField(_l("Urgent call (一呼百应): show it at the top of the board"))


class UnitForm(FlaskForm):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    name = StringField(_l("Unit"), filters=[stripped], validators=[Length(max=200)])
    contact_name = StringField(
        _l("Contact person"), filters=[stripped], validators=[Length(max=40)]
    )
    contact_phone = StringField(
        _l("Contact phone"),
        filters=[stripped],
        validators=[Length(max=20)],
        render_kw={"inputmode": "tel"},
    )
    agreement_date = DateField(_l("Agreement signed on"), validators=[Optional()])
    commitment = StringField(
        _l("What the unit commits to"),
        description=_l("e.g. one person a day; a clean-up each month."),
        filters=[stripped],
        validators=[Length(max=200)],
    )
    note = TextAreaField(_l("Note"), filters=[stripped], validators=[Length(max=2000)])
    active = BooleanField(_l("Agreement in force"), default=True)


class CorrectionForm(FlaskForm):
    hours = StringField(
        _l("Hours"),
        description=_l("In half hours, e.g. 2.5."),
        filters=[stripped],
        validators=[Length(max=10)],
        render_kw={"inputmode": "decimal"},
    )
    reason = StringField(_l("Reason"), filters=[stripped], validators=[Length(max=200)])


class AddToListForm(FlaskForm):
    volunteer = SelectField(_l("Volunteer"), coerce=choice_id, validate_choice=False)


def outside_details(form) -> OutsideDetails:
    """What a cadre's form says, for `volunteers.register_outside` and `add_outside`."""
    return OutsideDetails(
        name=form.name.data or "",
        phone=form.phone.data or "",
        unit_id=form.unit.data or None,
        party_report=bool(form.party_report.data),
        skills=form.skills.data or "",
        availability=form.availability.data or "",
    )


def unit_choices(community_id: int | None) -> list[tuple[int, str]]:
    """The units a cadre of the community may name: those whose agreement is in force."""
    rows = db.session.execute(
        select(VolunteerUnit.id, VolunteerUnit.name)
        .where(VolunteerUnit.community_id == (community_id or 0), VolunteerUnit.active.is_(True))
        .order_by(VolunteerUnit.name)
    )
    return [(0, _l("— choose —")), *((row.id, row.name) for row in rows)]
