"""The discount rule engine: parse what a shop says, compute the discount in fen, say it back.

A rule is written the way a merchant says it (``8折``, ``满100减10``, ``每满100减10，最高减50``),
parsed into a :class:`Rule`, computed in integer fen and rendered back to one canonical text.
Standard library only, no Flask. Money is an ``int`` of fen everywhere; a rate is an ``int`` of
per mille; there is no binary-fraction arithmetic anywhere in this module.

Parts of a rule
---------------
Exactly one *benefit*, plus at most one *cap* and at most one *minimum bill*:

- ``percent`` (打折): ``8折`` ``8.5折`` ``85折`` ``八五折`` ``打8折``;
  bill × (1 − rate), rounded half-up to the fen.
- ``tiers`` (满减): ``满100减10``, or several tiers ``满100减10,满200减30``;
  the amount off of the best tier the bill reaches (a single 满减 is one tier).
- ``per_step`` (每满减): ``每满100减10``; ⌊bill / step⌋ × off.
- ``flat`` (立减): ``立减5`` ``减5元`` ``无门槛减5``; min(off, bill).
- ``threshold_percent`` (满额打折): ``满200打9折`` ``满200享9折`` ``满200元9折``;
  0 below the threshold, else as ``percent`` on the whole bill.

- cap: ``最高减20``, ``最多减20元``, ``封顶20元``, ``最高优惠20元``; only with ``percent``,
  ``threshold_percent`` and ``per_step`` (on ``flat`` and ``tiers`` it cannot matter, so it is
  refused), and for ``per_step`` not below the amount off per step.
- minimum bill: ``满50可用`` (``满50元可用``) with any benefit; below it the discount is 0.
  One that cannot matter (``满50可用，满100减10``) is harmless and kept as written.

A 满减 or 每满 amount off must be below its threshold. The same part twice (``8折,9折``, two caps)
and two kinds of benefit (``8折,满100减10``) are refused; several 满减 tiers are one benefit.
The discount is capped, and is never negative and never more than the bill.

Text accepted
-------------
Parts may come in any order, separated by ``,`` ``，`` ``;`` ``；`` ``、`` ``。``, spaces, or
nothing where two numbers do not meet (``8折最高减20``; not ``最高减208折``). Full-width
digits and punctuation are read as their ASCII forms. Amounts are yuan with up to two
decimals, optionally with ``¥``/``￥`` before and ``元``/``块``/``块钱`` after, at most
``MAX_BILL_FEN`` (1,000,000 元). Chinese numerals work in amounts and rates: 零〇 一 二两 三 四
五 六 七 八 九 十 百 千 万 and 点 for the decimal point (``满一百五十减二十``, ``满两百减三十``,
``一百五`` = 150, ``九点五折``); a run of bare digits is read digit by digit (``八五`` = 85).

Rates
-----
``pay_permille`` is the share of the bill the customer pays, in per mille: 8折 = 800,
8.5折 = 850, 8.88折 = 888 (so 折 with up to two decimals is exact), 1 ≤ pay_permille ≤ 999.
A whole number of 折 from 1 to 9 is that many 折; two digits from 20 to 99 follow the shop
convention ``85折`` = 8.5折. Refused: 0折, 10折 (no discount), 11折 to 19折 (ambiguous: write
``1.5折``), three digits or more, more than two decimals, and a leading zero (``05折``).

Canonical text (``Rule.render``)
--------------------------------
The minimum bill first, then the benefit (tiers by rising threshold), then the cap, joined with
the full-width comma ``，``. Amounts in yuan without trailing zeros and without 元; rates in
Arabic digits without 打; a cap as ``最高减…``; a flat amount as ``立减…``::

    满50可用，8.5折，最高减20        满100减10，满200减30        每满100减10，最高减50
    满200打9折                      立减5                      满99.5减0.01

``parse_rule(rule.render()) == rule`` for every rule.

Dict shape (``Rule.to_dict`` / ``Rule.from_dict``)
-------------------------------------------------
Plain JSON: ints, strings, lists, None. Always ``v`` (1), ``kind``, ``cap_fen`` and
``min_bill_fen`` (int or None), plus the fields of the kind:

- ``percent``: ``pay_permille``
- ``tiers``: ``tiers``, a non-empty list of ``{"threshold_fen": int, "off_fen": int}``
- ``per_step``: ``step_fen``, ``off_fen``
- ``flat``: ``off_fen``
- ``threshold_percent``: ``threshold_fen``, ``pay_permille``

Examples::

    8折，最高减20        {"v": 1, "kind": "percent", "pay_permille": 800,
                          "cap_fen": 2000, "min_bill_fen": None}
    满100减10，满200减30 {"v": 1, "kind": "tiers",
                          "tiers": [{"threshold_fen": 10000, "off_fen": 1000},
                                    {"threshold_fen": 20000, "off_fen": 3000}],
                          "cap_fen": None, "min_bill_fen": None}
    满50可用，每满100减10 {"v": 1, "kind": "per_step", "step_fen": 10000, "off_fen": 1000,
                          "cap_fen": None, "min_bill_fen": 5000}

``from_dict`` checks what the parser checks (and refuses unknown or missing keys, non-int
amounts and booleans); ``cap_fen`` and ``min_bill_fen`` may be left out. Tiers may come in any
order; they are kept sorted by threshold.

Errors
------
``RuleError`` (a ``ValueError``) carries a stable ``code``, an English ``message`` marked for
the catalogue with ``%(name)s`` places filled from ``details`` (a ``Term`` among them is a word
to translate too), and ``position``: the 1-based character position in the text as typed where
the problem is (None when it is about the whole text or a dict). ``str(error)`` is the English.
``MoneyError`` is the same for amounts typed by a person (``parse_money``). The edge shows
either in the visitor's language with ``app.i18n.message(error)``; nothing here needs Flask.

Money typed by people
---------------------
``parse_money`` reads a bill as a cashier types it: Arabic digits only (full-width too), up to
two decimals, an optional ``¥``/``￥`` and ``元``/``块``, surrounding spaces; ``.5`` and ``5.`` are
read as 0.50 and 5.00. It refuses negatives, exponents, NaN and infinity, thousands separators,
Chinese numerals and more than 1,000,000 元. ``format_money`` writes fen back with two decimals
(``"-1.00"`` for a refund). ``Rule.quote`` and ``preview`` put bill, discount and pay together.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, NoReturn

__all__ = [
    "MAX_BILL_FEN",
    "RULE_EXAMPLES",
    "Flat",
    "MoneyError",
    "N_",
    "PerStep",
    "Percent",
    "Quote",
    "Rule",
    "RefusedText",
    "RuleError",
    "Term",
    "ThresholdPercent",
    "Tier",
    "Tiers",
    "format_money",
    "parse_money",
    "parse_rule",
    "preview",
]

MAX_BILL_FEN = 1_000_000 * 100

RULE_EXAMPLES = [
    "8折",
    "8.5折",
    "九五折",
    "满100减10",
    "满100元减10元，满200元减30元",
    "每满100减10",
    "每满100减10，最高减50",
    "立减5元",
    "满300打8.5折，最高减50",
    "满200打9折",
    "8折，最高减20",
    "满50可用，8折",
    "满50可用，立减5",
    "周一至周五可用，8折",
    "满100减10，每天10:00-14:00",
]


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it (the edge translates)."""
    return message


