"""The help board at the office: posts by state and age, moderation, confirming help given,
residents (confirming, password resets, points), cards for points, the leaderboard switch."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..aid.forms import ConfirmHelpForm, ExchangeForm, HouseholdForm, PointsForm
from ..auth.access import get_or_404, scope
from ..extensions import db
from ..inputs import parse_hours
from ..models import (
    Campaign,
    CampaignKind,
    Community,
    Funding,
    HelpCategory,
    HelpKind,
    HelpPost,
    HelpStatus,
    PointsEntry,
    Role,
    User,
)
from ..services import helpboard, points, residents
from ..services.accounts import mask_phone, normalise_phone
from ..services.helpboard import stale
from ..services.households import HouseholdError, household_label, parse_household
from . import bp
from .common import (
    is_district_admin,
    own_community_id,
    perform,
    staff_required,
    visible_communities,
)
from .forms import EmptyForm, ReasonForm
from .labels import choices, label
from .tables import Column, Filter, Listing, community_column, one_of, when_set

POINTS_FIELDS = {
    "amount_required": "amount",
    "amount_too_big": "amount",
    "below_zero": "amount",
    "reason_required": "reason",
}
EXCHANGE_FIELDS = {
    "price_min": "points_price",
    "community_funded_only": "points_price",
    "stock_min": "points_stock",
    "stock_below_exchanged": "points_stock",
}


# --- posts ------------------------------------------------------------------------------------

Author = aliased(User)
Taker = aliased(User)


def post_columns() -> list[Column]:
    columns = [
        Column("title", _l("Post"), HelpPost.title, lambda r: r.HelpPost.title),
        Column("kind", _l("Kind"), HelpPost.kind, lambda r: label(r.HelpPost.kind)),
        Column("category", _l("Help"), HelpPost.category, lambda r: label(r.HelpPost.category)),
        Column("status", _l("Status"), HelpPost.status, lambda r: label(r.HelpPost.status)),
        Column("author", _l("Posted by"), Author.name, lambda r: r.author_name),
        Column("taker", _l("Taken on by"), Taker.name, lambda r: r.taker_name or ""),
        Column(
            "created",
            _l("Posted"),
            HelpPost.created_at,
            lambda r: r.HelpPost.created_at,
            "datetime",
        ),
        Column("points", _l("Points"), HelpPost.points, lambda r: r.HelpPost.points, "int"),
        Column(
            "hidden",
            _l("Hidden"),
            HelpPost.hidden,
            lambda r: r.HelpPost.hidden_reason if r.HelpPost.hidden else "",
        ),
    ]
    return community_column(columns)


@bp.get("/aid/posts")
@staff_required
def aid_posts():
    """Requests and offers by state and age; open requests older than a day stand out."""
    stmt = (
        scope(
            select(
                HelpPost,
                Author.name.label("author_name"),
                Taker.name.label("taker_name"),
                Community.name.label("community_name"),
            ),
            HelpPost,
        )
        .join(Author, HelpPost.author_id == Author.id)
        .outerjoin(Taker, HelpPost.taker_id == Taker.id)
        .join(Community, HelpPost.community_id == Community.id)
    )
    listing = Listing(
        stmt,
        post_columns(),
        filters=(
            one_of("status", HelpPost.status, HelpStatus),
            one_of("kind", HelpPost.kind, HelpKind),
            one_of("category", HelpPost.category, HelpCategory),
            when_set("stale", lambda: stale(HelpPost)),
            when_set("hidden", HelpPost.hidden.is_(True)),
        ),
        search=(HelpPost.title, HelpPost.details, HelpPost.area, Author.name, Taker.name),
        default_sort="-created",
        tiebreak=HelpPost.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("help posts"))
    base = scope(select(func.count(HelpPost.id)), HelpPost)
    counts = {
        "stale": db.session.scalar(base.where(stale(HelpPost))),
        "done": db.session.scalar(base.where(HelpPost.status == HelpStatus.DONE)),
    }
    return render_template(
        "admin/aid/posts.html",
        listing=listing,
        counts=counts,
        statuses=choices(HelpStatus),
        kinds=choices(HelpKind),
        categories=choices(HelpCategory),
        is_stale=helpboard.is_stale,
    )


def show_post(post, status=200, **forms):
    forms.setdefault("confirm_form", ConfirmHelpForm(formdata=None))
    forms.setdefault("hide_form", ReasonForm(formdata=None))
    return render_template(
        "admin/aid/post.html",
        post=post,
        acts_for=current_user.role == Role.STAFF and current_user.community_id == post.community_id,
        cancellable=helpboard.CANCELLABLE,
        stale=helpboard.is_stale(post),
        empty_form=EmptyForm(formdata=None),
        rates=points.POINTS_PER_HOUR,
        earned=points.points_for,
        **forms,
    ), status


@bp.get("/aid/posts/<int:post_id>")
@staff_required
def aid_post(post_id):
    return show_post(get_or_404(HelpPost, post_id))


@bp.post("/aid/posts/<int:post_id>/confirm")
@staff_required
def aid_post_confirm(post_id):
    post = get_or_404(HelpPost, post_id)
    form = ConfirmHelpForm()
    if form.validate_on_submit():
        done = perform(
            helpboard.confirm,
            post,
            parse_hours(form.hours.data),
            form=form,
            fields={"minutes_range": "hours"},
        )
        if done:
            flash(
                _(
                    "Confirmed: %(points)s points for %(name)s.",
                    points=done.value.points,
                    name=done.value.helper.name,
                ),
                "success",
            )
            return redirect(url_for("admin.aid_post", post_id=post.id))
    return show_post(post, 422, confirm_form=form)


@bp.post("/aid/posts/<int:post_id>/hide")
@staff_required
def aid_post_hide(post_id):
    post = get_or_404(HelpPost, post_id)
    form = ReasonForm()
    if form.validate_on_submit():
        if perform(
            helpboard.hide,
            post,
            form.reason.data,
            form=form,
            fields={"reason_required": "reason"},
            success=_("The post is off the board."),
        ):
            return redirect(url_for("admin.aid_post", post_id=post.id))
    return show_post(post, 422, hide_form=form)


@bp.post("/aid/posts/<int:post_id>/unhide")
@staff_required
def aid_post_unhide(post_id):
    post = get_or_404(HelpPost, post_id)
    if EmptyForm().validate_on_submit():
        perform(helpboard.unhide, post, success=_("The post is back on the board."))
    return redirect(url_for("admin.aid_post", post_id=post.id))


# --- residents --------------------------------------------------------------------------------

STATE_WORDS = {
    "pending": _l("Waiting for confirmation"),
    "confirmed": _l("Confirmed"),
    "disabled": _l("Disabled"),
    "no_phone": _l("No phone: served at the office"),
}


def resident_state(user: User) -> str:
    return str(STATE_WORDS[residents.state_of(user)])


def phone_text(user: User) -> str:
    """A resident's phone for a list; for one without a phone, whom to call, masked."""
    if user.phone or not user.contact_phone:
        return user.phone or ""
    return _(
        "No phone · %(name)s %(phone)s",
        name=user.contact_name,
        phone=mask_phone(user.contact_phone),
    )


