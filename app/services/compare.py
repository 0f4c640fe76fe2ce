"""互看互比: communities (or streets) side by side on the same measures for a period.

Each measure is a `Measure` in `MEASURES`, in the order pages show them. A module that counts
something new (the volunteers' hours, say) adds its own with `register(Measure(...))`: its
`compute(context)` returns {community id: value} for the context's communities and period,
and everything else (previous period, change, rank, per household, charts, exports, the
definitions on the page) follows.

Values are integers: counts, fen, or minutes. A street's value is the sum of its
communities'. Per-household figures divide by the community's households, where known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..clock import local_day_bounds, local_today
from ..models import (
    Campaign,
    CampaignStatus,
    Card,
    CardStatus,
    Community,
    Funding,
    HelpPost,
    HelpStatus,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    RedemptionDay,
    RedemptionStatus,
    Role,
    Street,
    User,
)
from . import misuse
from .dashboard import MAX_DAYS, DashboardError, Scope
from .errors import N_
from .summary import close_days, closed_until

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """The days compared (inclusive) and the period they are compared with."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    month: date | None = None  # the month's first day, when the period is a calendar month

    @classmethod
    def of_month(cls, first: date, today: date | None = None) -> Period:
        """A calendar month against the month before; this month so far against as many
        days of the month before."""
        today = today or local_today()
        first = first.replace(day=1)
        last = next_month(first) - ONE_DAY
        end = min(last, max(today, first))
        before = (first - ONE_DAY).replace(day=1)
        previous_end = first - ONE_DAY  # a whole month against the whole month before
        if end < last:  # a month so far against as many days of the month before
            previous_end = min(before + (end - first), previous_end)
        return cls(first, end, before, previous_end, first)

    @classmethod
    def of_days(cls, start: date, end: date) -> Period:
        """Any days, against as many days just before them."""
        if end < start:
            raise DashboardError("period_order")
        if (end - start).days > MAX_DAYS:
            raise DashboardError("period_too_long")
        length = end - start
        return cls(start, end, start - length - ONE_DAY, start - ONE_DAY)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


class Context:
    """What the measures of one period read: the communities, the period, shared sums."""

    def __init__(self, session: Session, community_ids: Iterable[int], start: date, end: date):
        self.session = session
        self.ids = sorted(set(community_ids))
        self.start, self.end = start, end
        self.since = local_day_bounds(start)[0]  # aware UTC moments bounding the period
        self.until = local_day_bounds(end)[1]

    def grouped(self, column, value, *where) -> dict[int, int]:
        """Return {community id: value} of a query grouped by a community_id column."""
        if not self.ids:
            return {}
        rows = self.session.execute(
            select(column, value).where(column.in_(self.ids), *where).group_by(column)
        )
        return {cid: int(v or 0) for cid, v in rows}

    @cached_property
    def uses(self) -> dict[int, tuple[int, int, int, int]]:
        """Per community: live uses, their bills, discounts of shops (让利), of the office (补贴).

        Days at least two days old come from the daily summary, newer days from the uses."""
        found: dict[int, list[int]] = {cid: [0, 0, 0, 0] for cid in self.ids}
        if not self.ids:
            return {}
        split = min(self.end, closed_until(local_today()))
        merchant_funded = Campaign.funding == Funding.MERCHANT
        if split >= self.start:
            close_days(self.session, self.start, split)
            day = RedemptionDay
            self._add(
                found,
                select(
                    day.community_id,
                    func.sum(day.redemptions),
                    func.sum(day.bills_fen),
                    func.sum(_if(merchant_funded, day.discounts_fen)),
                    func.sum(_if(~merchant_funded, day.discounts_fen)),
                )
                .join(Campaign, Campaign.id == day.campaign_id)
                .where(
                    day.community_id.in_(self.ids),
                    day.local_day >= self.start,
                    day.local_day <= split,
                )
                .group_by(day.community_id),
            )
        if split < self.end:
            use = Redemption
            self._add(
                found,
                select(
                    use.community_id,
                    func.count(use.id),
                    func.sum(use.bill_fen),
                    func.sum(_if(merchant_funded, use.discount_fen)),
                    func.sum(_if(~merchant_funded, use.discount_fen)),
                )
                .join(Campaign, Campaign.id == use.campaign_id)
                .where(
                    use.community_id.in_(self.ids),
                    use.status == RedemptionStatus.OK,
                    use.local_day >= max(self.start, split + ONE_DAY),
                    use.local_day <= self.end,
                )
                .group_by(use.community_id),
            )
        return {cid: tuple(values) for cid, values in found.items()}

    def _add(self, found, stmt) -> None:
        for cid, *values in self.session.execute(stmt):
            for i, value in enumerate(values):
                found[cid][i] += int(value or 0)

    @cached_property
    def help_done(self) -> dict[int, tuple[int, int]]:
        """Per community: help posts staff confirmed in the period, and the minutes given."""
        rows = self.session.execute(
            select(HelpPost.community_id, func.count(HelpPost.id), func.sum(HelpPost.minutes))
            .where(
                HelpPost.community_id.in_(self.ids),
                HelpPost.status == HelpStatus.CONFIRMED,
                HelpPost.closed_at >= self.since,
                HelpPost.closed_at < self.until,
            )
            .group_by(HelpPost.community_id)
        )
        return {cid: (int(n), int(minutes or 0)) for cid, n, minutes in rows}


