"""The community office's room (/admin): merchants, campaigns, cards, data, audit.

`public` is the one page of this area that needs no login: /join, where a shop applies.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__)
public = Blueprint("join", __name__)

from . import routes  # noqa: E402, F401
from .common import street_staff_read_only  # noqa: E402

bp.before_request(street_staff_read_only)
