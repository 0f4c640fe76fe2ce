"""The JSON API for shop tills (/api/v1): quote, redeem, void, list. Authenticated by API key."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import routes  # noqa: E402, F401
