"""What looks wrong in a community's uses: a short list for staff, each with the rows behind it.

Nothing here blocks anything; staff look and decide. Four patterns, after DESIGN.md, and the
cards that `pins` has locked after wrong PINs (the one thing refused automatically: a PIN
guessed five times), each with a way to release it:

- the same card at the same shop again and again, far more than cards and shops usually meet;
- bills just over a 满减 threshold far more often than just above that (a bill nudged up to get
  the discount, or made up);
- a shop where cards reach the per-shop daily limit on nearly every day it redeems;
- bursts of refused attempts: many at one shop within minutes (trying serials), or one card
  tried at several shops within minutes.

Each check reads the period's rows of the communities asked for (one for the figures page,
a street's or the district's for 互看互比) in one or two grouped queries, whatever their
number; the uses come from the index on (community, day), which holds the columns read.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..clock import local_day_bounds, to_local
from ..models import AttemptLog, Campaign, Card, Merchant, Redemption
from ..rules import RuleError, format_money, parse_rule
from . import pins
from .dashboard import Scope
from .errors import N_

REPEAT_MIN = 8  # uses of one card at one shop before the pair is worth a look
REPEAT_FACTOR = 5  # ... and this many times the usual uses per card-and-shop pair
NEAR_SHARE_PERCENT = 5  # "just over" a threshold: within 5% above it
NEAR_MIN = 8  # bills just over a threshold before it is worth a look
NEAR_FACTOR = 3  # ... and this many times the bills in the next 5% band
CAP_DAYS_MIN = 5  # days at the daily limit before a shop is worth a look
CAP_SHARE_PERCENT = 80  # ... on this share of the days it redeemed
BURST_WINDOW = timedelta(minutes=10)
BURST_MIN = 10  # refusals at one shop within the window
HOP_WINDOW = timedelta(minutes=10)
HOP_SHOPS = 3  # shops one card was tried at within the window
MAX_ATTEMPTS_READ = 20_000
MAX_FINDINGS_EACH = 10


@dataclass(frozen=True)
class Finding:
    """One thing that looks wrong: what, how strongly, and the filters that list its rows."""

    kind: str
    message: str  # an English msgid, filled with `details`
    details: dict
    weight: int  # for ordering: larger looks worse
    target: str  # "redemptions", "attempts" (the list that shows the rows) or "card"
    filters: dict = field(default_factory=dict)


def findings(session: Session, scope: Scope) -> list[Finding]:
    """Return what looks wrong in one community's period, the strongest first."""
    if scope.community_id is None:
        raise ValueError("misuse checks read one community at a time")
    return findings_of(session, [scope.community_id], scope)[scope.community_id]


def findings_of(session: Session, community_ids, scope: Scope) -> dict[int, list[Finding]]:
    """Return {community id: what looks wrong in its period, the strongest first}.

    Each check is a query or two over all the communities at once (grouped by community), so
    a street's or a district's comparison costs as many queries as one community's page.
    `scope` gives the period and the campaign (its community is not used).
    """
    checks = Checks(sorted(set(community_ids)), scope)
    found: dict[int, list[Finding]] = {cid: [] for cid in checks.ids}
    if not checks.ids:
        return found
    for check in (
        repeated_pairs,
        bills_over_thresholds,
        days_at_daily_limit,
        refusal_bursts,
        locked_pins,
    ):
        for cid, items in check(session, checks).items():
            found[cid].extend(items)
    return {cid: sorted(items, key=lambda f: -f.weight) for cid, items in found.items()}


@dataclass(frozen=True)
class Checks:
    """The communities and the period (and campaign, if one) the checks read."""

    ids: list[int]
    scope: Scope

    def conditions(self) -> list:
        """The WHERE conditions on Redemption: live uses of the period in these communities."""
        return [
            *Scope(None, self.scope.campaign_id, self.scope.start, self.scope.end).conditions(),
            Redemption.community_id.in_(self.ids),
        ]


def _period(scope: Scope) -> dict:
    return {"from": scope.start.isoformat(), "to": scope.end.isoformat()}


def _names(session: Session, merchant_ids) -> dict[int, str]:
    if not merchant_ids:
        return {}
    return dict(
        session.execute(
            select(Merchant.id, Merchant.name).where(Merchant.id.in_(list(merchant_ids)))
        ).all()
    )


