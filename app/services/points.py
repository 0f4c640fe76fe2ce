"""互助积分: each resident's points ledger, exchanging points for a card, the leaderboard.

Every change is a `PointsEntry` (earned for confirmed help, exchanged for a card, adjusted by
staff with a reason) and moves `User.points_balance` in the same transaction, under the write
lock and the resident's row lock, so the balance is always the ledger's sum and never below
zero (a CHECK on both columns backs this up). The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import local_today
from ..database import locked
from ..models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Card,
    Funding,
    HelpCategory,
    PointsEntry,
    PointsKind,
    Role,
    User,
)
from . import audit, issuing
from .errors import N_, DomainError

# Points for an hour of help, by kind of help; a confirmed job earns at least one point.
POINTS_PER_HOUR = {
    HelpCategory.SHOPPING: 10,
    HelpCategory.MEDICINE: 12,
    HelpCategory.ESCORT: 15,
    HelpCategory.REPAIR: 12,
    HelpCategory.CARE: 10,
    HelpCategory.OTHER: 10,
}
MAX_ADJUSTMENT = 10_000


class PointsError(DomainError):
    messages = {
        "not_confirmed": N_(
            "The community office has not confirmed your household yet; "
            "you can use the help board once it has."
        ),
        "not_enough": N_("You have %(balance)s points; this card needs %(price)s."),
        "below_zero": N_(
            "This would take the balance below zero: the resident has %(balance)s points."
        ),
        "amount_required": N_("Please give a whole number of points other than 0."),
        "amount_too_big": N_("At most 10000 points can be added or taken off at once."),
        "reason_required": N_("Please give a reason."),
        "not_exchangeable": N_("This card cannot be exchanged for points."),
        "not_running": N_("This campaign is not running at the moment."),
        "out_of_stock": N_("All the cards set aside for points have been exchanged."),
        "budget_exhausted": N_("This campaign's budget is used up."),
        "no_household": N_("Your household is not known; please ask the community office."),
        "community_funded_only": N_(
            "Only a discount card campaign paid for by the community can be exchanged for points."
        ),
        "price_min": N_("The price is a whole number of points, at least 1."),
        "stock_min": N_("The number of cards is 0 or more; leave it empty for no limit."),
        "stock_below_exchanged": N_(
            "The number of cards cannot be lower than the %(count)s already exchanged."
        ),
    }


def points_for(category: HelpCategory, minutes: int) -> int:
    """Return the points an amount of help earns: by kind and time, rounded, at least 1."""
    return max(1, (POINTS_PER_HOUR[category] * minutes + 30) // 60)


def lock_user(session: Session, user_id: int) -> User:
    """Return a user read afresh with the row locked (PostgreSQL); the caller began the write."""
    return locked(session, User, User.id == user_id)


def post_entry(
    session: Session,
    actor: User | None,
    user: User,
    kind: PointsKind,
    amount: int,
    reason: str = "",
    **refs,
) -> PointsEntry:
    """Add a ledger line and move the balance with it; `user` must be locked by the caller."""
    balance = user.points_balance + amount
    if balance < 0:
        raise PointsError("below_zero", balance=user.points_balance)
    user.points_balance = balance
    entry = PointsEntry(
        community_id=user.community_id,
        user_id=user.id,
        kind=kind,
        amount=amount,
        balance_after=balance,
        reason=reason[:200],
        created_by_id=actor.id if actor is not None else None,
        **refs,
    )
    session.add(entry)
    session.flush()
    return entry


def ledger_sum(session: Session, user_id: int) -> int:
    """Return the sum of a resident's ledger (what the balance must equal)."""
    return session.scalar(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(PointsEntry.user_id == user_id)
    )


def adjust(session: Session, actor: User, resident: User, amount: int | None, reason: str):
    """Add points to a resident's balance or take them off, with a reason (staff)."""
    reason = (reason or "").strip()
    if not amount:
        raise PointsError("amount_required")
    if abs(amount) > MAX_ADJUSTMENT:
        raise PointsError("amount_too_big")
    if not reason:
        raise PointsError("reason_required")
    user = lock_user(session, resident.id)
    if user.role != Role.RESIDENT:
        raise PointsError("not_exchangeable")
    entry = post_entry(session, actor, user, PointsKind.ADJUSTED, amount, reason)
    audit.record(
        session,
        actor,
        "points.adjust",
        entry,
        after={"user_id": user.id, "amount": amount, "balance": user.points_balance},
        note=reason,
    )
    return entry


# --- exchanging points for a card -----------------------------------------------------------


def exchanged_count(session: Session, campaign_id: int) -> int:
    """Return how many cards of a campaign were exchanged for points."""
    return session.scalar(
        select(func.count(PointsEntry.id)).where(
            PointsEntry.campaign_id == campaign_id, PointsEntry.kind == PointsKind.EXCHANGED
        )
    )


def is_exchangeable(campaign: Campaign) -> bool:
    return (
        campaign.points_price is not None
        and campaign.funding == Funding.COMMUNITY
        and campaign.kind == CampaignKind.CARD
    )


