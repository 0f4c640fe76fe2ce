"""互看互比: a street's communities side by side, and the district's streets side by side.

Street staff see their own street; the district admin any street, and the district across its
streets. Every measure of `services.compare.MEASURES` is shown, ranked, with its change against
the previous period, per household where a community's size is known, a chart of its own and
its definition; the table downloads as CSV or Excel.
"""

import re
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import roles_required
from ..clock import local_today
from ..database import write_transaction
from ..extensions import db
from ..models import Community, Role, Street
from ..rules import format_money
from ..services import compare as service
from ..services.dashboard import DashboardError
from ..services.exports import ExportColumn
from ..services.summary import close_days, closed_until, unclosed_days
from . import bp
from .charts import ranking_chart
from .common import district_admin_required, left_out, message
from .tables import export_response

street_required = roles_required(Role.STREET_STAFF, Role.DISTRICT_ADMIN)
MONTH = re.compile(r"(\d{4})-(\d{2})")
DISTRICT = "汉阳区"  # the one district of an installation; streets carry it too


def close_summary(start: date, end: date) -> None:
    """Summarise the closed days a page will read, in a short write of its own first."""
    missing = unclosed_days(db.session, start, min(end, closed_until(local_today())))
    if missing:
        with write_transaction(db.session):
            close_days(db.session, missing[0], missing[-1])


PERIOD_ARGS = ("month", "from", "to", "sort")


def read_period() -> service.Period:
    """Read `month=2026-11` or `from`/`to` from the query string; default: last month."""
    today = local_today()
    month = MONTH.fullmatch(request.args.get("month", "")[:7])
    if month and 2000 <= int(month[1]) <= 2100 and 1 <= int(month[2]) <= 12:
        return service.Period.of_month(date(int(month[1]), int(month[2]), 1), today)
    start, end = _date_arg("from"), _date_arg("to")
    if start and end:
        try:
            return service.Period.of_days(start, end)
        except DashboardError as error:
            flash(message(error), "error")
    return service.Period.of_month((today.replace(day=1) - service.ONE_DAY).replace(day=1), today)


def _plain(value: str | None) -> bool:
    """Tell whether a period or order value is plain enough to forward (a date, a month, a
    measure's key): never a path or an address someone typed into it."""
    return bool(value) and re.fullmatch(r"-?[\w-]{1,40}", value, re.ASCII) is not None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


def write_value(value: int, kind: str) -> str:
    """Write a measure's value as people read it: 1,234 · ¥1,234.56 · 12.5小时."""
    if kind == "money":
        return f"¥{format_money(value)}"
    if kind == "minutes":
        tenths = service._div(value * 10, 60)
        whole, rest = divmod(tenths, 10)
        return _("%(hours)s h", hours=f"{whole:,}.{rest}" if rest else f"{whole:,}")
    return f"{value:,}"


def write_relative(cell: service.Cell, m: service.Measure) -> str:
    """Write a cell's per-household figure (or share of households); empty when unknown."""
    found = service.per_household(cell, m)
    if found is None:
        return ""
    if m.relative == "share":
        whole, rest = divmod(found, 10)
        return f"{whole}.{rest}%"
    if m.kind == "money":
        return _("%(amount)s a household", amount=f"¥{format_money(found)}")
    if m.kind == "minutes":
        return _("%(minutes)s min a household", minutes=found)
    whole, rest = divmod(found, 10)
    return _("%(count)s per 100 households", count=f"{whole}.{rest}")


def write_change(cell: service.Cell) -> str:
    """Write the change against the previous period: +12%, −5%, new, or no change."""
    if cell.change == 0:
        return _("no change")
    percent = cell.change_percent
    if percent is None:
        return _("new")
    if percent == 0:  # less than half a percent either way
        return "+<1%" if cell.change > 0 else "−<1%"
    return f"+{percent}%" if percent > 0 else f"−{-percent}%"


def change_tone(cell: service.Cell, m: service.Measure) -> str:
    if cell.change == 0:
        return ""
    better = (cell.change > 0) == m.higher_is_better
    return "ok" if better else "bad"


