"""Waves (分批发放): a campaign's cards go out in rounds, each with its own dates and count.

A wave is a batch of the campaign's cards with a number, the first day its cards may be handed
out, and the days they may be used (inside the campaign's own window): "500 a week for four
weeks, each valid for 30 days" is four batches of 500. Handing out a card before its wave opens
is refused (`issuing`), and so is using it outside its wave's days (`redemptions`). The figures
show each wave: cards, handed out, used, uses and the discount given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..database import locked
from ..models import (
    Campaign,
    CampaignStatus,
    Card,
    CardBatch,
    CardStatus,
    Redemption,
    RedemptionStatus,
    User,
)
from . import audit
from .cards import MAX_BATCH, generate_batch
from .errors import N_, DomainError

MAX_WAVES = 52  # a year of weekly rounds
MAX_DAYS = 366


class WaveError(DomainError):
    messages = {
        "wave_size": N_("A wave holds from 1 to 10,000 cards."),
        "wave_count": N_("Plan from 1 to 52 waves at a time."),
        "wave_every": N_("Waves are from 1 to 366 days apart."),
        "wave_days": N_("A wave's cards are valid for 1 to 366 days."),
        "wave_before_campaign": N_(
            "The first wave cannot open before the campaign starts (%(start)s)."
        ),
        "wave_after_campaign": N_(
            "Wave %(wave)s would open on %(day)s, after the campaign ends (%(end)s). "
            "Plan fewer waves or closer together."
        ),
        "campaign_ended": N_("This campaign has ended; no more waves can be planned."),
    }


@dataclass(frozen=True)
class WavePlan:
    """Waves as staff plan them: how many cards each, how many waves, from when, how often."""

    size: int
    count: int
    first_day: date
    every_days: int
    valid_days: int


def plan_waves(
    session: Session, actor: User, campaign: Campaign, plan: WavePlan
) -> list[CardBatch]:
    """Make the waves of a plan: one batch of cards each, with its own dates."""
    if not 1 <= plan.size <= MAX_BATCH:
        raise WaveError("wave_size")
    if not 1 <= plan.count <= MAX_WAVES:
        raise WaveError("wave_count")
    if not 1 <= plan.every_days <= MAX_DAYS:
        raise WaveError("wave_every")
    if not 1 <= plan.valid_days <= MAX_DAYS:
        raise WaveError("wave_days")
    campaign = locked(session, Campaign, Campaign.id == campaign.id)
    if campaign.status == CampaignStatus.ENDED:
        raise WaveError("campaign_ended")
    if plan.first_day < campaign.valid_from:
        raise WaveError("wave_before_campaign", start=campaign.valid_from.isoformat())
    last = session.scalar(
        select(func.max(CardBatch.wave)).where(CardBatch.campaign_id == campaign.id)
    )
    number = last or 0
    made = []
    for i in range(plan.count):
        opens = plan.first_day + timedelta(days=i * plan.every_days)
        if opens > campaign.valid_until:
            raise WaveError(
                "wave_after_campaign",
                wave=number + i + 1,
                day=opens.isoformat(),
                end=campaign.valid_until.isoformat(),
            )
        batch = generate_batch(session, campaign, plan.size, actor, note=f"第{number + i + 1}批")
        batch.wave = number + i + 1
        batch.hand_out_from = opens
        batch.valid_from = opens
        batch.valid_until = min(opens + timedelta(days=plan.valid_days - 1), campaign.valid_until)
        made.append(batch)
    session.flush()
    audit.record(
        session,
        actor,
        "wave.plan",
        campaign,
        after={
            "waves": [
                {
                    "wave": b.wave,
                    "cards": b.size,
                    "from": b.valid_from.isoformat(),
                    "until": b.valid_until.isoformat(),
                }
                for b in made
            ]
        },
    )
    return made


def valid_window(campaign: Campaign, batch: CardBatch | None) -> tuple[date, date]:
    """Return the first and last day a card may be used: its wave's days within the campaign's."""
    start, end = campaign.valid_from, campaign.valid_until
    if batch is not None and batch.valid_from is not None:
        start = max(start, batch.valid_from)
    if batch is not None and batch.valid_until is not None:
        end = min(end, batch.valid_until)
    return start, end


@dataclass(frozen=True)
class WaveFigures:
    """One wave's figures."""

    batch: CardBatch
    handed_out: int
    used: int
    uses: int
    discount_fen: int


def wave_figures(session: Session, campaign_id: int) -> list[WaveFigures]:
    """Return each wave of a campaign with its cards handed out, cards used, uses and discount."""
    batches = session.scalars(
        select(CardBatch)
        .where(CardBatch.campaign_id == campaign_id, CardBatch.wave.is_not(None))
        .order_by(CardBatch.wave)
    ).all()
    if not batches:
        return []
    ids = [b.id for b in batches]
    cards = {
        row.batch_id: row
        for row in session.execute(
            select(
                Card.batch_id,
                func.count(case((Card.status != CardStatus.NEW, Card.id))).label("handed_out"),
                func.count(case((Card.uses_count > 0, Card.id))).label("used"),
            )
            .where(Card.batch_id.in_(ids))
            .group_by(Card.batch_id)
        )
    }
    uses = {
        row.batch_id: row
        for row in session.execute(
            select(
                Card.batch_id,
                func.count(Redemption.id).label("uses"),
                func.coalesce(func.sum(Redemption.discount_fen), 0).label("discount"),
            )
            .join(Card, Card.id == Redemption.card_id)
            .where(Card.batch_id.in_(ids), Redemption.status == RedemptionStatus.OK)
            .group_by(Card.batch_id)
        )
    }
    return [
        WaveFigures(
            batch=b,
            handed_out=cards[b.id].handed_out if b.id in cards else 0,
            used=cards[b.id].used if b.id in cards else 0,
            uses=uses[b.id].uses if b.id in uses else 0,
            discount_fen=int(uses[b.id].discount) if b.id in uses else 0,
        )
        for b in batches
    ]
