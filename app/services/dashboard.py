"""数据: what a campaign did, per day, per shop, per category and per community.

Figures count live redemptions (voided ones are taken back) whose Shanghai day lies in a period,
for one campaign, one community or the whole district. Everything is aggregated in SQL over
the redemption table's (community_id, local_day) and (campaign_id, local_day) indexes; the
district-wide view groups by (day, community) in one pass and derives its totals and per-day
series from those few rows. Money is int fen throughout.
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
    RedemptionStatus,
)
from .errors import N_, DomainError

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


def _sums():
    return (
        func.count(Redemption.id),
        func.coalesce(func.sum(Redemption.bill_fen), 0),
        func.coalesce(func.sum(Redemption.discount_fen), 0),
    )


def overview(session: Session, scope: Scope) -> Overview:
    """Return totals, the per-day series and card counts for a scope, in two or three queries."""
    by_day: dict[date, Figures] = {}
    by_community: dict[int, Figures] = {}
    if scope.community_id is None and scope.campaign_id is None:
        # The whole district: one pass grouped by day and community gives all three views.
        rows = session.execute(
            select(Redemption.local_day, Redemption.community_id, *_sums())
            .where(*scope.conditions())
            .group_by(Redemption.local_day, Redemption.community_id)
        ).all()
        for day, community_id, count, bills, discounts in rows:
            by_day[day] = _add(by_day.get(day), count, bills, discounts)
            by_community[community_id] = _add(
                by_community.get(community_id), count, bills, discounts
            )
    else:
        rows = session.execute(
            select(Redemption.local_day, *_sums())
            .where(*scope.conditions())
            .group_by(Redemption.local_day)
        ).all()
        for day, count, bills, discounts in rows:
            by_day[day] = Figures(count, int(bills), int(discounts))
    totals = Figures()
    for figures in by_day.values():
        totals = _add(totals, figures.redemptions, figures.bills_fen, figures.discounts_fen)
    days = [Day(day, by_day.get(day, Figures())) for day in scope.days]
    issued, used = card_counts(session, scope)
    result = Overview(totals, days, issued, used)
    if by_community:
        names = dict(session.execute(select(Community.id, Community.name)).all())
        result.by_community = sorted(
            ((cid, names.get(cid, ""), figures) for cid, figures in by_community.items()),
            key=lambda row: -row[2].bills_fen,
        )
    return result


def _add(figures: Figures | None, count, bills, discounts) -> Figures:
    figures = figures or Figures()
    return Figures(
        figures.redemptions + int(count),
        figures.bills_fen + int(bills),
        figures.discounts_fen + int(discounts),
    )


def card_counts(session: Session, scope: Scope) -> tuple[int, int]:
    """Return how many cards were handed out so far, and how many of them were used at all."""
    conditions = [Card.status != CardStatus.NEW]
    if scope.campaign_id is not None:
        conditions.append(Card.campaign_id == scope.campaign_id)
    if scope.community_id is not None:
        conditions.append(Card.community_id == scope.community_id)
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
