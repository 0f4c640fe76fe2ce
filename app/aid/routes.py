"""Residents' help board: join, the board, posting, taking on, marking done, points, exchange.

Pages are phone-first in the residents' light layout. The board shows no phone and no
household; the two people of a post see each other's only once it is taken on.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from ..admin.common import check_too, community_choices, message, perform, perform_public
from ..admin.labels import choices
from ..admin.paper import passbook_page
from ..auth.access import roles_required
from ..extensions import configured_limit, db, limiter
from ..inputs import optional_id
from ..models import (
    Card,
    Community,
    HelpCategory,
    HelpKind,
    HelpPost,
    HelpStatus,
    PointsEntry,
    Role,
)
from ..services import helpboard, points, residents
from ..services.accounts import mask_phone
from ..services.helpboard import CANCELLABLE, shown_text
from ..templating import localdate
from . import bp
from .forms import POST_FIELDS, PostForm, ResidentJoinForm

resident_required = roles_required(Role.RESIDENT)

# the name of a form field, not a password
PASSWORD_FIELD = "password"  # noqa: S105  # nosec B105

JOIN_FIELDS = {
    "community_required": "community",
    "name_required": "name",
    "name_too_long": "name",
    "phone_format": "phone",
    "login_taken": "phone",
    "household_required": "household",
    "household_format": "household",
    "weak_password": PASSWORD_FIELD,
}


def _per_resident() -> str:
    return f"aid:{current_user.get_id() if current_user.is_authenticated else request.remote_addr}"


@bp.context_processor
def aid_helpers():
    return {"error_message": message, "shown_text": helpboard.shown_text}


# --- joining ----------------------------------------------------------------------------------


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(
    configured_limit("AID_JOIN_RATE_LIMIT"),
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 200,  # only a sign-up that was taken
)
def join():
    """A resident signs up with a phone and a household; staff confirm them at the office."""
    form = ResidentJoinForm()
    form.community.choices = [(0, _l("— choose —")), *community_choices()]
    if request.method == "GET":
        slug = request.args.get("c", "")
        chosen = db.session.scalar(select(Community.id).where(Community.slug == slug))
        form.community.data = chosen or 0
    if form.validate_on_submit():
        done = perform_public(
            residents.join,
            form.community.data or None,
            form.name.data or "",
            form.phone.data or "",
            form.household.data or "",
            form.password.data or "",
            form=form,
            fields=JOIN_FIELDS,
        )
        if done:
            return render_template("aid/joined.html", community=done.value.community)
    elif request.method == "POST":
        check_too(
            lambda: residents.check_join(
                db.session,
                form.community.data or None,
                form.name.data or "",
                form.phone.data or "",
                form.household.data or "",
                form.password.data or "",
            ),
            form,
            JOIN_FIELDS,
        )
    status = 422 if request.method == "POST" else 200
    return render_template("aid/join.html", form=form), status


# --- the board --------------------------------------------------------------------------------


def _visible(post: HelpPost) -> bool:
    """Tell whether the signed-in resident may open a post: own community, not hidden to them."""
    if post.community_id != current_user.community_id:
        return False
    return not post.hidden or current_user.id in (post.author_id, post.taker_id)


def _load(post_id: int) -> HelpPost:
    post = db.session.get(HelpPost, post_id)
    if post is None or not _visible(post):
        abort(404)
    return post


@bp.get("/")
@resident_required
def board():
    """Open requests and offers of the resident's community, and the resident's own."""
    kind = request.args.get("kind", "")
    category = request.args.get("category", "")
    stmt = (
        select(HelpPost)
        .where(
            HelpPost.community_id == current_user.community_id,
            HelpPost.status == HelpStatus.OPEN,
            HelpPost.hidden.is_(False),
        )
        .order_by(HelpPost.created_at.desc(), HelpPost.id.desc())
        .limit(100)
    )
    if kind in {k.value for k in HelpKind}:
        stmt = stmt.where(HelpPost.kind == kind)
    if category in {c.value for c in HelpCategory}:
        stmt = stmt.where(HelpPost.category == category)
    mine = db.session.scalars(
        select(HelpPost)
        .where(
            or_(HelpPost.author_id == current_user.id, HelpPost.taker_id == current_user.id),
            HelpPost.status.in_([HelpStatus.OPEN, HelpStatus.TAKEN, HelpStatus.DONE]),
        )
        .order_by(HelpPost.created_at.desc())
    ).all()
    return render_template(
        "aid/board.html",
        posts=db.session.scalars(stmt).all(),
        mine=mine,
        kind=kind,
        category=category,
        categories=choices(HelpCategory),
    )


@bp.route("/new", methods=["GET", "POST"])
@resident_required
@limiter.limit(configured_limit("AID_POST_RATE_LIMIT"), methods=["POST"], key_func=_per_resident)
def post_new():
    form = PostForm()
    form.set_choices(choices(HelpCategory))
    if request.method == "GET" and request.args.get("kind") == HelpKind.OFFER.value:
        form.kind.data = HelpKind.OFFER.value
    details = helpboard.PostDetails(
        kind=form.kind.data or "",
        category=form.category.data or "",
        title=form.title.data or "",
        details=form.details.data or "",
        when_text=form.when_text.data or "",
        area=form.area.data or "",
    )
    if form.validate_on_submit():
        done = perform(helpboard.create_post, details, form=form, fields=POST_FIELDS)
        if done:
            flash(_("Your post is on the board. Neighbours can see it now."), "success")
            if shown_text(done.value, None).masked:
                flash(
                    _(
                        "The phone numbers and rooms you wrote are hidden on the board; the "
                        "neighbour who takes it on will see them."
                    ),
                    "info",
                )
            return redirect(url_for("aid.post", post_id=done.value.id))
    elif request.method == "POST":
        check_too(details.cleaned, form, POST_FIELDS)
    status = 422 if request.method == "POST" else 200
    return render_template("aid/new.html", form=form), status


@bp.get("/posts/<int:post_id>")
@resident_required
def post(post_id):
    post = _load(post_id)
    contact = None
    if helpboard.sees_contact(post, current_user):
        other = post.taker if current_user.id == post.author_id else post.author
        contact = {
            "name": other.name,
            "phone": other.phone,
            "household": other.household,
            # a resident without a phone (代办): whom to call instead
            "contact_name": other.contact_name,
            "contact_phone": other.contact_phone,
        }
    return render_template(
        "aid/post.html",
        post=post,
        contact=contact,
        is_author=post.author_id == current_user.id,
        is_taker=post.taker_id == current_user.id,
        is_helped=post.helped_id == current_user.id,
        has_contact=shown_text(post, None).masked,
        mask_phone=mask_phone,
    )


def _move(post_id, service, success):
    post = _load(post_id)
    done = perform(service, post)
    if done:
        flash(success, "success")
    return redirect(url_for("aid.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/take")
@resident_required
@limiter.limit(configured_limit("AID_TAKE_RATE_LIMIT"), key_func=_per_resident)
def take(post_id):
    return _move(
        post_id,
        helpboard.take,
        _("You have taken this on. Call or visit each other to agree the details."),
    )


@bp.post("/posts/<int:post_id>/done")
@resident_required
def done(post_id):
    return _move(
        post_id,
        helpboard.mark_done,
        _("Thank you for saying so. The office will confirm it and award the points."),
    )


@bp.post("/posts/<int:post_id>/release")
@resident_required
def release(post_id):
    return _move(
        post_id,
        helpboard.release,
        _("You have given it back; it is on the board again for another neighbour."),
    )


@bp.route("/posts/<int:post_id>/cancel", methods=["GET", "POST"])
@resident_required
def cancel(post_id):
    """Ask once (a neighbour may have taken it on), then cancel the post."""
    if request.method == "POST":
        return _move(post_id, helpboard.cancel, _("The post is cancelled."))
    post = _load(post_id)
    if post.author_id != current_user.id or post.status not in CANCELLABLE:
        return redirect(url_for("aid.post", post_id=post.id))
    return render_template(
        "aid/confirm.html",
        title=_("Cancel this post?"),
        subject=shown_text(post, current_user).title,
        warning=(
            _(
                "%(name)s has taken it on and will see that it is cancelled. "
                "Please tell them yourself too.",
                name=post.taker.name,
            )
            if post.taker_id
            else _("It leaves the board, and it cannot be put back.")
        ),
        action=url_for("aid.cancel", post_id=post.id),
        button=_("Yes, cancel it"),
        back=url_for("aid.post", post_id=post.id),
        back_text=_("No, keep it"),
    )


# --- points -----------------------------------------------------------------------------------


@bp.get("/points")
@resident_required
def my_points():
    """The resident's balance, ledger, cards to exchange for, their cards and the leaderboard."""
    entries = db.session.scalars(
        select(PointsEntry)
        .where(PointsEntry.user_id == current_user.id)
        .order_by(PointsEntry.id.desc())
        .limit(100)
    ).all()
    cards = db.session.scalars(
        select(Card)
        .join(PointsEntry, PointsEntry.card_id == Card.id)
        .where(PointsEntry.user_id == current_user.id)
        .order_by(Card.id.desc())
    ).all()
    by_staff = set(
        db.session.scalars(
            select(PointsEntry.card_id).where(
                PointsEntry.user_id == current_user.id,
                PointsEntry.card_id.is_not(None),
                PointsEntry.on_behalf_by_id.is_not(None),
            )
        )
    )
    new_card = optional_id(request.args.get("new"))
    community = current_user.community
    return render_template(
        "aid/points.html",
        entries=entries,
        cards=cards,
        by_staff=by_staff,
        new_card=next((c for c in cards if c.id == new_card), None),
        offers=points.exchangeable_campaigns(db.session, current_user.community_id),
        leaders=points.leaderboard(db.session, community.id) if community.leaderboard_on else None,
    )


