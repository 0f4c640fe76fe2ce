"""The records: uses (redemptions) and voiding them, refused attempts, and the audit log."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..auth.access import get_or_404, scope
from ..database import write_transaction
from ..extensions import db
from ..models import (
    AttemptLog,
    AuditLog,
    Campaign,
    Card,
    Merchant,
    Redemption,
    RedemptionStatus,
    User,
)
from ..rules import MoneyError, parse_money
from ..services.cards import normalise_serial
from ..services.redemptions import RedeemError, void_redemption
from . import bp
from .audit_words import Words, changes_text
from .common import is_district_admin, message, staff_required
from .forms import ReasonForm
from .labels import AREA_LABELS, REFUSAL_LABELS, choices, label, refusal_label
from .tables import Column, Filter, Listing, by_id, days, equals, one_of


def _fen(text: str) -> int | None:
    if not text:
        return None
    try:
        return parse_money(text)
    except MoneyError:
        return None


def bill_range(column) -> tuple[Filter, Filter]:
    """``?bill_min=10&bill_max=50`` (yuan as typed): a bill within those amounts."""
    low = Filter(
        "bill_min", lambda text: column >= fen if (fen := _fen(text)) is not None else None
    )
    high = Filter(
        "bill_max", lambda text: column <= fen if (fen := _fen(text)) is not None else None
    )
    return low, high


def _merchant_choices() -> list[tuple[int, str]]:
    stmt = scope(select(Merchant.id, Merchant.name), Merchant).order_by(Merchant.name)
    return [(row.id, row.name) for row in db.session.execute(stmt)]


# --- redemptions ----------------------------------------------------------------------------


def redemption_columns() -> list[Column]:
    return [
        Column(
            "time", _l("Time"), Redemption.created_at, lambda r: r.Redemption.created_at, "datetime"
        ),
        Column("shop", _l("Shop"), Merchant.name, lambda r: r.shop),
        Column("card", _l("Serial"), Card.serial, lambda r: r.serial),
        Column("campaign", _l("Campaign"), Campaign.name, lambda r: r.campaign),
        Column("bill", _l("Bill"), Redemption.bill_fen, lambda r: r.Redemption.bill_fen, "money"),
        Column(
            "discount",
            _l("Discount"),
            Redemption.discount_fen,
            lambda r: r.Redemption.discount_fen,
            "money",
        ),
        Column("paid", _l("Paid"), Redemption.paid_fen, lambda r: r.Redemption.paid_fen, "money"),
        Column("rule", _l("Rule"), None, lambda r: r.Redemption.rule_text),
        Column("status", _l("Status"), Redemption.status, lambda r: label(r.Redemption.status)),
        Column("reason", _l("Void reason"), None, lambda r: r.Redemption.void_reason),
    ]


@bp.get("/redemptions")
@staff_required
def redemptions():
    """Every use, filtered by shop, card, campaign, day, amount and status."""
    stmt = (
        scope(
            select(
                Redemption,
                Merchant.name.label("shop"),
                Card.serial.label("serial"),
                Campaign.name.label("campaign"),
            ),
            Redemption,
        )
        .join(Merchant, Redemption.merchant_id == Merchant.id)
        .join(Card, Redemption.card_id == Card.id)
        .join(Campaign, Redemption.campaign_id == Campaign.id)
    )
    listing = Listing(
        stmt,
        redemption_columns(),
        filters=(
            by_id("merchant", Redemption.merchant_id),
            by_id("campaign", Redemption.campaign_id),
            Filter("card", lambda text: Card.serial == normalise_serial(text) if text else None),
            one_of("status", Redemption.status, RedemptionStatus),
            *days(Redemption.local_day),
            *bill_range(Redemption.bill_fen),
        ),
        search=(Merchant.name, Card.serial, Redemption.rule_text),
        default_sort="-time",
        tiebreak=Redemption.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("uses"))
    campaigns = db.session.execute(
        scope(select(Campaign.id, Campaign.name), Campaign).order_by(Campaign.id.desc())
    ).all()
    return render_template(
        "admin/records/redemptions.html",
        listing=listing,
        merchants=_merchant_choices(),
        campaigns=[(c.id, c.name) for c in campaigns],
        statuses=choices(RedemptionStatus),
    )


@bp.get("/redemptions/<int:redemption_id>")
@staff_required
def redemption(redemption_id):
    return show_redemption(get_or_404(Redemption, redemption_id))


def show_redemption(redemption, form=None, status=200):
    history = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "redemption", AuditLog.object_id == redemption.id)
        .order_by(AuditLog.id)
    ).all()
    voided_by = db.session.get(User, redemption.voided_by_id) if redemption.voided_by_id else None
    return render_template(
        "admin/records/redemption.html",
        redemption=redemption,
        history=history,
        voided_by=voided_by,
        form=form or ReasonForm(formdata=None),
    ), status


@bp.post("/redemptions/<int:redemption_id>/void")
@staff_required
def redemption_void(redemption_id):
    """Take a use back: the card gets the use back and the campaign its budget."""
    redemption = get_or_404(Redemption, redemption_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                void_redemption(
                    db.session, redemption, current_user._get_current_object(), form.reason.data
                )
        except RedeemError as error:
            if error.code == "reason_required":
                form.reason.errors = [message(error)]
            else:
                flash(message(error), "error")
        else:
            flash(_("The use is voided; the card has it back."), "success")
            return redirect(url_for("admin.redemption", redemption_id=redemption_id))
    db.session.refresh(redemption)
    return show_redemption(redemption, form, 422)


# --- refused attempts -----------------------------------------------------------------------


def attempt_columns() -> list[Column]:
    return [
        Column(
            "time", _l("Time"), AttemptLog.created_at, lambda r: r.AttemptLog.created_at, "datetime"
        ),
        Column("shop", _l("Shop"), Merchant.name, lambda r: r.shop),
        Column("code", _l("Refusal"), AttemptLog.code, lambda r: refusal_label(r.AttemptLog.code)),
        Column(
            "card",
            _l("Card typed or scanned"),
            AttemptLog.card_ref,
            lambda r: r.AttemptLog.card_ref,
        ),
        Column("bill", _l("Bill"), AttemptLog.bill_fen, lambda r: r.AttemptLog.bill_fen, "money"),
        Column("who", _l("Login"), None, lambda r: r.login or ""),
        Column("ip", _l("Address"), None, lambda r: r.AttemptLog.ip),
    ]


@bp.get("/attempts")
@staff_required
def attempts():
    """Refused uses and card look-ups, to spot misuse."""
    person = aliased(User)
    stmt = (
        scope(
            select(AttemptLog, Merchant.name.label("shop"), person.username.label("login")),
            AttemptLog,
        )
        .outerjoin(Merchant, AttemptLog.merchant_id == Merchant.id)
        .outerjoin(person, AttemptLog.user_id == person.id)
    )
    listing = Listing(
        stmt,
        attempt_columns(),
        filters=(
            by_id("merchant", AttemptLog.merchant_id),
            equals("code", AttemptLog.code),
            Filter(
                "card",
                lambda text: (
                    AttemptLog.card_ref.in_({text, normalise_serial(text)}) if text else None
                ),
            ),
            *days(AttemptLog.created_at, moments=True),
        ),
        search=(AttemptLog.card_ref, Merchant.name, AttemptLog.ip),
        default_sort="-time",
        tiebreak=AttemptLog.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("refused-attempts"))
    return render_template(
        "admin/records/attempts.html",
        listing=listing,
        merchants=_merchant_choices(),
        codes=[(code, str(text)) for code, text in REFUSAL_LABELS.items()],
        refusal_label=refusal_label,
    )


# --- the audit log --------------------------------------------------------------------------


def audit_columns(words: Words) -> list[Column]:
    """The log's columns; the export writes each in the words the page shows."""
    return [
        Column("time", _l("Time"), AuditLog.created_at, lambda a: a.created_at, "datetime"),
        Column("who", _l("Who"), AuditLog.actor_label, words.actor),
        Column("action", _l("What"), AuditLog.action, words.action),
        Column("object", _l("Object"), AuditLog.object_type, lambda a: str(words.thing(a))),
        Column("change", _l("Change"), None, lambda a: changes_text(words.changes(a))),
        Column("note", _l("Note"), None, lambda a: a.note),
        Column("ip", _l("Address"), None, lambda a: a.ip),
    ]


@bp.get("/audit")
@staff_required
def audit():
    """Who did what to which thing, when, with each change in words. Read only."""
    stmt = scope(select(AuditLog), AuditLog)
    words = Words(db.session, links=not request.args.get("export"), district=is_district_admin())
    listing = Listing(
        stmt,
        audit_columns(words),
        filters=(
            Filter(
                "area", lambda text: AuditLog.action.startswith(text[:100] + ".") if text else None
            ),
            equals("object_type", AuditLog.object_type),
            by_id("object_id", AuditLog.object_id),
            by_id("actor", AuditLog.actor_id),
            *days(AuditLog.created_at, moments=True),
        ),
        search=(AuditLog.actor_label, AuditLog.action, AuditLog.note, AuditLog.object_type),
        default_sort="-time",
        tiebreak=AuditLog.id,
    )
    if listing.export_format:
        return listing.export(_("audit-log"), prepare=words.read)
    words.read(listing.items)
    return render_template(
        "admin/records/audit.html",
        listing=listing,
        areas=[(area, str(text)) for area, text in AREA_LABELS.items()],
        words=words,
    )
