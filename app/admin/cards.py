"""Cards: making batches, A4 print sheets, the card list, handing out, voiding, replacing."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from ..auth.access import get_or_404, scope
from ..clock import local_day_bounds, local_today
from ..database import write_transaction
from ..extensions import db
from ..inputs import optional_id
from ..models import (
    Campaign,
    Card,
    CardBatch,
    CardStatus,
    Redemption,
)
from ..services import issuing, pins, waves
from ..services.accounts import mask_phone
from ..services.cards import (
    CARDS_PER_SHEET,
    LAPSING,
    MAX_SHEETS_PER_PRINT,
    draw_sheets,
    generate_batch,
    keep_drawings,
    normalise_serial,
    shown_status,
    where_it_works,
)
from ..services.exports import ExportColumn
from ..services.households import HouseholdError, household_label, parse_household
from ..services.sheets import SheetError, read_sheet
from ..templating import public_base_url
from . import bp
from .common import message, perform, staff_required
from .forms import BatchForm, EmptyForm, IssueForm, ReasonForm, ReplaceForm, UploadForm
from .labels import choices, label
from .tables import Column, Filter, Listing, by_id, export_response

ISSUE_FIELDS = {
    "card_required": "serial",
    "card_not_found": "serial",
    "already_issued": "serial",
    "card_void": "serial",
    "campaign_ended": "serial",
    "campaign_over": "serial",
    "household_required": "household",
    "household_format": "household",
    "household_limit": "household",
    "not_eligible": "household",
    "not_on_roster": "household",
    "card_reserved": "serial",
    "phone_format": "phone",
    "reason_required": "reason",
    "replacement_campaign": "replacement",
    "replacement_not_new": "replacement",
}


# --- batches and print sheets ---------------------------------------------------------------


def _make_batch(session, actor, campaign, size, note):
    return generate_batch(session, campaign, size, actor, note)


@bp.post("/campaigns/<int:campaign_id>/batches")
@staff_required
def batch_new(campaign_id):
    campaign = get_or_404(Campaign, campaign_id)
    form = BatchForm()
    if form.validate_on_submit():
        done = perform(_make_batch, campaign, form.size.data, form.note.data or "")
        if done:
            flash(_("%(count)s cards are made. Print them next.", count=done.value.size), "success")
            return redirect(url_for("admin.batch", batch_id=done.value.id))
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id) + "#batches")


@bp.get("/batches/<int:batch_id>")
@staff_required
def batch(batch_id):
    batch = get_or_404(CardBatch, batch_id)
    sheets = -(-batch.size // CARDS_PER_SHEET)
    parts = [
        (first, min(first + MAX_SHEETS_PER_PRINT - 1, sheets))
        for first in range(1, sheets + 1, MAX_SHEETS_PER_PRINT)
    ]
    by_status = dict(
        db.session.execute(
            select(Card.status, func.count(Card.id))
            .where(Card.batch_id == batch.id)
            .group_by(Card.status)
        ).all()
    )
    return render_template(
        "admin/cards/batch.html",
        batch=batch,
        sheets=sheets,
        parts=parts,
        by_status=by_status,
        statuses=list(CardStatus),
    )


@bp.get("/batches/<int:batch_id>/print")
@staff_required
def batch_print(batch_id):
    """A4 sheets of ten cards each, to print from the browser and cut along the marks."""
    batch = get_or_404(CardBatch, batch_id)
    sheets = -(-batch.size // CARDS_PER_SHEET)
    first = max(1, optional_id(request.args.get("first")) or 1)
    last = min(sheets, optional_id(request.args.get("last")) or first + MAX_SHEETS_PER_PRINT - 1)
    last = min(last, first + MAX_SHEETS_PER_PRINT - 1)
    if first > sheets or last < first:
        abort(404)
    campaign = batch.campaign
    entries, shops = where_it_works(db.session, campaign)
    run = draw_sheets(db.session, batch, first, last, public_base_url())
    with write_transaction(db.session):
        keep_drawings(db.session, current_user._get_current_object(), run)
    printed = run.cards
    pages = [printed[i : i + CARDS_PER_SHEET] for i in range(0, len(printed), CARDS_PER_SHEET)]
    return render_template(
        "admin/cards/print.html",
        batch=batch,
        campaign=campaign,
        pages=pages,
        first=first,
        last=last,
        sheets=sheets,
        where=entries,
        shops=shops,
        valid=waves.valid_window(campaign, batch),
    )


# --- the card list --------------------------------------------------------------------------


def card_columns() -> list[Column]:
    return [
        Column("serial", _l("Serial"), Card.serial, lambda r: r.Card.serial),
        Column("campaign", _l("Campaign"), Campaign.name, lambda r: r.campaign_name),
        Column("status", _l("Status"), Card.status, lambda r: label(_shown(r))),
        Column(
            "household",
            _l("Household"),
            Card.household,
            lambda r: household_label(r.Card.household),
        ),
        Column("phone", _l("Phone"), None, lambda r: _masked(r.Card.holder_phone)),
        Column("uses", _l("Uses"), Card.uses_count, lambda r: r.Card.uses_count, "int"),
        Column("issued", _l("Handed out"), Card.issued_at, lambda r: r.Card.issued_at, "datetime"),
        Column("batch", _l("Batch"), Card.batch_id, lambda r: r.Card.batch_id, "int"),
    ]


def _card_matches(text: str) -> list:
    """Find a card by its serial or household however typed (zjh 7k3m q9, 3栋2单元501)."""
    found = [Card.serial == normalise_serial(text)]
    try:
        found.append(Card.household == parse_household(text))
    except HouseholdError:
        pass
    return found


def _shown(row) -> CardStatus:
    return shown_status(row.Card.status, row.valid_until, local_today())


def _status_shown(status: str):
    """Cards of the status the office sees: past its campaign's last day, a card is expired."""
    if status not in CardStatus._value2member_map_:
        return None
    today = local_today()
    if status == CardStatus.EXPIRED:
        lapsed = and_(Card.status.in_(LAPSING), Campaign.valid_until < today)
        return or_(Card.status == CardStatus.EXPIRED, lapsed)
    if status in LAPSING:
        return and_(Card.status == status, Campaign.valid_until >= today)
    return Card.status == status


