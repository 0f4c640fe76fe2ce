"""The community office's room (/admin): merchants, campaigns, cards, data, audit."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import routes  # noqa: E402, F401