def repeated_pairs(session: Session, checks: Checks) -> dict[int, list[Finding]]:
    """The same card at the same shop again and again.

    One query: the uses of each card at each shop, beside each community's count of such
    pairs and their uses (window sums), keeping at most ten pairs a community over its floor."""
    uses = func.count(Redemption.id)
    pairs = (
        select(
            Redemption.community_id, Redemption.card_id, Redemption.merchant_id, uses.label("uses")
        )
        .where(*checks.conditions())
        .group_by(Redemption.community_id, Redemption.card_id, Redemption.merchant_id)
        .subquery()
    )
    of_community = {"partition_by": pairs.c.community_id}
    counted = select(
        pairs,
        func.count().over(**of_community).label("pairs"),
        func.sum(pairs.c.uses).over(**of_community).label("total"),
    ).subquery()
    # uses >= REPEAT_FACTOR * total // pairs, in integers: (uses + 1) * pairs > FACTOR * total
    ranked = (
        select(
            counted,
            func.row_number()
            .over(partition_by=counted.c.community_id, order_by=counted.c.uses.desc())
            .label("place"),
        )
        .where(
            counted.c.uses >= REPEAT_MIN,
            (counted.c.uses + 1) * counted.c.pairs > REPEAT_FACTOR * counted.c.total,
        )
        .subquery()
    )
    rows = session.execute(
        select(
            ranked.c.community_id,
            ranked.c.uses,
            ranked.c.pairs,
            ranked.c.total,
            Card.serial,
            Merchant.id,
            Merchant.name,
        )
        .join(Card, Card.id == ranked.c.card_id)
        .join(Merchant, Merchant.id == ranked.c.merchant_id)
        .where(ranked.c.place <= MAX_FINDINGS_EACH)
        .order_by(ranked.c.community_id, ranked.c.uses.desc())
    ).all()
    found: dict[int, list[Finding]] = defaultdict(list)
    for cid, n, count, total, serial, merchant_id, shop in rows:
        usual = int(total) // int(count)
        found[cid].append(
            Finding(
                "repeat_pair",
                N_("Card %(serial)s was used %(uses)s times at %(shop)s (usually %(usual)s)."),
                {"serial": serial, "uses": n, "shop": shop, "usual": usual},
                n * 10 // max(usual, 1),
                "redemptions",
                {"card": serial, "merchant": merchant_id, **_period(checks.scope)},
            )
        )
    return found


@cache
def _thresholds(rule_text: str) -> tuple[int, ...]:
    """Return the bills at which a rule starts to give (or give more): its 满 amounts."""
    try:
        data = parse_rule(rule_text).to_dict()
    except RuleError:
        return ()
    found = [tier["threshold_fen"] for tier in data.get("tiers", [])]
    for key in ("threshold_fen", "min_bill_fen"):
        if data.get(key):
            found.append(data[key])
    return tuple(sorted(set(found)))


def bills_over_thresholds(session: Session, checks: Checks) -> dict[int, list[Finding]]:
    """Bills just over a 满减 threshold far more often than just above that.

    The rules applied in the period are read first; then one query counts, per shop and
    threshold, the bills just over it and the bills in the band above."""
    rules = session.scalars(
        select(Redemption.rule_text).where(*checks.conditions()).group_by(Redemption.rule_text)
    ).all()
    by_threshold: dict[int, list[str]] = defaultdict(list)
    for rule in rules:
        for threshold in _thresholds(rule):
            by_threshold[threshold].append(rule)
    if not by_threshold:
        return {}
    thresholds = sorted(by_threshold)
    bill = Redemption.bill_fen
    columns = []
    for threshold in thresholds:
        step = threshold * NEAR_SHARE_PERCENT // 100
        applies = Redemption.rule_text.in_(by_threshold[threshold])
        near = and_(applies, bill >= threshold, bill < threshold + step)
        above = and_(applies, bill >= threshold + step, bill < threshold + 2 * step)
        columns += [func.sum(case((near, 1), else_=0)), func.sum(case((above, 1), else_=0))]
    rows = session.execute(
        select(Redemption.community_id, Redemption.merchant_id, *columns)
        .where(*checks.conditions(), Redemption.rule_text.in_(sorted(set(rules))))
        .group_by(Redemption.community_id, Redemption.merchant_id)
    ).all()
    bands = []
    for cid, merchant_id, *counts in rows:
        for i, threshold in enumerate(thresholds):
            near, next_band = int(counts[2 * i] or 0), int(counts[2 * i + 1] or 0)
            if near >= NEAR_MIN and near >= NEAR_FACTOR * max(next_band, 1):
                bands.append((cid, merchant_id, threshold, near, next_band))
    names = _names(session, {merchant_id for _c, merchant_id, *_rest in bands})
    found: dict[int, list[Finding]] = defaultdict(list)
    for cid, merchant_id, threshold, near, next_band in bands:
        step = threshold * NEAR_SHARE_PERCENT // 100
        found[cid].append(
            Finding(
                "threshold",
                N_(
                    "%(shop)s: %(near)s bills just over ¥%(threshold)s, "
                    "but %(next)s in the band above."
                ),
                {
                    "shop": names.get(merchant_id, ""),
                    "near": near,
                    "next": next_band,
                    "threshold": format_money(threshold),
                },
                near * 10 // max(next_band, 1),
                "redemptions",
                {
                    "merchant": merchant_id,
                    "bill_min": format_money(threshold),
                    "bill_max": format_money(threshold + step - 1),
                    **_period(checks.scope),
                },
            )
        )
    return {
        cid: sorted(items, key=lambda f: -f.weight)[:MAX_FINDINGS_EACH]
        for cid, items in found.items()
    }


