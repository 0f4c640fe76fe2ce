"""The interface language: Chinese by default, English when the visitor chose it."""

from flask import current_app, has_request_context, request
from flask_babel import gettext

from .rules import fill

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():  # the CLI speaks Chinese
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def message(error) -> str:
    """Return a refusal (a service's `DomainError`, the rule engine's `RuleError` or
    `MoneyError`) in the visitor's language: its details filled in, and where it is when the
    error has a position."""
    position = getattr(error, "position", None)
    if position is None:
        position = error.details.get("position")
    return fill(error.message, error.details, position, gettext)
