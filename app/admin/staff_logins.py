"""The staff logins of a place, a community or a street: the form that adds one, the list, and
switching one off or on. The district admin's community and street pages share them."""

from flask import abort, flash, redirect, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services.logins import Login
from .common import perform
from .forms import EmptyForm, StaffForm


def add_login(place, add, fields: dict, back: str):
    """Read the add-a-login form of `place`'s page and add it through `add`.

    Returns the form, the page's status, and the redirect to `back` once the login is made
    (None while the page is to be shown, its form with its errors).
    """
    form = StaffForm()
    if not form.validate_on_submit():
        return form, 422 if request.method == "POST" else 200, None
    login = Login(form.owner_name.data, form.owner_login.data, form.owner_password.data)
    done = perform(add, place, login, form=form, fields=fields)
    if not done:
        return form, 422, None
    flash(_("Login %(login)s is ready.", login=done.value.login_name), "success")
    return form, 302, redirect(back)


def logins_of(role, owner_column, place_id: int) -> list[User]:
    """The logins of `role` whose `owner_column` (community_id, street_id) is the place."""
    return db.session.scalars(
        select(User).where(owner_column == place_id, User.role == role).order_by(User.id)
    ).all()


def switch_login(place, user_id: int, action: str, set_active, back: str):
    """Turn a login of `place` off (it is signed out at once) or on again; back to its page."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        perform(
            set_active,
            place,
            user,
            action == "enable",
            success=_("Enabled.") if action == "enable" else _("Disabled; it is signed out."),
        )
    return redirect(back)