def days_at_daily_limit(session: Session, checks: Checks) -> dict[int, list[Finding]]:
    """A shop where cards reach the per-shop daily limit on nearly every day it redeems.

    One query: the uses of each card at each shop on each day, then per campaign and shop the
    days it redeemed and the days a card reached the campaign's limit there."""
    campaign_id = checks.scope.campaign_id
    campaigns = dict(
        session.execute(
            select(Campaign.id, Campaign.daily_uses_per_merchant).where(
                Campaign.community_id.in_(checks.ids),
                Campaign.daily_uses_per_merchant >= 2,
                *([Campaign.id == campaign_id] if campaign_id is not None else []),
            )
        ).all()
    )
    if not campaigns:
        return {}
    use = Redemption
    per_day = (
        select(
            use.community_id,
            use.campaign_id,
            use.merchant_id,
            use.local_day,
            func.count(use.id).label("uses"),
        )
        .where(*checks.conditions())
        .group_by(use.community_id, use.campaign_id, use.merchant_id, use.card_id, use.local_day)
        .subquery()
    )
    limit = case(campaigns, value=per_day.c.campaign_id, else_=None)  # None: no such limit
    capped = func.count(func.distinct(case((per_day.c.uses >= limit, per_day.c.local_day))))
    active = func.count(func.distinct(per_day.c.local_day))
    rows = session.execute(
        select(per_day.c.community_id, per_day.c.campaign_id, per_day.c.merchant_id, capped, active)
        .group_by(per_day.c.community_id, per_day.c.campaign_id, per_day.c.merchant_id)
        .having(capped >= CAP_DAYS_MIN, capped * 100 >= CAP_SHARE_PERCENT * active)
        .order_by(per_day.c.community_id, per_day.c.campaign_id, per_day.c.merchant_id)
    ).all()
    names = _names(session, {row[2] for row in rows})
    found: dict[int, list[Finding]] = defaultdict(list)
    for cid, campaign, merchant_id, days, total in rows:
        if len(found[cid]) < MAX_FINDINGS_EACH:
            found[cid].append(
                Finding(
                    "daily_limit",
                    N_(
                        "%(shop)s: cards reached the daily limit of %(limit)s uses "
                        "on %(days)s of its %(total)s days."
                    ),
                    {
                        "shop": names.get(merchant_id, ""),
                        "limit": campaigns[campaign],
                        "days": days,
                        "total": total,
                    },
                    days,
                    "redemptions",
                    {"merchant": merchant_id, **_period(checks.scope)},
                )
            )
    return found


