"""月报: a community's month on one A4 page (and as Excel), sent up to its street; a street's
month from its communities' reports."""

import re
from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import roles_required
from ..clock import local_today, utcnow
from ..extensions import db
from ..models import Community, Role, Street
from ..services import compare
from ..services import reports as service
from ..services.exports import ExportColumn
from . import bp
from .common import perform, staff_required, visible_communities_stmt
from .compare import change_tone, close_summary, write_change, write_relative, write_value
from .forms import EmptyForm
from .tables import export_response

MONTH = re.compile(r"(\d{4})-(\d{2})")
street_required = roles_required(Role.STREET_STAFF, Role.DISTRICT_ADMIN)


def read_month(text: str | None) -> date:
    """Read `2026-11`; default: last month."""
    found = MONTH.fullmatch((text or "")[:7])
    if found and 2000 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12:
        return date(int(found[1]), int(found[2]), 1)
    return service.previous_month(local_today().replace(day=1))


def _months() -> list[date]:
    month, found = local_today().replace(day=1), []
    for _n in range(12):
        found.append(month)
        month = service.previous_month(month)
    return found


def _cells(measures: dict, previous: dict, households: int | None) -> list:
    """Return (measure, Cell) for each measure, with per-household figures where known."""
    out = []
    for m in compare.MEASURES:
        cell = compare.Cell(int(measures.get(m.key, 0)), int(previous.get(m.key, 0)))
        if m.relative and households:
            cell.relative = (cell.value, households)
        out.append((m, cell))
    return out


def _community(community_id) -> Community:
    """Return the community asked for if the user sees it (404 if not); without one, the
    user's own, or the first they see."""
    if community_id is None:
        first = db.session.scalar(visible_communities_stmt().limit(1))
        community_id = current_user.community_id or (first.id if first else None)
    try:
        ident = int(community_id)
    except (TypeError, ValueError):
        abort(404)
    found = db.session.scalar(visible_communities_stmt().where(Community.id == ident))
    if found is None:
        abort(404)
    return found


@bp.get("/report")
@staff_required
def report():
    """A community's monthly report: the A4 page (print it from the browser) or Excel."""
    community = _community(request.args.get("community"))
    month = read_month(request.args.get("month"))
    close_summary(service.previous_month(service.previous_month(month)), compare.next_month(month))
    found = service.report(db.session, community, month)
    cells = _cells(found.measures, found.previous, found.figures.get("households"))
    if request.args.get("export") == "xlsx":
        name = f"{community.name}{month:%Y-%m}月报"
        if request.args.get("table") == "waves":
            return _export_waves(
                name, [[community.name, *row] for row in found.figures.get("waves", [])]
            )
        return _export(name, [(community.name, cells)])
    return render_template(
        "admin/reports/community.html",
        report=found,
        cells=cells,
        months=_months(),
        form=EmptyForm(formdata=None),
        may_send=current_user.role == Role.STAFF and found.sent is None,
        month_over=compare.next_month(found.month) <= local_today(),
        **_writers(),
    )


@bp.post("/report/<int:community_id>/<int:year>-<int:month>/send")
@roles_required(Role.STAFF)
def report_send(community_id, year, month):
    """Mark a month's report 已报送: the street sees it, with its figures as they are now."""
    community = _community(community_id)
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        abort(404)
    if EmptyForm().validate_on_submit():
        perform(
            service.send,
            community,
            date(year, month, 1),
            success=_("The report is sent to the street; its figures are kept as they are now."),
        )
    return redirect(url_for("admin.report", community=community.id, month=f"{year}-{month:02d}"))


@bp.get("/streets/<int:street_id>/report")
@street_required
def street_report(street_id):
    """A street's month: its communities' reports side by side and added up, with who sent."""
    if current_user.role == Role.STREET_STAFF and street_id != current_user.street_id:
        abort(404)
    street = db.get_or_404(Street, street_id)
    month = read_month(request.args.get("month"))
    close_summary(service.previous_month(service.previous_month(month)), compare.next_month(month))
    found = service.street_month(db.session, street, month)
    households = [r.figures.get("households") for r in found.reports]
    total = sum(households) if households and all(households) else None
    cells = _cells(found.measures, found.previous, total)
    if request.args.get("export") == "xlsx" and request.args.get("table") == "waves":
        return _export_waves(f"{street.name}{month:%Y-%m}月报", found.waves)
    if request.args.get("export") == "xlsx":
        rows = [
            (r.community.name, _cells(r.measures, r.previous, r.figures.get("households")))
            for r in found.reports
        ]
        return _export(f"{street.name}{month:%Y-%m}月报", [*rows, (_("Total"), cells)])
    return render_template(
        "admin/reports/street.html",
        found=found,
        cells=cells,
        months=_months(),
        **_writers(),
    )


def _writers() -> dict:
    return {
        "write_value": write_value,
        "write_change": write_change,
        "write_relative": write_relative,
        "change_tone": change_tone,
        "measure_of": compare.measure,
        "now_utc": utcnow(),
    }


def _export(name: str, rows: list):
    columns = [ExportColumn(_("Community"))]
    for m in compare.MEASURES:
        kind = "money" if m.kind == "money" else "int"
        label = _(m.label) + (_(" (minutes)") if m.kind == "minutes" else "")
        columns += [
            ExportColumn(label, kind),
            ExportColumn(_("%(measure)s, previous period", measure=label), kind),
        ]
    data = [
        [place, *(v for _m, cell in cells for v in (cell.value, cell.previous))]
        for place, cells in rows
    ]
    return export_response("xlsx", name, columns, data)


def _export_waves(name: str, rows: list):
    """The month's waves (分批发放) as Excel: a row per community and wave, as in the report."""
    columns = [
        ExportColumn(_("Community")),
        ExportColumn(_("Campaign")),
        ExportColumn(_("Wave"), "int"),
        ExportColumn(_("Valid from")),
        ExportColumn(_("Valid until")),
        ExportColumn(_("Cards"), "int"),
        ExportColumn(_("Handed out this month"), "int"),
        ExportColumn(_("Handed out in all"), "int"),
        ExportColumn(_("Uses"), "int"),
        ExportColumn(_("Discount given"), "money"),
    ]
    return export_response("xlsx", f"{name}-{_('Cards in waves (分批发放)')}", columns, rows)
