"""The household roster (住户名单), who a campaign's cards go to, door-to-door hand-out lists."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, func, select

from ..auth.access import get_or_404, scope
from ..clock import local_today
from ..extensions import db
from ..inputs import InputError, optional_id, parse_count
from ..models import (
    Campaign,
    CampaignStatus,
    Card,
    HandoutLine,
    HandoutList,
    HandoutStatus,
    Household,
    HouseholdGroup,
    HouseholdMembership,
)
from ..services import handout as handouts
from ..services import roster, waves
from ..services.accounts import mask_phone
from ..services.households import household_label
from ..services.sheets import SheetError, SheetRow, read_sheet
from . import bp
from .common import (
    community_choices,
    is_district_admin,
    message,
    own_community_id,
    perform,
    staff_required,
)
from .forms import (
    ApplyImportForm,
    EmptyForm,
    HandoutForm,
    HouseholdRosterForm,
    ReasonForm,
    ScanForm,
    UploadForm,
    WavesForm,
)
from .labels import choices, label
from .tables import Column, Filter, Listing, equals, export_response

FIELD_OF = {
    "household_required": "address",
    "household_format": "address",
    "household_exists": "address",
    "name_too_long": "head_name",
    "phone_format": "phone",
    "people_range": "people",
    "unknown_group": "groups",
    "note_too_long": "note",
    "reason_required": "reason",
}


def groups_text(groups) -> str:
    return "、".join(label(group) for group in groups)


def household_columns() -> list[Column]:
    columns = [
        Column("address", _("Household"), Household.sort_key, lambda h: household_label(h.address)),
        Column(
            "head_name", _("Head of household"), Household.head_name, lambda h: h.head_name or ""
        ),
        Column("phone", _("Phone"), None, lambda h: mask_phone(h.phone)),
        Column("people", _("People"), Household.people, lambda h: h.people, "int"),
        Column("groups", _("Groups"), None, lambda h: groups_text(h.groups)),
    ]
    if is_district_admin():
        columns.insert(
            0,
            Column("community", _("Community"), Household.community_id, lambda h: h.community.name),
        )
    return columns


def _in_group(group: str):
    if group not in HouseholdGroup._value2member_map_:
        return None
    return exists().where(
        HouseholdMembership.household_id == Household.id,
        HouseholdMembership.group == HouseholdGroup(group),
    )


@bp.get("/households")
@staff_required
def households():
    """The roster: search, filter by group and building, export (phones masked)."""
    stmt = scope(select(Household), Household)
    listing = Listing(
        stmt,
        household_columns(),
        filters=(
            Filter("group", _in_group),
            equals("building", Household.building, limit=10),
        ),
        search=(Household.address, Household.head_name, Household.note),
        default_sort="address",
        tiebreak=Household.id,
    )
    if listing.export_format:
        return listing.export(_("household roster"))
    community_id = own_community_id()
    buildings = db.session.scalars(
        scope(select(Household.building).distinct(), Household).order_by(Household.building)
    ).all()
    counts = roster.roster_counts(db.session, community_id) if community_id else None
    return render_template(
        "admin/households/list.html",
        listing=listing,
        groups=choices(HouseholdGroup),
        buildings=[(b, _("Building %(b)s", b=b)) for b in sorted(buildings, key=_building_key)],
        counts=counts,
        mask_phone=mask_phone,
        groups_text=groups_text,
    )


def _building_key(building: str) -> str:
    return roster.sort_key(building)


def _form(**kwargs) -> HouseholdRosterForm:
    form = HouseholdRosterForm(**kwargs)
    form.groups.choices = choices(HouseholdGroup)
    form.set_communities(community_choices(), is_district_admin())
    return form


def _fields(form) -> roster.HouseholdFields:
    return roster.HouseholdFields.read(
        form.address.data,
        form.head_name.data,
        form.phone.data,
        form.people.data,
        [
            HouseholdGroup(g)
            for g in form.groups.data or []
            if g in HouseholdGroup._value2member_map_
        ],
        form.note.data,
    )


@bp.route("/households/new", methods=["GET", "POST"])
@staff_required
def household_new():
    """Put one household on the roster."""
    form = _form()
    status = 200
    if form.validate_on_submit():
        community_id = own_community_id(form.community.data if is_district_admin() else None)
        done = perform(
            lambda session, actor: roster.add_household(
                session, actor, community_id, _fields(form)
            ),
            form=form,
            fields=FIELD_OF,
        )
        if done:
            flash(
                _("%(household)s is on the roster.", household=household_label(done.value.address)),
                "success",
            )
            return redirect(url_for("admin.household", household_id=done.value.id))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("admin/households/form.html", form=form, household=None), status


def _cards_of(household: Household):
    return db.session.execute(
        select(Card, Campaign.name)
        .join(Campaign, Campaign.id == Card.campaign_id)
        .where(Card.community_id == household.community_id, Card.household == household.address)
        .order_by(Card.id.desc())
        .limit(100)
    ).all()


@bp.route("/households/<int:household_id>", methods=["GET", "POST"])
@staff_required
def household(household_id):
    """One household: what the roster says, its cards, and removing its personal data."""
    household = get_or_404(Household, household_id)
    form = _form(
        formdata=None if request.method == "GET" else request.form,
        obj=household,
        data={"groups": [g.value for g in household.groups], "people": household.people or ""},
    )
    form.address.render_kw = {"readonly": True}
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        form.address.data = household.address
        done = perform(
            lambda session, actor: roster.update_household(
                session, actor, household, _fields(form)
            ),
            form=form,
            fields=FIELD_OF,
            success=_("Saved."),
        )
        if done:
            return redirect(url_for("admin.household", household_id=household.id))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "admin/households/form.html",
        form=form,
        household=household,
        cards=_cards_of(household),
        erase_form=ReasonForm(formdata=None),
        mask_phone=mask_phone,
    ), status


@bp.post("/households/<int:household_id>/erase")
@staff_required
def household_erase(household_id):
    """Remove a household's personal data on its request (PIPL); its cards' history stays."""
    household = get_or_404(Household, household_id)
    form = ReasonForm()
    if form.validate_on_submit():
        perform(
            roster.erase_household,
            household,
            form.reason.data or "",
            success=_("The household's name, phone and groups are removed."),
        )
    return redirect(url_for("admin.household", household_id=household.id))


# --- importing --------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="household-import")


def _rows_of(payload: str) -> list[SheetRow] | None:
    """Return the rows a preview carried to its apply button, or None if they were altered."""
    if not payload or len(payload) > 2_000_000:
        return None
    try:
        raw = _serializer().loads(payload)
    except BadSignature:
        return None
    # Signed by this app: the rows are what read_sheet gave, already bounded.
    return [SheetRow(int(line), {str(k): str(v) for k, v in cells.items()}) for line, cells in raw]


@bp.route("/households/import", methods=["GET", "POST"])
@staff_required
def household_import():
    """Import households from a sheet: a preview of what would change, then apply it."""
    form = UploadForm()
    form.set_communities(community_choices(), is_district_admin())
    plan = payload = None
    status = 200
    community_id = None
    if form.validate_on_submit():
        upload = form.sheet.data
        community_id = own_community_id(form.community.data if is_district_admin() else None)
        if community_id is None:
            form.community.errors = [_("Please choose a community.")]
            status = 422
        else:
            try:
                rows = read_sheet(
                    getattr(upload, "filename", "") or "",
                    upload.read() if upload else b"",
                    roster.ROSTER_COLUMNS,
                )
            except SheetError as error:
                form.sheet.errors = [message(error)]
                status = 422
            else:
                plan = roster.plan_import(db.session, community_id, rows)
                payload = _serializer().dumps([(row.line, row.cells) for row in rows])
                db.session.rollback()
    elif request.method == "POST":
        status = 422
    apply_form = ApplyImportForm(formdata=None, community=community_id, rows=payload)
    return render_template(
        "admin/households/import.html",
        form=form,
        plan=plan,
        apply_form=apply_form,
        applied=False,
        groups_text=groups_text,
        mask_phone=mask_phone,
    ), status


@bp.post("/households/import/apply")
@staff_required
def household_import_apply():
    """Apply a previewed import (planned afresh: the roster may have changed meanwhile)."""
    form = ApplyImportForm()
    rows = _rows_of(form.rows.data) if form.validate_on_submit() else None
    if rows is None:
        flash(_("The preview was lost or altered. Upload the sheet again."), "error")
        return redirect(url_for("admin.household_import"))
    chosen = optional_id(form.community.data) if is_district_admin() else None
    community_id = own_community_id(chosen)
    if community_id is None:
        abort(404)
    done = perform(roster.apply_import, community_id, rows)
    plan = done.value
    flash(
        _(
            "%(new)s households added, %(changed)s changed, %(refused)s rows refused.",
            new=len(plan.new),
            changed=len(plan.changed),
            refused=len(plan.refused),
        ),
        "success",
    )
    return render_template(
        "admin/households/import.html",
        form=UploadForm(formdata=None),
        plan=plan,
        apply_form=None,
        applied=True,
        groups_text=groups_text,
        mask_phone=mask_phone,
    )


@bp.get("/households/import-template.xlsx")
@staff_required
def household_import_template():
    """A sheet with the columns an import reads and example rows."""
    from ..services.exports import ExportColumn

    columns = [ExportColumn(column.headers[0]) for column in roster.ROSTER_COLUMNS]
    return export_response("xlsx", _("households-to-import"), columns, roster.ROSTER_TEMPLATE_ROWS)


# --- who a campaign's cards go to -------------------------------------------------------------


def _per_household(text: str) -> int | None:
    if not (text or "").strip():
        return None
    return parse_count(
        text,
        low=1,
        high=100,
        code="per_household_range",
        message=roster.RosterError.messages["per_household_range"],
    )


@bp.route("/campaigns/<int:campaign_id>/eligibility", methods=["GET", "POST"])
@staff_required
def campaign_eligibility(campaign_id):
    """Limit a campaign to groups of the roster, with cards per household for each."""
    campaign = get_or_404(Campaign, campaign_id)
    form = EmptyForm()
    current = {
        row.group: row.cards_per_household
        for row in roster.campaign_groups(db.session, campaign.id)
    }
    status = 200
    if form.validate_on_submit():
        try:
            limits = {
                group: _per_household(request.form.get(f"per-{group.value}", ""))
                for group in HouseholdGroup
                if request.form.get(f"group-{group.value}")
            }
        except InputError as error:
            flash(message(error), "error")
            status = 422
        else:
            done = perform(roster.set_campaign_groups, campaign, limits, success=_("Saved."))
            if done:
                return redirect(url_for("admin.campaign", campaign_id=campaign.id))
            status = 422
        current = {
            group: None for group in HouseholdGroup if request.form.get(f"group-{group.value}")
        }
    counts = roster.roster_counts(db.session, campaign.community_id)
    return render_template(
        "admin/households/eligibility.html",
        campaign=campaign,
        form=form,
        current=current,
        groups=list(HouseholdGroup),
        counts=counts,
    ), status


# --- hand-out lists ---------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/handouts", methods=["GET", "POST"])
@staff_required
def handout_lists(campaign_id):
    """A campaign's door-to-door lists, and making a new one for some buildings."""
    campaign = get_or_404(Campaign, campaign_id)
    form = HandoutForm(data={"hand_out_on": local_today()} if request.method == "GET" else None)
    buildings = db.session.scalars(
        select(Household.building).where(Household.community_id == campaign.community_id).distinct()
    ).all()
    form.buildings.choices = [
        (b, _("Building %(b)s", b=b)) for b in sorted(buildings, key=_building_key)
    ]
    status = 200
    if form.validate_on_submit():
        chosen = [b for b in form.buildings.data or [] if b in buildings]
        done = perform(
            handouts.make_list,
            campaign,
            chosen or None,
            form.hand_out_on.data,
            form.note.data or "",
            form=form,
            fields={"nobody_eligible": "buildings", "not_enough_cards": "buildings"},
        )
        if done:
            flash(_("The list is made: print it and take it door to door."), "success")
            return redirect(url_for("admin.handout", handout_id=done.value.id))
        status = 422
    elif request.method == "POST":
        status = 422
    lists = db.session.scalars(
        select(HandoutList)
        .where(HandoutList.campaign_id == campaign.id)
        .order_by(HandoutList.id.desc())
    ).all()
    return render_template(
        "admin/households/handouts.html",
        campaign=campaign,
        form=form,
        lists=[(h, handouts.counts(h)) for h in lists],
        groups=roster.campaign_groups(db.session, campaign.id),
        stock=_stock_count(campaign),
        editable=campaign.status != CampaignStatus.ENDED,
    ), status


