"""Volunteers' phone pages: activities, sign-up, on-site check-in by QR, hours, certificates.

An activity's QR carries `/V/<token>` (upper case, like a card's): the phone camera or WeChat
扫一扫 opens it, or the scanner in `/v/scan` reads it. The page it opens says where the
volunteer stands and offers the one button that applies (check in, or check out); a GET never
writes. `/v/check` lets anyone check a certificate's serial.
"""

from urllib.parse import urlsplit

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..admin.common import community_choices, message, perform, perform_public
from ..admin.labels import label
from ..auth.access import roles_required
from ..clock import local_today, to_local, utcnow
from ..extensions import configured_limit, db, limiter
from ..models import (
    ActivityKind,
    Community,
    SignupStatus,
    Volunteer,
    VolunteerActivity,
    VolunteerCertificate,
    VolunteerSignup,
)
from ..security import csp_allow
from ..services import volunteers
from ..services.qr import qr_svg
from ..templating import public_base_url
from . import bp
from .forms import (
    OutsideJoinForm,
    PeriodForm,
    VolunteerProfileForm,
    outside_details,
    unit_choices,
)

resident_required = roles_required(*volunteers.VOLUNTEER_ROLES)

PASSWORD_FIELD = "password"  # noqa: S105  # nosec B105 - a form field's name
OUTSIDE_FIELDS = {
    "name_required": "name",
    "name_too_long": "name",
    "phone_format": "phone",
    "login_taken": "phone",
    "unit_required": "unit",
    "weak_password": PASSWORD_FIELD,
    "not_found": "community",
}
PERIOD_FIELDS = {"period_invalid": "period_from", "nothing_to_certify": "period_from"}


@bp.context_processor
def volunteer_helpers():
    return {"error_message": message, "volunteers": volunteers}


@bp.before_request
def _password_first():
    """A volunteer given a temporary password at the office chooses their own first."""
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


def _me() -> Volunteer | None:
    return volunteers.volunteer_of(db.session, current_user)


def _activity(activity_id: int) -> VolunteerActivity:
    """Return an activity of the signed-in person's community; another community's is a 404."""
    activity = db.session.get(VolunteerActivity, activity_id)
    if activity is None or activity.community_id != current_user.community_id:
        abort(404)
    return activity


# --- the list of activities ------------------------------------------------------------------


@bp.get("/v/")
@resident_required
def board():
    """Open activities of the community, an urgent call first, and the volunteer's own."""
    me = _me()
    listed = volunteers.board(db.session, current_user.community_id)
    mine = {}
    if me is not None:
        mine = {
            s.activity_id: s
            for s in db.session.scalars(
                select(VolunteerSignup).where(
                    VolunteerSignup.volunteer_id == me.id,
                    VolunteerSignup.activity_id.in_([item.activity.id for item in listed] or [0]),
                )
            )
        }
    return render_template("volunteer/board.html", me=me, listed=listed, mine=mine)


@bp.get("/v/a/<int:activity_id>")
@resident_required
def activity(activity_id):
    activity = _activity(activity_id)
    me = _me()
    signup = None
    position = None
    if me is not None:
        signup = db.session.scalar(
            select(VolunteerSignup).where(
                VolunteerSignup.activity_id == activity.id, VolunteerSignup.volunteer_id == me.id
            )
        )
        if signup is not None and signup.status == SignupStatus.WAITING:
            position = volunteers.waiting_position(db.session, signup)
    return render_template(
        "volunteer/activity.html",
        activity=activity,
        me=me,
        signup=signup,
        position=position,
        counts=volunteers.counts(db.session, activity.id),
        now=utcnow(),
    )


