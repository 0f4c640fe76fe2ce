"""Figures (数据): the dashboard, the misuse list, and settlement statements for the shops."""

from datetime import date

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import literal_column, select

from ..auth.access import get_or_404, scope
from ..clock import local_today
from ..database import write_transaction
from ..extensions import db
from ..inputs import optional_date, optional_id
from ..models import Campaign, Funding, Merchant
from ..rules import format_money
from ..services import dashboard as service
from ..services import misuse, volunteers, waves
from ..services.dashboard import DashboardError, Scope
from ..services.exports import ExportColumn
from ..services.reports import wave_row
from ..services.summary import close_days
from . import bp
from .charts import Bar, bar_chart
from .common import is_street_staff, message, sees_many, staff_required, visible_communities
from .tables import Column, Listing, export_response

DISCOUNT_LABELS = {
    "merchant": _l("Discounts given by shops (让利)"),
    "community": _l("Discounts paid by the office (补贴)"),
    "both": _l("Discounts (让利 and 补贴)"),
}


def _date_arg(name: str) -> date | None:
    return optional_date(request.args.get(name))


def read_scope(campaign: Campaign | None = None) -> tuple[Scope, Campaign | None, list[str]]:
    """Read community, campaign and period from the query string, within what the user sees."""
    problems = []
    if campaign is None:
        campaign_id = optional_id(request.args.get("campaign"))
        if campaign_id:
            campaign = db.session.scalar(
                scope(select(Campaign), Campaign).where(Campaign.id == campaign_id)
            )
    community_id = current_user.community_id
    if sees_many():
        community_id = optional_id(request.args.get("community")) or None
        if campaign is not None:
            community_id = campaign.community_id
    if is_street_staff() and campaign is None:
        # one community of the street at a time (互看互比 sets them side by side)
        ids = [c.id for c in visible_communities()]
        community_id = community_id if community_id in ids else (ids[0] if ids else 0)
    start, end = service.default_period(campaign)
    start = _date_arg("from") or start
    end = _date_arg("to") or end
    try:
        chosen = Scope(community_id, campaign.id if campaign else None, start, end)
    except DashboardError as error:
        problems.append(message(error))
        start, end = service.default_period(campaign)
        chosen = Scope(community_id, campaign.id if campaign else None, start, end)
    return chosen, campaign, problems


def merchant_columns() -> list[Column]:
    return [
        Column("name", _l("Shop"), Merchant.name, lambda r: r.name),
        Column("category", _l("Category"), Merchant.category, lambda r: r.category),
        Column("redemptions", _l("Uses"), _agg("redemptions"), lambda r: r.redemptions, "int"),
        Column("cards", _l("Cards"), _agg("cards"), lambda r: r.cards, "int"),
        Column("bills", _l("Spending brought (带动消费)"), _agg("bills_fen"), _bills, "money"),
        Column("discounts", _l("Discounts"), _agg("discounts_fen"), _discounts, "money"),
    ]


def _agg(name: str):
    return literal_column(name)


def _bills(row):
    return int(row.bills_fen)


def _discounts(row):
    return int(row.discounts_fen)


@bp.get("/dashboard")
@staff_required
def dashboard():
    chosen, campaign, problems = read_scope()
    for problem in problems:
        flash(problem, "error")
    missing = service.days_to_close(db.session, chosen)
    if missing:
        with write_transaction(db.session):
            close_days(db.session, missing[0], missing[-1])
    overview = service.overview(db.session, chosen)
    district_wide = chosen.community_id is None and chosen.campaign_id is None
    listing = None
    if not district_wide:
        listing = Listing(
            service.merchant_totals(chosen),
            merchant_columns(),
            default_sort="-bills",
            tiebreak=Merchant.id,
            scalars=False,
        )
    table = request.args.get("table", "")
    fmt = request.args.get("export")
    if fmt in ("csv", "xlsx"):
        return _export(fmt, table, chosen, overview, listing)
    categories = [] if district_wide else service.category_totals(db.session, chosen)
    findings = misuse.findings(db.session, chosen) if chosen.community_id is not None else []
    campaigns = db.session.execute(
        scope(select(Campaign.id, Campaign.name), Campaign).order_by(Campaign.id.desc())
    ).all()
    communities = visible_communities() if sees_many() else []
    kind = service.discount_label_kind(db.session, chosen)
    return render_template(
        "admin/dashboard/index.html",
        scope=chosen,
        campaign=campaign,
        overview=overview,
        chart=_day_chart(overview.days, kind),
        listing=listing,
        categories=categories,
        findings=findings,
        campaigns=[(c.id, c.name) for c in campaigns],
        communities=[(c.id, c.name) for c in communities],
        discount_label=DISCOUNT_LABELS[kind],
        district_wide=district_wide,
        finding_url=finding_url,
        volunteer_months=volunteers.monthly_figures(
            db.session, None if chosen.community_id is None else [chosen.community_id]
        ),
        hours_text=volunteers.hours_text,
        wave_rows=[] if district_wide else _wave_rows(chosen),
    )


def _wave_rows(chosen) -> list[list]:
    """The waves of the campaign (or the community's campaigns) in the period, as in 月报."""
    rounds = waves.wave_figures(
        db.session,
        chosen.campaign_id,
        community_ids=None if chosen.community_id is None else [chosen.community_id],
        start=chosen.start,
        end=chosen.end,
    )
    return [wave_row(w) for w in rounds]


