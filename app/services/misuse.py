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

Each check reads one community's rows for a period, so it stays cheap however large the
district's tables grow.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from sqlalchemy import func, select
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
    found = [
        *repeated_pairs(session, scope),
        *bills_over_thresholds(session, scope),
        *days_at_daily_limit(session, scope),
        *refusal_bursts(session, scope),
        *locked_pins(session, scope),
    ]
    return sorted(found, key=lambda f: -f.weight)


def _period(scope: Scope) -> dict:
    return {"from": scope.start.isoformat(), "to": scope.end.isoformat()}


def repeated_pairs(session: Session, scope: Scope) -> list[Finding]:
    """The same card at the same shop again and again."""
    uses = func.count(Redemption.id)
    pairs = (
        select(Redemption.card_id, Redemption.merchant_id, uses.label("uses"))
        .where(*scope.conditions())
        .group_by(Redemption.card_id, Redemption.merchant_id)
        .subquery()
    )
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(pairs.c.uses), 0)).select_from(pairs)
    ).one()
    if not count:
        return []
    floor = max(REPEAT_MIN, REPEAT_FACTOR * int(total) // count)
    rows = session.execute(
        select(pairs.c.uses, Card.serial, Merchant.id, Merchant.name)
        .join(Card, Card.id == pairs.c.card_id)
        .join(Merchant, Merchant.id == pairs.c.merchant_id)
        .where(pairs.c.uses >= floor)
        .order_by(pairs.c.uses.desc())
        .limit(MAX_FINDINGS_EACH)
    ).all()
    usual = int(total) // count
    return [
        Finding(
            "repeat_pair",
            N_("Card %(serial)s was used %(uses)s times at %(shop)s (usually %(usual)s)."),
            {"serial": serial, "uses": n, "shop": shop, "usual": usual},
            n * 10 // max(usual, 1),
            "redemptions",
            {"card": serial, "merchant": merchant_id, **_period(scope)},
        )
        for n, serial, merchant_id, shop in rows
    ]


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


def bills_over_thresholds(session: Session, scope: Scope) -> list[Finding]:
    """Bills just over a 满减 threshold far more often than just above that."""
    rules = session.execute(
        select(Redemption.merchant_id, Redemption.rule_text)
        .where(*scope.conditions())
        .group_by(Redemption.merchant_id, Redemption.rule_text)
    ).all()
    wanted = {(m, rule): _thresholds(rule) for m, rule in rules if _thresholds(rule)}
    if not wanted:
        return []
    merchants = {m for m, _rule in wanted}
    bands: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        select(Redemption.merchant_id, Redemption.rule_text, Redemption.bill_fen).where(
            *scope.conditions(), Redemption.merchant_id.in_(merchants)
        )
    )
    for merchant_id, rule, bill in rows:
        for threshold in wanted.get((merchant_id, rule), ()):
            step = threshold * NEAR_SHARE_PERCENT // 100
            if threshold <= bill < threshold + step:
                bands[(merchant_id, threshold)][0] += 1
            elif threshold + step <= bill < threshold + 2 * step:
                bands[(merchant_id, threshold)][1] += 1
    names = dict(
        session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(merchants))).all()
    )
    found = []
    for (merchant_id, threshold), (near, next_band) in bands.items():
        if near >= NEAR_MIN and near >= NEAR_FACTOR * max(next_band, 1):
            step = threshold * NEAR_SHARE_PERCENT // 100
            found.append(
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
                        **_period(scope),
                    },
                )
            )
    return sorted(found, key=lambda f: -f.weight)[:MAX_FINDINGS_EACH]


