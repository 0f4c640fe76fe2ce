"""Campaigns and the shops taking part in them (offers)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from ..auth.access import get_or_404, scope
from ..extensions import db
from ..models import (
    Campaign,
    CampaignStatus,
    Card,
    CardBatch,
    CardStatus,
    Community,
    Funding,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
)
from ..rules import Rule
from ..services import campaigns as service
from ..services.campaigns import CampaignDetails
from . import bp
from .common import (
    check_too,
    community_choices,
    own_community_id,
    perform,
    sees_many,
    staff_required,
)
from .forms import AddOffersForm, BatchForm, CampaignForm, EmptyForm, OfferForm
from .labels import choices, label
from .rule_box import rule_box
from .tables import Column, Listing, community_column, one_of

FIELD_OF = {
    "community_required": "community",
    "name_required": "name",
    "name_too_long": "name",
    "code_format": "code",
    "code_locked": "code",
    "kind_invalid": "kind",
    "kind_locked": "kind",
    "funding_invalid": "funding",
    "funding_locked": "funding",
    "dates_required": "valid_from",
    "dates_order": "valid_until",
    "dates_range": "valid_from",
    "dates_too_long": "valid_until",
    "already_over": "valid_until",
    "uses_min": "uses_per_card",
    "uses_too_many": "uses_per_card",
    "daily_min": "daily_uses_per_merchant",
    "daily_too_many": "daily_uses_per_merchant",
    "household_min": "cards_per_household",
    "household_too_many": "cards_per_household",
    "budget_negative": "budget",
    "budget_too_high": "budget",
    "name_taken": "name",
    "code_taken": "code",
    "window_excludes_uses": "valid_from",
    "coupon_one_use": "uses_per_card",
    "uses_below_used": "uses_per_card",
    "daily_below_used": "daily_uses_per_merchant",
    "household_below_issued": "cards_per_household",
    "budget_below_spent": "budget",
    "rule_required": "rule",
    "bad_rule": "rule",
    "merchant_required": "merchants",
}


def details_of(form: CampaignForm) -> CampaignDetails:
    return CampaignDetails(
        name=form.name.data or "",
        code=form.code.data or "",
        kind=form.kind.data or "",
        funding=form.funding.data or "",
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        uses_per_card=form.uses_per_card.data,
        daily_uses_per_merchant=form.daily_uses_per_merchant.data,
        cards_per_household=form.cards_per_household.data,
        budget_fen=form.budget.data,
        rule_text=form.rule.data or "",
        description=form.description.data or "",
    )


# --- the list -------------------------------------------------------------------------------


def _valid_from(campaign):
    return campaign.valid_from


def _valid_until(campaign):
    return campaign.valid_until


def campaign_columns() -> list[Column]:
    columns = [
        Column("name", _l("Campaign"), Campaign.name, lambda c: c.name),
        Column("kind", _l("Kind"), Campaign.kind, lambda c: label(c.kind)),
        Column("status", _l("Status"), Campaign.status, lambda c: label(c.status)),
        Column("valid_from", _l("First day"), Campaign.valid_from, lambda c: c.valid_from, "date"),
        Column(
            "valid_until", _l("Last day"), Campaign.valid_until, lambda c: c.valid_until, "date"
        ),
        Column("funding", _l("Paid by"), Campaign.funding, lambda c: label(c.funding)),
        Column("rule", _l("Default rule"), None, lambda c: c.default_rule_text),
        Column("budget", _l("Budget"), Campaign.budget_fen, lambda c: c.budget_fen, "money"),
        Column("spent", _l("Discounts"), Campaign.spent_fen, lambda c: c.spent_fen, "money"),
    ]
    return community_column(columns, lambda c: c.community.name)


@bp.get("/campaigns")
@staff_required
def campaigns():
    stmt = scope(select(Campaign), Campaign).join(Community)
    listing = Listing(
        stmt,
        campaign_columns(),
        filters=(one_of("status", Campaign.status, CampaignStatus),),
        search=(Campaign.name, Campaign.code, Campaign.description),
        default_sort="-valid_from",
        tiebreak=Campaign.id,
    )
    if listing.export_format:
        return listing.export(_("campaigns"))
    return render_template(
        "admin/campaigns/list.html", listing=listing, statuses=choices(CampaignStatus)
    )


# --- creating and changing ------------------------------------------------------------------


def _campaign_form(obj=None) -> CampaignForm:
    form = CampaignForm(obj=obj)
    form.set_communities(community_choices(), sees_many() and obj is None)
    form.set_choices()
    if obj is not None and request.method == "GET":
        form.rule.data = obj.default_rule_text
        form.budget.data = obj.budget_fen
        form.kind.data = obj.kind.value
        form.funding.data = obj.funding.value
    return form


@bp.route("/campaigns/new", methods=["GET", "POST"])
@staff_required
def campaign_new():
    form = _campaign_form()
    if request.method == "GET":
        form.kind.data = "card"
        form.funding.data = "merchant"
    box = rule_box(form.rule)
    if not box.handled and form.validate_on_submit():
        community_id = own_community_id(form.community.data if sees_many() else None)
        done = perform(service.create, community_id, details_of(form), form=form, fields=FIELD_OF)
        if done:
            flash(_("The campaign is saved as a draft. Add shops, then start it."), "success")
            return redirect(url_for("admin.campaign", campaign_id=done.value.id))
    elif not box.handled and request.method == "POST":
        check_too(details_of(form).cleaned, form, FIELD_OF)
    status = 422 if request.method == "POST" and not box.handled else 200
    return render_template("admin/campaigns/form.html", form=form, box=box, campaign=None), status


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@staff_required
def campaign_edit(campaign_id):
    campaign = get_or_404(Campaign, campaign_id)
    if campaign.status == CampaignStatus.ENDED:
        flash(_("This campaign has ended and can no longer be changed."), "error")
        return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    form = _campaign_form(campaign)
    box = rule_box(form.rule)
    if not box.handled and form.validate_on_submit():
        if perform(
            service.update,
            campaign,
            details_of(form),
            form=form,
            fields=FIELD_OF,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    elif not box.handled and request.method == "POST":
        check_too(details_of(form).cleaned, form, FIELD_OF)
    status = 422 if request.method == "POST" and not box.handled else 200
    usage = service.usage(db.session, campaign)
    return render_template(
        "admin/campaigns/form.html", form=form, box=box, campaign=campaign, usage=usage
    ), status


@bp.get("/campaigns/<int:campaign_id>")
@staff_required
def campaign(campaign_id):
    campaign = get_or_404(Campaign, campaign_id)
    offers = db.session.execute(
        select(Offer, Merchant)
        .join(Merchant, Offer.merchant_id == Merchant.id)
        .where(Offer.campaign_id == campaign.id)
        .order_by(Offer.status, Merchant.category, Merchant.name)
    ).all()
    batches = db.session.scalars(
        select(CardBatch).where(CardBatch.campaign_id == campaign.id).order_by(CardBatch.id.desc())
    ).all()
    issued_by_batch = dict(
        db.session.execute(
            select(Card.batch_id, func.count(Card.id))
            .where(Card.campaign_id == campaign.id, Card.status != CardStatus.NEW)
            .group_by(Card.batch_id)
        ).all()
    )
    cards_by_status = dict(
        db.session.execute(
            select(Card.status, func.count(Card.id))
            .where(Card.campaign_id == campaign.id)
            .group_by(Card.status)
        ).all()
    )
    return render_template(
        "admin/campaigns/detail.html",
        campaign=campaign,
        offers=offers,
        default_rule=Rule.from_dict(campaign.default_rule),
        batches=batches,
        issued_by_batch=issued_by_batch,
        cards_by_status=cards_by_status,
        card_statuses=list(CardStatus),
        batch_form=BatchForm(formdata=None),
        empty_form=EmptyForm(formdata=None),
        usage=service.usage(db.session, campaign),
        community_funded=campaign.funding == Funding.COMMUNITY,
    )


CAMPAIGN_ACTIONS = {
    "start": _l("The campaign is running: cards can be used at the shops taking part."),
    "pause": _l("The campaign is paused: shops refuse its cards until you resume it."),
    "resume": _l("The campaign is running again."),
    "end": _l("The campaign has ended. Its cards, uses and figures stay."),
}


@bp.post("/campaigns/<int:campaign_id>/<any(start, pause, resume, end):action>")
@staff_required
def campaign_status(campaign_id, action):
    campaign = get_or_404(Campaign, campaign_id)
    if EmptyForm().validate_on_submit():
        perform(service.change_status, campaign, action, success=str(CAMPAIGN_ACTIONS[action]))
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/delete")
@staff_required
def campaign_delete(campaign_id):
    """Delete a draft made by mistake (no cards yet); anything that ran is ended instead."""
    campaign = get_or_404(Campaign, campaign_id)
    if EmptyForm().validate_on_submit():
        done = perform(service.delete_draft, campaign)
        if done:
            flash(_("The draft %(name)s is deleted.", name=done.value), "success")
            return redirect(url_for("admin.campaigns"))
    return redirect(url_for("admin.campaign", campaign_id=campaign_id))


# --- offers ---------------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/offers/new", methods=["GET", "POST"])
@staff_required
def offer_new(campaign_id):
    """Choose shops to take part, all with one rule (each can be changed afterwards)."""
    campaign = get_or_404(Campaign, campaign_id)
    taking_part = select(Offer.merchant_id).where(
        Offer.campaign_id == campaign.id, Offer.status != OfferStatus.WITHDRAWN
    )
    candidates = db.session.scalars(
        select(Merchant)
        .where(
            Merchant.community_id == campaign.community_id,
            Merchant.status == MerchantStatus.ACTIVE,
            Merchant.id.not_in(taking_part),
        )
        .order_by(Merchant.category, Merchant.name)
    ).all()
    form = AddOffersForm()
    form.merchants.choices = [(m.id, m.name) for m in candidates]
    default_rule = Rule.from_dict(campaign.default_rule)
    box = rule_box(form.rule, fallback=default_rule)
    if not box.handled and form.validate_on_submit():
        wanted = set(form.merchants.data or [])
        chosen = [m for m in candidates if m.id in wanted]
        if len(chosen) != len(wanted):
            abort(404)
        done = perform(
            service.add_offers, campaign, chosen, form.rule.data or "", form=form, fields=FIELD_OF
        )
        if done:
            total = db.session.scalar(
                select(func.count(Offer.id)).where(
                    Offer.campaign_id == campaign.id, Offer.status == OfferStatus.ACTIVE
                )
            )
            flash(
                ngettext(
                    "%(num)s shop added; %(total)s shops take part now.",
                    "%(num)s shops added; %(total)s shops take part now.",
                    len(done.value),
                    total=total,
                ),
                "success",
            )
            return redirect(url_for("admin.campaign", campaign_id=campaign.id) + "#offers")
    status = 422 if request.method == "POST" and not box.handled else 200
    by_category: dict[str, list] = {}
    for merchant in candidates:
        by_category.setdefault(merchant.category, []).append(merchant)
    return render_template(
        "admin/campaigns/offer_new.html",
        campaign=campaign,
        form=form,
        box=box,
        by_category=by_category,
        chosen=set(form.merchants.data or []),
    ), status


@bp.route("/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@staff_required
def offer_edit(offer_id):
    offer = get_or_404(Offer, offer_id)
    form = OfferForm()
    if request.method == "GET":
        form.rule.data = offer.rule_text
    default_rule = Rule.from_dict(offer.campaign.default_rule)
    box = rule_box(form.rule, fallback=default_rule)
    if not box.handled and form.validate_on_submit():
        if perform(
            service.update_offer,
            offer,
            form.rule.data or "",
            form=form,
            fields=FIELD_OF,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.campaign", campaign_id=offer.campaign_id) + "#offers")
    status = 422 if request.method == "POST" and not box.handled else 200
    return render_template(
        "admin/campaigns/offer_edit.html", offer=offer, form=form, box=box
    ), status


OFFER_ACTIONS = {
    "withdraw": _l("The shop no longer takes this campaign's cards."),
    "rejoin": _l("The shop takes this campaign's cards again."),
    "accept": _l("The shop's application is accepted; it takes the cards now."),
}


@bp.post("/offers/<int:offer_id>/<any(withdraw, rejoin, accept):action>")
@staff_required
def offer_status(offer_id, action):
    offer = get_or_404(Offer, offer_id)
    if EmptyForm().validate_on_submit():
        perform(service.set_offer_status, offer, action, success=str(OFFER_ACTIONS[action]))
    return redirect(url_for("admin.campaign", campaign_id=offer.campaign_id) + "#offers")