def resident_written_any_way(q: str) -> list:
    """Find a resident by a phone typed with spaces or dashes, or a household as 3栋2单元501."""
    found = []
    phone = normalise_phone(q)
    if phone.isdigit() and len(phone) >= 4:
        found.append(User.phone.contains(phone, autoescape=True))
    try:
        found.append(User.household == parse_household(q))
    except HouseholdError:
        pass
    return found


def resident_columns() -> list[Column]:
    columns = [
        Column("name", _l("Name"), User.name, lambda r: r.User.name),
        Column("phone", _l("Phone"), User.phone, lambda r: phone_text(r.User)),
        Column(
            "household",
            _l("Household"),
            User.household,
            lambda r: household_label(r.User.household),
        ),
        Column("state", _l("Status"), User.confirmed_at, lambda r: resident_state(r.User)),
        Column("helped", _l("Help given"), residents.HELPED, lambda r: r.helped, "int"),
        Column("earned", _l("Points earned"), residents.EARNED, lambda r: r.earned, "int"),
        Column(
            "balance",
            _l("Points now"),
            User.points_balance,
            lambda r: r.User.points_balance,
            "int",
        ),
        Column("joined", _l("Joined"), User.created_at, lambda r: r.User.created_at, "datetime"),
    ]
    return community_column(columns)


