"""The audit log: one append-only row for every change a person makes."""

import enum
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..clock import utcnow
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
) -> None:
    """Write an audit row for `action` on `obj` by `actor` in the session's transaction.

    The row is inserted at once (not at the next flush), so it costs one statement and no
    unit-of-work bookkeeping; it is committed or rolled back with the change it describes.
    """
    if obj is not None and getattr(obj, "id", 1) is None:
        session.flush()  # a new object gets its id before the row points at it
    if community_id is None:
        community_id = getattr(obj, "community_id", None)
    if community_id is None and isinstance(obj, Community):
        community_id = obj.id
    if community_id is None and actor is not None:
        community_id = actor.community_id
    insert_row(
        session.connection(),
        actor_id=actor.id if actor is not None else None,
        actor_label=label(actor) if actor is not None else "system",
        community_id=community_id,
        action=action,
        object_type=object_type or (obj.__tablename__ if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        before=before,
        after=after,
        note=note,
    )


_INSERT = insert(AuditLog.__table__)


def label(actor: User) -> str:
    """Return how an actor is named in the log: name and role at the time."""
    return f"{actor.name} ({actor.role.value})"


def insert_row(
    connection,
    *,
    actor_id: int | None,
    actor_label: str,
    community_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    at=None,
) -> None:
    """Insert one audit row on `connection` (in its transaction) with a prepared statement."""
    connection.execute(
        _INSERT,
        {
            "created_at": at or utcnow(),
            "actor_id": actor_id,
            "actor_label": actor_label[:80],
            "community_id": community_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "before": before,
            "after": after,
            "note": note[:500],
            "ip": client_ip.get(),
        },
    )


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return the named attributes of `obj` as JSON-ready values, for before/after."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