def exchange(
    session: Session, resident: User, campaign_id: int, on_behalf_by: User | None = None
) -> Card:
    """Spend a resident's points on a card of a campaign, issued to their household at once.

    Checks, under the write lock: the resident is confirmed, the campaign is exchangeable and
    running today, cards for points are left, the budget is not used up, the household's
    cards-per-household limit (the office's issuing rules), and the balance.
    `on_behalf_by`: the staff member who exchanges them at the office (代办, see `on_behalf`).
    """
    user = lock_user(session, resident.id)
    if user.role != Role.RESIDENT or user.confirmed_at is None:
        raise PointsError("not_confirmed")
    if not user.household:
        raise PointsError("no_household")
    campaign = locked(
        session, Campaign, Campaign.id == campaign_id, Campaign.community_id == user.community_id
    )
    if campaign is None or not is_exchangeable(campaign):
        raise PointsError("not_exchangeable")
    today = local_today()
    if campaign.status != CampaignStatus.ACTIVE or not (
        campaign.valid_from <= today <= campaign.valid_until
    ):
        raise PointsError("not_running")
    if campaign.points_stock is not None:
        if exchanged_count(session, campaign.id) >= campaign.points_stock:
            raise PointsError("out_of_stock")
    if campaign.budget_fen is not None and campaign.spent_fen >= campaign.budget_fen:
        raise PointsError("budget_exhausted")
    price = campaign.points_price
    if user.points_balance < price:
        raise PointsError("not_enough", balance=user.points_balance, price=price)
    actor = on_behalf_by or user
    card = issuing.issue_new_card(
        session, actor, campaign, user.household, user.phone, note="积分兑换"
    )
    entry = post_entry(
        session,
        actor,
        user,
        PointsKind.EXCHANGED,
        -price,
        campaign.name,
        campaign_id=campaign.id,
        card_id=card.id,
        on_behalf_by_id=on_behalf_by.id if on_behalf_by is not None else None,
    )
    audit.record(
        session,
        actor,
        "points.exchange",
        entry,
        after={
            "campaign_id": campaign.id,
            "card": card.serial,
            "price": price,
            "balance": user.points_balance,
        }
        | ({"on_behalf_of": user.id} if on_behalf_by is not None else {}),
    )
    return card


def set_exchange(
    session: Session,
    actor: User,
    campaign: Campaign,
    price: int | None,
    stock: int | None,
) -> Campaign:
    """Mark a community-funded card campaign exchangeable for `price` points (None: not)."""
    campaign = locked(session, Campaign, Campaign.id == campaign.id)
    if price is not None:
        if campaign.funding != Funding.COMMUNITY or campaign.kind != CampaignKind.CARD:
            raise PointsError("community_funded_only")
        if price < 1:
            raise PointsError("price_min")
    if stock is not None:
        if stock < 0:
            raise PointsError("stock_min")
        done = exchanged_count(session, campaign.id)
        if stock < done:
            raise PointsError("stock_below_exchanged", count=done)
    before = audit.snapshot(campaign, ["points_price", "points_stock"])
    campaign.points_price = price
    campaign.points_stock = stock
    audit.record(
        session,
        actor,
        "campaign.points",
        campaign,
        before=before,
        after=audit.snapshot(campaign, ["points_price", "points_stock"]),
    )
    return campaign


def exchangeable_campaigns(session: Session, community_id: int) -> list[tuple[Campaign, int]]:
    """Return the campaigns a resident may exchange points for today, with cards left (-1: ∞)."""
    today = local_today()
    campaigns = session.scalars(
        select(Campaign)
        .where(
            Campaign.community_id == community_id,
            Campaign.points_price.is_not(None),
            Campaign.funding == Funding.COMMUNITY,
            Campaign.kind == CampaignKind.CARD,
            Campaign.status == CampaignStatus.ACTIVE,
            Campaign.valid_from <= today,
            Campaign.valid_until >= today,
        )
        .order_by(Campaign.points_price, Campaign.id)
    ).all()
    result = []
    for campaign in campaigns:
        left = -1
        if campaign.points_stock is not None:
            left = max(0, campaign.points_stock - exchanged_count(session, campaign.id))
        result.append((campaign, left))
    return result


# --- the leaderboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class Leader:
    rank: int
    name: str  # masked: 王*
    building: str  # 3栋, never the unit or room
    earned: int


def mask_name(name: str) -> str:
    """Show a name as its first character and a star: 王小明 gives 王*."""
    name = (name or "").strip()
    return (name[:1] + "*") if name else "*"


def building_of(household: str | None) -> str:
    if not household:
        return ""
    return household.split("-", 1)[0] + "栋"


def leaderboard(session: Session, community_id: int, limit: int = 10) -> list[Leader]:
    """Return the residents who earned the most points by helping (not by balance)."""
    earned = func.sum(PointsEntry.amount)
    rows = session.execute(
        select(User.name, User.household, earned.label("earned"))
        .join(PointsEntry, PointsEntry.user_id == User.id)
        .where(
            PointsEntry.community_id == community_id,
            PointsEntry.kind == PointsKind.EARNED,
            User.active.is_(True),
        )
        .group_by(User.id, User.name, User.household)
        .order_by(earned.desc(), User.id)
        .limit(limit)
    ).all()
    return [
        Leader(rank, mask_name(row.name), building_of(row.household), int(row.earned))
        for rank, row in enumerate(rows, start=1)
    ]
