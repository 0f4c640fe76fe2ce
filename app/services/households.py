"""Households (楼栋-单元-门牌): one stored form for every way people write an address.

A household is stored as ``3-2-501`` (building 3, unit 2, room 501) and shown as
``3栋2单元501室``. Staff type it in many ways: ``3栋2单元501``, ``3-2-501``, ``3号楼2单元501室``,
full-width digits from a Chinese keyboard, spaces. Every one of them reads to the same stored
form, so the cards-per-household limit counts a household once however it was written.
"""

import re
import unicodedata

from .errors import N_, DomainError


class HouseholdError(DomainError):
    messages = {
        "household_required": N_("Please enter the household, e.g. 3-2-501."),
        "household_format": N_(
            "Write the household as building-unit-room, e.g. 3-2-501 or 3栋2单元501室."
        ),
    }


_DASHES = "-—–_/\\.·"
_HOUSEHOLD = re.compile(
    r"(?P<building>[0-9A-Z]{1,4})\s*(?:号楼|栋|幢|座|楼|-|\s)\s*"
    r"(?P<unit>[0-9]{1,2})\s*(?:单元|门|-|\s)\s*"
    r"(?P<room>[0-9A-Z]{1,6})\s*(?:室|号|户)?"
)


def parse_household(text: str) -> str:
    """Return the stored form of a household as typed: ``3栋2单元501`` gives ``3-2-501``."""
    plain = unicodedata.normalize("NFKC", text or "").strip().upper()
    if not plain:
        raise HouseholdError("household_required")
    for dash in _DASHES:
        plain = plain.replace(dash, "-")
    plain = re.sub(r"\s*-\s*", "-", plain)
    match = _HOUSEHOLD.fullmatch(plain)
    if match is None:
        raise HouseholdError("household_format")
    parts = [_without_leading_zeros(match.group(name)) for name in ("building", "unit", "room")]
    if parts[1] == "0":
        raise HouseholdError("household_format")
    return "-".join(parts)


def household_label(household: str | None) -> str:
    """Return a stored household in Chinese: ``3-2-501`` gives ``3栋2单元501室``."""
    if not household:
        return ""
    parts = household.split("-")
    if len(parts) != 3:
        return household
    building, unit, room = parts
    return f"{building}栋{unit}单元{room}室"


def _without_leading_zeros(part: str) -> str:
    return (part.lstrip("0") or "0") if part.isdigit() else part
