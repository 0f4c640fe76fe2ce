"""The resident's card (/c/<token>), card lookup, and community pages. No account needed."""

from flask import Blueprint

bp = Blueprint("resident", __name__)

from . import routes  # noqa: E402, F401