class Term(str):
    """A msgid placed into a message (the name of an amount): translated and filled in too."""

    __slots__ = ()


def fill(
    message: str,
    details: dict[str, Any],
    position: int | None = None,
    translate: Callable[[str], str] = str,
) -> str:
    """Return `message` translated, its places filled from `details` (each Term translated and
    filled the same way), preceded by where it is when `position` is given."""
    values = {k: translate(v) % details if isinstance(v, Term) else v for k, v in details.items()}
    text = translate(message) % values if values else translate(message)
    if position is None:
        return text
    return translate(N_("near character %(position)s: %(reason)s")) % {
        "position": position,
        "reason": text,
    }


class RefusedText(ValueError):
    """Text a person wrote that cannot be used: a stable code, an English msgid and where."""

    def __init__(
        self, code: str, message: str, position: int | None = None, **details: Any
    ) -> None:
        super().__init__(code, message, position, details)
        self.code = code
        self.message = message
        self.position = position
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.code, self.message, self.position, self.details))

    @property
    def reason(self) -> str:
        """The message in English with its details filled in."""
        return fill(self.message, self.details)

    def __str__(self) -> str:
        return fill(self.message, self.details, self.position)

    def at(self, position: int) -> RefusedText:
        """Return this error placed at position, unless it already has one."""
        if self.position is not None:
            return self
        return type(self)(self.code, self.message, position, **self.details)

    def carried(self) -> dict[str, Any]:
        """Details for a domain error that passes this refusal on, its position among them."""
        return (
            self.details if self.position is None else {**self.details, "position": self.position}
        )

    def unplaced(self) -> RefusedText:
        """Return this error without its position (for text the person did not type)."""
        return type(self)(self.code, self.message, None, **self.details)


def _rebuild(cls: type[RefusedText], code, message, position, details) -> RefusedText:
    return cls(code, message, position, **details)


class RuleError(RefusedText):
    """A rule text or dict that cannot be used."""


class MoneyError(RefusedText):
    """An amount typed by a person that cannot be used."""


# The names of amounts, for messages about them.
THRESHOLD_OF_TIER = Term(N_("The bill a 满减 tier starts at"))
OFF_OF_TIER = Term(N_("The amount a 满减 tier takes off"))
STEP = Term(N_("The full amount of 每满减"))
OFF_PER_STEP = Term(N_("The amount 每满减 takes off"))
FLAT_OFF = Term(N_("The amount 立减 takes off"))
THRESHOLD_OF_PERCENT = Term(N_("The bill a percentage off starts at"))
MIN_BILL = Term(N_("The bill the rule is usable from"))
CAP = Term(N_("The most off"))


# --- small helpers -------------------------------------------------------------------------


def _shown(text: str) -> str:
    """Cut what someone sent to a length a message can quote."""
    return text if len(text) <= 40 else text[:40] + "…"


def _hundredths(n: int) -> str:
    """Write n/100 without trailing zeros: 10000 -> "100", 9950 -> "99.5", 5 -> "0.05"."""
    whole, rest = divmod(n, 100)
    return f"{whole}.{rest:02d}".rstrip("0") if rest else str(whole)


def _check_int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError("not_integer", N_("%(key)s must be a whole number."), key=key)
    return value


def _check_amount(value: object, key: str, what: Term) -> int:
    amount = _check_int(value, key)
    if amount <= 0:
        raise RuleError("amount_not_positive", N_("%(what)s must be more than 0."), what=what)
    if amount > MAX_BILL_FEN:
        raise RuleError(
            "amount_too_big",
            N_("%(what)s cannot be more than %(most)s yuan."),
            what=what,
            most=MAX_BILL_FEN // 100,
        )
    return amount


def _check_rate(value: object) -> None:
    if not 1 <= _check_int(value, "pay_permille") <= 999:
        raise RuleError(
            "rate_out_of_range",
            N_("A percentage must be more than 0折 and less than 10折 (pay_permille 1 to 999)."),
        )


def _percent_off(bill_fen: int, pay_permille: int) -> int:
    """Return bill × (1 − pay_permille/1000), rounded half-up to the fen."""
    return (bill_fen * (1000 - pay_permille) + 500) // 1000


# --- the parts of a rule -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Percent:
    """打折: the customer pays pay_permille ‰ of the bill (8折 = 800, 8.5折 = 850)."""

    kind: ClassVar[str] = "percent"
    dict_keys: ClassVar[tuple[str, ...]] = ("pay_permille",)
    pay_permille: int

    def __post_init__(self) -> None:
        _check_rate(self.pay_permille)

    def discount(self, bill_fen: int) -> int:
        """Return the discount on bill_fen, before any cap."""
        return _percent_off(bill_fen, self.pay_permille)

    def render(self) -> str:
        """Return the canonical text, e.g. 8.5折."""
        return f"{_hundredths(self.pay_permille)}折"

    def explain(self) -> str:
        """Return a sentence for residents."""
        return f"打{_hundredths(self.pay_permille)}折"

    def fields(self) -> dict[str, Any]:
        """Return the kind's fields for to_dict."""
        return {"pay_permille": self.pay_permille}

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> Percent:
        """Build from the kind's fields of a dict."""
        return cls(data["pay_permille"])