@bp.get("/v/a/<int:activity_id>/count")
@resident_required
def count(activity_id):
    """How many answered, for the urgent call's live count (polled by the page)."""
    activity = _activity(activity_id)
    counts = volunteers.counts(db.session, activity.id)
    response = jsonify(
        signed=counts.signed, waiting=counts.waiting, checked_in=counts.checked_in,
        needed=activity.needed,
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/v/a/<int:activity_id>/signup")
@resident_required
def sign_up(activity_id):
    activity = _activity(activity_id)
    done = perform(volunteers.sign_up, activity.id)
    if done:
        if done.value.status == SignupStatus.SIGNED:
            flash(_("You have a place. Thank you! Check in on site by scanning the QR."), "success")
        else:
            flash(_("All places are taken; you are on the waiting list."), "info")
    return redirect(url_for(".activity", activity_id=activity.id))


@bp.post("/v/a/<int:activity_id>/withdraw")
@resident_required
def withdraw(activity_id):
    activity = _activity(activity_id)
    if perform(volunteers.withdraw, activity.id):
        flash(_("You have withdrawn. Your place goes to the next who waits."), "success")
    return redirect(url_for(".activity", activity_id=activity.id))


# --- registering -------------------------------------------------------------------------------


@bp.route("/v/register", methods=["GET", "POST"])
@resident_required
def register():
    """A resident of the help board registers as a volunteer: skills and times."""
    if _me() is not None:
        return redirect(url_for(".board"))
    form = VolunteerProfileForm()
    if form.validate_on_submit():
        done = perform(volunteers.register_resident, form.skills.data, form.availability.data)
        if done:
            flash(_("You are a volunteer now. Sign up for an activity below."), "success")
            return redirect(url_for(".board"))
    status = 422 if request.method == "POST" else 200
    return render_template("volunteer/register.html", form=form), status


@bp.route("/v/join", methods=["GET", "POST"])
@limiter.limit(configured_limit("AID_JOIN_RATE_LIMIT"), methods=["POST"])
def join():
    """A 下沉 cadre or party member of a unit registers; the office confirms them."""
    form = OutsideJoinForm()
    form.community.choices = [(0, _l("— choose —")), *community_choices()]
    if request.method == "GET":
        slug = (request.args.get("c") or "")[:40]
        form.community.data = db.session.scalar(select(Community.id).where(Community.slug == slug))
    form.unit.choices = unit_choices(form.community.data)
    if form.validate_on_submit():
        done = perform_public(
            volunteers.register_outside,
            form.community.data or None,
            outside_details(form),
            form.password.data or "",
            form=form,
            fields=OUTSIDE_FIELDS,
        )
        if done:
            return render_template("volunteer/joined.html", community=done.value.user.community)
    status = 422 if request.method == "POST" else 200
    return render_template("volunteer/join.html", form=form), status


@bp.get("/v/units")
def units():
    """The units of a community, for the join form's unit list (it changes with the community)."""
    community_id = request.args.get("community", type=int)
    return jsonify([{"id": i, "name": str(n)} for i, n in unit_choices(community_id)[1:]])


# --- on site: the activity's QR ---------------------------------------------------------------


@bp.get("/V/<activity_token>")  # the QR carries the URL in upper case
@resident_required
def on_site(activity_token):
    """Where the QR leads: the activity, where the volunteer stands, check in or check out."""
    try:
        activity = volunteers.activity_by_token(db.session, activity_token)
    except volunteers.VolunteerError:
        abort(404)
    if activity.community_id != current_user.community_id:
        abort(404)
    me = _me()
    signup = None
    if me is not None:
        signup = db.session.scalar(
            select(VolunteerSignup).where(
                VolunteerSignup.activity_id == activity.id, VolunteerSignup.volunteer_id == me.id
            )
        )
    return render_template(
        "volunteer/on_site.html",
        activity=activity,
        me=me,
        signup=signup,
        token=activity.token,
        counts=volunteers.counts(db.session, activity.id),
    )


@bp.post("/V/<activity_token>/in")
@resident_required
def check_in(activity_token):
    done = perform(volunteers.check_in, activity_token)
    if done:
        flash(
            _(
                "Checked in at %(time)s. Thank you for coming!",
                time=_clock(done.value.checked_in_at),
            ),
            "success",
        )
    return redirect(url_for(".on_site", activity_token=volunteers.normalise_token(activity_token)))


@bp.post("/V/<activity_token>/out")
@resident_required
def check_out(activity_token):
    done = perform(volunteers.check_out, activity_token)
    if done:
        hours = volunteers.hours_text(done.value.minutes or 0)
        flash(_("Checked out: %(hours)s hours. The office confirms them.", hours=hours), "success")
    return redirect(url_for(".on_site", activity_token=volunteers.normalise_token(activity_token)))


def _clock(moment) -> str:
    return to_local(moment).strftime("%H:%M")


@bp.get("/v/scan")
@resident_required
@csp_allow(script_src="'wasm-unsafe-eval'")
def scan():
    """Scan the activity's QR with the camera in the page (when the phone's own cannot)."""
    secure = request.is_secure or request.host.split(":")[0] in {"127.0.0.1", "localhost"}
    return render_template("volunteer/scan.html", secure=secure)


@bp.get("/v/scan/open")
@resident_required
def scan_open():
    """Open what the scanner read: an activity's QR leads to its check-in page."""
    ref = (request.args.get("ref") or "").strip()[:200]
    path = urlsplit(ref).path if "/" in ref else ref
    token = path.rstrip("/").rsplit("/", 1)[-1]
    if not token:
        flash(
            _("That QR code is not an activity's. Scan the code on the activity's notice."), "error"
        )
        return redirect(url_for(".scan"))
    return redirect(url_for(".on_site", activity_token=volunteers.normalise_token(token)))


# --- hours and certificates ------------------------------------------------------------------


@bp.route("/v/hours", methods=["GET", "POST"])
@resident_required
def hours():
    """The volunteer's hours, activity by activity, and their certificates."""
    me = _me()
    if me is None:
        return redirect(url_for(".register"))
    form = PeriodForm()
    if request.method == "GET":
        today = local_today()
        form.period_from.data = today.replace(month=1, day=1)
        form.period_until.data = today
    if form.validate_on_submit():
        done = perform(
            volunteers.issue_own_certificate,
            form.period_from.data,
            form.period_until.data,
            form=form,
            fields=PERIOD_FIELDS,
        )
        if done:
            return redirect(url_for(".certificate", serial=done.value.serial))
    certificates = db.session.scalars(
        select(VolunteerCertificate)
        .where(VolunteerCertificate.volunteer_id == me.id)
        .order_by(VolunteerCertificate.id.desc())
    ).all()
    status = 422 if request.method == "POST" else 200
    return render_template(
        "volunteer/hours.html",
        me=me,
        signups=volunteers.history(db.session, me.id),
        confirmed=volunteers.confirmed_minutes(db.session, me.id),
        certificates=certificates,
        form=form,
    ), status


@bp.get("/v/certificates/<serial>")
@resident_required
def certificate(serial):
    found = volunteers.find_certificate(db.session, serial)
    me = _me()
    if found is None or me is None or found.volunteer_id != me.id:
        abort(404)
    return render_certificate(found)


def render_certificate(certificate: VolunteerCertificate, back_url: str | None = None):
    """The printable certificate, for the volunteer and for the office alike."""
    path = url_for("volunteer.check", serial=certificate.serial)
    check_url = public_base_url().rstrip("/") + path
    return render_template(
        "volunteer/certificate.html",
        certificate=certificate,
        check_url=check_url,
        qr=qr_svg(check_url, css_class="qr", label=certificate.serial),
        kind_label=lambda value: label(ActivityKind(value)),
        volunteers=volunteers,
        back_url=back_url,
    )


@bp.get("/v/check")
@bp.get("/v/check/<serial>")
@limiter.limit(configured_limit("LOOKUP_RATE_LIMIT"))
def check(serial=None):
    """Anyone may check a certificate's serial: it shows what was certified, the name masked."""
    typed = serial or request.args.get("serial") or ""
    found = volunteers.find_certificate(db.session, typed) if typed else None
    status = 404 if typed and found is None else 200
    return render_template(
        "volunteer/check.html", typed=typed[:40], found=found, mask=volunteers.mask_name
    ), status
