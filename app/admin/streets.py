"""The district admin's pages for streets (街道): creating them, what their staff may do,
their staff logins, and which communities sit in them."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Community, Role, Street, User
from ..services import streets as service
from . import bp
from .common import district_admin_required, perform
from .forms import EmptyForm, MoveForm, StreetForm
from .merchants import FIELD_OF as LOGIN_FIELDS
from .staff_logins import add_login, logins_of, switch_login
from .tables import Column, Listing

FIELD_OF = LOGIN_FIELDS | {
    "name_required": "name",
    "name_taken": "name",
    "district_required": "district",
    "street_unknown": "community",
}


def details_of(form) -> service.StreetDetails:
    return service.StreetDetails(
        name=form.name.data or "",
        district=form.district.data or "",
        staff_may_act=bool(form.staff_may_act.data),
    )


@bp.get("/streets")
@district_admin_required
def streets():
    communities = (
        select(func.count(Community.id))
        .where(Community.street_id == Street.id)
        .correlate(Street)
        .scalar_subquery()
        .label("communities")
    )
    staff = (
        select(func.count(User.id))
        .where(User.street_id == Street.id, User.role == Role.STREET_STAFF)
        .correlate(Street)
        .scalar_subquery()
        .label("staff")
    )
    listing = Listing(
        select(Street, communities, staff),
        [
            Column("name", _l("Street"), Street.name, lambda r: r.Street.name),
            Column("district", _l("District"), Street.district, lambda r: r.Street.district),
            Column("communities", _l("Communities"), communities, lambda r: r.communities, "int"),
            Column("staff", _l("Staff"), staff, lambda r: r.staff, "int"),
            Column(
                "may_act",
                _l("Staff may act for communities"),
                Street.staff_may_act,
                lambda r: _("Yes") if r.Street.staff_may_act else _("No"),
            ),
        ],
        search=(Street.name, Street.district),
        default_sort="name",
        tiebreak=Street.id,
        scalars=False,
    )
    if listing.export_format:
        return listing.export(_("streets"))
    unplaced = db.session.scalar(
        select(func.count(Community.id)).where(Community.street_id.is_(None))
    )
    return render_template("admin/streets/list.html", listing=listing, unplaced=unplaced)


@bp.route("/streets/new", methods=["GET", "POST"])
@district_admin_required
def street_new():
    form = StreetForm()
    if request.method == "GET":
        form.district.data = "汉阳区"
    if form.validate_on_submit():
        done = perform(service.create, details_of(form), form=form, fields=FIELD_OF)
        if done:
            flash(_("%(name)s is created.", name=done.value.name), "success")
            return redirect(url_for("admin.street", street_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/streets/form.html", form=form, street=None), status


@bp.route("/streets/<int:street_id>/edit", methods=["GET", "POST"])
@district_admin_required
def street_edit(street_id):
    street = db.get_or_404(Street, street_id)
    form = StreetForm(obj=street)
    if form.validate_on_submit():
        if perform(
            service.update,
            street,
            details_of(form),
            form=form,
            fields=FIELD_OF,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.street", street_id=street.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/streets/form.html", form=form, street=street), status


def _move_form(street: Street) -> MoveForm:
    form = MoveForm(prefix="move")
    others = db.session.execute(
        select(Community.id, Community.name, Street.name.label("street"))
        .outerjoin(Street, Community.street_id == Street.id)
        .where(
            Community.district == street.district,
            (Community.street_id != street.id) | Community.street_id.is_(None),
        )
        .order_by(Community.name)
    ).all()
    form.community.choices = [
        (0, _l("— choose —")),
        *((c.id, f"{c.name}（{c.street or _('not in a street')}）") for c in others),
    ]
    return form


@bp.route("/streets/<int:street_id>", methods=["GET", "POST"])
@district_admin_required
def street(street_id):
    """A street: its communities, its staff logins; the forms add a login or move a community."""
    street = db.get_or_404(Street, street_id)
    back = url_for("admin.street", street_id=street.id)
    form, status, added = add_login(street, service.add_staff, FIELD_OF, back)
    if added:
        return added
    staff = logins_of(Role.STREET_STAFF, User.street_id, street.id)
    communities = db.session.scalars(
        select(Community).where(Community.street_id == street.id).order_by(Community.name)
    ).all()
    return render_template(
        "admin/streets/street.html",
        street=street,
        staff=staff,
        communities=communities,
        form=form,
        move_form=_move_form(street),
        empty_form=EmptyForm(formdata=None),
    ), status


@bp.post("/streets/<int:street_id>/move")
@district_admin_required
def street_move(street_id):
    """Place a community in this street (it leaves its old one)."""
    street = db.get_or_404(Street, street_id)
    form = _move_form(street)
    if form.validate_on_submit():
        community = db.session.get(Community, form.community.data or 0)
        if community is None:
            flash(_("Choose the community to move."), "error")
        else:
            perform(
                service.move_community,
                community,
                street,
                success=_(
                    "%(name)s is now in %(street)s.", name=community.name, street=street.name
                ),
            )
    return redirect(url_for("admin.street", street_id=street.id))


@bp.post("/streets/<int:street_id>/staff/<int:user_id>/<any(enable, disable):action>")
@district_admin_required
def street_staff_active(street_id, user_id, action):
    street = db.get_or_404(Street, street_id)
    back = url_for("admin.street", street_id=street.id)
    return switch_login(street, user_id, action, service.set_staff_active, back)
