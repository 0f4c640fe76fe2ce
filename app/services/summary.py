"""The daily summary of redemptions (`RedemptionDay`): per campaign and closed day.

A day is closed — summarised once, for every campaign — when it is at least two days old: uses
are written on their own Shanghai day, so after that only a void can change it, and the
redemption service refreshes the row of a closed day when it voids one of its uses. Voids of
days not yet closed need nothing: the day is summarised from the uses when it closes.

Closing and voiding take the same lock (the write lock on SQLite, an advisory lock on
PostgreSQL), so a void cannot slip between a close's reading of a day and its writing.
"""

from datetime import date, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import Campaign, ClosedDay, Redemption, RedemptionDay, RedemptionStatus

SUMMARY_AGE = 2  # days: a use is written on its own Shanghai day, so older days are settled
_LOCK_KEY = 0x6C696E6C  # "linl": PostgreSQL advisory lock of the summary


def closed_until(today: date) -> date:
    """Return the last day the summary may hold (the day before yesterday)."""
    return today - timedelta(days=SUMMARY_AGE)


def lock(session: Session) -> None:
    """Hold the summary's lock until the transaction ends (SQLite's write lock already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def sums():
    """The figures of a set of redemptions: how many, their bills, their discounts."""
    return (
        func.count(Redemption.id),
        func.coalesce(func.sum(Redemption.bill_fen), 0),
        func.coalesce(func.sum(Redemption.discount_fen), 0),
    )


def _upsert(session: Session, model, rows: list[dict], update: list[str] | None = None):
    """Insert rows, leaving (or, with `update`, overwriting) those whose key exists."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)
    keys = [column.name for column in model.__table__.primary_key.columns]
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: getattr(stmt.excluded, name) for name in update}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt, rows)


def unclosed_days(session: Session, start: date, end: date) -> list[date]:
    """Return the days start..end that are not summarised yet, oldest first."""
    wanted = {start + timedelta(days=n) for n in range((end - start).days + 1)}
    done = set(
        session.scalars(
            select(ClosedDay.local_day).where(
                ClosedDay.local_day >= start, ClosedDay.local_day <= end
            )
        )
    )
    return sorted(wanted - done)


def close_days(session: Session, start: date, end: date) -> int:
    """Summarise the days start..end that are not yet; return how many were (the caller commits).

    Each day is read from the redemptions once, for every campaign at the same time. Two
    requests closing the same day at once insert the same rows; the second changes nothing.
    """
    missing = unclosed_days(session, start, end)
    if not missing:
        return 0
    lock(session)
    rows = session.execute(
        select(Redemption.local_day, Redemption.campaign_id, Redemption.community_id, *sums())
        .where(
            Redemption.status == RedemptionStatus.OK,
            Redemption.local_day >= missing[0],
            Redemption.local_day <= missing[-1],
        )
        .group_by(Redemption.local_day, Redemption.campaign_id, Redemption.community_id)
    ).all()
    chosen = set(missing)
    _upsert(
        session,
        RedemptionDay,
        [
            {"local_day": day, "campaign_id": campaign, "community_id": community,
             "redemptions": count, "bills_fen": int(bills), "discounts_fen": int(discounts)}
            for day, campaign, community, count, bills, discounts in rows
            if day in chosen
        ],
    )  # fmt: skip
    now = utcnow()
    _upsert(session, ClosedDay, [{"local_day": day, "closed_at": now} for day in missing])
    return len(missing)


def refresh_day(session: Session, campaign_id: int, day: date) -> None:
    """Recompute one campaign's row for a closed day from its redemptions (the caller commits).

    Call it in the transaction that changed a redemption of that day, after the change: the
    redemption service does when it voids. A day not yet closed is left alone; it will be
    summarised from the uses when it closes. Idempotent.
    """
    lock(session)
    if session.get(ClosedDay, day, populate_existing=True) is None:
        return
    count, bills, discounts = session.execute(
        select(*sums()).where(
            Redemption.campaign_id == campaign_id,
            Redemption.local_day == day,
            Redemption.status == RedemptionStatus.OK,
        )
    ).one()
    community_id = session.scalar(select(Campaign.community_id).where(Campaign.id == campaign_id))
    _upsert(
        session,
        RedemptionDay,
        [{"local_day": day, "campaign_id": campaign_id, "community_id": community_id,
          "redemptions": count, "bills_fen": int(bills), "discounts_fen": int(discounts)}],
        update=["redemptions", "bills_fen", "discounts_fen"],
    )  # fmt: skip


def forget_days(session: Session, start: date, end: date) -> None:
    """Drop the summary of start..end, to be read again from the redemptions (the caller commits).

    For whatever writes redemptions of past days in bulk (an import, the demo).
    """
    session.execute(
        delete(RedemptionDay).where(
            RedemptionDay.local_day >= start, RedemptionDay.local_day <= end
        )
    )
    session.execute(
        delete(ClosedDay).where(ClosedDay.local_day >= start, ClosedDay.local_day <= end)
    )
