from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db
from ..i18n import LANGUAGE_COOKIE
from ..inputs import local_path
from ..models import Role
from ..services.communities import public_communities
from . import bp


@bp.get("/")
def index():
    """The start page: send people who are signed in to their own room."""
    if current_user.is_authenticated and (current_user.is_staff or current_user.is_merchant):
        return redirect(home_for(current_user))
    communities = db.session.scalars(public_communities()).all()
    return render_template("main/index.html", communities=communities)


def home_for(user) -> str:
    """Return the URL where `user` starts their work."""
    if user.role in (Role.DISTRICT_ADMIN, Role.STAFF, Role.STREET_STAFF):
        return url_for("admin.index")
    if user.role in (Role.MERCHANT_OWNER, Role.CASHIER):
        return url_for("merchant.index")
    if user.role == Role.RESIDENT:
        # a 下沉 cadre volunteers here but lives elsewhere: no household, no help board of theirs
        return url_for("aid.board") if user.household else url_for("volunteer.board")
    return url_for("main.index")


@bp.get("/lang/<code>")
def set_language(code):
    """Switch the interface language and go back to where the visitor was."""
    response = redirect_back()
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE, code, max_age=60 * 60 * 24 * 365, httponly=True, samesite="Lax"
        )
    return response


def redirect_back(default: str | None = None):
    """Redirect to the page named in `?next=` if it is a path on this site, else to `default`.

    The one way a visitor's target becomes a redirect: `inputs.local_path` normalises it as
    browsers and Werkzeug do (tabs and line breaks dropped, backslashes) before checking it.
    """
    target = local_path(request.args.get("next"))
    return redirect(target or default or url_for("main.index"))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; give them the SVG icon."""
    return redirect(url_for("static", filename="icons/icon.svg"), code=301)


@bp.get("/healthz")
def healthz():
    """Answer the reverse proxy: 200 when the database answers, 503 when it does not."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
