"""月报: a community's figures for a month, sent up to its street, and a street's month.

A month's report is worked out from the rows until the community's staff send it (已报送):
then its figures are kept as they were (`MonthlyReport.figures`) and later changes to that
month's rows (a use voided after sending, say) show as corrections in the next month's
report. A street's report adds up its communities' reports: as sent where sent, else as the
rows are now, marked not yet sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import local_today, utcnow
from ..models import (
    Campaign,
    Community,
    Funding,
    Merchant,
    MonthlyReport,
    Redemption,
    Role,
    Street,
    User,
)
from . import audit, compare, misuse, waves
from .dashboard import Scope
from .errors import N_, DomainError

TOP_SHOPS = 5
FINDINGS_KEPT = 5
KEYS_OF_MONEY = {m.key for m in compare.MEASURES if m.kind == "money"}


class ReportError(DomainError):
    messages = {
        "month_not_over": N_("A month's report is sent once the month is over."),
        "already_sent": N_("This month's report has already been sent."),
        "not_own_community": N_("Only the community's own staff send its report."),
    }


def month_of(day: date) -> date:
    return day.replace(day=1)


def previous_month(first: date) -> date:
    return month_of(first - compare.ONE_DAY)


@dataclass
class Report:
    """What a month's report shows; `sent` is the row when it was sent (figures frozen)."""

    community: Community
    month: date
    figures: dict
    sent: MonthlyReport | None
    corrections: dict[str, int] = field(default_factory=dict)  # last month's, as sent vs now
    corrected_month: date | None = None

    @property
    def measures(self) -> dict[str, int]:
        return self.figures["measures"]

    @property
    def previous(self) -> dict[str, int]:
        return self.figures["previous"]


def work_out(session: Session, community: Community, month: date) -> dict:
    """Return a community's figures for a month from the rows as they are now (JSON-ready)."""
    period = compare.Period.of_month(month, max(local_today(), compare.next_month(month)))
    now = compare.values_of(session, [community.id], period.start, period.end)
    before = compare.values_of(session, [community.id], period.previous_start, period.previous_end)
    scope = Scope(community.id, None, period.start, period.end)
    bills = func.sum(Redemption.bill_fen)
    shops = session.execute(
        select(
            Merchant.name,
            func.count(Redemption.id),
            func.coalesce(bills, 0),
            func.coalesce(func.sum(Redemption.discount_fen), 0),
        )
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(*scope.conditions())
        .group_by(Merchant.id, Merchant.name)
        .order_by(bills.desc(), Merchant.name)
        .limit(TOP_SHOPS)
    ).all()
    settlement = session.execute(
        select(
            Campaign.name,
            func.count(Redemption.id),
            func.coalesce(func.sum(Redemption.bill_fen), 0),
            func.coalesce(func.sum(Redemption.discount_fen), 0),
            func.count(func.distinct(Redemption.merchant_id)),
        )
        .join(Campaign, Campaign.id == Redemption.campaign_id)
        .where(*scope.conditions(), Campaign.funding == Funding.COMMUNITY)
        .group_by(Campaign.id, Campaign.name)
        .order_by(Campaign.name)
    ).all()
    found = misuse.findings(session, scope)
    rounds = waves.wave_figures(
        session, community_ids=[community.id], start=period.start, end=period.end
    )
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "measures": {key: values.get(community.id, 0) for key, values in now.items()},
        "previous": {key: values.get(community.id, 0) for key, values in before.items()},
        "households": community.households,
        "residents": community.residents,
        "top_shops": [[n, int(u), int(b), int(d)] for n, u, b, d in shops],
        "settlement": [[n, int(u), int(b), int(d), int(s)] for n, u, b, d, s in settlement],
        "waves": [wave_row(w) for w in rounds],
        "findings": [{"message": f.message, "details": f.details} for f in found[:FINDINGS_KEPT]],
        "findings_count": len(found),
        "worked_out_at": utcnow().isoformat(),
    }


