"""Jinja filters and globals: money, local time, masked phones, cache-busted asset URLs."""

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app, request, url_for
from flask_babel import format_date, format_datetime, get_locale

from .clock import to_local
from .rules import format_money
from .services.accounts import mask_phone


def money(fen: int | None, symbol: bool = True) -> str:
    """Format fen for people: ¥123.45."""
    if fen is None:
        return ""
    return ("¥" if symbol else "") + format_money(fen)


def localtime(moment, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if moment is None:
        return ""
    return format_datetime(moment, fmt)


def localdate(value, fmt: str = "yyyy-MM-dd") -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = to_local(value).date()
    return format_date(value, fmt)


@cache
def _file_hash(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """Return the static URL of `filename` with a content hash, so it can be cached for a year."""
    path = Path(current_app.static_folder) / filename
    try:
        version = _file_hash(str(path), path.stat().st_mtime)
    except FileNotFoundError:
        version = "missing"
    return url_for("static", filename=filename, v=version)


def public_base_url() -> str:
    """Return the site's address as printed on cards: BASE_URL, else this request's host."""
    return (current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def card_url(token: str) -> str:
    """Return the full URL of a card's page."""
    return f"{public_base_url()}/c/{token}"


def current_language() -> str:
    """Return the chosen interface language's code as the app names it (zh_Hans_CN, en)."""
    return str(get_locale())


def html_lang() -> str:
    """Return the BCP 47 tag for <html lang>."""
    return "en" if current_language() == "en" else "zh-Hans"


def init_app(app):
    app.jinja_env.filters.update(
        money=money, localtime=localtime, localdate=localdate, mask_phone=mask_phone
    )
    app.jinja_env.globals.update(
        asset_url=asset_url,
        current_language=current_language,
        html_lang=html_lang,
        card_url=card_url,
    )
