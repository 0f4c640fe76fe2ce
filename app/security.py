"""Response headers that every page gets, and the per-view widening of the CSP."""

from functools import wraps

from flask import g

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