@dataclass(frozen=True, slots=True)
class Tier:
    """One 满减 tier: off_fen off once the bill reaches threshold_fen."""

    threshold_fen: int
    off_fen: int

    def __post_init__(self) -> None:
        _check_amount(self.threshold_fen, "threshold_fen", THRESHOLD_OF_TIER)
        _check_amount(self.off_fen, "off_fen", OFF_OF_TIER)
        if self.off_fen >= self.threshold_fen:
            raise RuleError(
                "off_not_below_threshold",
                N_("“%(rule)s” will not do: the amount off must be less than the bill it needs."),
                rule=self.render(),
            )

    def render(self) -> str:
        """Return the canonical text, e.g. 满100减10."""
        return f"满{_hundredths(self.threshold_fen)}减{_hundredths(self.off_fen)}"

    def explain(self) -> str:
        """Return a phrase for residents."""
        return f"满{_hundredths(self.threshold_fen)}元减{_hundredths(self.off_fen)}元"


@dataclass(frozen=True, slots=True)
class Tiers:
    """满减: a fixed amount off once the bill reaches a threshold; of several tiers, the best."""

    kind: ClassVar[str] = "tiers"
    dict_keys: ClassVar[tuple[str, ...]] = ("tiers",)
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        tiers = tuple(self.tiers)
        if not all(isinstance(tier, Tier) for tier in tiers):
            raise TypeError("Tiers holds Tier objects")
        tiers = tuple(sorted(tiers, key=lambda tier: tier.threshold_fen))
        object.__setattr__(self, "tiers", tiers)
        if not tiers:
            raise RuleError("no_tiers", N_("满减 needs at least one tier."))
        for lower, higher in itertools.pairwise(tiers):
            if lower.threshold_fen == higher.threshold_fen:
                raise RuleError(
                    "tiers_same_threshold",
                    N_(
                        "“%(lower)s” and “%(higher)s” start at the same bill; "
                        "each tier needs its own."
                    ),
                    lower=lower.render(),
                    higher=higher.render(),
                )
            if higher.off_fen <= lower.off_fen:
                raise RuleError(
                    "tiers_not_rising",
                    N_("A higher tier must take more off: “%(lower)s” and “%(higher)s” do not."),
                    lower=lower.render(),
                    higher=higher.render(),
                )

    def discount(self, bill_fen: int) -> int:
        """Return the discount of the best tier the bill reaches."""
        return max((t.off_fen for t in self.tiers if bill_fen >= t.threshold_fen), default=0)

    def render(self) -> str:
        """Return the canonical text, e.g. 满100减10，满200减30."""
        return "，".join(tier.render() for tier in self.tiers)

    def explain(self) -> str:
        """Return a sentence for residents."""
        text = "消费" + "，".join(tier.explain() for tier in self.tiers)
        return text if len(self.tiers) == 1 else text + "（按达到的最高一档优惠，不叠加）"

    def fields(self) -> dict[str, Any]:
        """Return the kind's fields for to_dict."""
        return {
            "tiers": [{"threshold_fen": t.threshold_fen, "off_fen": t.off_fen} for t in self.tiers]
        }

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> Tiers:
        """Build from the kind's fields of a dict."""
        rows = data["tiers"]
        if not isinstance(rows, list):
            raise RuleError("tiers_not_list", N_("tiers must be a list."))
        tiers = []
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict) or set(row) != {"threshold_fen", "off_fen"}:
                raise RuleError(
                    "tier_fields",
                    N_("Tier %(number)s of tiers must have the two fields threshold_fen, off_fen."),
                    number=number,
                )
            tiers.append(Tier(row["threshold_fen"], row["off_fen"]))
        return cls(tuple(tiers))


@dataclass(frozen=True, slots=True)
class PerStep:
    """每满减: off_fen off for every full step_fen of the bill."""

    kind: ClassVar[str] = "per_step"
    dict_keys: ClassVar[tuple[str, ...]] = ("step_fen", "off_fen")
    step_fen: int
    off_fen: int

    def __post_init__(self) -> None:
        _check_amount(self.step_fen, "step_fen", STEP)
        _check_amount(self.off_fen, "off_fen", OFF_PER_STEP)
        if self.off_fen >= self.step_fen:
            raise RuleError(
                "off_not_below_step",
                N_("“%(rule)s” will not do: each step must take off less than the step."),
                rule=self.render(),
            )

    def discount(self, bill_fen: int) -> int:
        """Return the discount on bill_fen, before any cap."""
        return bill_fen // self.step_fen * self.off_fen

    def render(self) -> str:
        """Return the canonical text, e.g. 每满100减10."""
        return f"每满{_hundredths(self.step_fen)}减{_hundredths(self.off_fen)}"

    def explain(self) -> str:
        """Return a sentence for residents."""
        return f"每满{_hundredths(self.step_fen)}元减{_hundredths(self.off_fen)}元"

    def fields(self) -> dict[str, Any]:
        """Return the kind's fields for to_dict."""
        return {"step_fen": self.step_fen, "off_fen": self.off_fen}

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> PerStep:
        """Build from the kind's fields of a dict."""
        return cls(data["step_fen"], data["off_fen"])


@dataclass(frozen=True, slots=True)
class Flat:
    """立减: a fixed amount off any bill, never more than the bill."""

    kind: ClassVar[str] = "flat"
    dict_keys: ClassVar[tuple[str, ...]] = ("off_fen",)
    off_fen: int

    def __post_init__(self) -> None:
        _check_amount(self.off_fen, "off_fen", FLAT_OFF)

    def discount(self, bill_fen: int) -> int:
        """Return the discount on bill_fen."""
        return min(self.off_fen, bill_fen)

    def render(self) -> str:
        """Return the canonical text, e.g. 立减5."""
        return f"立减{_hundredths(self.off_fen)}"

    def explain(self) -> str:
        """Return a sentence for residents."""
        return f"立减{_hundredths(self.off_fen)}元"

    def fields(self) -> dict[str, Any]:
        """Return the kind's fields for to_dict."""
        return {"off_fen": self.off_fen}

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> Flat:
        """Build from the kind's fields of a dict."""
        return cls(data["off_fen"])


