"""Configuration: defaults, then `instance/config.py`, then environment variables.

The order lets a deployment keep secrets in the instance folder or in the environment, and
lets tests pass a mapping that wins over both.
"""

import os
import secrets
from pathlib import Path

ENVIRONMENT_KEYS = {
    # environment variable: (config key, converter)
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REDIS_URL": ("REDIS_URL", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "LINLI_BASE_URL": ("BASE_URL", str),
    "LINLI_HTTPS": ("HTTPS", lambda v: v.lower() in {"1", "true", "yes", "on"}),
    "LINLI_PROXIES": ("PROXIES", int),
    "LINLI_LOG_LEVEL": ("LOG_LEVEL", str),
}


class Defaults:
    """Settings that suit one machine running the demo."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # a SQLite file in the instance folder
    REDIS_URL: str | None = None
    SECRET_KEY: str | None = None
    BASE_URL: str | None = None  # printed on cards; the request's host when unset
    HTTPS = False  # behind a TLS-terminating proxy: secure cookies and HSTS
    PROXIES = 0  # how many reverse proxies set X-Forwarded-* in front of us
    LOG_LEVEL = "INFO"

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12  # a shop's working day
    # The token lives as long as the session: a till page stays open all day.
    WTF_CSRF_TIME_LIMIT = None

    MAX_CONTENT_LENGTH = 4 * 1024 * 1024  # merchant import sheets are the largest upload
    SEND_FILE_MAX_AGE_DEFAULT = 60 * 60 * 24 * 365  # asset URLs carry a content hash

    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True  # a lost Redis must not take the site down
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Wrong passwords only (app/auth/throttle.py): per address; per account from one address or
    # known browser; per account from every browser it never signed in on.
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    LOGIN_ACCOUNT_RATE_LIMIT = "5 per minute;20 per hour"
    LOGIN_STRANGER_RATE_LIMIT = "30 per hour;100 per day"
    API_RATE_LIMIT = "600 per minute"  # per key: a busy till does a few a minute

    # No ping before every checkout (one more round trip on every request): a connection is
    # replaced after 5 minutes, and one that the server dropped (a restart, a failover) fails
    # its request with a 503 and makes the pool replace every connection older than it.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 300}

    # The resident's card (/c/<token>), lookup (/card): every request, and the ones that miss.
    CARD_RATE_LIMIT = "300 per minute"  # only against floods: many phones share an address
    CARD_MISS_RATE_LIMIT = "20 per minute;200 per day"  # unknown tokens: someone is guessing
    LOOKUP_RATE_LIMIT = "10 per minute;50 per day"  # failed lookups from one address
    # The help board (/aid): sign-ups per address, posts and takes per resident. Only accepted
    # sign-ups count; an office signing its neighbours up at one counter needs a busy morning.
    AID_JOIN_RATE_LIMIT = "60 per hour;300 per day"
    AID_POST_RATE_LIMIT = "10 per hour;30 per day"
    AID_TAKE_RATE_LIMIT = "20 per hour;60 per day"
    # Responses are compressed only where chosen (resident pages, static files): a page that
    # holds a CSRF token beside text the visitor typed must not be (BREACH).
    COMPRESS_REGISTER = False
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ]


def load_config(app, test_config=None):
    """Fill `app.config` from defaults, the instance file, the environment and `test_config`."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for env_key, (key, convert) in ENVIRONMENT_KEYS.items():
            value = os.environ.get(env_key)
            if value:
                app.config[key] = convert(value)
    else:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'linli.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)
    if app.config["HTTPS"]:
        app.config.update(
            SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https"
        )
    storage = app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance: Path) -> str:
    """Read the secret key kept in the instance folder, creating it on first start."""
    path = instance / "secret_key"
    if not path.exists():
        # O_EXCL: when two workers start at once, one writes and the other reads.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret key")
    return key
