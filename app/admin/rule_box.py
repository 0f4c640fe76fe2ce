"""The rule box on campaign and offer forms: the text, a preview, and the structured editor.

Text is what is saved. The editor beside it is a way to write the text: its button (or, with
JavaScript, any change in it) renders its rule into the text box; a change in the text box
fills the editor. Without JavaScript the form's "preview" and "use these settings" buttons
post the form, which is shown again with the result instead of being saved.
"""

from dataclasses import dataclass, field

from flask import jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import message
from ..rules import RULE_EXAMPLES, MoneyError, Rule, RuleError, parse_money, parse_rule, preview
from ..services.rule_editor import EDITOR_FIELDS, TIER_ROWS, fields_of, rule_from_fields
from ..services.rule_editor import sample_bills as _sample_bills
from . import bp
from .common import staff_required

EDITOR_PREFIX = "editor-"
KIND_LABELS = {
    "percent": _l("Percentage off (e.g. 8折)"),
    "tiers": _l("Amount off above a bill (e.g. 满100减10; several tiers)"),
    "per_step": _l("Amount off for every full amount (e.g. 每满100减10)"),
    "flat": _l("Amount off any bill (e.g. 立减5元)"),
    "threshold_percent": _l("Percentage off above a bill (e.g. 满200打9折)"),
}


@dataclass
class RuleBox:
    """What the rule box shows: the editor's fields, the preview, and any problem."""

    editor: dict[str, str]
    explain: str = ""
    lines: list[str] = field(default_factory=list)
    error: str = ""
    editor_error: str = ""
    handled: bool = False  # the post was the box's own button, not a save

    kinds = KIND_LABELS
    examples = RULE_EXAMPLES
    tier_rows = range(1, TIER_ROWS + 1)
    prefix = EDITOR_PREFIX


def _typed_bill() -> int | None:
    text = (request.values.get("rule_bill") or "").strip()
    if not text:
        return None
    try:
        bill = parse_money(text)
    except MoneyError:
        return None
    return bill or None


def _show(box: RuleBox, rule: Rule | None) -> RuleBox:
    if rule is not None:
        box.explain = rule.explain()
        box.lines = [preview(rule, bill) for bill in _sample_bills(rule, _typed_bill())]
    return box


def rule_box(text_field, fallback: Rule | None = None) -> RuleBox:
    """Return the rule box for a form's rule field, handling its own buttons on a post.

    `fallback` is the rule shown in the preview when the text is blank (an offer without a
    rule of its own uses the campaign's).
    """
    action = request.form.get("rule_action") if request.method == "POST" else None
    if action == "editor":
        posted = {key: request.form.get(EDITOR_PREFIX + key, "") for key in EDITOR_FIELDS}
        box = RuleBox(editor=posted, handled=True)
        try:
            rule = rule_from_fields(posted)
        except RuleError as error:
            box.editor_error = message(error)
            return box
        text_field.data = rule.render()
        text_field.raw_data = [text_field.data]
        return _show(box, rule)
    text = (text_field.data or "").strip()
    box = RuleBox(editor=fields_of(fallback), handled=action == "preview")
    if not text:
        return _show(box, fallback)
    try:
        rule = parse_rule(text)
    except RuleError as error:
        box.error = message(error)
        if request.method == "POST":
            box.editor = {key: request.form.get(EDITOR_PREFIX + key, "") for key in EDITOR_FIELDS}
        return box
    box.editor = fields_of(rule)
    return _show(box, rule)


@bp.get("/rules/preview")
@staff_required
def rule_preview():
    """Read a rule from its text (``text``) or from editor fields; say what it does (JSON)."""
    try:
        if "text" in request.args:
            text = request.args.get("text", "").strip()
            if not text:
                return jsonify(ok=False, error=_("Write a rule, e.g. 8折 or 满100减10."))
            rule = parse_rule(text)
        else:
            rule = rule_from_fields(
                {key: request.args.get(EDITOR_PREFIX + key, "") for key in EDITOR_FIELDS}
            )
    except RuleError as error:
        return jsonify(ok=False, error=message(error), code=error.code, position=error.position)
    return jsonify(
        ok=True,
        text=rule.render(),
        explain=rule.explain(),
        fields=fields_of(rule),
        lines=[preview(rule, bill) for bill in _sample_bills(rule, _typed_bill())],
        rule=rule.to_dict(),
    )
