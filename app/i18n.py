"""The interface language: Chinese by default, English when the visitor chose it."""

from flask import current_app, has_request_context, request
from flask_babel import gettext

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():  # the CLI speaks Chinese
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def message(error) -> str:
    """Return a service's refusal in the visitor's language, with its details filled in."""
    return gettext(error.message, **error.details)
