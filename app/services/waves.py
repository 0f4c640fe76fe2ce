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

from ..clock import local_day_bounds
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
    """One wave's figures; with a period, the uses and the cards handed out are the period's."""

    batch: CardBatch
    handed_out: int  # to the end of the period (or to now)
    used: int  # cards with a live use in the period (or ever)
    uses: int
    discount_fen: int
    handed_out_in_period: int | None = None  # None without a period

    @property
    def campaign_name(self) -> str:
        return self.batch.campaign.name


def wave_figures(
    session: Session,
    campaign_id: int | None = None,
    *,
    community_ids: list[int] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[WaveFigures]:
    """Return each wave of a campaign (or of the communities' campaigns) with its cards handed
    out, cards used, uses and discount: all of them, or those of a period of local days. With a
    period only the waves whose days meet it, or that were used or handed out in it, are kept."""
    stmt = select(CardBatch).where(CardBatch.wave.is_not(None))
    if campaign_id is not None:
        stmt = stmt.where(CardBatch.campaign_id == campaign_id)
    if community_ids is not None:
        stmt = stmt.where(CardBatch.community_id.in_(community_ids))
    batches = session.scalars(stmt.order_by(CardBatch.campaign_id, CardBatch.wave)).all()
    if not batches:
        return []
    ids = [b.id for b in batches]
    since = until = None
    if start is not None and end is not None:
        since, until = local_day_bounds(start)[0], local_day_bounds(end)[1]
    handed = Card.status != CardStatus.NEW
    if until is not None:
        handed = handed & (Card.issued_at < until)
    in_period = handed & (Card.issued_at >= since) if since is not None else handed
    cards = {
        row.batch_id: row
        for row in session.execute(
            select(
                Card.batch_id,
                func.count(case((handed, Card.id))).label("handed_out"),
                func.count(case((in_period, Card.id))).label("in_period"),
            )
            .where(Card.batch_id.in_(ids))
            .group_by(Card.batch_id)
        )
    }
    live = [Card.batch_id.in_(ids), Redemption.status == RedemptionStatus.OK]
    if start is not None and end is not None:
        live += [Redemption.local_day >= start, Redemption.local_day <= end]
    uses = {
        row.batch_id: row
        for row in session.execute(
            select(
                Card.batch_id,
                func.count(Redemption.id).label("uses"),
                func.count(func.distinct(Redemption.card_id)).label("used"),
                func.coalesce(func.sum(Redemption.discount_fen), 0).label("discount"),
            )
            .join(Card, Card.id == Redemption.card_id)
            .where(*live)
            .group_by(Card.batch_id)
        )
    }
    found = []
    for b in batches:
        card_row, use_row = cards.get(b.id), uses.get(b.id)
        in_period = None if since is None else (card_row.in_period if card_row else 0)
        figures = WaveFigures(
            batch=b,
            handed_out=card_row.handed_out if card_row else 0,
            used=use_row.used if use_row else 0,
            uses=use_row.uses if use_row else 0,
            discount_fen=int(use_row.discount) if use_row else 0,
            handed_out_in_period=in_period,
        )
        if since is None or figures.uses or figures.handed_out_in_period or _meets(b, start, end):
            found.append(figures)
    return found


def _meets(batch: CardBatch, start: date, end: date) -> bool:
    """Whether a wave's days of use (or its first hand-out day) fall in start..end."""
    first = batch.valid_from or batch.hand_out_from
    last = batch.valid_until or first
    return first is not None and first <= end and (last is None or last >= start)