def _if(condition, value):
    return case((condition, value), else_=0)


@dataclass(frozen=True)
class Measure:
    """One figure compared: its name and definition (msgids), its kind and how it is counted.

    kind: "int" (a count), "money" (fen) or "minutes" (shown as hours). relative: what a
    community's size turns it into: "per_household" (value per household) or "share" (a
    share of households). higher_is_better: False where fewer is better (rank 1 = fewest).
    """

    key: str
    label: str
    definition: str
    kind: str
    compute: Callable[[Context], Mapping[int, int]]
    relative: str | None = None
    higher_is_better: bool = True
    short: str = ""  # a short name for a chart's or table's head; the label when empty


def _shops(ctx: Context) -> dict[int, int]:
    if not ctx.ids:
        return {}
    rows = ctx.session.execute(
        select(Offer.community_id, func.count(func.distinct(Offer.merchant_id)))
        .join(Campaign, Campaign.id == Offer.campaign_id)
        .join(Merchant, Merchant.id == Offer.merchant_id)
        .where(
            Offer.community_id.in_(ctx.ids),
            Offer.status == OfferStatus.ACTIVE,
            Campaign.status != CampaignStatus.DRAFT,
            Campaign.valid_from <= ctx.end,
            Campaign.valid_until >= ctx.start,
            Merchant.status == MerchantStatus.ACTIVE,
        )
        .group_by(Offer.community_id)
    )
    return {cid: int(n) for cid, n in rows}


def _cards_issued(ctx: Context) -> dict[int, int]:
    return ctx.grouped(
        Card.community_id,
        func.count(Card.id),
        Card.issued_at >= ctx.since,
        Card.issued_at < ctx.until,
        Card.replaces_id.is_(None),  # a replacement for a lost card reaches nobody new
    )


def _households_reached(ctx: Context) -> dict[int, int]:
    return ctx.grouped(
        Card.community_id,
        func.count(func.distinct(Card.household)),
        Card.status != CardStatus.NEW,
        Card.household.is_not(None),
        Card.issued_at < ctx.until,
    )


def _cards_used(ctx: Context) -> dict[int, int]:
    return ctx.grouped(
        Redemption.community_id,
        func.count(func.distinct(Redemption.card_id)),
        Redemption.status == RedemptionStatus.OK,
        Redemption.local_day >= ctx.start,
        Redemption.local_day <= ctx.end,
    )


def _use_figure(index: int) -> Callable[[Context], dict[int, int]]:
    def compute(ctx: Context) -> dict[int, int]:
        return {cid: values[index] for cid, values in ctx.uses.items()}

    return compute


def _help_figure(index: int) -> Callable[[Context], dict[int, int]]:
    def compute(ctx: Context) -> dict[int, int]:
        return {cid: values[index] for cid, values in ctx.help_done.items()}

    return compute


def _residents_on_board(ctx: Context) -> dict[int, int]:
    return ctx.grouped(
        User.community_id,
        func.count(User.id),
        User.role == Role.RESIDENT,
        User.active.is_(True),
        User.confirmed_at.is_not(None),
        User.confirmed_at < ctx.until,
    )


