"""数据: what a campaign did, per day, per shop, per category and per community.

Figures count live redemptions (voided ones are taken back) whose Shanghai day lies in a period,
for one campaign, one community or the whole district. Money is int fen throughout.

A community's or a campaign's figures are aggregated in SQL over the redemption table's
(community_id, local_day) and (campaign_id, local_day) indexes. The totals and per-day series
come from a daily summary (`RedemptionDay`, one row per campaign and day) for every day at
least two days old, and from the redemptions themselves for the newer days: a year of a whole
district is then ~36,500 summary rows instead of a million uses. A day is summarised the first
time figures ask for it (`close_days`); no redemption can be written for it any more (uses are
written on their own day), and when a use of a summarised day is voided the redemption service
recomputes that campaign's row (`services.summary`), so the summary never drifts from the uses.
Anything else that writes redemptions for past days (an import, a demo) must call
`summary.refresh_day` or `summary.forget_days`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, joinedload

from ..clock import local_today
from ..models import (
    Campaign,
    Card,
    CardStatus,
    Community,
    Funding,
    Merchant,
    Redemption,
    RedemptionDay,
    RedemptionStatus,
)
from .errors import N_, DomainError
from .summary import close_days, closed_until, sums, unclosed_days

ONE_DAY = timedelta(days=1)
MAX_DAYS = 3 * 366  # a period longer than this is refused: the chart would be unreadable


class DashboardError(DomainError):
    messages = {
        "period_order": N_("The period's last day cannot be before its first day."),
        "period_too_long": N_("Choose a period of at most three years."),
    }


@dataclass(frozen=True)
class Scope:
    """Which redemptions a figure covers: a community or all (None), a campaign or all, a period."""

    community_id: int | None
    campaign_id: int | None
    start: date
    end: date  # inclusive

    def __post_init__(self):
        if self.end < self.start:
            raise DashboardError("period_order")
        if (self.end - self.start).days > MAX_DAYS:
            raise DashboardError("period_too_long")

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def conditions(self) -> list:
        """Return the WHERE conditions on Redemption for this scope (live ones only)."""
        found = [
            Redemption.status == RedemptionStatus.OK,
            Redemption.local_day >= self.start,
            Redemption.local_day <= self.end,
        ]
        if self.campaign_id is not None:
            found.append(Redemption.campaign_id == self.campaign_id)
        if self.community_id is not None:
            found.append(Redemption.community_id == self.community_id)
        return found


def running_communities():
    """Return a query of the ids of the communities not archived: the district's figures count
    only these (an archived community's rows are kept, and shown when it is chosen)."""
    return select(Community.id).where(Community.archived_at.is_(None))


def default_period(campaign: Campaign | None, today: date | None = None) -> tuple[date, date]:
    """Return the period shown first: a campaign's days so far, else the last 30 days."""
    today = today or local_today()
    if campaign is not None:
        end = min(campaign.valid_until, max(today, campaign.valid_from))
        return campaign.valid_from, end
    return today - timedelta(days=29), today


@dataclass(frozen=True)
class Figures:
    """Sums over a scope."""

    redemptions: int = 0
    bills_fen: int = 0
    discounts_fen: int = 0

    @property
    def paid_fen(self) -> int:
        return self.bills_fen - self.discounts_fen


@dataclass(frozen=True)
class Day:
    day: date
    figures: Figures


@dataclass
class Overview:
    """The dashboard's figures: totals, per day, and the cards handed out and used so far."""

    totals: Figures
    days: list[Day]
    cards_issued: int
    cards_used: int
    by_community: list[tuple[int, str, Figures]] = field(default_factory=list)


def days_to_close(session: Session, scope: Scope, today: date | None = None) -> list[date]:
    """Return the days of `scope` the overview reads from the summary that it does not hold yet.

    The page closes them (`close_days`) in a short write transaction of its own before reading,
    so that reading the figures holds no lock.
    """
    split = min(scope.end, closed_until(today or local_today()))
    return unclosed_days(session, scope.start, split) if split >= scope.start else []


def overview(session: Session, scope: Scope, today: date | None = None) -> Overview:
    """Return totals, the per-day series (and per community, district-wide) and card counts.

    Days at least two days old are read from the daily summary, summarising them first if they
    are not yet (the caller commits); the newer days from the redemptions.
    """
    today = today or local_today()
    district = scope.community_id is None and scope.campaign_id is None
    split = min(scope.end, closed_until(today))
    parts = []  # (the column to group by, the figures' source and its conditions)
    if split >= scope.start:
        close_days(session, scope.start, split)
        summed = (
            func.sum(RedemptionDay.redemptions),
            func.sum(RedemptionDay.bills_fen),
            func.sum(RedemptionDay.discounts_fen),
        )
        where = [RedemptionDay.local_day >= scope.start, RedemptionDay.local_day <= split]
        if scope.campaign_id is not None:
            where.append(RedemptionDay.campaign_id == scope.campaign_id)
        if scope.community_id is not None:
            where.append(RedemptionDay.community_id == scope.community_id)
        if district:
            where.append(RedemptionDay.community_id.in_(running_communities()))
        parts.append((RedemptionDay.local_day, RedemptionDay.community_id, summed, where))
    if split < scope.end:
        recent = Scope(
            scope.community_id, scope.campaign_id, max(scope.start, split + ONE_DAY), scope.end
        )
        where = recent.conditions()
        if district:
            # lets PostgreSQL use the (community_id, local_day) index, one community at a time
            where.append(Redemption.community_id.in_(running_communities()))
        parts.append((Redemption.local_day, Redemption.community_id, sums(), where))
    by_day: dict[date, list[int]] = {}
    by_community: dict[int, list[int]] = {}
    for day_column, community_column, figures, where in parts:
        groups = [(day_column, by_day)] + ([(community_column, by_community)] if district else [])
        for column, into in groups:
            for key, count, bills, discounts in session.execute(
                select(column, *figures).where(*where).group_by(column)
            ):
                into.setdefault(key, [0, 0, 0])
                into[key][0] += int(count)
                into[key][1] += int(bills)
                into[key][2] += int(discounts)
    figures_of = {day: Figures(*values) for day, values in by_day.items()}
    totals = Figures(*(sum(values[i] for values in by_day.values()) for i in range(3)))
    days = [Day(day, figures_of.get(day, Figures())) for day in scope.days]
    issued, used = card_counts(session, scope)
    result = Overview(totals, days, issued, used)
    if by_community:
        names = dict(session.execute(select(Community.id, Community.name)).all())
        result.by_community = sorted(
            ((cid, names.get(cid, ""), Figures(*values)) for cid, values in by_community.items()),
            key=lambda row: -row[2].bills_fen,
        )
    return result


def card_counts(session: Session, scope: Scope) -> tuple[int, int]:
    """Return how many cards were handed out so far, and how many of them were used at all."""
    conditions = [Card.status != CardStatus.NEW]
    if scope.campaign_id is not None:
        conditions.append(Card.campaign_id == scope.campaign_id)
    if scope.community_id is not None:
        conditions.append(Card.community_id == scope.community_id)
    elif scope.campaign_id is None:
        conditions.append(Card.community_id.in_(running_communities()))
    issued, used = session.execute(
        select(
            func.count(Card.id),
            func.coalesce(func.sum(case((Card.uses_count > 0, 1), else_=0)), 0),
        ).where(*conditions)
    ).one()
    return issued, int(used)


def merchant_totals(scope: Scope) -> Select:
    """Return a query of per-shop figures (for a sortable, exportable table)."""
    return (
        select(
            Merchant.id.label("merchant_id"),
            Merchant.name.label("name"),
            Merchant.category.label("category"),
            func.count(Redemption.id).label("redemptions"),
            func.coalesce(func.sum(Redemption.bill_fen), 0).label("bills_fen"),
            func.coalesce(func.sum(Redemption.discount_fen), 0).label("discounts_fen"),
            func.count(func.distinct(Redemption.card_id)).label("cards"),
        )
        .join(Merchant, Redemption.merchant_id == Merchant.id)
        .where(*scope.conditions())
        .group_by(Merchant.id, Merchant.name, Merchant.category)
    )


def category_totals(session: Session, scope: Scope) -> list:
    """Return per-category figures, the largest 带动消费 first."""
    bills = func.coalesce(func.sum(Redemption.bill_fen), 0)
    return session.execute(
        select(
            Merchant.category.label("category"),
            func.count(func.distinct(Merchant.id)).label("merchants"),
            func.count(Redemption.id).label("redemptions"),
            bills.label("bills_fen"),
            func.coalesce(func.sum(Redemption.discount_fen), 0).label("discounts_fen"),
        )
        .join(Merchant, Redemption.merchant_id == Merchant.id)
        .where(*scope.conditions())
        .group_by(Merchant.category)
        .order_by(bills.desc())
    ).all()


def discount_label_kind(session: Session, scope: Scope) -> str:
    """Say what the discounts are: 让利 (shops give), 补贴 (the office pays) or both."""
    stmt = select(Campaign.funding).distinct()
    if scope.campaign_id is not None:
        stmt = stmt.where(Campaign.id == scope.campaign_id)
    elif scope.community_id is not None:
        stmt = stmt.where(Campaign.community_id == scope.community_id)
    kinds = set(session.scalars(stmt))
    if kinds == {Funding.MERCHANT}:
        return "merchant"
    if kinds == {Funding.COMMUNITY}:
        return "community"
    return "both"


# --- settlement -----------------------------------------------------------------------------


def settlement_totals(session: Session, campaign: Campaign, start: date, end: date) -> list:
    """Return per shop what the office owes for a community-funded campaign in a period."""
    scope = Scope(campaign.community_id, campaign.id, start, end)
    return session.execute(merchant_totals(scope).order_by(Merchant.name)).all()


def settlement_rows(
    session: Session, campaign: Campaign, merchant: Merchant, start: date, end: date
) -> list[Redemption]:
    """Return every live redemption behind a shop's settlement figure, oldest first."""
    scope = Scope(campaign.community_id, campaign.id, start, end)
    return list(
        session.scalars(
            select(Redemption)
            .options(joinedload(Redemption.card))
            .where(*scope.conditions(), Redemption.merchant_id == merchant.id)
            .order_by(Redemption.created_at, Redemption.id)
        )
    )


def voided_in_period(
    session: Session, campaign: Campaign, merchant: Merchant, start: date, end: date
) -> list[Redemption]:
    """Return the voided redemptions of a shop in a period (shown, not owed)."""
    return list(
        session.scalars(
            select(Redemption)
            .where(
                Redemption.campaign_id == campaign.id,
                Redemption.merchant_id == merchant.id,
                Redemption.status == RedemptionStatus.VOID,
                and_(Redemption.local_day >= start, Redemption.local_day <= end),
            )
            .order_by(Redemption.created_at)
        )
    )