def _household(card) -> str:
    return household_label(card.household)


def _masked(phone):
    return mask_phone(phone)


@bp.get("/cards")
@staff_required
def cards():
    stmt = scope(
        select(
            Card, Campaign.name.label("campaign_name"), Campaign.valid_until.label("valid_until")
        ),
        Card,
    ).join(Campaign, Card.campaign_id == Campaign.id)
    listing = Listing(
        stmt,
        card_columns(),
        filters=(
            by_id("campaign", Card.campaign_id),
            by_id("batch", Card.batch_id),
            Filter("status", _status_shown),
        ),
        search=(Card.serial, Card.household, Card.holder_phone),
        exact=_card_matches,
        default_sort="serial",
        tiebreak=Card.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("cards"))
    campaigns = db.session.execute(
        scope(select(Campaign.id, Campaign.name), Campaign).order_by(Campaign.id.desc())
    ).all()
    return render_template(
        "admin/cards/list.html",
        listing=listing,
        shown=_shown,
        statuses=choices(CardStatus),
        campaigns=[(c.id, c.name) for c in campaigns],
    )


@bp.get("/cards/<int:card_id>")
@staff_required
def card(card_id):
    return show_card(get_or_404(Card, card_id))


def show_card(card, status=200, **forms):
    forms.setdefault("void_form", ReasonForm(formdata=None))
    forms.setdefault("replace_form", ReplaceForm(formdata=None))
    forms.setdefault("issue_form", IssueForm(formdata=None))
    redemptions = db.session.scalars(
        select(Redemption).where(Redemption.card_id == card.id).order_by(Redemption.id.desc())
    ).all()
    successor = db.session.scalar(select(Card).where(Card.replaces_id == card.id))
    return render_template(
        "admin/cards/detail.html",
        card=card,
        shown=shown_status(card.status, card.campaign.valid_until, local_today()),
        redemptions=redemptions,
        successor=successor,
        empty_form=EmptyForm(formdata=None),
        wrong_pins=pins.wrong_pins(db.session, card.id),
        pin_tries=pins.PIN_TRIES,
        **forms,
    ), status