def _misuse_findings(ctx: Context) -> dict[int, int]:
    found = misuse.findings_of(ctx.session, ctx.ids, Scope(None, None, ctx.start, ctx.end))
    return {cid: len(items) for cid, items in found.items()}


MEASURES: list[Measure] = [
    Measure(
        "shops",
        N_("Shops taking part"),
        N_(
            "Shops taking cards now that take part in a campaign running at any time in the "
            "period (campaigns not in draft)."
        ),
        "int",
        _shops,
        short=N_("Shops"),
    ),
    Measure(
        "cards_issued",
        N_("Cards handed out"),
        N_(
            "Cards and coupons handed to a household in the period; a replacement for a lost "
            "card is not counted again."
        ),
        "int",
        _cards_issued,
        relative="per_household",
        short=N_("Handed out"),
    ),
    Measure(
        "households_reached",
        N_("Households reached"),
        N_(
            "Households that had been handed at least one card by the end of the period; the "
            "share is of the community's households."
        ),
        "int",
        _households_reached,
        relative="share",
        short=N_("Households"),
    ),
    Measure(
        "cards_used",
        N_("Cards used"),
        N_("Cards and coupons used at least once in the period (voided uses do not count)."),
        "int",
        _cards_used,
        relative="per_household",
        short=N_("Cards used"),
    ),
    Measure(
        "uses",
        N_("Uses"),
        N_("Uses (核销) in the period, not counting voided ones."),
        "int",
        _use_figure(0),
        relative="per_household",
    ),
    Measure(
        "bills",
        N_("Spending brought (带动消费)"),
        N_("The bills of those uses, before the discount: what residents spent at the shops."),
        "money",
        _use_figure(1),
        relative="per_household",
        short=N_("带动消费"),
    ),
    Measure(
        "merchant_discounts",
        N_("Discounts given by shops (让利)"),
        N_("Discounts of campaigns where the shop gives the discount."),
        "money",
        _use_figure(2),
        relative="per_household",
        short=N_("让利"),
    ),
    Measure(
        "community_discounts",
        N_("Discounts paid by the office (补贴)"),
        N_("Discounts of campaigns the community pays for: what the office owes the shops."),
        "money",
        _use_figure(3),
        relative="per_household",
        short=N_("补贴"),
    ),
    Measure(
        "help_done",
        N_("Help posts done"),
        N_("Help requests and offers whose help staff confirmed in the period."),
        "int",
        _help_figure(0),
        short=N_("Help done"),
    ),
    Measure(
        "help_minutes",
        N_("Hours of help given"),
        N_("The time given on those posts, as staff confirmed it."),
        "minutes",
        _help_figure(1),
        relative="per_household",
        short=N_("Hours"),
    ),
    Measure(
        "residents",
        N_("Residents on the help board"),
        N_("Residents whose household the office had confirmed by the end of the period."),
        "int",
        _residents_on_board,
        short=N_("Residents"),
    ),
    Measure(
        "misuse",
        N_("Misuse findings"),
        N_(
            "What the misuse checks found in the period's uses and refused attempts (the same "
            "list as on the figures page). Staff do not close findings: each found is counted. "
            "Fewer is better."
        ),
        "int",
        _misuse_findings,
        higher_is_better=False,
        short=N_("Misuse"),
    ),
]


def register(measure: Measure, *, after: str | None = None) -> None:
    """Add a measure to the comparison (after the one keyed `after`, else at the end)."""
    if any(m.key == measure.key for m in MEASURES):
        raise ValueError(f"measure {measure.key} is already registered")
    keys = [m.key for m in MEASURES]
    MEASURES.insert(keys.index(after) + 1 if after in keys else len(MEASURES), measure)


def measure(key: str) -> Measure | None:
    return next((m for m in MEASURES if m.key == key), None)


# --- the comparison -------------------------------------------------------------------------


@dataclass
class Cell:
    """One measure of one row: now, before, its rank, and per household (or share) where known."""

    value: int
    previous: int
    rank: int = 0
    relative: tuple[int, int] | None = None  # (value, households): the page divides

    @property
    def change(self) -> int:
        return self.value - self.previous

    @property
    def change_percent(self) -> int | None:
        """The change as a whole percentage, rounded half-up; None when there was nothing."""
        if not self.previous:
            return None
        return _div(self.change * 100, self.previous)