def wave_row(w: waves.WaveFigures) -> list:
    """A wave's month as kept in a report: campaign, wave, days, cards, handed out (this month,
    in all), uses and discount this month."""
    b = w.batch
    days = [d.isoformat() if d else "" for d in (b.valid_from, b.valid_until)]
    return [
        w.campaign_name,
        b.wave,
        *days,
        b.size,
        w.handed_out_in_period,
        w.handed_out,
        w.uses,
        w.discount_fen,
    ]


def sent_report(session: Session, community_id: int, month: date) -> MonthlyReport | None:
    return session.scalar(
        select(MonthlyReport).where(
            MonthlyReport.community_id == community_id, MonthlyReport.month == month
        )
    )


def report(session: Session, community: Community, month: date) -> Report:
    """Return a community's report for a month: as sent, or as the rows are now."""
    month = month_of(month)
    sent = sent_report(session, community.id, month)
    figures = sent.figures if sent is not None else work_out(session, community, month)
    found = Report(community, month, figures, sent)
    last = previous_month(month)
    earlier = sent_report(session, community.id, last)
    if earlier is not None:
        found.corrected_month = last
        found.corrections = corrections(session, community, earlier)
    return found


def corrections(session: Session, community: Community, sent: MonthlyReport) -> dict[str, int]:
    """Return how a sent month's figures differ now from what was sent (now − sent)."""
    period = compare.Period.of_month(sent.month, compare.next_month(sent.month))
    now = compare.values_of(session, [community.id], period.start, period.end)
    frozen = sent.figures["measures"]
    changed = {}
    for key, values in now.items():
        if key == "misuse" or key not in frozen:
            continue  # findings are worked out afresh each time; not a correction of figures
        difference = values.get(community.id, 0) - int(frozen[key])
        if difference:
            changed[key] = difference
    return changed


def send(session: Session, actor: User, community: Community, month: date) -> MonthlyReport:
    """Mark a community's month 已报送: its figures are kept as they are now."""
    month = month_of(month)
    if actor.role != Role.STAFF or actor.community_id != community.id:
        raise ReportError("not_own_community")
    if compare.next_month(month) > local_today():
        raise ReportError("month_not_over")
    if sent_report(session, community.id, month) is not None:
        raise ReportError("already_sent")
    row = MonthlyReport(
        community_id=community.id,
        street_id=community.street_id,
        month=month,
        figures=work_out(session, community, month),
        sent_at=utcnow(),
        sent_by_id=actor.id,
        sent_by_label=actor.name,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "report.send",
        row,
        after={"month": month.strftime("%Y-%m"), "street": community.street_name},
    )
    return row


@dataclass
class StreetMonth:
    """A street's month: each community's report, and the sums of their figures."""

    street: Street
    month: date
    reports: list[Report]
    measures: dict[str, int]
    previous: dict[str, int]
    settlement: list[list]
    top_shops: list[list]
    waves: list[list]
    findings_count: int
    sent_count: int
    at: datetime = field(default_factory=utcnow)


def street_month(session: Session, street: Street, month: date) -> StreetMonth:
    """Return a street's month from its communities' reports (as sent where they were sent)."""
    month = month_of(month)
    places = session.scalars(
        select(Community)
        .where(Community.street_id == street.id, Community.archived_at.is_(None))
        .order_by(Community.name)
    ).all()
    reports = [report(session, place, month) for place in places]
    keys = [m.key for m in compare.MEASURES]
    measures = {k: sum(int(r.measures.get(k, 0)) for r in reports) for k in keys}
    previous = {k: sum(int(r.previous.get(k, 0)) for r in reports) for k in keys}
    settlement = [
        [r.community.name, *row] for r in reports for row in r.figures.get("settlement", [])
    ]
    rounds = [[r.community.name, *row] for r in reports for row in r.figures.get("waves", [])]
    shops = sorted(
        ([r.community.name, *row] for r in reports for row in r.figures.get("top_shops", [])),
        key=lambda row: -row[3],
    )[:TOP_SHOPS]
    return StreetMonth(
        street,
        month,
        reports,
        measures,
        previous,
        settlement,
        shops,
        rounds,
        sum(int(r.figures.get("findings_count", 0)) for r in reports),
        sum(1 for r in reports if r.sent is not None),
    )