@bp.get("/aid/residents")
@staff_required
def aid_residents():
    """Residents: who waits for confirmation, and the points report per resident."""
    stmt = (
        scope(
            select(
                User,
                residents.EARNED.label("earned"),
                residents.HELPED.label("helped"),
                Community.name.label("community_name"),
            ),
            User,
        )
        .join(Community, User.community_id == Community.id)
        .where(User.role == Role.RESIDENT)
    )
    listing = Listing(
        stmt,
        resident_columns(),
        filters=(Filter("state", residents.STATES.get),),
        search=(User.name, User.phone, User.household),
        exact=resident_written_any_way,
        default_sort="-joined",
        tiebreak=User.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("residents points"))
    pending = db.session.scalar(
        scope(select(func.count(User.id)), User).where(
            User.role == Role.RESIDENT, residents.STATES["pending"]
        )
    )
    return render_template(
        "admin/aid/residents.html",
        listing=listing,
        pending=pending,
        states=[(key, str(words)) for key, words in STATE_WORDS.items()],
        resident_state=resident_state,
        phone_text=phone_text,
        acts_for=current_user.role == Role.STAFF,
    )


def _resident(resident_id) -> User:
    user = get_or_404(User, resident_id)
    if user.role != Role.RESIDENT:
        abort(404)
    return user


def show_resident(user, status=200, **forms):
    forms.setdefault("points_form", PointsForm(formdata=None))
    forms.setdefault("household_form", HouseholdForm(formdata=None, household=user.household))
    entries = db.session.scalars(
        select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id.desc())
    ).all()
    posts = db.session.scalars(
        select(HelpPost)
        .where((HelpPost.author_id == user.id) | (HelpPost.taker_id == user.id))
        .order_by(HelpPost.id.desc())
        .limit(50)
    ).all()
    acts = current_user.role == Role.STAFF and current_user.community_id == user.community_id
    return render_template(
        "admin/aid/resident.html",
        resident=user,
        state=resident_state(user),
        entries=entries,
        posts=posts,
        empty_form=EmptyForm(formdata=None),
        acts_for=acts,
        offers=points.exchangeable_campaigns(db.session, user.community_id) if acts else [],
        may_print=current_user.role != Role.STREET_STAFF,  # the passbook is the office's
        **forms,
    ), status


@bp.get("/aid/residents/<int:resident_id>")
@staff_required
def aid_resident(resident_id):
    return show_resident(_resident(resident_id))


@bp.post("/aid/residents/<int:resident_id>/confirm")
@staff_required
def aid_resident_confirm(resident_id):
    user = _resident(resident_id)
    if EmptyForm().validate_on_submit():
        perform(
            residents.confirm,
            user,
            success=_("%(name)s is confirmed and can sign in now.", name=user.name),
        )
    return redirect(url_for("admin.aid_resident", resident_id=user.id))


