"""The shop's room (/m): scan a card, quote, redeem, today's takings. Phone-first."""

from flask import Blueprint

bp = Blueprint("merchant", __name__)

from . import routes  # noqa: E402, F401