def days_at_daily_limit(session: Session, scope: Scope) -> list[Finding]:
    """A shop where cards reach the per-shop daily limit on nearly every day it redeems."""
    campaigns = session.execute(
        select(Campaign.id, Campaign.daily_uses_per_merchant).where(
            Campaign.community_id == scope.community_id,
            Campaign.daily_uses_per_merchant >= 2,
            *([Campaign.id == scope.campaign_id] if scope.campaign_id is not None else []),
        )
    ).all()
    found = []
    for campaign_id, limit in campaigns:
        conditions = [*scope.conditions(), Redemption.campaign_id == campaign_id]
        active = dict(
            session.execute(
                select(Redemption.merchant_id, func.count(func.distinct(Redemption.local_day)))
                .where(*conditions)
                .group_by(Redemption.merchant_id)
            ).all()
        )
        at_limit = (
            select(Redemption.merchant_id, Redemption.local_day)
            .where(*conditions)
            .group_by(Redemption.merchant_id, Redemption.card_id, Redemption.local_day)
            .having(func.count(Redemption.id) >= limit)
            .subquery()
        )
        capped = session.execute(
            select(
                at_limit.c.merchant_id, func.count(func.distinct(at_limit.c.local_day))
            ).group_by(at_limit.c.merchant_id)
        ).all()
        names = dict(
            session.execute(
                select(Merchant.id, Merchant.name).where(Merchant.id.in_(list(active)))
            ).all()
        )
        for merchant_id, days in capped:
            total = active.get(merchant_id, 0)
            if days >= CAP_DAYS_MIN and days * 100 >= CAP_SHARE_PERCENT * total:
                found.append(
                    Finding(
                        "daily_limit",
                        N_(
                            "%(shop)s: cards reached the daily limit of %(limit)s uses "
                            "on %(days)s of its %(total)s days."
                        ),
                        {
                            "shop": names.get(merchant_id, ""),
                            "limit": limit,
                            "days": days,
                            "total": total,
                        },
                        days,
                        "redemptions",
                        {"merchant": merchant_id, **_period(scope)},
                    )
                )
    return found[:MAX_FINDINGS_EACH]


def refusal_bursts(session: Session, scope: Scope) -> list[Finding]:
    """Many refusals at one shop within minutes; one card tried at several shops within minutes."""
    start, _ = local_day_bounds(scope.start)
    _, end = local_day_bounds(scope.end)
    rows = session.execute(
        select(
            AttemptLog.created_at, AttemptLog.merchant_id, AttemptLog.card_id, AttemptLog.card_ref
        )
        .where(
            AttemptLog.community_id == scope.community_id,
            AttemptLog.created_at >= start,
            AttemptLog.created_at < end,
        )
        .order_by(AttemptLog.created_at)
        .limit(MAX_ATTEMPTS_READ)
    ).all()
    if not rows:
        return []
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
    names = dict(
        session.execute(
            select(Merchant.id, Merchant.name).where(Merchant.id.in_(list(worst_shop)))
        ).all()
    )
    found = []
    for merchant_id, (count, since) in worst_shop.items():
        if count >= BURST_MIN:
            day = to_local(since).date()
            found.append(
                Finding(
                    "refusal_burst",
                    N_("%(shop)s: %(count)s refused attempts within 10 minutes (from %(time)s)."),
                    {"shop": names.get(merchant_id, ""), "count": count, "time": _when(since)},
                    count,
                    "attempts",
                    {"merchant": merchant_id, "from": day.isoformat(), "to": day.isoformat()},
                )
            )
    for key, (shops, since) in worst_card.items():
        if shops >= HOP_SHOPS:
            day = to_local(since).date()
            found.append(
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
    return sorted(found, key=lambda f: -f.weight)[: 2 * MAX_FINDINGS_EACH]


def locked_pins(session: Session, scope: Scope) -> list[Finding]:
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
    return [
        Finding(
            "pin_locked",
            at_shops if c.shops else on_lookup,
            {"card": c.serial, "wrong": c.wrong, "time": _when(c.last_at), "shops": c.shops},
            1000 + c.wrong,
            "card",
            {"card_id": c.card_id},
        )
        for c in pins.locked_cards(session, scope.community_id)[:MAX_FINDINGS_EACH]
    ]


def _when(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M")
