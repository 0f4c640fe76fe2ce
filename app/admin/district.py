"""The district admin's pages: communities and their staff logins."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Campaign, Community, Merchant, Role, Street, User
from ..services import communities as service
from . import bp
from .common import district_admin_required, perform
from .forms import CommunityForm, EmptyForm
from .merchants import FIELD_OF as LOGIN_FIELDS
from .staff_logins import add_login, logins_of, switch_login
from .tables import Column, Listing

FIELD_OF = LOGIN_FIELDS | {
    "name_required": "name",
    "name_taken": "name",
    "slug_format": "slug",
    "slug_taken": "slug",
    "street_required": "street",
    "street_unknown": "street",
    "district_required": "district",
    "size_range": "households",
    "phone_format": "phone",
}


def details_of(form) -> service.CommunityDetails:
    return service.CommunityDetails(
        name=form.name.data or "",
        slug=form.slug.data or "",
        street_id=form.street.data or None,
        district=form.district.data or "",
        households=form.households.data,
        residents=form.residents.data,
        phone=form.phone.data or "",
    )


def community_form(obj=None) -> CommunityForm:
    form = CommunityForm(obj=obj)
    streets = db.session.execute(
        select(Street.id, Street.name, Street.district).order_by(Street.district, Street.name)
    ).all()
    form.street.choices = [
        (0, _l("— choose —")),
        *((s.id, f"{s.name}（{s.district}）") for s in streets),
    ]
    if obj is not None and request.method == "GET":
        form.street.data = obj.street_id
    return form


def _count(model):
    return (
        select(func.count(model.id))
        .where(model.community_id == Community.id)
        .correlate(Community)
        .scalar_subquery()
    )


@bp.get("/communities")
@district_admin_required
def communities():
    merchants = _count(Merchant).label("merchants")
    campaigns = _count(Campaign).label("campaigns")
    staff = (
        select(func.count(User.id))
        .where(User.community_id == Community.id, User.role == Role.STAFF)
        .correlate(Community)
        .scalar_subquery()
        .label("staff")
    )
    listing = Listing(
        select(Community, merchants, campaigns, staff).outerjoin(Street),
        [
            Column("name", _l("Community"), Community.name, lambda r: r.Community.name),
            Column("street", _l("Street"), Street.name, lambda r: r.Community.street_name),
            Column("district", _l("District"), Community.district, lambda r: r.Community.district),
            Column("merchants", _l("Shops"), merchants, lambda r: r.merchants, "int"),
            Column("campaigns", _l("Campaigns"), campaigns, lambda r: r.campaigns, "int"),
            Column("staff", _l("Staff"), staff, lambda r: r.staff, "int"),
            Column(
                "archived",
                _l("Archived"),
                Community.archived_at,
                lambda r: _("Yes") if r.Community.archived_at else _("No"),
            ),
        ],
        search=(Community.name, Street.name, Community.slug),
        default_sort="name",
        tiebreak=Community.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("communities"))
    return render_template("admin/district/communities.html", listing=listing)


@bp.route("/communities/new", methods=["GET", "POST"])
@district_admin_required
def community_new():
    form = community_form()
    if request.method == "GET":
        form.district.data = "汉阳区"
    if form.validate_on_submit():
        done = perform(service.create, details_of(form), form=form, fields=FIELD_OF)
        if done:
            flash(
                _("%(name)s is created. Add its staff logins next.", name=done.value.name),
                "success",
            )
            return redirect(url_for("admin.community", community_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/district/community_form.html", form=form, community=None), status


@bp.route("/communities/<int:community_id>/edit", methods=["GET", "POST"])
@district_admin_required
def community_edit(community_id):
    community = db.get_or_404(Community, community_id)
    form = community_form(community)
    if form.validate_on_submit():
        if perform(
            service.update,
            community,
            details_of(form),
            form=form,
            fields=FIELD_OF,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.community", community_id=community.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/district/community_form.html", form=form, community=community
    ), status


@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@district_admin_required
def community(community_id):
    """A community and its staff logins; the form adds one."""
    community = db.get_or_404(Community, community_id)
    back = url_for("admin.community", community_id=community.id)
    form, status, added = add_login(community, service.add_staff, FIELD_OF, back)
    if added:
        return added
    return render_template(
        "admin/district/community.html",
        community=community,
        staff=logins_of(Role.STAFF, User.community_id, community.id),
        form=form,
        empty_form=EmptyForm(formdata=None),
    ), status


@bp.post("/communities/<int:community_id>/<any(archive, restore):action>")
@district_admin_required
def community_archive(community_id, action):
    """Archive a community (hidden from the public, data kept) or bring it back."""
    community = db.get_or_404(Community, community_id)
    if EmptyForm().validate_on_submit():
        if action == "archive":
            done_text = _(
                "%(name)s is archived: hidden from the home page, sign-up lists and its public "
                "page. Its data stays; you can bring it back.",
                name=community.name,
            )
            perform(service.archive, community, success=done_text)
        else:
            done_text = _("%(name)s is back where the public sees it.", name=community.name)
            perform(service.restore, community, success=done_text)
    return redirect(url_for("admin.community", community_id=community.id))


@bp.post("/communities/<int:community_id>/staff/<int:user_id>/<any(enable, disable):action>")
@district_admin_required
def staff_active(community_id, user_id, action):
    community = db.get_or_404(Community, community_id)
    back = url_for("admin.community", community_id=community.id)
    return switch_login(community, user_id, action, service.set_staff_active, back)