def refusal_bursts(session: Session, checks: Checks) -> dict[int, list[Finding]]:
    """Many refusals at one shop within minutes; one card tried at several shops within minutes.

    Reads each community's refused attempts of the period in time order (at most
    MAX_ATTEMPTS_READ of each), in one query."""
    start, _ = local_day_bounds(checks.scope.start)
    _, end = local_day_bounds(checks.scope.end)
    attempt = AttemptLog
    numbered = (
        select(
            attempt.community_id,
            attempt.created_at,
            attempt.merchant_id,
            attempt.card_id,
            attempt.card_ref,
            func.row_number()
            .over(partition_by=attempt.community_id, order_by=(attempt.created_at, attempt.id))
            .label("place"),
        )
        .where(
            attempt.community_id.in_(checks.ids),
            attempt.created_at >= start,
            attempt.created_at < end,
        )
        .subquery()
    )
    rows = session.execute(
        select(
            numbered.c.community_id,
            numbered.c.created_at,
            numbered.c.merchant_id,
            numbered.c.card_id,
            numbered.c.card_ref,
        )
        .where(numbered.c.place <= MAX_ATTEMPTS_READ)
        .order_by(numbered.c.community_id, numbered.c.place)
    ).all()
    if not rows:
        return {}
    by_community: dict[int, list] = defaultdict(list)
    for cid, *row in rows:
        by_community[cid].append(row)
    worst = {cid: _worst_windows(attempts) for cid, attempts in by_community.items()}
    names = _names(  # of the shops found only
        session,
        {m for shops, _cards in worst.values() for m, (n, _at) in shops.items() if n >= BURST_MIN},
    )
    found: dict[int, list[Finding]] = {}
    for cid, (worst_shop, worst_card) in worst.items():
        items = []
        for merchant_id, (count, since) in worst_shop.items():
            if count >= BURST_MIN:
                day = to_local(since).date()
                items.append(
                    Finding(
                        "refusal_burst",
                        N_(
                            "%(shop)s: %(count)s refused attempts within 10 minutes "
                            "(from %(time)s)."
                        ),
                        {"shop": names.get(merchant_id, ""), "count": count, "time": _when(since)},
                        count,
                        "attempts",
                        {"merchant": merchant_id, "from": day.isoformat(), "to": day.isoformat()},
                    )
                )
        for key, (shops, since) in worst_card.items():
            if shops >= HOP_SHOPS:
                day = to_local(since).date()
                items.append(
                    Finding(
                        "card_hopping",
                        N_(
                            "Card %(card)s was tried at %(shops)s shops within 10 minutes "
                            "(from %(time)s)."
                        ),
                        {"card": key, "shops": shops, "time": _when(since)},
                        shops * 5,
                        "attempts",
                        {"card": key, "from": day.isoformat(), "to": day.isoformat()},
                    )
                )
        found[cid] = sorted(items, key=lambda f: -f.weight)[: 2 * MAX_FINDINGS_EACH]
    return found


def _worst_windows(rows) -> tuple[dict, dict]:
    """Walk one community's attempts in time order: for each shop the most refusals within
    BURST_WINDOW, for each card the most shops within HOP_WINDOW (with when each began)."""
    by_shop: dict[int, deque] = defaultdict(deque)
    worst_shop: dict[int, tuple[int, object]] = {}
    by_card: dict[str, deque] = defaultdict(deque)
    worst_card: dict[str, tuple[int, object]] = {}
    for created_at, merchant_id, card_id, card_ref in rows:
        if merchant_id is not None:
            window = by_shop[merchant_id]
            window.append(created_at)
            while created_at - window[0] > BURST_WINDOW:
                window.popleft()
            if len(window) > worst_shop.get(merchant_id, (0, None))[0]:
                worst_shop[merchant_id] = (len(window), window[0])
        key = card_ref or (str(card_id) if card_id else "")
        if key and merchant_id is not None:
            window = by_card[key]
            window.append((created_at, merchant_id))
            while created_at - window[0][0] > HOP_WINDOW:
                window.popleft()
            shops = len({m for _t, m in window})
            if shops > worst_card.get(key, (0, None))[0]:
                worst_card[key] = (shops, window[0][0])
    return worst_shop, worst_card


def locked_pins(session: Session, checks: Checks) -> dict[int, list[Finding]]:
    """Cards refused by PIN now after five wrong PINs within the hour: someone is guessing."""
    at_shops = N_(
        "Card %(card)s is locked: %(wrong)s wrong PINs within the hour (last at %(time)s, "
        "from %(shops)s shops). Its QR still works; release it on the card's page once the "
        "holder is known."
    )
    on_lookup = N_(
        "Card %(card)s is locked: %(wrong)s wrong PINs within the hour on the card look-up "
        "page (last at %(time)s). Its QR still works; release it on the card's page once the "
        "holder is known."
    )
    return {
        cid: [
            Finding(
                "pin_locked",
                at_shops if c.shops else on_lookup,
                {"card": c.serial, "wrong": c.wrong, "time": _when(c.last_at), "shops": c.shops},
                1000 + c.wrong,
                "card",
                {"card_id": c.card_id},
            )
            for c in cards[:MAX_FINDINGS_EACH]
        ]
        for cid, cards in pins.locked_cards_of(session, checks.ids).items()
    }


def _when(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M")
