"""Error pages in the visitor's language; JSON errors under /api/."""

import logging
import math
import time
from datetime import UTC, datetime

from flask import jsonify, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from .clock import local_today, to_local
from .extensions import db, limiter

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    403: _l("No access"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}
EXPLANATIONS = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("Your account may not open this page."),
    404: _l("There is nothing at this address. Check the link or go back to the start."),
    405: _l("This page cannot be used this way."),
    413: _l("What you sent is too large. Files may be at most 4 MB."),
    429: _l("Too many attempts in a short time. Please wait a minute and try again."),
    500: _l("An error occurred on our side. It has been recorded; please try again."),
    503: _l("The service is busy or being maintained. Please try again in a moment."),
}
KEPT_HEADERS = {"Allow", "Retry-After", "WWW-Authenticate"}
CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def render_error(status: int, message=None):
    message = message or EXPLANATIONS.get(status, "")
    if request.path.startswith("/api/"):
        return jsonify(error=CODES.get(status, "error"), message=str(message)), status
    title = TITLES.get(status, TITLES[500])
    return render_template("error.html", status=status, title=title, message=message), status


def wait_message() -> str:
    """Say how long a visitor refused by a rate limit must wait: the limit's real reset time."""
    breached = limiter.current_limit
    if breached is None:
        return str(EXPLANATIONS[429])
    seconds = breached.reset_at - time.time()
    if seconds <= 90:
        return str(EXPLANATIONS[429])
    if seconds < 60 * 60:
        return _(
            "Too many attempts in a short time. Please try again in %(minutes)s minutes.",
            minutes=math.ceil(seconds / 60),
        )
    at = datetime.fromtimestamp(breached.reset_at, UTC)
    shown = format_datetime(at, "HH:mm")
    if to_local(at).date() == local_today():
        return _("Too many attempts in a short time. Please try again after %(time)s.", time=shown)
    return _("Too many attempts today. Please try again tomorrow after %(time)s.", time=shown)


def init_app(app):
    @app.errorhandler(HTTPException)
    def http_error(error):
        status = error.code or 500
        if status not in TITLES:
            return error
        body, status = render_error(status, wait_message() if status == 429 else None)
        response = app.make_response((body, status))
        # What the exception says about the refusal stays: Allow on a 405, Retry-After on a 429.
        for name, value in error.get_headers():
            if name in KEPT_HEADERS:
                response.headers[name] = value
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _l("The form has expired. Please reload the page and try again."))

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        # The database went away (restart, failover): fail this request cleanly; the pool has
        # dropped the connections older than this one, and the next request connects afresh.
        log.warning("database unavailable: %s", error.orig)
        db.session.rollback()
        return render_error(ServiceUnavailable.code)

    @app.errorhandler(DataError)
    def data_error(error):
        # Input the database cannot hold (a NUL byte, a number out of range, text too long for
        # its column on PostgreSQL) reached it past the checks: a bad request, not a crash.
        log.warning("refused data the database cannot hold: %s", error.orig)
        db.session.rollback()
        return render_error(400)

    @app.errorhandler(DBAPIError)
    def database_error(error):
        if error.connection_invalidated:
            db.session.rollback()
            return render_error(ServiceUnavailable.code)
        raise error

    @app.errorhandler(InternalServerError)
    def server_error(error):
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        try:
            db.session.rollback()
        # The page must render even if the database is gone.
        except Exception:  # noqa: S110  # nosec B110
            pass
        return render_error(500)
