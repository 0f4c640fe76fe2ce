"""The structured rule editor: a rule as form fields and back, through the rule engine's text.

The office's rule form has a text box (``满100减10，满200减30``) and beside it an editor with a
kind, a rate, amounts and tiers. Both say the same rule: `fields_of` fills the editor from a
rule, `rule_from_fields` builds the rule from the editor by writing its canonical text and
reading it with `rules.parse_rule`, so the editor can express nothing the engine would refuse
and every refusal reads as the engine's. Amounts are yuan as people type them (``100``,
``99.5``); rates are 折 (``8.5``).
"""

from collections.abc import Mapping

from ..rules import (
    CAP,
    FLAT_OFF,
    MIN_BILL,
    N_,
    OFF_PER_STEP,
    STEP,
    MoneyError,
    Rule,
    RuleError,
    Term,
    format_money,
    parse_money,
    parse_rule,
)

KINDS = ("percent", "tiers", "per_step", "flat", "threshold_percent")
# The editor's own fields (the others are named as the rule engine names them).
THRESHOLD = Term(N_("The bill it starts at"))
TIER_BILL = Term(N_("The bill of tier %(tier)s"))
TIER_OFF = Term(N_("The amount off of tier %(tier)s"))
TIER_ROWS = 4  # the editor shows this many 满减 tiers
EDITOR_FIELDS = (
    "kind",
    "rate",
    *(f"tier{n}_{part}" for n in range(1, TIER_ROWS + 1) for part in ("threshold", "off")),
    "step",
    "step_off",
    "off",
    "threshold",
    "cap",
    "min_bill",
    "when",  # days and hours of use, as text: 周一至周五可用，每天10:00-14:00
)
MAX_WHEN = 60


def yuan(fen: int) -> str:
    """Write fen as yuan without trailing zeros: 10000 gives 100, 9950 gives 99.5."""
    text = format_money(fen)
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate_text(pay_permille: int) -> str:
    """Write a rate as 折: 800 gives 8, 850 gives 8.5, 888 gives 8.88."""
    return yuan(pay_permille)


def fields_of(rule: Rule | None) -> dict[str, str]:
    """Return the editor's fields for `rule` (all empty but the kind when there is none)."""
    fields = dict.fromkeys(EDITOR_FIELDS, "")
    fields["kind"] = "percent"
    if rule is None:
        return fields
    data = rule.to_dict()
    kind = data["kind"]
    fields["kind"] = kind
    if kind in ("percent", "threshold_percent"):
        fields["rate"] = rate_text(data["pay_permille"])
    if kind == "threshold_percent":
        fields["threshold"] = yuan(data["threshold_fen"])
    if kind == "tiers":
        for n, tier in enumerate(data["tiers"][:TIER_ROWS], start=1):
            fields[f"tier{n}_threshold"] = yuan(tier["threshold_fen"])
            fields[f"tier{n}_off"] = yuan(tier["off_fen"])
    if kind == "per_step":
        fields["step"] = yuan(data["step_fen"])
        fields["step_off"] = yuan(data["off_fen"])
    if kind == "flat":
        fields["off"] = yuan(data["off_fen"])
    if data["cap_fen"] is not None:
        fields["cap"] = yuan(data["cap_fen"])
    if data["min_bill_fen"] is not None:
        fields["min_bill"] = yuan(data["min_bill_fen"])
    fields["when"] = "，".join(
        part for part in rule.render().split("，") if part.startswith(("周", "每天"))
    )
    return fields


