"""Shops: the list, registering, applications, suspending, logins, importing a sheet."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import get_or_404, scope
from ..extensions import db
from ..models import (
    AuditLog,
    Campaign,
    CampaignStatus,
    Community,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Role,
    User,
)
from ..services import merchants as service
from ..services.exports import ExportColumn
from ..services.logins import Login
from ..services.sheets import SheetError, read_sheet
from . import bp
from .common import (
    community_choices,
    message,
    own_community_id,
    perform,
    sees_many,
    staff_required,
)
from .forms import (
    ApproveForm,
    EmptyForm,
    MerchantForm,
    NewMerchantForm,
    PasswordResetForm,
    ReasonForm,
    ShopLoginForm,
    UploadForm,
)
from .labels import choices, label
from .tables import Column, Listing, by_id, community_column, equals, export_response, one_of

# the name of a form field, not a password
PASSWORD_FIELD = "owner_password"  # noqa: S105  # nosec B105

# Which form field a refusal belongs beside; others are shown at the top of the page.
FIELD_OF = {
    "name_required": "name",
    "name_too_long": "name",
    "name_taken": "name",
    "category_required": "category",
    "category_too_long": "category",
    "address_too_long": "address",
    "hours_too_long": "hours",
    "phone_format": "phone",
    "community_required": "community",
    "owner_name_required": "owner_name",
    "login_required": "owner_login",
    "login_format": "owner_login",
    "login_taken": "owner_login",
    "weak_password": PASSWORD_FIELD,
}


def details_of(form) -> service.MerchantDetails:
    return service.MerchantDetails(
        name=form.name.data or "",
        category=form.category.data or "",
        address=form.address.data or "",
        phone=form.phone.data or "",
        hours=form.hours.data or "",
        note=form.note.data or "",
    )


def login_of(form) -> Login | None:
    """Return the login the form asks for, or None when its login fields are all blank."""
    if not (form.owner_login.data or form.owner_password.data):
        return None
    return Login(form.owner_name.data, form.owner_login.data, form.owner_password.data)


# --- the list -------------------------------------------------------------------------------


def merchant_columns() -> list[Column]:
    columns = [
        Column("name", _l("Shop"), Merchant.name, lambda m: m.name),
        Column("category", _l("Category"), Merchant.category, lambda m: m.category),
        Column("status", _l("Status"), Merchant.status, lambda m: label(m.status)),
        Column("phone", _l("Phone"), None, lambda m: m.phone),
        Column("address", _l("Address"), Merchant.address, lambda m: m.address),
        Column("hours", _l("Opening hours"), None, lambda m: m.hours),
        Column(
            "created", _l("Registered"), Merchant.created_at, lambda m: m.created_at, "datetime"
        ),
    ]
    return community_column(columns, lambda m: m.community.name)


@bp.get("/merchants")
@staff_required
def merchants():
    """Every shop of the community, searchable, sortable, by status and category."""
    stmt = scope(select(Merchant), Merchant).join(Community)
    listing = Listing(
        stmt,
        merchant_columns(),
        filters=(
            one_of("status", Merchant.status, MerchantStatus),
            equals("category", Merchant.category),
            *((by_id("community", Merchant.community_id),) if sees_many() else ()),
        ),
        search=(Merchant.name, Merchant.address, Merchant.phone, Merchant.category),
        default_sort="name",
        tiebreak=Merchant.id,
    )
    if listing.export_format:
        return listing.export(_("shops"))
    categories = [
        (c, c)
        for c in db.session.scalars(
            scope(select(Merchant.category).distinct(), Merchant).order_by(Merchant.category)
        )
    ]
    return render_template(
        "admin/merchants/list.html",
        listing=listing,
        # the notice-board poster of one's own community (the district admin's: on its page)
        poster_community_id=current_user.community_id,
        statuses=choices(MerchantStatus),
        categories=categories,
        communities=community_choices() if sees_many() else [],
        pending=db.session.scalar(
            scope(select(func.count(Merchant.id)), Merchant).where(
                Merchant.status == MerchantStatus.PENDING
            )
        ),
    )


# --- registering and changing ---------------------------------------------------------------


@bp.route("/merchants/new", methods=["GET", "POST"])
@staff_required
def merchant_new():
    form = NewMerchantForm()
    form.set_communities(community_choices(), sees_many())
    form.set_categories(request.form.get("category", ""))
    if form.validate_on_submit():
        community_id = own_community_id(form.community.data if sees_many() else None)
        done = perform(
            service.register,
            community_id,
            details_of(form),
            login_of(form),
            form=form,
            fields=FIELD_OF,
        )
        if done:
            merchant = done.value
            flash(
                ready_message(merchant, _("%(name)s is registered.", name=merchant.name)), "success"
            )
            return redirect(url_for("admin.merchant", merchant_id=merchant.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/merchants/new.html", form=form), status


@bp.route("/merchants/<int:merchant_id>/edit", methods=["GET", "POST"])
@staff_required
def merchant_edit(merchant_id):
    merchant = get_or_404(Merchant, merchant_id)
    form = MerchantForm(obj=merchant)
    del form.community
    form.set_categories(merchant.category)
    if form.validate_on_submit():
        if perform(
            service.update,
            merchant,
            details_of(form),
            form=form,
            fields=FIELD_OF,
            success=_("Saved."),
        ):
            return redirect(url_for("admin.merchant", merchant_id=merchant.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/merchants/edit.html", form=form, merchant=merchant), status


@bp.get("/merchants/<int:merchant_id>")
@staff_required
def merchant(merchant_id):
    return show_merchant(get_or_404(Merchant, merchant_id))


def show_merchant(merchant, status=200, **forms):
    """The shop's page, with the forms for what can be done to it next."""
    forms.setdefault("approve_form", ApproveForm(formdata=None))
    forms.setdefault("reason_form", ReasonForm(formdata=None))
    forms.setdefault("login_form", ShopLoginForm(formdata=None))
    if not forms["approve_form"].owner_name.data:
        forms["approve_form"].owner_name.data = _applicant(merchant)
    if not forms["approve_form"].owner_login.data and merchant.status == MerchantStatus.PENDING:
        forms["approve_form"].owner_login.data = merchant.phone
    offers = db.session.execute(
        select(Offer, Campaign)
        .join(Campaign, Offer.campaign_id == Campaign.id)
        .where(Offer.merchant_id == merchant.id)
        .order_by(Campaign.valid_from.desc())
    ).all()
    history = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "merchant", AuditLog.object_id == merchant.id)
        .order_by(AuditLog.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/merchants/detail.html",
        merchant=merchant,
        logins=service.merchant_logins(db.session, merchant),
        offers=offers,
        history=history,
        empty_form=EmptyForm(formdata=None),
        password_form=PasswordResetForm(formdata=None),
        **forms,
    ), status


