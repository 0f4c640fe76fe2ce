"""Bounded parsers for everything that comes in: money, counts, dates, ids, text, JSON, paths.

Every input is hostile until parsed. Each parser here refuses by length and range *before* it
converts, so nothing a visitor sends can make a worker build a number with a billion digits
(`int(Decimal("1e999999999"))`), recurse a thousand levels deep, or reach the database out of
the range of its columns. A refusal is an `InputError` with a stable code and a message people
can read (translated at the edge, like every `DomainError`). No Flask here: routes, the API,
the sheets and the CLI all call the same functions.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlsplit

from .rules import MAX_BILL_FEN, MoneyError, parse_money
from .services.errors import N_, DomainError

MAX_ID = 2**31 - 1  # the largest value of an INTEGER key on PostgreSQL and of what we hand out
MAX_COUNT = 1_000_000_000
MAX_NUMBER_TEXT = 32  # characters: more is not a number anyone typed
EARLIEST_DATE = date(2000, 1, 1)  # what a date filter or a campaign may name
LATEST_DATE = date(2099, 12, 31)
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 10
MAX_PATH_LENGTH = 2000


class InputError(DomainError):
    """An input that is not what its field takes."""

    messages = {
        "bad_money": N_("Please enter an amount in yuan, e.g. 188.00."),
        "bad_fen": N_("Please give the amount as a whole number of fen, from 1 to 100000000."),
        "bad_count": N_("Please enter a whole number."),
        "bad_id": N_("That is not a valid number."),
        "bad_date": N_("Please write the date as YYYY-MM-DD, between 2000 and 2099."),
        "bad_json": N_("The request body must be a JSON object."),
        "json_too_large": N_("The request body is too large (at most 64 KB)."),
        "json_too_deep": N_("The request body is nested too deeply (at most 10 levels)."),
    }


# --- numbers ------------------------------------------------------------------------------


def _ascii_digits(text: str, limit: int) -> str | None:
    """Return `text` stripped if it is 1..limit ASCII digits (no ², no ٣, no full-width)."""
    body = text.strip()
    if not 0 < len(body) <= limit or not body.isascii() or not body.isdigit():
        return None
    return body


def parse_count(
    value, *, low: int = 0, high: int = MAX_COUNT, code: str = "bad_count", message=None
) -> int:
    """Read a whole number from `low` to `high`: an int (not a bool) or a string of ASCII digits.

    Length is bounded before `int()` is called; a JSON `Decimal` is taken only when it is
    integral and of a size that fits.
    """
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, Decimal):
        number = _integral_decimal(value, len(str(high)))
    elif isinstance(value, str):
        digits = _ascii_digits(value, min(MAX_NUMBER_TEXT, len(str(high)) + 6))
        if digits is not None and len(digits.lstrip("0")) <= len(str(high)):
            number = int(digits)
    if number is None or not low <= number <= high:
        raise InputError(code, message)
    return number


def parse_hours(text) -> int | None:
    """Read hours as staff type them (1, 1.5, 1,5, ２, 2小时) into whole minutes; None when
    unreadable or not a whole number of minutes (1.234 hours is a typing mistake, not 74.04
    minutes). The caller's service refuses None with its own code."""
    cleaned = str(text or "").strip()[:MAX_NUMBER_TEXT]
    cleaned = cleaned.replace(",", ".").replace("，", ".").replace("小时", "")
    cleaned = cleaned.translate(
        {ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")}
    )
    if not 0 < len(cleaned) <= 10:
        return None
    try:
        hours = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not hours.is_finite() or abs(hours) > 1000:
        return None
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        return None
    return int(minutes)


def _integral_decimal(value: Decimal, max_digits: int) -> int | None:
    """Return a Decimal as an int when it is finite, whole and has at most `max_digits` digits.

    `adjusted()` is the exponent of its leading digit: read before converting, so 1e999999999
    is refused without building its billion digits.
    """
    if not value.is_finite():
        return None
    if value.is_zero():
        return 0
    if value.adjusted() >= max_digits or value != value.to_integral_value():
        return None
    return int(value)


def parse_id(value, *, code: str = "bad_id") -> int:
    """Read a row id: 1 to 2**31 - 1, as the database's keys hold."""
    return parse_count(value, low=1, high=MAX_ID, code=code)


def optional_id(value) -> int | None:
    """Read an id from a filter: None when absent or not an id (a filter then lists all)."""
    if value is None or value == "":
        return None
    try:
        return parse_id(value)
    except InputError:
        return None


def parse_fen(value, *, low: int = 1, high: int = MAX_BILL_FEN, code: str = "bad_fen") -> int:
    """Read an amount in fen as a JSON number or a hidden form field carries it."""
    return parse_count(value, low=low, high=high, code=code)


def parse_yuan(text, *, low: int = 0, high: int = MAX_BILL_FEN, code: str = "bad_money") -> int:
    """Read an amount typed by a person ("¥12.30", "１２３", "5元") into fen, bounded.

    The refusal says what was wrong in the rule engine's words (its msgid and details).
    """
    if not isinstance(text, str) or len(text) > MAX_NUMBER_TEXT:
        raise InputError(code)
    try:
        fen = parse_money(text)
    except MoneyError as error:
        raise InputError(code, error.message, **error.carried()) from None
    if not low <= fen <= high:
        raise InputError(code)
    return fen


# --- dates --------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(
    value, *, low: date = EARLIEST_DATE, high: date = LATEST_DATE, code: str = "bad_date"
) -> date:
    """Read a date written YYYY-MM-DD, within what the product can mean (2000 to 2099).

    0001-01-01 and 9999-12-31 are real dates to Python, but a day before or after them does
    not exist and the database's range differs: they are refused as bad input.
    """
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise InputError(code)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(code) from None
    if not low <= day <= high:
        raise InputError(code)
    return day


