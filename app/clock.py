"""Time: UTC inside, Asia/Shanghai for people.

Campaign validity and per-day limits follow the local calendar day, so "today" is always
asked of this module rather than of `date.today()`, which would use the server's zone.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def local_today(now: datetime | None = None) -> date:
    """Return today's date in Asia/Shanghai."""
    return (now or utcnow()).astimezone(LOCAL).date()


def to_local(moment: datetime) -> datetime:
    """Return `moment` in Asia/Shanghai."""
    return moment.astimezone(LOCAL)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC instants at which the local day `day` starts and the next one starts."""
    start = datetime.combine(day, time.min, tzinfo=LOCAL)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