def ready_message(merchant, done: str) -> str:
    """Say what a shop registered or approved can do now: take cards only in a campaign."""
    campaigns = db.session.scalar(
        select(func.count(Offer.id))
        .join(Campaign, Offer.campaign_id == Campaign.id)
        .where(
            Offer.merchant_id == merchant.id,
            Offer.status == OfferStatus.ACTIVE,
            Campaign.status.in_((CampaignStatus.ACTIVE, CampaignStatus.PAUSED)),
        )
    )
    if campaigns:
        return done + _("It can take cards now.")
    return done + _("It is in no campaign yet: add it to one so it can take cards.")


def _applicant(merchant) -> str:
    first_line = (merchant.note or "").split("\n", 1)[0]
    if first_line.startswith("申请人："):
        return first_line[len("申请人：") :].strip()
    return ""


@bp.post("/merchants/<int:merchant_id>/approve")
@staff_required
def merchant_approve(merchant_id):
    merchant = get_or_404(Merchant, merchant_id)
    form = ApproveForm()
    if form.validate_on_submit():
        if perform(service.approve, merchant, login_of(form), form=form, fields=FIELD_OF):
            flash(
                ready_message(merchant, _("%(name)s is approved.", name=merchant.name)), "success"
            )
            return redirect(url_for("admin.merchant", merchant_id=merchant.id))
    return show_merchant(merchant, 422, approve_form=form)


