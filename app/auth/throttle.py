"""Slowing password guesses without letting a stranger lock the owner out.

A limit per account alone can be aimed: ten wrong passwords from anywhere and the owner's
right one is refused too. So wrong passwords (only wrong ones: a sign-in that works costs
nothing) are counted three ways, with Flask-Limiter:

- per address (`LOGIN_RATE_LIMIT`): one machine trying many accounts;
- per account *and* address, or per account and known browser (`LOGIN_ACCOUNT_RATE_LIMIT`):
  one machine trying one account; nobody else's guesses add to it;
- per account from browsers it has never signed in on (`LOGIN_STRANGER_RATE_LIMIT`): many
  machines trying one account.

A browser that signed in to an account before carries a signed cookie saying so (random id
and a keyed digest of the account, never the login itself). For that account it skips the
address and the strangers' limits and is counted on its own: an attacker can fill the
strangers' count, but the owner's own phone still gets in. A new phone during such an attack
waits for the hour to pass, or the office sets a temporary password and the owner signs in
from a browser the office trusts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from ..services.accounts import normalise_phone

COOKIE = "linli_known"
MAX_ACCOUNTS = 8  # accounts one browser remembers signing in to (a shared shop phone)
ONE_YEAR = 60 * 60 * 24 * 365


def login_name() -> str:
    """The account a sign-in names, as the limits key it (phone spaces and case do not count)."""
    return normalise_phone(request.form.get("login", "")[:80]).lower()[:40]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="linli-known-browser")


def _digest(name: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, name.encode(), hashlib.sha256).hexdigest()[:16]


def _known() -> dict:
    try:
        value = _serializer().loads(request.cookies.get(COOKIE, ""))
    except BadSignature:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("b"), str):
        return {}
    accounts = value.get("a")
    return value if isinstance(accounts, list) else {}


def known_browser() -> str | None:
    """The browser's id if it has signed in to the account this request names, else None."""
    known = _known()
    name = login_name()
    if name and _digest(name) in known.get("a", ()):
        return known["b"]
    return None


def is_known() -> bool:
    return known_browser() is not None


def address_key() -> str:
    return "login-address:" + (request.remote_addr or "")


def account_key() -> str:
    """One account from one place: this known browser, else this address."""
    browser = known_browser()
    where = f"browser:{browser}" if browser else f"address:{request.remote_addr or ''}"
    return f"login-account:{login_name()}:{where}"


def stranger_key() -> str:
    return f"login-strangers:{login_name()}"


def failed(response) -> bool:
    """A sign-in that did not let anyone in (a success redirects)."""
    return response.status_code != 302


def remember(response) -> None:
    """Mark this browser as one that signed in to the account this request named."""
    known = _known()
    digests = [d for d in known.get("a", []) if isinstance(d, str)]
    digest = _digest(login_name())
    if digest in digests:
        digests.remove(digest)
    digests = [digest, *digests][:MAX_ACCOUNTS]
    browser = known.get("b") or secrets.token_urlsafe(12)
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"b": browser, "a": digests}),
        max_age=ONE_YEAR,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("HTTPS", False),
        path="/login",
    )