def optional_date(value) -> date | None:
    """Read a date from a filter: None when absent or not a date the product can mean."""
    if not value:
        return None
    try:
        return parse_date(value)
    except InputError:
        return None


def one_of(value, allowed: tuple[str, ...], default: str) -> str:
    """Read a choice from a link (`?paper=a4`): one of `allowed` (any case), else `default`."""
    if not isinstance(value, str) or len(value) > max(map(len, allowed)):
        return default
    value = value.lower()
    return value if value in allowed else default


# --- text ---------------------------------------------------------------------------------

# C0 and C1 controls, DEL, lone surrogates (JSON may carry "\ud800"; no database takes one) and
# the two non-characters XML forbids. Tab and newline are dealt with apart.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(value, *, multiline: bool = False) -> str:
    """Return text fit to store: control characters taken out, tabs as spaces.

    A multi-line field keeps its line breaks (\\r\\n and \\r become \\n); a one-line field has
    them replaced by spaces. Nothing else is changed: emoji, right-to-left marks and markup are
    text (they are escaped where shown).
    """
    if value is None:
        return ""
    text = str(value)
    if not _CONTROLS.search(text) and "\t" not in text and ("\n" not in text or multiline):
        return text  # the common case: nothing to clean
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return _CONTROLS.sub("", text)


def printable(value) -> str:
    """Return stored text with what a spreadsheet cannot hold taken out (for exports).

    Rows written before text was cleaned at the edge may still hold control characters; an
    export shows them as nothing rather than failing.
    """
    return _CONTROLS.sub("", str(value)) if _CONTROLS.search(str(value)) else str(value)


# --- JSON ---------------------------------------------------------------------------------

_JSON_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(data: bytes) -> int:
    """Return how deeply the arrays and objects of a JSON text nest (strings skipped)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRINGS.sub(b'""', data)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _bounded_int(text: str):
    # json hands every integer literal over as text: refuse what no field can hold, unbuilt.
    if len(text.lstrip("-")) > MAX_NUMBER_TEXT:
        raise InputError("bad_json")
    return int(text)


def load_json_object(
    data: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> dict:
    """Parse a JSON request body that must be an object, within size and depth limits.

    Fractions and exponents come back as `Decimal` (never a float; converted only through the
    bounded parsers above), and integer literals longer than any field takes are refused.
    """
    if len(data) > max_bytes:
        raise InputError("json_too_large")
    if json_depth(data) > max_depth:
        raise InputError("json_too_deep")
    try:
        body = json.loads(data, parse_float=Decimal, parse_int=_bounded_int, parse_constant=_nan)
    except (ValueError, RecursionError):
        raise InputError("bad_json") from None
    if not isinstance(body, dict):
        raise InputError("bad_json")
    return body


def _nan(_text: str):
    raise InputError("bad_json")  # NaN and Infinity are not JSON, whatever Python's json allows


# --- redirect targets ---------------------------------------------------------------------


def local_path(target) -> str | None:
    """Return `target` if it is a path on this site, else None; the one check for redirects.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, and Werkzeug
    drops them when it writes the Location header, so `/\\t/evil.example` would arrive as
    `//evil.example`, another host. The target is normalised the same way first, then must be
    a path ("/..."), never `//host`, `/\\host` or `scheme:`, also once percent-decoded. The
    normalised text is what is returned, so what was checked is what is sent.
    """
    if not isinstance(target, str) or not target or len(target) > MAX_PATH_LENGTH:
        return None
    cleaned = re.sub("[\t\n\r]", "", target).strip("\x00- ")
    if _CONTROLS.search(cleaned) or "\\" in cleaned:
        return None
    for form in (cleaned, unquote(cleaned)):
        normal = form.replace("\\", "/")
        if not normal.startswith("/") or normal.startswith("//"):
            return None
        if re.sub("[\t\n\r]", "", normal).startswith("//"):
            return None
        parts = urlsplit(normal)
        if parts.scheme or parts.netloc:
            return None
    return cleaned