@dataclass
class Row:
    id: int
    name: str
    households: int | None
    residents: int | None
    cells: dict[str, Cell] = field(default_factory=dict)
    members: int = 1  # communities summed into the row (a street's)


@dataclass
class Comparison:
    period: Period
    measures: list[Measure]
    rows: list[Row]
    total: Row

    def sorted_rows(self, key: str | None, descending: bool = True) -> list[Row]:
        """Return the rows by a measure (or by name when `key` is not a measure)."""
        if measure(key) is None:
            return sorted(self.rows, key=lambda r: r.name, reverse=not descending)
        return sorted(
            self.rows,
            key=lambda r: (r.cells[key].value, r.name),
            reverse=descending,
        )


def _div(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    quotient, rest = divmod(abs(numerator), abs(denominator))
    return sign * (quotient + (1 if 2 * rest >= abs(denominator) else 0))


def values_of(session: Session, ids: list[int], start: date, end: date) -> dict[str, dict]:
    """Return {measure key: {community id: value}} for the communities and days."""
    ctx = Context(session, ids, start, end)
    return {m.key: dict(m.compute(ctx)) for m in MEASURES}


def compare_communities(session: Session, communities: list[Community], period: Period):
    """Set communities side by side: every measure now and in the previous period."""
    ids = [c.id for c in communities]
    now = values_of(session, ids, period.start, period.end)
    before = values_of(session, ids, period.previous_start, period.previous_end)
    rows = [Row(c.id, c.name, c.households, c.residents) for c in communities]
    return _comparison(period, rows, lambda row: [row.id], now, before)


def compare_streets(session: Session, district: str, period: Period):
    """Set a district's streets side by side, each the sum of its communities."""
    streets = session.scalars(
        select(Street).where(Street.district == district).order_by(Street.name)
    ).all()
    members = {
        s.id: session.execute(
            select(Community.id, Community.households, Community.residents).where(
                Community.street_id == s.id, Community.archived_at.is_(None)
            )
        ).all()
        for s in streets
    }
    ids = [c.id for rows in members.values() for c in rows]
    now = values_of(session, ids, period.start, period.end)
    before = values_of(session, ids, period.previous_start, period.previous_end)
    rows = []
    for s in streets:
        parts = members[s.id]
        known = all(c.households is not None for c in parts) and parts
        rows.append(
            Row(
                s.id,
                s.name,
                sum(c.households for c in parts) if known else None,
                sum(c.residents or 0 for c in parts) or None,
                members=len(parts),
            )
        )
    by_street = {s.id: [c.id for c in members[s.id]] for s in streets}
    return _comparison(period, rows, lambda row: by_street[row.id], now, before)


def _comparison(period, rows, ids_of, now, before) -> Comparison:
    measures = list(MEASURES)
    all_ids = [cid for row in rows for cid in ids_of(row)]
    households = [row.households for row in rows if row.members]
    total = Row(
        0,
        "",
        sum(households) if households and all(h is not None for h in households) else None,
        sum(row.residents or 0 for row in rows) or None,
        members=len(all_ids),
    )
    for m in measures:
        for row in [*rows, total]:
            ids = all_ids if row is total else ids_of(row)
            cell = Cell(
                sum(now[m.key].get(cid, 0) for cid in ids),
                sum(before[m.key].get(cid, 0) for cid in ids),
            )
            if m.relative and row.households:
                cell.relative = (cell.value, row.households)
            row.cells[m.key] = cell
        _rank(rows, m)
    return Comparison(period, measures, rows, total)


def _rank(rows: list[Row], m: Measure) -> None:
    """Rank rows on a measure: 1 is the best; equal values share a rank (1, 2, 2, 4)."""
    values = sorted((row.cells[m.key].value for row in rows), reverse=m.higher_is_better)
    for row in rows:
        row.cells[m.key].rank = values.index(row.cells[m.key].value) + 1


def per_household(cell: Cell, m: Measure) -> int | None:
    """Return a cell's value per household: fen or minutes a household; for counts, tenths
    per hundred households; for a share, tenths of a percent."""
    if cell.relative is None:
        return None
    value, households = cell.relative
    if m.relative == "share":
        return _div(value * 1000, households)
    return _div(value * (1000 if m.kind == "int" else 1), households)