def _stock_count(campaign: Campaign) -> int:
    from ..models import CardStatus

    set_aside = (
        select(HandoutLine.card_id)
        .join(HandoutList, HandoutList.id == HandoutLine.handout_id)
        .where(
            HandoutList.status == HandoutStatus.OPEN,
            HandoutLine.received_at.is_(None),
            HandoutLine.returned_at.is_(None),
        )
    )
    return db.session.scalar(
        select(func.count(Card.id)).where(
            Card.campaign_id == campaign.id,
            Card.status == CardStatus.NEW,
            Card.id.not_in(set_aside),
        )
    )


def show_handout(handout: HandoutList, status: int = 200, scan_form=None):
    return render_template(
        "admin/households/handout.html",
        handout=handout,
        campaign=handout.campaign,
        counts=handouts.counts(handout),
        buildings=handouts.buildings_of(handout.lines),
        empty_form=EmptyForm(formdata=None),
        scan_form=scan_form or ScanForm(formdata=None),
        groups_text=groups_text,
    ), status


@bp.get("/handouts/<int:handout_id>")
@staff_required
def handout(handout_id):
    """A hand-out list: tick who signed, or scan the cards as they go out; then close it."""
    return show_handout(get_or_404(HandoutList, handout_id))


@bp.post("/handouts/<int:handout_id>/received")
@staff_required
def handout_received(handout_id):
    """Take the list back in: the ticked lines' cards are handed out to their households."""
    handout = get_or_404(HandoutList, handout_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return show_handout(handout, 422)
    line_ids = [optional_id(raw) for raw in request.form.getlist("line")[: handouts.MAX_LINES]]
    done = perform(handouts.record_received, handout, [i for i in line_ids if i is not None])
    if done:
        result = done.value
        flash(_("%(count)s cards signed for and handed out.", count=len(result.signed)), "success")
        for line, error in result.refused:
            flash(f"{handouts.describe(line)}: {message(error)}", "error")
    return redirect(url_for("admin.handout", handout_id=handout.id))


@bp.post("/handouts/<int:handout_id>/scan")
@staff_required
def handout_scan(handout_id):
    """Scan a card as it is handed over at the door: its line counts as signed."""
    handout = get_or_404(HandoutList, handout_id)
    form = ScanForm()
    if form.validate_on_submit():
        done = perform(
            handouts.receive_scanned,
            handout,
            form.card.data or "",
            form=form,
            fields={"card_not_on_list": "card", "list_closed": "card"},
        )
        if done:
            flash(_("%(line)s: signed for.", line=handouts.describe(done.value)), "success")
            return redirect(url_for("admin.handout", handout_id=handout.id))
    return show_handout(handout, 422, form)


@bp.post("/handouts/<int:handout_id>/close")
@staff_required
def handout_close(handout_id):
    """Close the list: cards nobody signed for go back to stock."""
    handout = get_or_404(HandoutList, handout_id)
    if EmptyForm().validate_on_submit():
        done = perform(handouts.close_list, handout)
        if done:
            flash(
                _(
                    "The list is closed: %(received)s handed out, %(returned)s back in stock.",
                    received=done.value.received,
                    returned=done.value.returned,
                ),
                "success",
            )
    return redirect(url_for("admin.handout", handout_id=handout.id))


@bp.get("/handouts/<int:handout_id>/print")
@staff_required
def handout_print(handout_id):
    """The list on A4, one building after another, with a signature column."""
    handout = get_or_404(HandoutList, handout_id)
    return render_template(
        "admin/households/handout_print.html",
        handout=handout,
        campaign=handout.campaign,
        buildings=handouts.buildings_of(handout.lines),
        groups_text=groups_text,
    )


# --- waves ------------------------------------------------------------------------------------

WAVE_NUMBERS = {
    "size": (1, 10_000, "wave_size"),
    "count": (1, waves.MAX_WAVES, "wave_count"),
    "every_days": (1, waves.MAX_DAYS, "wave_every"),
    "valid_days": (1, waves.MAX_DAYS, "wave_days"),
}


def _wave_plan(form: WavesForm) -> waves.WavePlan | None:
    """Read the plan's numbers, bounded before converting; put each refusal beside its field."""
    numbers = {}
    for name, (low, high, code) in WAVE_NUMBERS.items():
        field = form[name]
        try:
            numbers[name] = parse_count(
                field.data or "",
                low=low,
                high=high,
                code=code,
                message=waves.WaveError.messages[code],
            )
        except InputError as error:
            field.errors = [*field.errors, message(error)]
    if len(numbers) < len(WAVE_NUMBERS):
        return None
    if form.first_day.data is None:
        return None
    return waves.WavePlan(first_day=form.first_day.data, **numbers)


@bp.route("/campaigns/<int:campaign_id>/waves", methods=["GET", "POST"])
@staff_required
def campaign_waves(campaign_id):
    """分批发放: the campaign's waves with their figures, and planning more."""
    campaign = get_or_404(Campaign, campaign_id)
    form = WavesForm(data={"first_day": local_today()} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        valid = form.validate_on_submit()
        plan = _wave_plan(form)  # every field's error at once, even beside a missing date
        if valid and plan is not None:
            done = perform(
                waves.plan_waves,
                campaign,
                plan,
                form=form,
                fields={
                    "wave_before_campaign": "first_day",
                    "wave_after_campaign": "count",
                },
            )
            if done:
                flash(
                    _("%(count)s waves planned and their cards made.", count=len(done.value)),
                    "success",
                )
                return redirect(url_for("admin.campaign_waves", campaign_id=campaign.id))
        status = 422
    return render_template(
        "admin/households/waves.html",
        campaign=campaign,
        form=form,
        figures=waves.wave_figures(db.session, campaign.id),
        today=local_today(),
        editable=campaign.status != CampaignStatus.ENDED,
    ), status