def _day_chart(days, kind):
    bars = [
        Bar(
            day.day.strftime("%m-%d"),
            day.figures.bills_fen,
            day.figures.discounts_fen,
            _(
                "%(day)s: %(count)s uses, spending ¥%(bills)s, discounts ¥%(discounts)s",
                day=day.day.isoformat(),
                count=day.figures.redemptions,
                bills=format_money(day.figures.bills_fen),
                discounts=format_money(day.figures.discounts_fen),
            ),
        )
        for day in days
    ]
    return bar_chart(bars, label=_("Spending brought and discounts per day"))


def finding_url(finding) -> str:
    endpoints = {"redemptions": "admin.redemptions", "card": "admin.card"}
    return url_for(endpoints.get(finding.target, "admin.attempts"), **finding.filters)


def _export(fmt, table, chosen, overview, listing):
    name_of = {
        "days": _("figures-per-day"),
        "merchants": _("figures-per-shop"),
        "categories": _("figures-per-category"),
        "communities": _("figures-per-community"),
    }
    if table == "merchants" and listing is not None:
        return listing.export(name_of["merchants"])
    money = [
        ExportColumn(str(_("Uses")), "int"),
        ExportColumn(str(_("Spending brought (带动消费)")), "money"),
        ExportColumn(str(_("Discounts")), "money"),
    ]
    if table == "days":
        columns = [ExportColumn(str(_("Day")), "date"), *money]
        rows = [
            [d.day, d.figures.redemptions, d.figures.bills_fen, d.figures.discounts_fen]
            for d in overview.days
        ]
    elif table == "categories":
        columns = [ExportColumn(str(_("Category"))), ExportColumn(str(_("Shops")), "int"), *money]
        rows = [
            [r.category, r.merchants, r.redemptions, int(r.bills_fen), int(r.discounts_fen)]
            for r in service.category_totals(db.session, chosen)
        ]
    elif table == "communities":
        columns = [ExportColumn(str(_("Community"))), *money]
        rows = [
            [name, f.redemptions, f.bills_fen, f.discounts_fen]
            for _cid, name, f in overview.by_community
        ]
    else:
        abort(404)
    return export_response(fmt, name_of[table], columns, rows)


# --- settlement -----------------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/settlement")
@staff_required
def settlement(campaign_id):
    """What the office owes each shop for a community-funded campaign, in a period."""
    campaign = get_or_404(Campaign, campaign_id)
    chosen, _campaign, problems = read_scope(campaign)
    for problem in problems:
        flash(problem, "error")
    rows = service.settlement_totals(db.session, campaign, chosen.start, chosen.end)
    fmt = request.args.get("export")
    if fmt in ("csv", "xlsx"):
        columns = [
            ExportColumn(str(_("Shop"))),
            ExportColumn(str(_("Category"))),
            ExportColumn(str(_("Uses")), "int"),
            ExportColumn(str(_("Spending brought (带动消费)")), "money"),
            ExportColumn(str(_("Owed to the shop")), "money"),
        ]
        data = [
            [r.name, r.category, r.redemptions, int(r.bills_fen), int(r.discounts_fen)]
            for r in rows
        ]
        totals = [
            _("Total"),
            ngettext("%(num)s shop", "%(num)s shops", len(rows)),
            sum(r.redemptions for r in rows),
            sum(int(r.bills_fen) for r in rows),
            sum(int(r.discounts_fen) for r in rows),
        ]
        return export_response(fmt, _("settlement"), columns, data, totals)
    return render_template(
        "admin/dashboard/settlement.html",
        campaign=campaign,
        scope=chosen,
        rows=rows,
        total=sum(int(r.discounts_fen) for r in rows),
        total_bills=sum(int(r.bills_fen) for r in rows),
        total_uses=sum(r.redemptions for r in rows),
        community_funded=campaign.funding == Funding.COMMUNITY,
    )


@bp.get("/campaigns/<int:campaign_id>/settlement/<int:merchant_id>")
@staff_required
def settlement_statement(campaign_id, merchant_id):
    """A printable statement for one shop: every use behind what the office owes it."""
    campaign = get_or_404(Campaign, campaign_id)
    merchant = get_or_404(Merchant, merchant_id)
    if merchant.community_id != campaign.community_id:
        abort(404)
    chosen, _campaign, problems = read_scope(campaign)
    for problem in problems:
        flash(problem, "error")
    rows = service.settlement_rows(db.session, campaign, merchant, chosen.start, chosen.end)
    fmt = request.args.get("export")
    if fmt in ("csv", "xlsx"):
        columns = [
            ExportColumn(str(_("Time")), "datetime"),
            ExportColumn(str(_("Serial"))),
            ExportColumn(str(_("Bill")), "money"),
            ExportColumn(str(_("Discount owed")), "money"),
            ExportColumn(str(_("Paid by the customer")), "money"),
            ExportColumn(str(_("Rule"))),
        ]
        data = [
            [r.created_at, r.card.serial, r.bill_fen, r.discount_fen, r.paid_fen, r.rule_text]
            for r in rows
        ]
        totals = [
            _("Total"),
            ngettext("%(num)s use", "%(num)s uses", len(rows)),
            sum(r.bill_fen for r in rows),
            sum(r.discount_fen for r in rows),
            sum(r.paid_fen for r in rows),
            "",
        ]
        name = _("statement-%(shop)s", shop=merchant.name)
        return export_response(fmt, name, columns, data, totals)
    return render_template(
        "admin/dashboard/statement.html",
        campaign=campaign,
        merchant=merchant,
        scope=chosen,
        rows=rows,
        voided=service.voided_in_period(db.session, campaign, merchant, chosen.start, chosen.end),
        total=sum(r.discount_fen for r in rows),
        total_bills=sum(r.bill_fen for r in rows),
        today=local_today(),
    )
