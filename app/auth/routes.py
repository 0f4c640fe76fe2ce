from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..database import write_transaction
from ..extensions import configured_limit, db, limiter
from ..main.routes import home_for, redirect_back
from ..services import accounts
from ..services.errors import AccountError
from . import bp, throttle
from .forms import ChangePasswordForm, LoginForm


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    configured_limit("LOGIN_RATE_LIMIT"),
    methods=["POST"],
    key_func=throttle.address_key,
    deduct_when=throttle.failed,
    exempt_when=throttle.is_known,
)
@limiter.limit(
    configured_limit("LOGIN_ACCOUNT_RATE_LIMIT"),
    methods=["POST"],
    key_func=throttle.account_key,
    deduct_when=throttle.failed,
)
@limiter.limit(
    configured_limit("LOGIN_STRANGER_RATE_LIMIT"),
    methods=["POST"],
    key_func=throttle.stranger_key,
    deduct_when=throttle.failed,
    exempt_when=throttle.is_known,
)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db.session, form.login.data, form.password.data)
        except AccountError as error:
            flash(_(error.message), "error")
        else:
            with write_transaction(db.session):
                accounts.record_login(db.session, user)
            login_user(user, remember=form.remember.data)
            if user.must_change_password:
                flash(_("Please choose a new password of your own now."), "info")
                response = redirect(url_for("auth.change_password"))
            else:
                response = redirect_back(home_for(user))
            throttle.remember(response)  # this browser's guesses count apart from now on
            return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                accounts.change_password(db.session, current_user, form.current.data, form.new.data)
        except AccountError as error:
            form.current.errors.append(_(error.message))
        else:
            login_user(current_user._get_current_object())  # the session id changed with it
            flash(_("Your password has been changed."), "success")
            return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form)


# Pages of signed-in people; the resident's card pages are left alone (no session to read).
PASSWORD_FIRST_BLUEPRINTS = frozenset({"admin", "merchant", "aid"})


@bp.before_app_request
def password_first():
    """Someone whose password staff set (a shop, a resident) chooses their own before anything."""
    if request.blueprint not in PASSWORD_FIRST_BLUEPRINTS:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        flash(_("Please choose a new password of your own now."), "info")
        return redirect(url_for("auth.change_password"))
    return None
