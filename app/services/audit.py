"""The audit log: one append-only row for every change a person makes."""

import enum
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..models import AuditLog, Community, User

# Set per request by the app; services need not be told where a change came from.
client_ip: ContextVar[str] = ContextVar("client_ip", default="")


def record(
    session: Session,
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    community_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditLog:
    """Add an audit row for `action` on `obj` by `actor` to the session (the caller commits)."""
    if obj is not None and getattr(obj, "id", 1) is None:
        session.flush()  # a new object gets its id before the row points at it
    if community_id is None:
        community_id = getattr(obj, "community_id", None)
    if community_id is None and isinstance(obj, Community):
        community_id = obj.id
    if community_id is None and actor is not None:
        community_id = actor.community_id
    row = AuditLog(
        actor_id=actor.id if actor is not None else None,
        actor_label=f"{actor.name} ({actor.role.value})" if actor is not None else "system",
        community_id=community_id,
        action=action,
        object_type=object_type or (obj.__tablename__ if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        before=before,
        after=after,
        note=note[:500],
        ip=client_ip.get(),
    )
    session.add(row)
    return row


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return the named attributes of `obj` as JSON-ready values, for before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