@dataclass(frozen=True, slots=True)
class ThresholdPercent:
    """满额打折: a percentage off the whole bill once it reaches threshold_fen."""

    kind: ClassVar[str] = "threshold_percent"
    dict_keys: ClassVar[tuple[str, ...]] = ("threshold_fen", "pay_permille")
    threshold_fen: int
    pay_permille: int

    def __post_init__(self) -> None:
        _check_amount(self.threshold_fen, "threshold_fen", THRESHOLD_OF_PERCENT)
        _check_rate(self.pay_permille)

    def discount(self, bill_fen: int) -> int:
        """Return the discount on bill_fen, before any cap."""
        if bill_fen < self.threshold_fen:
            return 0
        return _percent_off(bill_fen, self.pay_permille)

    def render(self) -> str:
        """Return the canonical text, e.g. 满200打9折."""
        return f"满{_hundredths(self.threshold_fen)}打{_hundredths(self.pay_permille)}折"

    def explain(self) -> str:
        """Return a sentence for residents."""
        return f"消费满{_hundredths(self.threshold_fen)}元打{_hundredths(self.pay_permille)}折"

    def fields(self) -> dict[str, Any]:
        """Return the kind's fields for to_dict."""
        return {"threshold_fen": self.threshold_fen, "pay_permille": self.pay_permille}

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> ThresholdPercent:
        """Build from the kind's fields of a dict."""
        return cls(data["threshold_fen"], data["pay_permille"])


Benefit = Percent | Tiers | PerStep | Flat | ThresholdPercent
_BENEFITS: dict[str, type[Benefit]] = {
    kind.kind: kind for kind in (Percent, Tiers, PerStep, Flat, ThresholdPercent)
}


def _check_min_bill(min_bill_fen: object) -> int:
    return _check_amount(min_bill_fen, "min_bill_fen", MIN_BILL)


def _check_cap_amount(cap_fen: object) -> int:
    return _check_amount(cap_fen, "cap_fen", CAP)


def _check_cap(benefit: Benefit, cap_fen: object) -> None:
    cap = _check_cap_amount(cap_fen)
    if isinstance(benefit, Flat | Tiers):
        raise RuleError(
            "cap_not_applicable",
            N_(
                "“最高减%(cap)s” does nothing to “%(rule)s”: a cap goes only with a percentage "
                "off, a percentage off above a bill or 每满减."
            ),
            cap=_hundredths(cap),
            rule=benefit.render(),
        )
    if isinstance(benefit, PerStep) and cap < benefit.off_fen:
        raise RuleError(
            "cap_below_step",
            N_(
                "A cap of %(cap)s yuan is less than the %(off)s yuan "
                "“%(rule)s” takes off each time."
            ),
            cap=_hundredths(cap),
            rule=benefit.render(),
            off=_hundredths(benefit.off_fen),
        )


# --- days and hours of use ------------------------------------------------------------------

_WEEKDAYS = "一二三四五六日"  # 周一 … 周日: 0 = Monday, as datetime.weekday()
_DAY_OF = {char: i for i, char in enumerate(_WEEKDAYS)} | {"天": 6, "七": 6}
_MINUTES_A_DAY = 24 * 60


def weekday_name(weekday: int) -> str:
    """Return a weekday as people say it: 0 gives 周一, 6 gives 周日."""
    return "周" + _WEEKDAYS[weekday]


def _check_days(days: object) -> None:
    if not isinstance(days, frozenset) or not days or not days <= frozenset(range(7)):
        raise RuleError("days_invalid", N_("The days of use are some of 周一 to 周日."))
    if len(days) == 7:
        raise RuleError("days_every", N_("Usable every day: there is no need to write the days."))


def _check_hours(hours: object) -> None:
    if (
        not isinstance(hours, tuple)
        or len(hours) != 2
        or not all(isinstance(h, int) and not isinstance(h, bool) for h in hours)
    ):
        raise RuleError("hours_invalid", N_("Write the hours of use as “10:00-14:00”."))
    start, end = hours
    if not 0 <= start < end <= _MINUTES_A_DAY:
        raise RuleError(
            "hours_order",
            N_("The hours of use start before they end, within one day from 0:00 to 24:00."),
        )
    if (start, end) == (0, _MINUTES_A_DAY):
        raise RuleError("hours_all_day", N_("Usable all day: there is no need to write the hours."))


def _days_text(days: frozenset[int]) -> str:
    """周一至周五 for a run of three or more days, else the days listed: 周六日, 周一三五."""
    ordered = sorted(days)
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"周{_WEEKDAYS[ordered[0]]}至周{_WEEKDAYS[ordered[-1]]}"
    return "周" + "".join(_WEEKDAYS[d] for d in ordered)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


def _hours_text(hours: tuple[int, int]) -> str:
    return f"{_clock(hours[0])}-{_clock(hours[1])}"


def _days_from_dict(value: object) -> frozenset[int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in value
    ):
        raise RuleError("data_days", N_("Rule data: days must be whole numbers from 0 to 6."))
    days = frozenset(value)
    if len(days) != len(value):
        raise RuleError("data_days_twice", N_("Rule data: days names a day twice."))
    return days


