"""Volunteers on their phones (/v, and /V/<token> that an activity's QR carries)."""

from flask import Blueprint

bp = Blueprint("volunteer", __name__)

from . import routes  # noqa: E402, F401
