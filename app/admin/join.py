"""/join: a shop applies to take the community's cards; staff decide in /admin/merchants."""

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..extensions import limiter
from ..inputs import optional_id
from ..services import merchants as service
from . import public
from .common import community_choices, perform_public
from .forms import JoinForm
from .merchants import FIELD_OF, details_of

JOIN_FIELDS = FIELD_OF | {"applicant_required": "applicant", "phone_required": "phone"}


def _join_limit() -> str:
    return current_app.config.get("JOIN_RATE_LIMIT", "10 per hour")


@public.route("/join", methods=["GET", "POST"])
@limiter.limit(_join_limit, methods=["POST"])
def join():
    """The public application form for shops."""
    form = JoinForm()
    form.community.choices = [(0, _l("— choose —")), *community_choices()]
    form.set_categories()
    if request.method == "GET" and optional_id(request.args.get("community")):
        form.community.data = optional_id(request.args.get("community"))
    if form.validate_on_submit():
        if form.website.data:  # only a robot fills the hidden field
            return redirect(url_for("join.done"))
        done = perform_public(
            service.apply_to_join,
            form.community.data or None,
            details_of(form),
            form.applicant.data or "",
            form=form,
            fields=JOIN_FIELDS,
        )
        if done:
            return redirect(url_for("join.done"))
    status = 422 if request.method == "POST" else 200
    return render_template("join/form.html", form=form), status


@public.get("/join/done")
def done():
    return render_template("join/done.html")
