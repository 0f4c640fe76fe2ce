"""The shop's pages: today, scan, the card at the till, quote, confirm, success, history, keys."""

import secrets
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import till
from ..admin.paper import sticker_page
from ..auth.access import get_or_404, roles_required
from ..clock import local_today, utcnow
from ..database import write_transaction
from ..extensions import db
from ..i18n import message
from ..inputs import InputError, parse_date, parse_fen
from ..models import Campaign, Redemption, RedemptionStatus, Role
from ..security import csp_allow
from ..services import apikeys, redemptions, takings
from ..services import campaigns as campaign_service
from ..services.apikeys import ApiKeyError
from ..services.campaigns import CampaignError
from ..services.redemptions import VOID_WINDOW, RedeemError, TillRequest
from . import bp
from .forms import ApiKeyForm, BillForm, ConfirmForm, TypedCardForm, VoidForm

SHOP_ROLES = (Role.MERCHANT_OWNER, Role.CASHIER)


def _refused(error: RedeemError, card=None, typed: TypedCardForm | None = None):
    typed = typed or TypedCardForm(formdata=None)
    typed.pin.data = ""  # typed again, not carried in the page
    return render_template(
        "merchant/refused.html", error=error, card=card, typed=typed
    ), till.refusal_status(error.code)


@bp.get("/")
@roles_required(*SHOP_ROLES)
def index():
    """Today: what the shop has taken, and each redemption with a way to take it back."""
    today = local_today()
    day = takings.of_day(db.session, current_user.merchant_id, today)
    return render_template(
        "merchant/index.html",
        merchant=current_user.merchant,
        day=day,
        voidable=_voidable_ids(day.redemptions),
        typed=TypedCardForm(),
    )


def _voidable_ids(rows) -> set[int]:
    now = utcnow()
    return {
        r.id for r in rows if r.status == RedemptionStatus.OK and now - r.created_at <= VOID_WINDOW
    }


@bp.get("/scan")
@roles_required(*SHOP_ROLES)
@csp_allow(script_src="'wasm-unsafe-eval'")
def scan():
    """Scan a card with the phone's camera, or a photo of it, or type its number."""
    return _scan_page(TypedCardForm(formdata=None))


def _scan_page(typed: TypedCardForm, status: int = 200):
    secure = request.is_secure or request.host.split(":")[0] in {"127.0.0.1", "localhost"}
    return render_template("merchant/scan.html", secure=secure, typed=typed), status


@bp.get("/card")
@roles_required(*SHOP_ROLES)
def card():
    """The card at the till, opened from its scanned QR: campaign, what is left, the bill form.

    A PIN is never read from the address (it would stay in the phone's history and in access
    logs): a card typed by its number is posted to `card_typed`.
    """
    ref = request.args.get("ref") or request.args.get("serial", "")
    if not ref.strip():
        return redirect(url_for(".scan"))
    return _card_at_till(ref, None, TypedCardForm(formdata=None, serial=ref))


@bp.post("/card")
@roles_required(*SHOP_ROLES)
@csp_allow(script_src="'wasm-unsafe-eval'")  # a form typed wrong is shown on the scan page
def card_typed():
    """The card at the till, typed by the serial and PIN printed on it (posted, never a URL)."""
    typed = TypedCardForm()
    if not typed.validate():
        return _scan_page(typed, 422)
    return _card_at_till(typed.serial.data, typed.pin.data, typed)


def _card_at_till(ref: str, pin: str | None, typed: TypedCardForm):
    try:
        at_till = redemptions.card_at_till(
            db.session, current_user.merchant, ref, pin=pin, user=current_user
        )
    except RedeemError as error:
        till.keep_refusal(db.session, error)
        return _refused(error, typed=typed)
    form = BillForm(ref=ref, pin=pin or "")
    return render_template("merchant/card.html", at_till=at_till, form=form, typed=typed)


@bp.post("/quote")
@roles_required(*SHOP_ROLES)
def quote():
    """Show bill, discount and what to collect, for the cashier to confirm."""
    form = BillForm()
    ref, pin = form.ref.data or "", form.pin.data or None
    if not ref.strip():
        abort(400)  # the form always carries the card; without one it was not our form
    try:
        at_till = redemptions.card_at_till(
            db.session, current_user.merchant, ref, pin=pin, user=current_user
        )
    except RedeemError as error:
        till.keep_refusal(db.session, error)
        return _refused(error)
    try:
        if not form.validate():
            raise RedeemError("bad_bill")
        priced = redemptions.price(at_till, redemptions.parse_bill(form.bill.data))
    except RedeemError as error:
        form.bill.errors = [_(error.message)]
        status = till.refusal_status(error.code)
        return render_template("merchant/card.html", at_till=at_till, form=form), status
    confirm = ConfirmForm(
        ref=ref, pin=pin or "", bill_fen=priced.bill_fen, key=secrets.token_urlsafe(16)
    )
    return render_template("merchant/quote.html", quote=priced, form=confirm)


