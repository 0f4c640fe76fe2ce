"""A shop's takings: the redemptions of a day and what they add up to."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Redemption, RedemptionStatus


@dataclass(frozen=True)
class DayTakings:
    day: date
    redemptions: list[Redemption]  # newest first, voided ones included
    count: int  # live (not voided) redemptions
    bills_fen: int
    discounts_fen: int
    paid_fen: int


def of_day(session: Session, merchant_id: int, day: date) -> DayTakings:
    """Return the shop's redemptions of the (Asia/Shanghai) day, with totals of the live ones."""
    rows = list(
        session.scalars(
            select(Redemption)
            .options(joinedload(Redemption.card), joinedload(Redemption.cashier))
            .where(Redemption.merchant_id == merchant_id, Redemption.local_day == day)
            .order_by(Redemption.created_at.desc(), Redemption.id.desc())
        )
    )
    live = [r for r in rows if r.status == RedemptionStatus.OK]
    return DayTakings(
        day=day,
        redemptions=rows,
        count=len(live),
        bills_fen=sum(r.bill_fen for r in live),
        discounts_fen=sum(r.discount_fen for r in live),
        paid_fen=sum(r.paid_fen for r in live),
    )