def _hours_from_dict(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise RuleError("data_hours", N_("Rule data: hours must be [first minute, last minute]."))
    return (value[0], value[1])


@dataclass(frozen=True, slots=True)
class Quote:
    """What a bill comes to under a rule, in fen."""

    bill_fen: int
    discount_fen: int
    pay_fen: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A discount rule: one benefit, an optional cap and an optional minimum bill (满…可用)."""

    benefit: Benefit
    cap_fen: int | None = None
    min_bill_fen: int | None = None
    # When the rule may be used (Asia/Shanghai): weekdays (0 = Monday … 6 = Sunday) and a time
    # of day [from, until) in minutes after midnight. None: any day, any time.
    days: frozenset[int] | None = None
    hours: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.benefit, tuple(_BENEFITS.values())):
            raise TypeError("Rule.benefit is a Percent, Tiers, PerStep, Flat or ThresholdPercent")
        if self.min_bill_fen is not None:
            _check_min_bill(self.min_bill_fen)
        if self.cap_fen is not None:
            _check_cap(self.benefit, self.cap_fen)
        if self.days is not None:
            _check_days(self.days)
        if self.hours is not None:
            _check_hours(self.hours)

    def usable_at(self, moment: datetime) -> bool:
        """Tell whether the rule may be used at a local (Asia/Shanghai) moment."""
        if self.days is not None and moment.weekday() not in self.days:
            return False
        if self.hours is not None:
            minute = moment.hour * 60 + moment.minute
            return self.hours[0] <= minute < self.hours[1]
        return True

    def next_usable(self, moment: datetime) -> datetime | None:
        """Return the first local moment at or after `moment` when the rule may be used."""
        if self.usable_at(moment):
            return moment
        start = self.hours[0] if self.hours is not None else 0
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(8):
            candidate = day + timedelta(days=offset, minutes=start)
            if candidate >= moment and self.usable_at(candidate):
                return candidate
        return None

    @property
    def limited_in_time(self) -> bool:
        return self.days is not None or self.hours is not None

    def when_text(self) -> str:
        """Return when the rule may be used, e.g. 周一至周五 10:00-14:00 (empty: any time)."""
        parts = []
        if self.days is not None:
            parts.append(_days_text(self.days))
        if self.hours is not None:
            parts.append(_hours_text(self.hours))
        return " ".join(parts)

    @property
    def kind(self) -> str:
        """Return the kind of benefit: percent, tiers, per_step, flat or threshold_percent."""
        return self.benefit.kind

    def discount(self, bill_fen: int) -> int:
        """Return the discount in fen on a bill of bill_fen."""
        if isinstance(bill_fen, bool) or not isinstance(bill_fen, int):
            raise ValueError("账单金额要是整数（单位：分）")
        if bill_fen < 0:
            raise ValueError("账单金额不能为负数")
        if self.min_bill_fen is not None and bill_fen < self.min_bill_fen:
            return 0
        off = self.benefit.discount(bill_fen)
        if self.cap_fen is not None:
            off = min(off, self.cap_fen)
        return max(0, min(off, bill_fen))

    def quote(self, bill_fen: int) -> Quote:
        """Return the bill, the discount and what is left to pay."""
        off = self.discount(bill_fen)
        return Quote(bill_fen=bill_fen, discount_fen=off, pay_fen=bill_fen - off)

    def render(self) -> str:
        """Return the canonical text; parse_rule() reads it back to an equal rule."""
        parts = []
        if self.min_bill_fen is not None:
            parts.append(f"满{_hundredths(self.min_bill_fen)}可用")
        parts.append(self.benefit.render())
        if self.cap_fen is not None:
            parts.append(f"最高减{_hundredths(self.cap_fen)}")
        if self.days is not None:
            parts.append(_days_text(self.days) + "可用")
        if self.hours is not None:
            parts.append("每天" + _hours_text(self.hours))
        return "，".join(parts)

    def explain(self) -> str:
        """Return a plain sentence for residents, e.g. 满50元可用；打8折，最多优惠20元."""
        text = self.benefit.explain()
        if self.cap_fen is not None:
            text += f"，最多优惠{_hundredths(self.cap_fen)}元"
        if self.min_bill_fen is not None:
            text = f"满{_hundredths(self.min_bill_fen)}元可用；{text}"
        if self.limited_in_time:
            text += f"；{self.when_text()}可用"
        return text

    def __str__(self) -> str:
        return self.render()

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as plain JSON data (see the module docstring for the shape)."""
        return {
            "v": 1,
            "kind": self.benefit.kind,
            **self.benefit.fields(),
            "cap_fen": self.cap_fen,
            "min_bill_fen": self.min_bill_fen,
            **({"days": sorted(self.days)} if self.days is not None else {}),
            **({"hours": list(self.hours)} if self.hours is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: object) -> Rule:
        """Build a rule from to_dict() data, refusing bad data with a RuleError."""
        if not isinstance(data, dict):
            raise RuleError("data_not_object", N_("Rule data must be a JSON object."))
        version = data.get("v")
        if isinstance(version, bool) or version != 1:
            raise RuleError(
                "data_version",
                N_("Unknown rule data version v=%(version)s; it should be 1."),
                version=_shown(repr(version)),
            )
        kind = data.get("kind")
        benefit_type = _BENEFITS.get(kind) if isinstance(kind, str) else None
        if benefit_type is None:
            raise RuleError(
                "data_kind",
                N_("Unknown kind=%(kind)s; it can be %(kinds)s."),
                kind=_shown(repr(kind)),
                kinds="、".join(_BENEFITS),
            )
        allowed = {"v", "kind", "cap_fen", "min_bill_fen", "days", "hours", *benefit_type.dict_keys}
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            raise RuleError(
                "data_unknown_fields",
                N_("Rule data has fields it does not know: %(fields)s."),
                fields=_shown("、".join(unknown)),
            )
        missing = [key for key in benefit_type.dict_keys if key not in data]
        if missing:
            raise RuleError(
                "data_missing_fields",
                N_("Rule data is missing fields: %(fields)s."),
                fields="、".join(missing),
            )
        return cls(
            benefit_type.from_fields(data),
            cap_fen=data.get("cap_fen"),
            min_bill_fen=data.get("min_bill_fen"),
            days=_days_from_dict(data.get("days")),
            hours=_hours_from_dict(data.get("hours")),
        )


# --- reading numbers -----------------------------------------------------------------------

_CN_DIGITS = {
    char: value
    for value, chars in enumerate(("零〇", "一", "二两", "三", "四", "五", "六", "七", "八", "九"))
    for char in chars
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMERAL = frozenset(_CN_DIGITS) | frozenset(_CN_UNITS) | {"万", "点"}
_ARABIC = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SEPARATORS = frozenset(",;、。")
# More digits than this before the point is over the maximum whatever they are; checking the
# length first keeps int() away from huge strings.
_MAX_WHOLE_DIGITS = len(str(MAX_BILL_FEN // 100))


def _normalize(text: str) -> str:
    """Map full-width and compatibility forms to plain ones, one character for one."""
    out = []
    for char in text:
        plain = unicodedata.normalize("NFKC", char)
        out.append(plain if len(plain) == 1 else char)
    return "".join(out)


def _chinese_integer(text: str) -> str:
    """Read a whole number in Chinese numerals; return its digits as a string."""
    if not any(char in _CN_UNITS or char == "万" for char in text):
        # bare digits read one by one (八五 -> "85"); keep leading zeros for the caller
        return "".join(str(_CN_DIGITS[char]) for char in text)
    bad = RuleError("bad_number", N_("Cannot read the number “%(number)s”."), number=text)
    total = section = 0
    digit: int | None = None
    last_unit = 10**9  # units inside a section must fall: 千 > 百 > 十
    unit_before: int | None = None  # the unit just before this character, for 一百五 = 150
    for char in text:
        unit = None
        if char in _CN_DIGITS:
            value = _CN_DIGITS[char]
            if digit is not None:
                raise bad
            if value == 0:
                unit_before = None
                continue
            digit = value
            continue
        if char == "万":
            if total or (section == 0 and not digit):
                raise bad
            total = (section + (digit or 0)) * 10_000
            section, digit, last_unit, unit = 0, None, 10**9, 10_000
        else:
            unit = _CN_UNITS[char]
            if unit >= last_unit:
                raise bad
            if digit is None:
                if unit != 10 or section:
                    raise bad
                digit = 1  # 十五 = 15
            section += digit * unit
            digit, last_unit = None, unit
        unit_before = unit
    if digit is not None:
        # 一百五 = 150 and 一万二 = 12000, but 一百零五 = 105 and 十五 = 15
        section += digit * (unit_before // 10 if unit_before and unit_before >= 100 else 1)
    return str(total + section)


def _chinese_number(text: str) -> str:
    """Read a number in Chinese numerals, maybe with 点; return it as ASCII digits."""
    whole, point, fraction = text.partition("点")
    if not whole or (point and not fraction) or any(c not in _CN_DIGITS for c in fraction):
        raise RuleError("bad_number", N_("Cannot read the number “%(number)s”."), number=text)
    digits = _chinese_integer(whole)
    if point:
        digits += "." + "".join(str(_CN_DIGITS[char]) for char in fraction)
    return digits


def _split_decimal(digits: str) -> tuple[str, str]:
    whole, _, fraction = digits.partition(".")
    return whole, fraction


def _amount_problem(whole: str, fraction: str) -> tuple[str, str, dict[str, Any]] | None:
    """Return why whole.fraction yuan is not a usable amount (code, msgid, details), or None."""
    if len(fraction) > 2:
        return "too_many_decimals", N_("An amount has at most two decimals."), {}
    if len(whole.lstrip("0")) > _MAX_WHOLE_DIGITS or _fen(whole, fraction) > MAX_BILL_FEN:
        return (
            "amount_too_big",
            N_("An amount cannot be more than %(most)s yuan."),
            {"most": MAX_BILL_FEN // 100},
        )
    return None


def _fen(whole: str, fraction: str) -> int:
    return int(whole or "0") * 100 + int((fraction + "00")[:2])


def _permille(digits: str) -> int:
    """Turn the number written before 折 into pay_permille, or raise RuleError."""
    whole, fraction = _split_decimal(digits)
    too_high = RuleError(
        "rate_too_high",
        N_("“%(rate)s折” will not do: a percentage must be less than 10折."),
        rate=digits,
    )
    if len(whole.lstrip("0")) > 3:
        raise too_high
    if "." in digits:
        if len(fraction) > 2:
            raise RuleError(
                "rate_decimals", N_("A percentage has at most two decimals, e.g. 8.88折.")
            )
        permille = _fen(whole, fraction)
    elif len(whole) > 1 and whole.startswith("0"):
        raise RuleError(
            "rate_leading_zero",
            N_("Cannot read “%(rate)s折”: for %(meant)s折 write “%(meant)s折”."),
            rate=digits,
            meant=f"0.{whole[1:]}",
        )
    else:
        number = int(whole)
        if 11 <= number <= 19:
            raise RuleError(
                "rate_teens",
                N_(
                    "Cannot read “%(rate)s折”: a percentage must be less than 10折; "
                    "for %(meant)s折 write “%(meant)s折”."
                ),
                rate=number,
                meant=f"{number // 10}.{number % 10}",
            )
        if number == 10:
            raise RuleError("rate_ten", N_("10折 takes nothing off; it cannot be a rule."))
        permille = number * 100 if number < 10 else number * 10 if number < 100 else 1000
    if permille == 0:
        raise RuleError("rate_zero", N_("0折 gives everything away; it cannot be a rule."))
    if permille >= 1000:
        raise too_high
    return permille


# --- parsing a rule ------------------------------------------------------------------------

# What a part cut short must be followed by.
HOW_MUCH_OFF = Term(N_("how much off"))
OFF_OR_RATE = Term(
    N_("how much off or what percentage (e.g. “满100减10”, “满200打9折”, “满50可用”)")
)
AN_AMOUNT = Term(N_("an amount"))
A_RATE = Term(N_("what percentage (几折)"))
THE_WORD_ZHE = Term(N_("the word “折”"))
UNTIL_DAY = Term(N_("until which day"))
WHICH_DAYS = Term(N_("which days (e.g. “周一至周五”)"))
A_TIME = Term(N_("a time (e.g. “10:00-14:00”)"))
UNTIL_TIME = Term(N_("until what time (e.g. “10:00-14:00”)"))


@dataclass(frozen=True, slots=True)
class _Part:
    kind: str  # "min_bill", "cap", "tier" or a benefit kind
    index: int  # 0-based start in the text
    label: str  # as typed, for messages
    value: Any


class _Parser:
    """A hand-written reader of rule text; positions count characters of the text as typed."""

    def __init__(self, text: str) -> None:
        self.raw = text
        self.text = _normalize(text)
        self.i = 0

    def parse(self) -> Rule:
        parts = []
        while True:
            self._skip(separators=True)
            if self.i >= len(self.text):
                break
            parts.append(self._part())
        if not parts:
            raise RuleError("empty", N_("Please write a rule, e.g. “8折” or “满100减10”."))
        return _assemble(parts)

    def _part(self) -> _Part:
        start = self.i
        if self._take("工作日"):
            self._take("可用")
            return self._made(start, "days", lambda: frozenset(range(5)))
        if self._take("周末", "双休日"):
            self._take("可用")
            return self._made(start, "days", lambda: frozenset({5, 6}))
        if self._take("周", "星期", "礼拜"):
            days = self._days(start)
            self._take("可用")
            return self._made(start, "days", lambda: _checked_days(days))
        if self._take("每天", "每日", "全天"):
            hours = self._hours(start)
            return self._made(start, "hours", lambda: _checked_hours(hours))
        if self._at_clock():
            hours = self._hours(start)
            return self._made(start, "hours", lambda: _checked_hours(hours))
        if self._take("每满"):
            step = self._money(start)
            self._expect("减", start, HOW_MUCH_OFF)
            off = self._money(start)
            return self._made(start, "per_step", lambda: PerStep(step, off))
        if self._take("满"):
            amount = self._money(start)
            if self._take("可用"):
                return self._made(start, "min_bill", lambda: _check_min_bill(amount))
            if self._take("减"):
                off = self._money(start)
                return self._made(start, "tier", lambda: Tier(amount, off))
            if self._take("打", "享受", "享") or self._at_number():
                rate = self._rate(start)
                return self._made(
                    start, "threshold_percent", lambda: ThresholdPercent(amount, rate)
                )
            self._fail(start, OFF_OR_RATE)
        if self._take("最高", "最多", "封顶", "上限"):
            self._take("可优惠", "减免", "立减", "可减", "优惠", "减")
            cap = self._money(start)
            self._take("封顶")
            return self._made(start, "cap", lambda: _check_cap_amount(cap))
        if self._take("无门槛"):
            self._expect(("立减", "减"), start, HOW_MUCH_OFF)
            off = self._money(start)
            return self._made(start, "flat", lambda: Flat(off))
        if self._take("立减", "直减", "减"):
            off = self._money(start)
            return self._made(start, "flat", lambda: Flat(off))
        if self._take("打") or self._at_number():
            rate = self._rate(start)
            return self._made(start, "percent", lambda: Percent(rate))
        raise RuleError(
            "unreadable", N_("Cannot read “%(text)s”."), self.i + 1, text=self._snippet()
        )

    def _days(self, start: int) -> frozenset[int]:
        """Read the days after 周: 一至五, 一至周五, 六日, 一三五 (星期 and 礼拜 as 周)."""
        days: set[int] = set()
        previous: int | None = None
        while self.i < len(self.text):
            char = self.text[self.i]
            if char in _DAY_OF:
                day = _DAY_OF[char]
                if day in days:
                    raise RuleError(
                        "day_twice", N_("周%(day)s is written twice."), self.i + 1, day=char
                    )
                days.add(day)
                previous = day
                self.i += 1
                continue
            if previous is not None and char in "至到-~":
                self.i += 1
                self._take("周", "星期", "礼拜")
                if self.i >= len(self.text) or self.text[self.i] not in _DAY_OF:
                    self._fail(start, UNTIL_DAY)
                last = _DAY_OF[self.text[self.i]]
                if last <= previous:
                    raise RuleError(
                        "days_backwards",
                        N_("Write the days in order, e.g. “周一至周五”."),
                        self.i + 1,
                    )
                days.update(range(previous, last + 1))
                previous = last
                self.i += 1
                continue
            break
        if not days:
            self._fail(start, WHICH_DAYS)
        return frozenset(days)

    def _at_clock(self) -> bool:
        self._skip()
        return re.match(r"[0-9]{1,2}(?::[0-9]{2}|点)", self.text[self.i :]) is not None

    def _clock(self, start: int) -> int:
        self._skip()
        match = re.match(r"([0-9]{1,2})(?::([0-9]{2})|点(半|[0-9]{1,2}分?)?)", self.text[self.i :])
        if match is None:
            self._fail(start, A_TIME)
        hour = int(match.group(1))
        minute_text = match.group(2) or (match.group(3) or "").rstrip("分")
        minute = 30 if minute_text == "半" else int(minute_text or 0)
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            raise RuleError(
                "bad_time", N_("Cannot read the time “%(time)s”."), self.i + 1, time=match.group(0)
            )
        self.i += match.end()
        return hour * 60 + minute

    def _hours(self, start: int) -> tuple[int, int]:
        """Read a time of day: 10:00-14:00, 10点至14点, 9点半到11点 (可用 may follow)."""
        begin = self._clock(start)
        if not self._take("-", "~", "至", "到"):
            self._fail(start, UNTIL_TIME)
        end = self._clock(start)
        self._take("可用")
        return (begin, end)

    def _made(self, start: int, kind: str, build: Callable[[], Any]) -> _Part:
        try:
            value = build()
        except RuleError as error:
            raise error.at(start + 1) from None
        return _Part(kind, start, self.raw[start : self.i].strip(), value)

    def _skip(self, separators: bool = False) -> None:
        text = self.text
        while self.i < len(text) and (
            text[self.i].isspace() or (separators and text[self.i] in _SEPARATORS)
        ):
            self.i += 1

    def _take(self, *words: str) -> str | None:
        self._skip()
        for word in words:
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return word
        return None

    def _expect(self, words: str | tuple[str, ...], start: int, what: Term) -> None:
        if not self._take(*((words,) if isinstance(words, str) else words)):
            self._fail(start, what)

    def _at_number(self) -> bool:
        self._skip()
        return self.i < len(self.text) and (
            self.text[self.i] in "0123456789" or self.text[self.i] in _CN_NUMERAL
        )

    def _at_end_of_part(self) -> bool:
        self._skip()
        return self.i >= len(self.text) or self.text[self.i] in _SEPARATORS

    def _snippet(self) -> str:
        end = self.i
        while end < len(self.text) and not (
            self.text[end].isspace() or self.text[end] in _SEPARATORS
        ):
            end += 1
        piece = self.raw[self.i : end]
        return piece if len(piece) <= 8 else piece[:8] + "…"

    def _fail(self, start: int, what: Term) -> NoReturn:
        """Refuse a part cut short: at its start if it just ends, else where it goes wrong."""
        label = self.raw[start : self.i].strip()
        self._skip()
        if label[-1:].isdigit() and re.match(r",[0-9]", self.text[self.i :]):
            raise RuleError(
                "comma_in_amount",
                N_("“%(part)s” must be followed by %(what)s; do not split amounts with commas."),
                self.i + 1,
                part=label,
                what=what,
            )
        if self._at_end_of_part():
            raise RuleError(
                "cut_short",
                N_("“%(part)s” must be followed by %(what)s."),
                start + 1,
                part=label,
                what=what,
            )
        if what == THE_WORD_ZHE and self.text.startswith("减", self.i):
            raise RuleError(
                "amount_off_without_threshold",
                N_(
                    "“%(part)s” must be followed by %(what)s; cannot read “%(text)s”. "
                    "满减 is written “满…减…”."
                ),
                self.i + 1,
                part=label,
                what=what,
                text=self._snippet(),
            )
        raise RuleError(
            "unexpected",
            N_("“%(part)s” must be followed by %(what)s; cannot read “%(text)s”."),
            self.i + 1,
            part=label,
            what=what,
            text=self._snippet(),
        )

    def _number(self) -> tuple[str, int] | None:
        """Read an Arabic or Chinese number; return (ASCII digits, 0-based index) or None."""
        self._skip()
        start = self.i
        match = _ARABIC.match(self.text, start)
        if match:
            self.i = match.end()
            return match.group(), start
        end = start
        while end < len(self.text) and self.text[end] in _CN_NUMERAL:
            end += 1
        if end == start:
            return None
        self.i = end
        try:
            return _chinese_number(self.text[start:end]), start
        except RuleError as error:
            raise error.at(start + 1) from None

    def _money(self, start: int) -> int:
        self._take("¥")
        number = self._number()
        if number is None:
            self._fail(start, AN_AMOUNT)
        digits, index = number
        problem = _amount_problem(*_split_decimal(digits))
        if problem:
            code, message, details = problem
            raise RuleError(code, message, index + 1, **details)
        self._take("块钱", "元", "块")
        return _fen(*_split_decimal(digits))

    def _rate(self, start: int) -> int:
        number = self._number()
        if number is None:
            self._fail(start, A_RATE)
        digits, index = number
        if not self._take("折"):
            self._fail(start, THE_WORD_ZHE)
        try:
            return _permille(digits)
        except RuleError as error:
            raise error.at(index + 1) from None


def _assemble(parts: list[_Part]) -> Rule:
    """Put the parts of a rule together, refusing repeats and parts that do not fit."""
    min_part: _Part | None = None
    cap_part: _Part | None = None
    once: dict[str, _Part] = {}  # min_bill, cap, days, hours: at most one of each
    first: _Part | None = None
    tiers = []
    for part in parts:
        if part.kind in ("min_bill", "cap", "days", "hours"):
            earlier = once.get(part.kind)
            if earlier is not None:
                raise RuleError(
                    "repeated",
                    N_("“%(part)s” says again what “%(earlier)s” before it said."),
                    part.index + 1,
                    part=part.label,
                    earlier=earlier.label,
                )
            once[part.kind] = part
            if part.kind == "min_bill":
                min_part = part
            elif part.kind == "cap":
                cap_part = part
            continue
        if first is not None and not first.kind == part.kind == "tier":
            raise RuleError(
                "two_benefits",
                N_(
                    "There is already “%(first)s”, so “%(part)s” cannot be added: a rule gives "
                    "one kind of discount (满减 can have several tiers)."
                ),
                part.index + 1,
                first=first.label,
                part=part.label,
            )
        first = first or part
        if part.kind == "tier":
            tiers.append(part.value)
    if first is None:
        written = "、".join(f"“{part.label}”" for part in parts)
        raise RuleError(
            "no_benefit",
            N_("There is only %(parts)s; write the discount too, e.g. “8折” or “满100减10”."),
            parts=written,
        )
    benefit = Tiers(tuple(tiers)) if first.kind == "tier" else first.value
    cap = None
    if cap_part is not None:
        cap = cap_part.value
        try:
            _check_cap(benefit, cap)
        except RuleError as error:
            raise error.at(cap_part.index + 1) from None
    return Rule(
        benefit,
        cap_fen=cap,
        min_bill_fen=min_part.value if min_part else None,
        days=once["days"].value if "days" in once else None,
        hours=once["hours"].value if "hours" in once else None,
    )


def _checked_days(days: frozenset[int]) -> frozenset[int]:
    _check_days(days)
    return days


def _checked_hours(hours: tuple[int, int]) -> tuple[int, int]:
    _check_hours(hours)
    return hours


def parse_rule(text: str) -> Rule:
    """Read a rule as a merchant writes it, e.g. 满100减10 or 8折，最高减20."""
    if not isinstance(text, str):
        raise TypeError("parse_rule reads a str")
    return _Parser(text).parse()


# --- money typed by people -----------------------------------------------------------------

_MONEY = re.compile(r"([0-9]+)(?:\.([0-9]*))?|\.([0-9]+)")


def parse_money(text: str) -> int:
    """Read an amount of yuan typed by a person ("¥12.30", "１２３", "5元") into fen."""
    if not isinstance(text, str):
        raise TypeError("parse_money reads a str")
    body = _normalize(text).strip()
    if body.startswith("¥"):
        body = body[1:].lstrip()
    for unit in ("元", "块"):
        if body.endswith(unit):
            body = body[: -len(unit)].rstrip()
            break
    if not body:
        raise MoneyError("money_empty", N_("Please enter an amount."))
    if body[0] in "-−" and _MONEY.fullmatch(body[1:].lstrip()):
        raise MoneyError("money_negative", N_("An amount cannot be negative."))
    match = _MONEY.fullmatch(body)
    if not match:
        shown = text.strip()
        raise MoneyError(
            "money_unreadable",
            N_("Cannot read the amount “%(text)s”."),
            text=shown if len(shown) <= 20 else shown[:20] + "…",
        )
    whole, fraction = (match.group(1) or "", match.group(2) or match.group(3) or "")
    problem = _amount_problem(whole, fraction)
    if problem:
        code, message, details = problem
        raise MoneyError(code, message, **details)
    return _fen(whole, fraction)


def format_money(fen: int) -> str:
    """Write fen as yuan with two decimals: 12345 -> "123.45", -100 -> "-1.00"."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("format_money writes an int of fen")
    whole, rest = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{rest:02d}"


def preview(rule: Rule, bill_fen: int) -> str:
    """Return one line for a cashier: 账单 ¥100.00 → 优惠 ¥20.00，实付 ¥80.00."""
    quote = rule.quote(bill_fen)
    return (
        f"账单 ¥{format_money(quote.bill_fen)} → 优惠 ¥{format_money(quote.discount_fen)}，"
        f"实付 ¥{format_money(quote.pay_fen)}"
    )