@bp.post("/redeem")
@roles_required(*SHOP_ROLES)
def redeem():
    """Record the redemption once, however often the button is pressed."""
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    try:
        bill_fen = parse_fen(form.bill_fen.data, code="bad_bill")
    except InputError:
        abort(400)  # the quote wrote it: another value was not our form
    asked = TillRequest(form.ref.data, bill_fen, form.key.data, pin=form.pin.data or None)
    try:
        with till.transaction(db.session):
            receipt = redemptions.redeem(db.session, current_user.merchant, current_user, asked)
    except RedeemError as error:
        return _refused(error)
    return redirect(url_for(".done", redemption_id=receipt.id))


@bp.get("/r/<int:redemption_id>")
@roles_required(*SHOP_ROLES)
def done(redemption_id):
    """The amount to collect, big enough to show the customer."""
    redemption = get_or_404(Redemption, redemption_id)
    return render_template(
        "merchant/done.html",
        r=redemption,
        voidable=redemption.id in _voidable_ids([redemption]),
        form=VoidForm(),
    )


@bp.post("/r/<int:redemption_id>/void")
@roles_required(*SHOP_ROLES)
def void(redemption_id):
    """Take back a redemption made by mistake, within ten minutes."""
    redemption = get_or_404(Redemption, redemption_id)
    form = VoidForm()
    if not form.validate():
        abort(400)
    try:
        with write_transaction(db.session):
            redemptions.void_redemption(db.session, redemption, current_user, form.reason.data)
    except RedeemError as error:
        flash(_(error.message), "error")
        return redirect(url_for(".done", redemption_id=redemption_id))
    flash(_("The redemption was voided; the card has its use back."), "success")
    return redirect(url_for(".index"))


@bp.get("/history")
@roles_required(*SHOP_ROLES)
def history():
    """Redemptions of one day, with the day's totals."""
    today = local_today()
    try:
        day = parse_date(request.args["date"]) if request.args.get("date") else today
    except InputError as error:
        flash(_(error.message), "error")
        day = today
    day = min(day, today)
    taken = takings.of_day(db.session, current_user.merchant_id, day)
    return render_template(
        "merchant/history.html",
        day=taken,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1) if day < today else None,
        today=today,
    )


@bp.get("/campaigns")
@roles_required(*SHOP_ROLES)
def campaigns():
    """The community's campaigns: the ones the shop takes part in, and the ones it may join."""
    merchant = current_user.merchant
    return render_template(
        "merchant/campaigns.html",
        rows=campaign_service.open_to_shop(db.session, merchant),
        default_rule=rule_text_of,
    )


def rule_text_of(campaign, offer) -> str:
    """Return the rule the shop applies in a campaign: its own, else the campaign's."""
    return (offer.rule_text if offer is not None and offer.rule_text else "") or (
        campaign.default_rule_text
    )


@bp.get("/sticker")
@roles_required(*SHOP_ROLES)
def sticker():
    """The shop's own A6 window sticker: its name, its rule in big type, the community's QR."""
    return sticker_page(current_user.merchant, url_for(".campaigns"))


@bp.post("/campaigns/<int:campaign_id>/apply")
@roles_required(Role.MERCHANT_OWNER)
def apply(campaign_id):
    """Ask the community office to let the shop take part in a campaign."""
    campaign = get_or_404(Campaign, campaign_id)
    try:
        with write_transaction(db.session):
            campaign_service.apply_to_join(db.session, current_user, campaign)
    except CampaignError as error:
        flash(message(error), "error")
    else:
        flash(_("Your application was sent; the community office will decide."), "success")
    return redirect(url_for(".campaigns"))


@bp.route("/keys", methods=["GET", "POST"])
@roles_required(Role.MERCHANT_OWNER)
def keys():
    """API keys for the shop's till: create one (shown once) or revoke one."""
    form = ApiKeyForm()
    shown = None
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                _key, shown = apikeys.create_key(db.session, current_user, form.name.data)
        except ApiKeyError as error:
            form.name.errors.append(_(error.message))
        else:
            form = ApiKeyForm(formdata=None)
    return render_template(
        "merchant/keys.html",
        form=form,
        shown=shown,
        keys=apikeys.keys_of(db.session, current_user.merchant_id),
    )


@bp.post("/keys/<int:key_id>/revoke")
@roles_required(Role.MERCHANT_OWNER)
def revoke_key(key_id):
    try:
        with write_transaction(db.session):
            apikeys.revoke_key(db.session, current_user, key_id)
    except ApiKeyError:
        abort(404)
    flash(_("The key was revoked; tills using it are refused from now on."), "success")
    return redirect(url_for(".keys"))
