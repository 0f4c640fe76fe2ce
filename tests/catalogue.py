"""How a refusal of the rule engine reads to a person in Chinese, without Flask.

The engine's errors carry English msgids; the pages show them through `app.i18n.message`.
Tests of the engine read them the same way, through the compiled catalogue.
"""

from functools import cache

from babel.support import Translations

from app.rules import fill

from .conftest import ROOT, compile_catalogue


@cache
def translations() -> Translations:
    compile_catalogue()
    return Translations.load(str(ROOT / "app" / "translations"), ["zh_Hans_CN"])


def chinese(error) -> str:
    """A refusal (the engine's, or a domain error passing it on) as the Chinese interface shows
    it, with where it is."""
    position = getattr(error, "position", None) or error.details.get("position")
    return fill(error.message, error.details, position, translations().gettext)
