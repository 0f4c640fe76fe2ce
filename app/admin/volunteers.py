"""Volunteers at the office: the roster with hours, 共驻共建 units, activities with their list
(check-in and check-out for those without a phone, hours corrected with a reason, closing),
the printable notice with its QR, hours by volunteer, unit and period, and certificates."""

from datetime import UTC, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..auth.access import get_or_404, scope, street_communities
from ..clock import LOCAL, local_day_bounds, local_today, to_local, utcnow
from ..extensions import db
from ..inputs import parse_hours
from ..models import (
    ActivityKind,
    ActivityStatus,
    Community,
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
from ..services import residents, volunteers
from ..services.accounts import mask_phone
from ..services.qr import qr_svg
from ..templating import public_base_url
from ..volunteer.forms import (
    ActivityForm,
    AddToListForm,
    CorrectionForm,
    PeriodForm,
    StaffOutsideForm,
    UnitForm,
    outside_details,
    unit_choices,
)
from ..volunteer.routes import render_certificate
from . import bp
from .common import community_choices, is_district_admin, own_community_id, perform, staff_required
from .forms import EmptyForm, ReasonForm
from .labels import choices, label
from .tables import Column, Listing, by_id, community_column, one_of, when_set

ACTIVITY_FIELDS = {
    "title_required": "title",
    "title_too_long": "title",
    "kind_invalid": "kind",
    "place_required": "place",
    "place_too_long": "place",
    "times_required": "starts_at",
    "ends_before_start": "ends_at",
    "too_long": "ends_at",
    "needed_range": "needed",
    "needed_below_signed": "needed",
    "points_range": "points_per_hour",
    "name_too_long": "leader",
    "text_too_long": "details",
}
UNIT_FIELDS = {
    "unit_name_required": "name",
    "unit_name_too_long": "name",
    "unit_name_taken": "name",
    "name_too_long": "contact_name",
}
OUTSIDE_FIELDS = {
    "name_required": "name",
    "name_too_long": "name",
    "phone_format": "phone",
    "login_taken": "phone",
    "unit_required": "unit",
}


def local_to_utc(value):
    """A time typed at the office (Asia/Shanghai, naive) as aware UTC; None stays None."""
    return None if value is None else value.replace(tzinfo=LOCAL).astimezone(UTC)


def visible_community_ids() -> list[int] | None:
    """The communities whose figures the signed-in office sees; None: the whole district."""
    if is_district_admin():
        return None
    if current_user.role == Role.STREET_STAFF:
        return list(db.session.scalars(street_communities(current_user)))
    return [current_user.community_id]


def _community_for_new(form) -> int | None:
    """The community a new unit, activity or volunteer belongs to; None: the admin must choose."""
    if is_district_admin():
        return own_community_id(form.community.data or None)
    return own_community_id()


def _perform_in_community(form, service, *args, **kwargs):
    """Call `service` for the community a new thing belongs to; None when none was chosen."""
    community_id = _community_for_new(form)
    if community_id is None:
        form.community.errors = [_("Please choose a community.")]
        return None
    return perform(service, community_id, *args, form=form, **kwargs)


def _set_communities(form) -> None:
    if is_district_admin():
        form.community.choices = [(0, _l("— choose —")), *community_choices()]
    else:
        del form.community


# --- the roster -----------------------------------------------------------------------------

CLOSED_MINUTES = (
    select(func.coalesce(func.sum(VolunteerSignup.minutes), 0))
    .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
    .where(
        VolunteerSignup.volunteer_id == Volunteer.id,
        VolunteerSignup.status == SignupStatus.SIGNED,
        VolunteerActivity.status == ActivityStatus.CLOSED,
    )
    .correlate(Volunteer)
    .scalar_subquery()
)
SERVED = (
    select(func.count(VolunteerSignup.id))
    .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
    .where(
        VolunteerSignup.volunteer_id == Volunteer.id,
        VolunteerSignup.minutes > 0,
        VolunteerActivity.status == ActivityStatus.CLOSED,
    )
    .correlate(Volunteer)
    .scalar_subquery()
)


def roster_columns() -> list[Column]:
    columns = [
        Column("name", _l("Name"), User.name, lambda r: r.name),
        Column("origin", _l("Volunteer of"), Volunteer.origin, lambda r: label(r.Volunteer.origin)),
        Column("unit", _l("Unit"), VolunteerUnit.name, lambda r: r.unit_name or ""),
        Column(
            "party",
            _l("Party member reporting"),
            Volunteer.party_report,
            lambda r: _("Yes") if r.Volunteer.party_report else "",
        ),
        Column("phone", _l("Phone"), None, lambda r: mask_phone(r.phone)),
        Column("status", _l("Status"), Volunteer.status, lambda r: label(r.Volunteer.status)),
        Column("hours", _l("Hours"), CLOSED_MINUTES, lambda r: volunteers.hours_text(r.minutes)),
        Column("served", _l("Activities"), SERVED, lambda r: r.served, "int"),
        Column("skills", _l("Can do"), Volunteer.skills, lambda r: r.Volunteer.skills),
        Column(
            "joined",
            _l("Registered"),
            Volunteer.created_at,
            lambda r: r.Volunteer.created_at,
            "datetime",
        ),
    ]
    return community_column(columns)


@bp.get("/volunteers")
@staff_required
def volunteers_roster():
    """The roster: who volunteers, from which unit, their hours; filter, search, export."""
    stmt = (
        scope(
            select(
                Volunteer,
                User.name.label("name"),
                User.phone.label("phone"),
                VolunteerUnit.name.label("unit_name"),
                Community.name.label("community_name"),
                CLOSED_MINUTES.label("minutes"),
                SERVED.label("served"),
            ),
            Volunteer,
        )
        .join(User, Volunteer.user_id == User.id)
        .join(Community, Volunteer.community_id == Community.id)
        .outerjoin(VolunteerUnit, Volunteer.unit_id == VolunteerUnit.id)
    )
    listing = Listing(
        stmt,
        roster_columns(),
        filters=(
            by_id("unit", Volunteer.unit_id),
            one_of("status", Volunteer.status, VolunteerStatus),
            one_of("origin", Volunteer.origin, VolunteerOrigin),
            when_set("party", Volunteer.party_report.is_(True)),
        ),
        search=(User.name, User.phone, Volunteer.skills, VolunteerUnit.name),
        default_sort="-hours",
        tiebreak=Volunteer.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("volunteers"))
    units = db.session.execute(
        scope(select(VolunteerUnit.id, VolunteerUnit.name), VolunteerUnit).order_by(
            VolunteerUnit.name
        )
    ).all()
    pending = db.session.scalar(
        scope(select(func.count(Volunteer.id)), Volunteer).where(
            Volunteer.status == VolunteerStatus.PENDING
        )
    )
    community_ids = visible_community_ids()
    return render_template(
        "admin/volunteers/roster.html",
        listing=listing,
        units=[(u.id, u.name) for u in units],
        statuses=choices(VolunteerStatus),
        origins=choices(VolunteerOrigin),
        pending=pending,
        months=volunteers.monthly_figures(db.session, community_ids),
        hours_text=volunteers.hours_text,
    )


@bp.route("/volunteers/new", methods=["GET", "POST"])
@staff_required
def volunteer_new():
    """Record a cadre or party member a unit sent (their list came on paper or in a chat)."""
    form = StaffOutsideForm()
    _set_communities(form)
    community_id = _community_for_new(form) if request.method == "POST" else own_community_id()
    form.unit.choices = unit_choices(community_id or 0)
    if form.validate_on_submit():
        done = _perform_in_community(
            form, volunteers.add_outside, outside_details(form), fields=OUTSIDE_FIELDS
        )
        if done:
            flash(_("%(name)s is on the roster.", name=form.name.data), "success")
            return redirect(url_for("admin.volunteer_detail", volunteer_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/volunteers/new.html", form=form), status


def show_volunteer(volunteer, status=200, **forms):
    forms.setdefault("period_form", PeriodForm(formdata=None))
    if forms["period_form"].period_from.data is None:
        today = local_today()
        forms["period_form"].period_from.data = today.replace(month=1, day=1)
        forms["period_form"].period_until.data = today
    certificates = db.session.scalars(
        select(VolunteerCertificate)
        .where(VolunteerCertificate.volunteer_id == volunteer.id)
        .order_by(VolunteerCertificate.id.desc())
    ).all()
    return render_template(
        "admin/volunteers/detail.html",
        volunteer=volunteer,
        signups=volunteers.history(db.session, volunteer.id),
        confirmed=volunteers.confirmed_minutes(db.session, volunteer.id),
        certificates=certificates,
        empty_form=EmptyForm(formdata=None),
        hours_text=volunteers.hours_text,
        **forms,
    ), status


@bp.get("/volunteers/<int:volunteer_id>")
@staff_required
def volunteer_detail(volunteer_id):
    return show_volunteer(get_or_404(Volunteer, volunteer_id))


@bp.post("/volunteers/<int:volunteer_id>/<any(confirm, enable, disable):action>")
@staff_required
def volunteer_move(volunteer_id, action):
    volunteer = get_or_404(Volunteer, volunteer_id)
    if EmptyForm().validate_on_submit():
        if action == "confirm":
            perform(volunteers.confirm, volunteer, success=_("Confirmed."))
        else:
            perform(volunteers.set_active, volunteer, action == "enable", success=_("Saved."))
    return redirect(url_for("admin.volunteer_detail", volunteer_id=volunteer.id))


@bp.post("/volunteers/<int:volunteer_id>/password")
@staff_required
def volunteer_password(volunteer_id):
    """A temporary password, shown once, for a volunteer who wants to sign in."""
    volunteer = get_or_404(Volunteer, volunteer_id)
    if EmptyForm().validate_on_submit():
        done = perform(residents.reset_password, volunteer.user)
        if done:
            flash(
                _(
                    "Temporary password for %(name)s: %(password)s (shown once; "
                    "they choose their own at the next sign-in).",
                    name=volunteer.user.name,
                    password=done.value,
                ),
                "success",
            )
    return redirect(url_for("admin.volunteer_detail", volunteer_id=volunteer.id))


@bp.post("/volunteers/<int:volunteer_id>/certificate")
@staff_required
def volunteer_certificate_issue(volunteer_id):
    volunteer = get_or_404(Volunteer, volunteer_id)
    form = PeriodForm()
    if form.validate_on_submit():
        done = perform(
            volunteers.issue_certificate,
            volunteer,
            form.period_from.data,
            form.period_until.data,
            form=form,
            fields={"period_invalid": "period_from", "nothing_to_certify": "period_from"},
        )
        if done:
            return redirect(url_for("admin.volunteer_certificate", certificate_id=done.value.id))
    return show_volunteer(volunteer, 422, period_form=form)


@bp.get("/volunteers/certificates/<int:certificate_id>")
@staff_required
def volunteer_certificate(certificate_id):
    certificate = get_or_404(VolunteerCertificate, certificate_id)
    back = url_for("admin.volunteer_detail", volunteer_id=certificate.volunteer_id)
    return render_certificate(certificate, back_url=back)


# --- units ----------------------------------------------------------------------------------

UNIT_MINUTES = (
    select(func.coalesce(func.sum(VolunteerSignup.minutes), 0))
    .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
    .join(Volunteer, VolunteerSignup.volunteer_id == Volunteer.id)
    .where(
        Volunteer.unit_id == VolunteerUnit.id,
        VolunteerSignup.status == SignupStatus.SIGNED,
        VolunteerActivity.status == ActivityStatus.CLOSED,
    )
    .correlate(VolunteerUnit)
    .scalar_subquery()
)
UNIT_PEOPLE = (
    select(func.count(Volunteer.id))
    .where(Volunteer.unit_id == VolunteerUnit.id)
    .correlate(VolunteerUnit)
    .scalar_subquery()
)


@bp.get("/volunteers/units")
@staff_required
def volunteer_units():
    """共驻共建单位: the agreement, what it commits to, its people and hours."""
    rows = db.session.execute(
        scope(
            select(VolunteerUnit, UNIT_PEOPLE.label("people"), UNIT_MINUTES.label("minutes")),
            VolunteerUnit,
        ).order_by(VolunteerUnit.active.desc(), VolunteerUnit.name)
    ).all()
    return render_template(
        "admin/volunteers/units.html", rows=rows, hours_text=volunteers.hours_text
    )


def _unit_details(form) -> volunteers.UnitDetails:
    return volunteers.UnitDetails(
        name=form.name.data or "",
        contact_name=form.contact_name.data or "",
        contact_phone=form.contact_phone.data or "",
        agreement_date=form.agreement_date.data,
        commitment=form.commitment.data or "",
        note=form.note.data or "",
        active=bool(form.active.data),
    )


@bp.route("/volunteers/units/new", methods=["GET", "POST"])
@staff_required
def volunteer_unit_new():
    form = UnitForm()
    _set_communities(form)
    if form.validate_on_submit():
        done = _perform_in_community(
            form,
            volunteers.save_unit,
            _unit_details(form),
            fields=UNIT_FIELDS,
            success=_("The unit is recorded."),
        )
        if done:
            return redirect(url_for("admin.volunteer_unit", unit_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/volunteers/unit_form.html", form=form, unit=None), status


def unit_report(unit: VolunteerUnit, period_from=None, period_until=None):
    """A unit's people and their hours in a period (every closed activity when none is given)."""
    conditions = [
        VolunteerSignup.status == SignupStatus.SIGNED,
        VolunteerActivity.status == ActivityStatus.CLOSED,
    ]
    if period_from is not None:
        conditions.append(VolunteerActivity.starts_at >= local_day_bounds(period_from)[0])
    if period_until is not None:
        conditions.append(VolunteerActivity.starts_at < local_day_bounds(period_until)[1])
    hours = (
        select(
            VolunteerSignup.volunteer_id,
            func.coalesce(func.sum(VolunteerSignup.minutes), 0).label("minutes"),
            func.count(VolunteerSignup.id).filter(VolunteerSignup.minutes > 0).label("served"),
        )
        .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
        .where(*conditions)
        .group_by(VolunteerSignup.volunteer_id)
        .subquery()
    )
    return db.session.execute(
        select(
            Volunteer,
            User.name,
            func.coalesce(hours.c.minutes, 0).label("minutes"),
            func.coalesce(hours.c.served, 0).label("served"),
        )
        .join(User, Volunteer.user_id == User.id)
        .outerjoin(hours, hours.c.volunteer_id == Volunteer.id)
        .where(Volunteer.unit_id == unit.id)
        .order_by(func.coalesce(hours.c.minutes, 0).desc(), User.name)
    ).all()


@bp.route("/volunteers/units/<int:unit_id>", methods=["GET", "POST"])
@staff_required
def volunteer_unit(unit_id):
    unit = get_or_404(VolunteerUnit, unit_id)
    form = UnitForm(obj=unit)
    del form.community
    if form.validate_on_submit():
        if perform(
            volunteers.save_unit,
            unit.community_id,
            _unit_details(form),
            unit,
            form=form,
            fields=UNIT_FIELDS,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.volunteer_unit", unit_id=unit.id))
    status = 422 if request.method == "POST" else 200
    rows = unit_report(unit)
    return render_template(
        "admin/volunteers/unit_form.html",
        form=form,
        unit=unit,
        rows=rows,
        total=sum(row.minutes for row in rows),
        hours_text=volunteers.hours_text,
    ), status


@bp.get("/volunteers/units/<int:unit_id>/print")
@staff_required
def volunteer_unit_print(unit_id):
    """A unit's page for its own reporting: the agreement, its people and their hours."""
    unit = get_or_404(VolunteerUnit, unit_id)
    form = PeriodForm(request.args, meta={"csrf": False})
    period_from = form.period_from.data if form.period_from.validate(form) else None
    period_until = form.period_until.data if form.period_until.validate(form) else None
    rows = unit_report(unit, period_from, period_until)
    community = db.session.get(Community, unit.community_id)
    return render_template(
        "admin/volunteers/unit_print.html",
        unit=unit,
        community=community,
        rows=rows,
        total=sum(row.minutes for row in rows),
        period_from=period_from,
        period_until=period_until,
        printed=local_today(),
        hours_text=volunteers.hours_text,
    )


# --- activities -----------------------------------------------------------------------------

Signed = aliased(VolunteerSignup)
SIGNED_COUNT = (
    select(func.count(Signed.id))
    .where(Signed.activity_id == VolunteerActivity.id, Signed.status == SignupStatus.SIGNED)
    .correlate(VolunteerActivity)
    .scalar_subquery()
)


def activity_columns() -> list[Column]:
    columns = [
        Column(
            "title", _l("Activity"), VolunteerActivity.title, lambda r: r.VolunteerActivity.title
        ),
        Column(
            "kind", _l("Kind"), VolunteerActivity.kind, lambda r: label(r.VolunteerActivity.kind)
        ),
        Column(
            "starts",
            _l("Starts"),
            VolunteerActivity.starts_at,
            lambda r: r.VolunteerActivity.starts_at,
            "datetime",
        ),
        Column("place", _l("Place"), VolunteerActivity.place, lambda r: r.VolunteerActivity.place),
        Column("signed", _l("Places taken"), SIGNED_COUNT, lambda r: r.signed, "int"),
        Column(
            "needed",
            _l("Needed"),
            VolunteerActivity.needed,
            lambda r: r.VolunteerActivity.needed,
            "int",
        ),
        Column(
            "status",
            _l("Status"),
            VolunteerActivity.status,
            lambda r: label(r.VolunteerActivity.status),
        ),
    ]
    return community_column(columns)


@bp.get("/volunteers/activities")
@staff_required
def volunteer_activities():
    stmt = scope(
        select(
            VolunteerActivity, SIGNED_COUNT.label("signed"), Community.name.label("community_name")
        ),
        VolunteerActivity,
    ).join(Community, VolunteerActivity.community_id == Community.id)
    listing = Listing(
        stmt,
        activity_columns(),
        filters=(
            one_of("status", VolunteerActivity.status, ActivityStatus),
            one_of("kind", VolunteerActivity.kind, ActivityKind),
        ),
        search=(VolunteerActivity.title, VolunteerActivity.place, VolunteerActivity.leader),
        default_sort="-starts",
        tiebreak=VolunteerActivity.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("volunteer activities"))
    return render_template(
        "admin/volunteers/activities.html",
        listing=listing,
        statuses=choices(ActivityStatus),
        kinds=choices(ActivityKind),
    )


def _activity_details(form) -> volunteers.ActivityDetails:
    return volunteers.ActivityDetails(
        title=form.title.data or "",
        kind=form.kind.data or "",
        place=form.place.data or "",
        starts_at=local_to_utc(form.starts_at.data),
        ends_at=local_to_utc(form.ends_at.data),
        needed=form.needed.data,
        points_per_hour=form.points_per_hour.data,
        details=form.details.data or "",
        leader=form.leader.data or "",
        urgent=bool(form.urgent.data),
    )


@bp.route("/volunteers/activities/new", methods=["GET", "POST"])
@staff_required
def volunteer_activity_new():
    form = ActivityForm()
    form.kind.choices = choices(ActivityKind)
    _set_communities(form)
    if request.method == "GET":
        start = (to_local(utcnow()) + timedelta(days=1)).replace(
            hour=9, minute=0, second=0, microsecond=0, tzinfo=None
        )
        form.starts_at.data, form.ends_at.data = start, start + timedelta(hours=2)
    if form.validate_on_submit():
        done = _perform_in_community(
            form,
            volunteers.publish,
            _activity_details(form),
            fields=ACTIVITY_FIELDS,
            success=_("Published: it is on the board now."),
        )
        if done:
            return redirect(url_for("admin.volunteer_activity", activity_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/volunteers/activity_form.html", form=form, activity=None), status


@bp.route("/volunteers/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@staff_required
def volunteer_activity_edit(activity_id):
    activity = get_or_404(VolunteerActivity, activity_id)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    form.kind.choices = choices(ActivityKind)
    del form.community
    if request.method == "GET":
        form.kind.data = activity.kind.value
        form.starts_at.data = to_local(activity.starts_at).replace(tzinfo=None)
        form.ends_at.data = to_local(activity.ends_at).replace(tzinfo=None)
    if form.validate_on_submit():
        if perform(
            volunteers.update,
            activity,
            _activity_details(form),
            form=form,
            fields=ACTIVITY_FIELDS,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.volunteer_activity", activity_id=activity.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/volunteers/activity_form.html", form=form, activity=activity
    ), status


def show_activity(activity, status=200, **forms):
    signups = db.session.execute(
        select(VolunteerSignup, User.name, User.phone, VolunteerUnit.name.label("unit_name"))
        .join(Volunteer, VolunteerSignup.volunteer_id == Volunteer.id)
        .join(User, Volunteer.user_id == User.id)
        .outerjoin(VolunteerUnit, Volunteer.unit_id == VolunteerUnit.id)
        .where(VolunteerSignup.activity_id == activity.id)
        .order_by(
            (VolunteerSignup.status == SignupStatus.WITHDRAWN),
            (VolunteerSignup.status == SignupStatus.WAITING),
            VolunteerSignup.created_at,
            VolunteerSignup.id,
        )
    ).all()
    on_list = {row.VolunteerSignup.volunteer_id for row in signups}
    others = db.session.execute(
        select(Volunteer.id, User.name)
        .join(User, Volunteer.user_id == User.id)
        .where(
            Volunteer.community_id == activity.community_id,
            Volunteer.status == VolunteerStatus.CONFIRMED,
        )
        .order_by(User.name)
    ).all()
    add_form = forms.pop("add_form", None) or AddToListForm(formdata=None)
    add_form.volunteer.choices = [(0, _l("— choose —"))] + [
        (row.id, row.name) for row in others if row.id not in on_list
    ]
    corrections = db.session.scalars(
        select(VolunteerCorrection)
        .join(VolunteerSignup, VolunteerCorrection.signup_id == VolunteerSignup.id)
        .where(VolunteerSignup.activity_id == activity.id)
        .order_by(VolunteerCorrection.id)
    ).all()
    forms.setdefault("correction_form", CorrectionForm(formdata=None))
    forms.setdefault("cancel_form", ReasonForm(formdata=None))
    url = volunteers.qr_text(public_base_url(), activity.token)
    return render_template(
        "admin/volunteers/activity.html",
        activity=activity,
        signups=signups,
        counts=volunteers.counts(db.session, activity.id),
        corrections=corrections,
        add_form=add_form,
        empty_form=EmptyForm(formdata=None),
        qr=qr_svg(url, label=activity.title),
        qr_url=url,
        mask_phone=mask_phone,
        hours_text=volunteers.hours_text,
        now=utcnow(),
        **forms,
    ), status


@bp.get("/volunteers/activities/<int:activity_id>")
@staff_required
def volunteer_activity(activity_id):
    return show_activity(get_or_404(VolunteerActivity, activity_id))


def _signup_of(activity, signup_id) -> VolunteerSignup:
    signup = db.session.get(VolunteerSignup, signup_id)
    if signup is None or signup.activity_id != activity.id:
        abort(404)
    return signup


@bp.post("/volunteers/activities/<int:activity_id>/list/<int:signup_id>/<any(in, out):action>")
@staff_required
def volunteer_activity_mark(activity_id, signup_id, action):
    """The organiser checks someone in or out from the list."""
    activity = get_or_404(VolunteerActivity, activity_id)
    signup = _signup_of(activity, signup_id)
    if EmptyForm().validate_on_submit():
        service = volunteers.staff_check_in if action == "in" else volunteers.staff_check_out
        perform(service, signup, success=_("Checked in.") if action == "in" else _("Checked out."))
    return redirect(url_for("admin.volunteer_activity", activity_id=activity.id) + "#list")


@bp.post("/volunteers/activities/<int:activity_id>/list/<int:signup_id>/hours")
@staff_required
def volunteer_activity_correct(activity_id, signup_id):
    activity = get_or_404(VolunteerActivity, activity_id)
    signup = _signup_of(activity, signup_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        if perform(
            volunteers.correct_hours,
            signup,
            parse_hours(form.hours.data),
            form.reason.data,
            success=_("The hours are corrected."),
        ):
            return redirect(url_for("admin.volunteer_activity", activity_id=activity.id) + "#list")
    return redirect(url_for("admin.volunteer_activity", activity_id=activity.id) + "#list")


@bp.post("/volunteers/activities/<int:activity_id>/list")
@staff_required
def volunteer_activity_add(activity_id):
    activity = get_or_404(VolunteerActivity, activity_id)
    form = AddToListForm()
    if form.validate_on_submit():
        perform(
            volunteers.staff_add, activity, form.volunteer.data, success=_("Added to the list.")
        )
    return redirect(url_for("admin.volunteer_activity", activity_id=activity.id) + "#list")


@bp.post("/volunteers/activities/<int:activity_id>/close")
@staff_required
def volunteer_activity_close(activity_id):
    activity = get_or_404(VolunteerActivity, activity_id)
    if EmptyForm().validate_on_submit():
        done = perform(volunteers.close, activity)
        if done:
            flash(
                _(
                    "Closed: %(points)s points credited to %(people)s people.",
                    points=done.value.points,
                    people=done.value.credited,
                ),
                "success",
            )
    return redirect(url_for("admin.volunteer_activity", activity_id=activity.id))


@bp.post("/volunteers/activities/<int:activity_id>/cancel")
@staff_required
def volunteer_activity_cancel(activity_id):
    activity = get_or_404(VolunteerActivity, activity_id)
    form = ReasonForm()
    if form.validate_on_submit():
        if perform(
            volunteers.cancel,
            activity,
            form.reason.data,
            form=form,
            fields={"reason_required": "reason"},
            success=_("The activity is cancelled."),
        ):
            return redirect(url_for("admin.volunteer_activity", activity_id=activity.id))
    return show_activity(activity, 422, cancel_form=form)


@bp.get("/volunteers/activities/<int:activity_id>/notice")
@staff_required
def volunteer_activity_notice(activity_id):
    """The A4 notice for the notice board and the organiser's table, with the check-in QR."""
    activity = get_or_404(VolunteerActivity, activity_id)
    url = volunteers.qr_text(public_base_url(), activity.token)
    return render_template(
        "admin/volunteers/notice.html",
        activity=activity,
        community=db.session.get(Community, activity.community_id),
        qr=qr_svg(url, label=activity.title),
    )


# --- hours by volunteer, unit and period ----------------------------------------------------


@bp.get("/volunteers/hours")
@staff_required
def volunteer_hours():
    """Hours of closed activities in a period, by volunteer or by unit; Excel for the report."""
    form = PeriodForm(request.args, meta={"csrf": False})
    today = local_today()
    period_from = form.period_from.data if form.period_from.validate(form) else None
    period_until = form.period_until.data if form.period_until.validate(form) else None
    period_from = period_from or today.replace(day=1)
    period_until = period_until or today
    if period_until < period_from:
        period_from, period_until = period_until, period_from
    form.period_from.data, form.period_until.data = period_from, period_until
    by = "unit" if request.args.get("by") == "unit" else "volunteer"
    start, _ignored = local_day_bounds(period_from)
    _ignored, end = local_day_bounds(period_until)
    minutes = func.coalesce(func.sum(VolunteerSignup.minutes), 0)
    served = func.count(func.distinct(VolunteerSignup.activity_id))
    earned = func.coalesce(func.sum(VolunteerSignup.points), 0)
    base = (
        scope(select().select_from(VolunteerSignup), VolunteerSignup)
        .join(VolunteerActivity, VolunteerSignup.activity_id == VolunteerActivity.id)
        .join(Volunteer, VolunteerSignup.volunteer_id == Volunteer.id)
        .where(
            VolunteerSignup.status == SignupStatus.SIGNED,
            VolunteerSignup.minutes > 0,
            VolunteerActivity.status == ActivityStatus.CLOSED,
            VolunteerActivity.starts_at >= start,
            VolunteerActivity.starts_at < end,
        )
    )
    if by == "unit":
        stmt = (
            base.add_columns(
                func.coalesce(VolunteerUnit.name, "").label("name"),
                func.count(func.distinct(Volunteer.id)).label("people"),
                served.label("served"),
                minutes.label("minutes"),
                earned.label("points"),
            )
            .outerjoin(VolunteerUnit, Volunteer.unit_id == VolunteerUnit.id)
            .group_by(VolunteerUnit.id, VolunteerUnit.name)
        )
        columns = [
            Column("name", _l("Unit"), VolunteerUnit.name, lambda r: r.name or _("Residents")),
            Column(
                "people",
                _l("People"),
                func.count(func.distinct(Volunteer.id)),
                lambda r: r.people,
                "int",
            ),
        ]
    else:
        stmt = (
            base.add_columns(
                User.name.label("name"),
                func.coalesce(VolunteerUnit.name, "").label("unit"),
                served.label("served"),
                minutes.label("minutes"),
                earned.label("points"),
            )
            .join(User, Volunteer.user_id == User.id)
            .outerjoin(VolunteerUnit, Volunteer.unit_id == VolunteerUnit.id)
            .group_by(Volunteer.id, User.name, VolunteerUnit.name)
        )
        columns = [
            Column("name", _l("Name"), User.name, lambda r: r.name),
            Column("unit", _l("Unit"), VolunteerUnit.name, lambda r: r.unit),
        ]
    columns += [
        Column("served", _l("Activities"), served, lambda r: r.served, "int"),
        Column("hours", _l("Hours"), minutes, lambda r: volunteers.hours_text(r.minutes)),
        Column("points", _l("Points"), earned, lambda r: r.points, "int"),
    ]
    listing = Listing(stmt, columns, default_sort="-hours", scalars=False)
    if listing.export_format:
        return listing.export(
            _("volunteer hours %(start)s to %(end)s", start=period_from, end=period_until)
        )
    return render_template(
        "admin/volunteers/hours.html",
        listing=listing,
        form=form,
        by=by,
        period_from=period_from,
        period_until=period_until,
        hours_text=volunteers.hours_text,
    )
