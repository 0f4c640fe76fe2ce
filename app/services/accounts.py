"""Logins: who may sign in, passwords, and the accounts staff create."""

import re
import unicodedata

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import MERCHANT_ROLES, Role, User
from . import audit
from .errors import AccountError

MIN_PASSWORD_LENGTH = 8
# What people put between a phone's digits: spaces, dashes of every width, dots, brackets.
_PHONE_NOISE = re.compile(r"[\s\-‐‑‒–—―.·()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalise_phone(text: str) -> str:
    """Return a phone number without spaces, dashes or a +86 prefix; full-width digits as ASCII."""
    phone = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", text or ""))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    return phone


def is_mobile(phone: str) -> bool:
    """Tell whether `phone` is a mainland mobile number (11 digits starting 13-19)."""
    return bool(_MOBILE.fullmatch(phone))


def mask_phone(phone: str | None) -> str:
    """Show a phone number as 138****5678."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def login_taken(session: Session, username: str | None, phone: str | None) -> bool:
    """Tell whether a user name (in any case) or a phone already names a login, as either."""
    names = {v.lower() for v in (username, phone) if v}
    if not names:
        return False
    stmt = select(User.id).where(or_(func.lower(User.username).in_(names), User.phone.in_(names)))
    return session.scalar(stmt.limit(1)) is not None


def authenticate(session: Session, login: str, password: str) -> User:
    """Return the active user whose user name (in any case) or phone (written any way) is
    `login` and whose password matches.

    Writes nothing: checking a password takes a while, and no write lock is held meanwhile.
    """
    login = unicodedata.normalize("NFKC", login or "").strip()
    phone = normalise_phone(login)
    named = [func.lower(User.username) == login.lower()]
    if phone:
        named.append(User.phone == phone)
    user = session.scalars(select(User).where(or_(*named))).first()
    if user is None or not user.check_password(password or ""):
        raise AccountError("bad_credentials")
    if not user.active:  # turned off: say so, even to a resident the office never confirmed
        raise AccountError("inactive")
    if user.community_id is not None and user.community.archived_at is not None:
        raise AccountError("community_archived")  # until the district admin brings it back
    if user.role == Role.RESIDENT and user.confirmed_at is None:
        raise AccountError("not_confirmed")
    return user


def record_login(session: Session, user: User) -> None:
    """Note when `user` last signed in (the caller commits)."""
    user.last_login_at = utcnow()


def check_new_password(password: str) -> None:
    """Refuse a password too short to be a password."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError("weak_password")


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Change `user`'s own password; other sessions of the account stop working."""
    if not user.check_password(current or ""):
        raise AccountError("wrong_password")
    check_new_password(new)
    user.set_password(new)
    user.must_change_password = False
    audit.record(session, user, "user.change_password", user)


def create_user(
    session: Session,
    actor: User | None,
    *,
    role: Role,
    name: str,
    password: str,
    username: str | None = None,
    phone: str | None = None,
    community_id: int | None = None,
    merchant_id: int | None = None,
    street_id: int | None = None,
) -> User:
    """Create a login, refusing a user name or phone that is taken. The caller commits."""
    username = (username or "").strip() or None
    phone = normalise_phone(phone or "") or None
    check_new_password(password)
    if login_taken(session, username, phone):
        raise AccountError("login_taken")
    if role in MERCHANT_ROLES and merchant_id is None:
        raise ValueError("a merchant login needs its merchant")
    user = User(
        role=role,
        name=name.strip(),
        username=username,
        phone=phone,
        community_id=community_id,
        merchant_id=merchant_id,
        street_id=street_id,
    )
    user.set_password(password)
    user.session_version = 0
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        user,
        after=audit.snapshot(user, ["role", "name", "username", "phone", "merchant_id"]),
    )
    return user
