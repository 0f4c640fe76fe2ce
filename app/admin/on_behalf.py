"""代办 at the office: a resident without a phone, and what staff do for a resident after a
phone call or a visit (post a request, say the help was given, cancel, exchange points for a
card printed on the spot). Community staff only, for residents of their own community: the
services refuse anyone else (`services.on_behalf`), and other communities' rows are 404s."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..aid.forms import POST_FIELDS, NoPhoneResidentForm, PostForm
from ..auth.access import get_or_404, roles_required
from ..database import write_transaction
from ..extensions import db
from ..models import Card, HelpCategory, HelpPost, PointsEntry, PointsKind, Role, User
from ..services import helpboard, on_behalf, waves
from ..services.cards import PrintedCard, record_card_print, where_it_works
from ..services.qr import card_qr_svg
from ..templating import public_base_url
from . import bp
from .aid import _resident
from .common import perform
from .forms import EmptyForm
from .labels import choices

on_behalf_required = roles_required(Role.STAFF)
print_required = roles_required(Role.STAFF, Role.DISTRICT_ADMIN)

RESIDENT_FIELDS = {
    "name_required": "name",
    "name_too_long": "name",
    "household_required": "household",
    "household_format": "household",
    "already_added": "name",
    "contact_name_required": "contact_name",
    "contact_name_too_long": "contact_name",
    "contact_phone_format": "contact_phone",
}


@bp.route("/aid/residents/new", methods=["GET", "POST"])
@on_behalf_required
def aid_resident_new():
    """Add a resident who has no phone: staff then act on their behalf."""
    form = NoPhoneResidentForm()
    if form.validate_on_submit():
        done = perform(
            on_behalf.add_resident,
            form.name.data or "",
            form.household.data or "",
            form.contact_name.data or "",
            form.contact_phone.data or "",
            form=form,
            fields=RESIDENT_FIELDS,
        )
        if done:
            flash(
                _(
                    "%(name)s is added. Post a request for them whenever they ask.",
                    name=done.value.name,
                ),
                "success",
            )
            return redirect(url_for("admin.aid_resident", resident_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/aid/resident_new.html", form=form), status


@bp.route("/aid/residents/<int:resident_id>/post", methods=["GET", "POST"])
@on_behalf_required
def aid_post_for(resident_id):
    """Post on the board for a resident who phoned or was visited."""
    user = _resident(resident_id)
    form = PostForm()
    form.set_choices(choices(HelpCategory))
    if form.validate_on_submit():
        details = helpboard.PostDetails(
            kind=form.kind.data or "",
            category=form.category.data or "",
            title=form.title.data or "",
            details=form.details.data or "",
            when_text=form.when_text.data or "",
            area=form.area.data or "",
        )
        done = perform(on_behalf.post_for, user, details, form=form, fields=POST_FIELDS)
        if done:
            flash(_("The post is on the board for %(name)s.", name=user.name), "success")
            return redirect(url_for("admin.aid_post", post_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/aid/post_for.html", form=form, resident=user), status


@bp.post("/aid/posts/<int:post_id>/done")
@on_behalf_required
def aid_post_done_for(post_id):
    """Say for the one helped that the help was given (they told the office)."""
    post = get_or_404(HelpPost, post_id)
    if EmptyForm().validate_on_submit():
        perform(
            on_behalf.done_for,
            post,
            success=_("Marked as given for them. Confirm the time next to award the points."),
        )
    return redirect(url_for("admin.aid_post", post_id=post.id))


@bp.post("/aid/posts/<int:post_id>/cancel")
@on_behalf_required
def aid_post_cancel_for(post_id):
    """Cancel a post for its author (no longer needed)."""
    post = get_or_404(HelpPost, post_id)
    if EmptyForm().validate_on_submit():
        perform(on_behalf.cancel_for, post, success=_("The post is cancelled for them."))
    return redirect(url_for("admin.aid_post", post_id=post.id))


@bp.post("/aid/residents/<int:resident_id>/exchange/<int:campaign_id>")
@on_behalf_required
def aid_exchange_for(resident_id, campaign_id):
    """Exchange a resident's points for a card, then print it at once."""
    user = _resident(resident_id)
    if EmptyForm().validate_on_submit():
        done = perform(on_behalf.exchange_for, user, campaign_id)
        if done:
            flash(_("Done: print the card and hand it over."), "success")
            return redirect(url_for("admin.card_print", card_id=done.value.id))
    return redirect(url_for("admin.aid_resident", resident_id=user.id) + "#on-behalf")


@bp.get("/cards/<int:card_id>/print")
@print_required
def card_print(card_id):
    """One card on an A4 sheet like a batch's, to print and cut: a card just exchanged for a
    resident's points at the office, or one card printed again."""
    card = get_or_404(Card, card_id)
    entry = db.session.scalar(
        select(PointsEntry).where(
            PointsEntry.card_id == card.id, PointsEntry.kind == PointsKind.EXCHANGED
        )
    )
    resident = db.session.get(User, entry.user_id) if entry is not None else None
    campaign = card.campaign
    where, shops = where_it_works(db.session, campaign)
    printed = PrintedCard(card.serial, card.pin, card_qr_svg(card, public_base_url()))
    with write_transaction(db.session):
        record_card_print(
            db.session,
            current_user._get_current_object(),
            card,
            resident.id if resident is not None else None,
        )
    return render_template(
        "admin/cards/print_one.html",
        card=card,
        printed=printed,
        resident=resident,
        campaign=campaign,
        where=where,
        shops=shops,
        valid=waves.valid_window(campaign, card.batch),
    )
