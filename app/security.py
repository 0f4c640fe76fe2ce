"""Response headers that every page gets, and the per-view widening of the CSP."""

from functools import wraps

from flask import abort, g, request
from werkzeug.routing import IntegerConverter

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def csp_allow(**extra: str):
    """Widen the Content-Security-Policy for one view, e.g. `script_src="'wasm-unsafe-eval'"`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.csp_extra = extra
            return view(*args, **kwargs)

        return wrapped

    return decorator


def content_security_policy() -> str:
    policy = dict(CSP)
    for key, value in g.get("csp_extra", {}).items():
        directive = key.replace("_", "-")
        policy[directive] = f"{policy.get(directive, '')} {value}".strip()
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def add_security_headers(response, https: bool):
    """Set the headers of a site that sends no inline script or style and is never framed."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


class RowIdConverter(IntegerConverter):
    """`<int:...>` in URLs: ids beyond a 32-bit column are no row, so they are a 404, not an
    error from the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def refuse_nul_bytes():
    """Refuse a page request that carries a NUL character in its text: no field may hold one,
    and PostgreSQL cannot store it (uploaded files are not text and are not looked at).

    The JSON API reads only the fields it knows and cleans those itself (`api.routes._text`):
    a till's request is judged by what it means, not by what else it carries.
    """
    if request.path.startswith("/api/"):
        return
    texts = [request.path, *request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH"):
        texts += [*request.form.keys(), *request.form.values()]
    if any("\x00" in text for text in texts):
        abort(400)
