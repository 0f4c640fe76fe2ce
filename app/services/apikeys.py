"""API keys for shop tills: created and revoked by the shop's owner, kept only as a hash.

A key reads `lk_<prefix>_<secret>`. The prefix (public, unique) finds the row; the secret is
checked against its SHA-256. A fast hash is right here: the secret is 192 random bits, so
there is nothing to slow down a guesser of, and the till calls on every redemption.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import ApiKey, Community, Merchant, Role, User
from . import audit
from .errors import N_, DomainError

LAST_USED_RESOLUTION = timedelta(minutes=10)  # don't write on every request


class ApiKeyError(DomainError):
    messages = {
        "owner_only": N_("Only the shop's owner can manage API keys."),
        "name_required": N_("Please give the key a name, e.g. the till it is for."),
        "not_found": N_("No such key."),
    }


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, owner: User, name: str) -> tuple[ApiKey, str]:
    """Create a key for the owner's shop; return it and the full key, which is shown once."""
    if owner.role != Role.MERCHANT_OWNER:
        raise ApiKeyError("owner_only")
    name = (name or "").strip()[:80]
    if not name:
        raise ApiKeyError("name_required")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)
    key = ApiKey(
        merchant_id=owner.merchant_id,
        name=name,
        prefix=prefix,
        key_hash=_digest(secret),
        created_by_id=owner.id,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        owner,
        "api_key.create",
        key,
        community_id=owner.community_id,
        after={"name": name, "prefix": prefix},
    )
    return key, f"lk_{prefix}_{secret}"


def revoke_key(session: Session, owner: User, key_id: int) -> ApiKey:
    """Revoke one of the owner's shop's keys; requests with it are refused from now on."""
    if owner.role != Role.MERCHANT_OWNER:
        raise ApiKeyError("owner_only")
    key = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.merchant_id == owner.merchant_id)
    )
    if key is None:
        raise ApiKeyError("not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            owner,
            "api_key.revoke",
            key,
            community_id=owner.community_id,
            after={"prefix": key.prefix},
        )
    return key


def authenticate(session: Session, presented: str | None) -> tuple[ApiKey, Merchant, User] | None:
    """Return the live key a request presents, with its shop and the owner who made it.

    None for a missing, wrong or revoked key, one whose owner's account is disabled or whose
    shop's community is archived. One
    query: the till calls this on every redemption.
    """
    if not presented or not presented.startswith("lk_"):
        return None
    prefix, _, secret = presented[3:].partition("_")
    if not prefix or not secret:
        return None
    found = session.execute(
        select(ApiKey, Merchant, User, Community.archived_at)
        .join(Merchant, Merchant.id == ApiKey.merchant_id)
        .join(User, User.id == ApiKey.created_by_id)
        .join(Community, Community.id == Merchant.community_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    if found is None:
        return None
    key, merchant, owner, archived_at = found
    if key.revoked_at is not None or not owner.active or archived_at is not None:
        return None
    if not secrets.compare_digest(key.key_hash, _digest(secret)):
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now  # written with the request's transaction
    return key, merchant, owner


def keys_of(session: Session, merchant_id: int) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.merchant_id == merchant_id).order_by(ApiKey.id.desc())
        )
    )
