"""邻里 (linli): a neighbourhood's mutual-aid economy on the web."""

import logging
import os
from pathlib import Path

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, errorpages, models, templating  # noqa: F401 - models must load before migrate
from .admin import bp as admin_bp
from .admin import public as join_bp
from .aid import bp as aid_bp
from .api import bp as api_bp
from .auth import bp as auth_bp
from .auth.access import load_user
from .compression import init_app as init_compression
from .config import load_config
from .extensions import babel, csrf, db, limiter, login, migrate
from .i18n import select_locale
from .main import bp as main_bp
from .merchant import bp as merchant_bp
from .resident import bp as resident_bp
from .security import RowIdConverter, add_security_headers, refuse_nul_bytes
from .services import audit
from .volunteer import bp as volunteer_bp

PACKAGE = Path(__file__).resolve().parent
# In a checkout templates/, static/ and migrations/ sit beside app/; an installed wheel carries
# them inside the package (setup.py's build hook), and has no instance folder of its own.
INSTALLED = (PACKAGE / "templates").is_dir()
ROOT = PACKAGE if INSTALLED else PACKAGE.parent


def create_app(test_config=None):
    """Build the application: config, extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("LINLI_INSTANCE_PATH")
        or (None if INSTALLED else str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, test_config)
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if app.config["PROXIES"]:
        n = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    app.url_map.converters["int"] = RowIdConverter
    init_extensions(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(join_bp)
    app.register_blueprint(merchant_bp, url_prefix="/m")
    app.register_blueprint(resident_bp)
    app.register_blueprint(aid_bp, url_prefix="/aid")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(volunteer_bp)
    errorpages.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def init_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = _l("Please log in first.")
    login.login_message_category = "info"
    login.user_loader(load_user)
    init_compression(app)

    app.before_request(refuse_nul_bytes)

    @app.before_request
    def remember_client_ip():
        audit.client_ip.set(request.remote_addr or "")

    @app.after_request
    def security_headers(response):
        return add_security_headers(response, https=app.config["HTTPS"])