@bp.post("/aid/residents/<int:resident_id>/active/<action>")
@staff_required
def aid_resident_active(resident_id, action):
    user = _resident(resident_id)
    if action not in ("enable", "disable"):
        abort(404)
    if EmptyForm().validate_on_submit():
        perform(
            residents.set_active,
            user,
            action == "enable",
            success=_("The login is on again.") if action == "enable" else _("The login is off."),
        )
    return redirect(url_for("admin.aid_resident", resident_id=user.id))


@bp.post("/aid/residents/<int:resident_id>/password")
@staff_required
def aid_resident_password(resident_id):
    """Set a temporary password and show it once: the resident changes it at next sign-in."""
    user = _resident(resident_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.aid_resident", resident_id=user.id))
    done = perform(residents.reset_password, user)
    if not done:
        return redirect(url_for("admin.aid_resident", resident_id=user.id))
    response, status = show_resident(user, temporary=done.value)
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/aid/residents/<int:resident_id>/points")
@staff_required
def aid_resident_points(resident_id):
    user = _resident(resident_id)
    form = PointsForm()
    if form.validate_on_submit():
        if perform(
            points.adjust,
            user,
            form.amount.data,
            form.reason.data or "",
            form=form,
            fields=POINTS_FIELDS,
            success=_("The points are recorded."),
        ):
            return redirect(url_for("admin.aid_resident", resident_id=user.id))
    return show_resident(user, 422, points_form=form)


@bp.post("/aid/residents/<int:resident_id>/household")
@staff_required
def aid_resident_household(resident_id):
    user = _resident(resident_id)
    form = HouseholdForm()
    if form.validate_on_submit():
        if perform(
            residents.set_household,
            user,
            form.household.data or "",
            form=form,
            fields={"household_required": "household", "household_format": "household"},
            success=_("The household is saved."),
        ):
            return redirect(url_for("admin.aid_resident", resident_id=user.id))
    return show_resident(user, 422, household_form=form)


# --- cards for points and the leaderboard ---------------------------------------------------


@bp.get("/aid/exchange")
@staff_required
def aid_exchange():
    """Community-funded card campaigns and how many points their cards cost."""
    campaigns = db.session.scalars(
        scope(select(Campaign), Campaign)
        .where(Campaign.funding == Funding.COMMUNITY, Campaign.kind == CampaignKind.CARD)
        .order_by(Campaign.id.desc())
    ).all()
    rows = [
        (
            c,
            ExchangeForm(formdata=None, obj=c, prefix=f"c{c.id}"),
            points.exchanged_count(db.session, c.id),
        )
        for c in campaigns
    ]
    return render_template(
        "admin/aid/exchange.html",
        rows=rows,
        communities=_communities(),
        empty_form=EmptyForm(formdata=None),
    )


def _communities() -> list[Community]:
    return visible_communities()


@bp.post("/aid/campaigns/<int:campaign_id>/exchange")
@staff_required
def aid_campaign_exchange(campaign_id):
    campaign = get_or_404(Campaign, campaign_id)
    form = ExchangeForm(prefix=f"c{campaign.id}")
    if form.validate_on_submit():
        perform(
            points.set_exchange,
            campaign,
            form.points_price.data,
            form.points_stock.data,
            form=form,
            fields=EXCHANGE_FIELDS,
            success=_("Saved."),
        )
    for errors in form.errors.values():
        for error in errors:
            flash(f"{campaign.name}: {error}", "error")
    return redirect(url_for("admin.aid_exchange"))


@bp.post("/aid/communities/<int:community_id>/leaderboard/<state>")
@staff_required
def aid_leaderboard(community_id, state):
    if state not in ("on", "off"):
        abort(404)
    if not is_district_admin() and community_id != own_community_id():
        abort(404)
    community = db.session.get(Community, community_id) or abort(404)
    if EmptyForm().validate_on_submit():
        perform(
            residents.set_leaderboard,
            community,
            state == "on",
            success=_("Residents see the leaderboard.")
            if state == "on"
            else _("The leaderboard is hidden from residents."),
        )
    return redirect(url_for("admin.aid_exchange"))