@bp.get("/points/passbook")
@resident_required
def my_passbook():
    """The resident's own 爱心存折 to print: A5, or A4 (`?paper=a4`)."""
    return passbook_page(
        current_user._get_current_object(),
        paper_url=url_for("aid.my_passbook"),
        back_url=url_for("aid.my_points") + "#ledger",
    )


@bp.route("/exchange/<int:campaign_id>", methods=["GET", "POST"])
@resident_required
def exchange(campaign_id):
    """Ask once what the points buy and what is left after, then exchange them for the card."""
    if request.method == "GET":
        offers = points.exchangeable_campaigns(db.session, current_user.community_id)
        campaign = next((c for c, _left in offers if c.id == campaign_id), None)
        if campaign is None:  # no longer on offer since the page was loaded
            flash(message(points.PointsError("not_exchangeable")), "error")
            return redirect(url_for("aid.my_points") + "#exchange")
        balance = current_user.points_balance
        return render_template(
            "aid/confirm.html",
            title=_("Exchange %(points)s points for this card?", points=campaign.points_price),
            subject=campaign.name,
            facts=[
                (_("Discount"), campaign.default_rule_text),
                (
                    _("Valid"),
                    " – ".join(map(localdate, (campaign.valid_from, campaign.valid_until))),
                ),
                (_("Points now"), str(balance)),
                (_("Points after"), str(balance - campaign.points_price)),
            ],
            warning=_("Points exchanged are not given back."),
            action=url_for("aid.exchange", campaign_id=campaign.id),
            button=_("Yes, exchange %(points)s points", points=campaign.points_price),
            back=url_for("aid.my_points") + "#exchange",
            back_text=_("Not now"),
        )
    done = perform(points.exchange, campaign_id)
    if done:
        flash(_("Done: the card is yours. Open it below and keep the link."), "success")
        return redirect(url_for("aid.my_points", new=done.value.id) + "#new-card")
    return redirect(url_for("aid.my_points") + "#exchange")