@bp.post("/cards/<int:card_id>/void")
@staff_required
def card_void(card_id):
    card = get_or_404(Card, card_id)
    form = ReasonForm()
    if form.validate_on_submit():
        if perform(
            issuing.void_card,
            card,
            form.reason.data,
            form=form,
            fields=ISSUE_FIELDS,
            success=_("The card is void; it can no longer be used."),
        ):
            return redirect(url_for("admin.card", card_id=card.id))
    return show_card(card, 422, void_form=form)


@bp.post("/cards/<int:card_id>/release-pin")
@staff_required
def card_release_pin(card_id):
    """Let a card locked after wrong PINs be used by its PIN again, once the holder is known."""
    card = get_or_404(Card, card_id)
    if EmptyForm().validate_on_submit():
        perform(pins.release, card, success=_("The card's PIN works again."))
    return redirect(url_for("admin.card", card_id=card.id))


@bp.post("/cards/<int:card_id>/replace")
@staff_required
def card_replace(card_id):
    card = get_or_404(Card, card_id)
    form = ReplaceForm()
    if form.validate_on_submit():
        done = perform(
            issuing.replace_card,
            card,
            form.reason.data,
            form.replacement.data or "",
            form=form,
            fields=ISSUE_FIELDS,
        )
        if done:
            new = done.value
            flash(
                _(
                    "%(old)s is void. %(new)s is handed to %(household)s with the same uses left.",
                    old=card.serial,
                    new=new.serial,
                    household=household_label(new.household),
                ),
                "success",
            )
            return redirect(url_for("admin.card", card_id=new.id))
    return show_card(card, 422, replace_form=form)


# --- handing out ----------------------------------------------------------------------------


@bp.route("/issue", methods=["GET", "POST"])
@staff_required
def issue():
    """Hand cards to households one after another: scan, type the household, press Enter."""
    form = IssueForm()
    status = 200
    if form.validate_on_submit():
        done = perform(
            issuing.issue_card,
            form.serial.data,
            form.household.data,
            form.phone.data or "",
            form=form,
            fields=ISSUE_FIELDS,
        )
        if done:
            card = done.value
            flash(
                _(
                    "%(serial)s is handed to %(household)s.",
                    serial=card.serial,
                    household=household_label(card.household),
                ),
                "success",
            )
            return redirect(url_for("admin.issue"))
        status = 422
    elif request.method == "POST":
        status = 422
    recent = db.session.scalars(
        scope(select(Card), Card)
        .where(Card.issued_at.is_not(None), Card.issued_by_id == current_user.id)
        .order_by(Card.issued_at.desc())
        .limit(10)
    ).all()
    today_count = db.session.scalar(
        select(func.count(Card.id)).where(
            Card.issued_by_id == current_user.id, Card.issued_at >= _today_start()
        )
    )
    return render_template(
        "admin/cards/issue.html", form=form, recent=recent, today_count=today_count
    ), status


def _today_start():
    return local_day_bounds(local_today())[0]


@bp.route("/issue/sheet", methods=["GET", "POST"])
@staff_required
def issue_sheet():
    """Hand out many cards from a sheet of serials and households."""
    form = UploadForm()
    del form.community
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.sheet.data
        try:
            rows = read_sheet(
                getattr(upload, "filename", "") or "",
                upload.read() if upload else b"",
                issuing.ISSUE_COLUMNS,
            )
        except SheetError as error:
            form.sheet.errors = [message(error)]
            status = 422
        else:
            done = perform(issuing.issue_sheet, rows)
            report = done.value
            if not done or not report.issued:
                status = 422
    elif request.method == "POST":
        status = 422
    return render_template("admin/cards/issue_sheet.html", form=form, report=report), status


@bp.get("/issue/template.xlsx")
@staff_required
def issue_template():
    columns = [ExportColumn(column.headers[0]) for column in issuing.ISSUE_COLUMNS]
    return export_response("xlsx", _("cards-to-hand-out"), columns, issuing.ISSUE_TEMPLATE_ROWS)