STATUS_ACTIONS = {
    "refuse": (service.refuse, _l("The application is refused.")),
    "suspend": (service.suspend, _l("The shop is suspended; its cards are refused there.")),
    "reactivate": (service.reactivate, _l("The shop takes cards again.")),
}


@bp.post("/merchants/<int:merchant_id>/<any(refuse, suspend, reactivate):action>")
@staff_required
def merchant_status(merchant_id, action):
    merchant = get_or_404(Merchant, merchant_id)
    form = ReasonForm()
    function, done = STATUS_ACTIONS[action]
    if form.validate_on_submit():
        if perform(
            function, merchant, form.reason.data, form=form, fields={"reason_required": "reason"}
        ):
            flash(str(done), "success")
            return redirect(url_for("admin.merchant", merchant_id=merchant.id))
    return show_merchant(merchant, 422, reason_form=form)


# --- logins ---------------------------------------------------------------------------------


@bp.post("/merchants/<int:merchant_id>/logins")
@staff_required
def merchant_login_new(merchant_id):
    merchant = get_or_404(Merchant, merchant_id)
    form = ShopLoginForm()
    if form.validate_on_submit():
        done = perform(
            service.add_login,
            merchant,
            Role(form.role.data),
            Login(form.owner_name.data, form.owner_login.data, form.owner_password.data),
            form=form,
            fields=FIELD_OF,
        )
        if done:
            flash(_("Login %(login)s is ready.", login=done.value.login_name), "success")
            return redirect(url_for("admin.merchant", merchant_id=merchant.id) + "#logins")
    return show_merchant(merchant, 422, login_form=form)


def _shop_login(merchant, user_id) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.merchant_id != merchant.id:
        abort(404)
    return user


@bp.post("/merchants/<int:merchant_id>/logins/<int:user_id>/<any(enable, disable):action>")
@staff_required
def merchant_login_active(merchant_id, user_id, action):
    merchant = get_or_404(Merchant, merchant_id)
    user = _shop_login(merchant, user_id)
    if EmptyForm().validate_on_submit():
        perform(
            service.set_login_active,
            merchant,
            user,
            action == "enable",
            success=_("Enabled.") if action == "enable" else _("Disabled; it is signed out."),
        )
    return redirect(url_for("admin.merchant", merchant_id=merchant.id) + "#logins")


@bp.post("/merchants/<int:merchant_id>/logins/<int:user_id>/password")
@staff_required
def merchant_login_password(merchant_id, user_id):
    merchant = get_or_404(Merchant, merchant_id)
    user = _shop_login(merchant, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        if perform(
            service.reset_password,
            merchant,
            user,
            form.password.data,
            success=_("The password of %(login)s is changed.", login=user.login_name),
        ):
            return redirect(url_for("admin.merchant", merchant_id=merchant.id) + "#logins")
    else:
        for error in form.password.errors:
            flash(error, "error")
    return show_merchant(merchant, 422)


# --- importing a sheet ----------------------------------------------------------------------


@bp.route("/merchants/import", methods=["GET", "POST"])
@staff_required
def merchant_import():
    """Register many shops from an Excel or CSV sheet, with a report of every refused row."""
    form = UploadForm()
    form.set_communities(community_choices(), sees_many())
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.sheet.data
        community_id = own_community_id(form.community.data if sees_many() else None)
        try:
            rows = read_sheet(
                getattr(upload, "filename", "") or "",
                upload.read() if upload else b"",
                service.IMPORT_COLUMNS,
            )
        except SheetError as error:
            form.sheet.errors = [message(error)]
            status = 422
        else:
            done = perform(service.import_sheet, community_id, rows, form=form, fields=FIELD_OF)
            report = done.value
            if not done or not report.created:
                status = 422
    elif request.method == "POST":
        status = 422
    return render_template("admin/merchants/import.html", form=form, report=report), status


@bp.get("/merchants/import-template.xlsx")
@staff_required
def merchant_import_template():
    """A sheet with the columns an import reads and two example rows."""
    columns = [ExportColumn(column.headers[0]) for column in service.IMPORT_COLUMNS]
    return export_response("xlsx", _("shops-to-import"), columns, service.IMPORT_TEMPLATE_ROWS)