def rule_from_fields(fields: Mapping[str, str]) -> Rule:
    """Return the rule the editor's fields describe, or raise RuleError saying what is wrong."""
    kind = (fields.get("kind") or "").strip()
    if kind not in KINDS:
        raise RuleError("kind_required", N_("Please choose a kind of discount."))
    parts = []
    min_bill = _amount(fields, "min_bill", MIN_BILL, required=False)
    if min_bill:
        parts.append(f"满{min_bill}可用")
    if kind == "percent":
        parts.append(f"{_rate(fields)}折")
    elif kind == "threshold_percent":
        parts.append(f"满{_amount(fields, 'threshold', THRESHOLD)}打{_rate(fields)}折")
    elif kind == "tiers":
        tiers = []
        for n in range(1, TIER_ROWS + 1):
            threshold = _amount(fields, f"tier{n}_threshold", TIER_BILL, required=False, tier=n)
            off = _amount(fields, f"tier{n}_off", TIER_OFF, required=False, tier=n)
            if bool(threshold) != bool(off):
                raise RuleError(
                    "tier_half_written",
                    N_("Tier %(tier)s of 满减 needs both the bill and the amount off."),
                    tier=n,
                )
            if threshold:
                tiers.append(f"满{threshold}减{off}")
        if not tiers:
            raise RuleError("no_tiers", N_("满减 needs at least one tier, e.g. 满100减10."))
        parts.extend(tiers)
    elif kind == "per_step":
        step = _amount(fields, "step", STEP)
        parts.append(f"每满{step}减{_amount(fields, 'step_off', OFF_PER_STEP)}")
    else:
        parts.append(f"立减{_amount(fields, 'off', FLAT_OFF)}")
    cap = _amount(fields, "cap", CAP, required=False)
    if cap:
        parts.append(f"最高减{cap}")
    when = (fields.get("when") or "").strip()
    if len(when) > MAX_WHEN:
        raise RuleError(
            "when_too_long",
            N_("The days and hours of use are too long; e.g. “周一至周五可用，每天10:00-14:00”."),
        )
    if when:
        parts.append(when)
    try:
        return parse_rule("，".join(parts))
    except RuleError as error:
        raise error.unplaced() from None  # a position in text nobody typed means nothing


def _amount(
    fields: Mapping[str, str], key: str, what: Term, required: bool = True, tier: int = 0
) -> str:
    """Read one amount field; a refusal names the field (and the tier of 满减 it is in)."""
    place = {"what": what} if not tier else {"what": what, "tier": tier}
    text = (fields.get(key) or "").strip()
    if not text:
        if required:
            raise RuleError("amount_required", N_("Please fill in: %(what)s."), **place)
        return ""
    try:
        fen = parse_money(text)
    except MoneyError as error:
        raise RuleError(
            error.code,
            N_("%(what)s: %(reason)s"),
            **error.details,
            **place,
            reason=Term(error.message),
        ) from None
    if fen <= 0:
        raise RuleError("amount_not_positive", N_("%(what)s must be more than 0."), **place)
    return yuan(fen)


def _rate(fields: Mapping[str, str]) -> str:
    text = (fields.get("rate") or "").strip().removesuffix("折")
    if not text:
        raise RuleError("rate_required", N_("Please fill in the percentage, e.g. 8 or 8.5."))
    try:
        rule = parse_rule(f"{text}折")
    except RuleError as error:
        raise error.unplaced() from None
    return rate_text(rule.to_dict()["pay_permille"])


def sample_bills(rule: Rule, typed: int | None = None) -> list[int]:
    """Return a few bills (fen) that show what a rule does: around its thresholds and cap."""
    data = rule.to_dict()
    bills = {5000, 10000, 20000}
    if typed:
        bills.add(typed)
    thresholds = [t["threshold_fen"] for t in data.get("tiers", [])]
    for key in ("threshold_fen", "step_fen", "min_bill_fen"):
        if data.get(key):
            thresholds.append(data[key])
    for threshold in thresholds[:3]:
        bills.update({threshold - 1, threshold} if threshold > 1 else {threshold})
    if data.get("step_fen"):
        bills.add(data["step_fen"] * 2 + data["step_fen"] // 2)
    if data.get("cap_fen") and data.get("pay_permille"):
        # the smallest bill the cap holds back, and one well above it
        reach = data["cap_fen"] * 1000 // (1000 - data["pay_permille"]) + 1
        bills.update({reach, reach * 2})
    return sorted(b for b in bills if 0 < b <= 100_000_000)[:6]
