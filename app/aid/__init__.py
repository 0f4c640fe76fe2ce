"""The help board (/aid): residents ask for and offer help, and exchange the points they earn."""

from flask import Blueprint

bp = Blueprint("aid", __name__)

from . import routes  # noqa: E402, F401