def read_sort() -> tuple[str, bool]:
    raw = request.args.get("sort", "-bills")[:40]
    key, descending = (raw[1:], True) if raw.startswith("-") else (raw, False)
    if key != "name" and service.measure(key) is None:
        return "bills", True
    return key, descending


def _page(comparison, title: str, unit: str, template_args: dict):
    key, descending = read_sort()
    rows = comparison.sorted_rows(key, descending)
    fmt = request.args.get("export")
    if fmt in ("csv", "xlsx"):
        return _export(fmt, comparison, rows, title, unit)
    charts = [
        (
            m,
            ranking_chart(
                [
                    (r.name, r.cells[m.key].value, write_value(r.cells[m.key].value, m.kind))
                    for r in rows
                ],
                label=_(m.label),
            ),
        )
        for m in comparison.measures
    ]
    return render_template(
        "admin/compare/index.html",
        comparison=comparison,
        rows=rows,
        sort_key=key,
        descending=descending,
        charts=charts,
        title=title,
        unit=unit,
        write_value=write_value,
        write_relative=write_relative,
        write_change=write_change,
        change_tone=change_tone,
        months=_months(),
        **template_args,
    )


def _months() -> list[str]:
    today = local_today().replace(day=1)
    found = []
    for _n in range(12):
        found.append(today.strftime("%Y-%m"))
        today = (today.replace(day=1) - service.ONE_DAY).replace(day=1)
    return found


def _export(fmt, comparison, rows, title: str, unit: str):
    columns = [ExportColumn(unit), ExportColumn(_("Households"), "int")]
    for m in comparison.measures:
        kind = "money" if m.kind == "money" else "int"
        name = _(m.label) + (_(" (minutes)") if m.kind == "minutes" else "")
        columns += [
            ExportColumn(name, kind),
            ExportColumn(_("%(measure)s, previous period", measure=name), kind),
            ExportColumn(_("%(measure)s, change", measure=name), kind),
            ExportColumn(_("%(measure)s, rank", measure=name), "int"),
        ]
        if m.relative:
            columns.append(
                ExportColumn(
                    _("%(measure)s, share of households", measure=name)
                    if m.relative == "share"
                    else _("%(measure)s, per household", measure=name)
                )
            )

    def line(row):
        out = [row.name or _("Total"), row.households]
        for m in comparison.measures:
            cell = row.cells[m.key]
            out += [cell.value, cell.previous, cell.change, cell.rank or None]
            if m.relative:
                out.append(write_relative(cell, m))
        return out

    period = f"{comparison.period.start:%Y%m%d}-{comparison.period.end:%Y%m%d}"
    return export_response(
        fmt, f"{title}-{period}", columns, [*(line(r) for r in rows), line(comparison.total)]
    )


@bp.get("/compare")
@street_required
def compare():
    """A street's communities side by side (street staff: their own street)."""
    if current_user.role == Role.STREET_STAFF:
        street = current_user.street
    else:
        street = db.session.get(Street, request.args.get("street", type=int) or 0)
        if street is None:
            # Only what the comparison reads travels on: the period and the order.
            kept = {k: request.args[k][:40] for k in PERIOD_ARGS if _plain(request.args.get(k))}
            return redirect(url_for("admin.compare_district", **kept))
    period = read_period()
    communities = db.session.scalars(
        select(Community)
        .where(Community.street_id == street.id, Community.archived_at.is_(None))
        .order_by(Community.name)
    ).all()
    close_summary(period.previous_start, period.end)
    comparison = service.compare_communities(db.session, communities, period)
    return _page(
        comparison,
        _("%(street)s 互看互比", street=street.name),
        _("Community"),
        {"street": street, "left_out": left_out(street.id)},
    )


@bp.get("/compare/district")
@district_admin_required
def compare_district():
    """The district's streets side by side, each the sum of its communities."""
    period = read_period()
    district = db.session.scalar(select(Street.district).order_by(Street.id).limit(1)) or DISTRICT
    close_summary(period.previous_start, period.end)
    comparison = service.compare_streets(db.session, district, period)
    return _page(
        comparison,
        _("%(district)s 街道互看互比", district=district),
        _("Street"),
        {"left_out": left_out()},
    )
