"""Compressed responses where that is safe: residents' pages and static files.

Pages choose with `@compress.compressed()`. Not every page: one that holds a CSRF token beside
text the visitor typed would let an eavesdropper guess the token from the compressed sizes
(BREACH), so forms stay uncompressed.

A page that names its body (`keep_compressed`, with a digest of it) has the compressed body
kept, so an unchanged card page is not compressed again on every view: gzip of its 12 KB cost
as much as everything else the page does when nothing on it changed.
"""

import threading
from functools import wraps

from flask import request

from .extensions import compress

KEPT_BODIES = 256  # a few KB each
KEY = "linli.compressed_key"  # where a request names its body, in its environ


def keep_compressed(digest: str) -> None:
    """Let this request's body be kept compressed under `digest`, which names it exactly
    (equal digests, equal bodies: the page's ETag).

    Kept in the request's environ, not in `g`: an app context, and its `g`, can outlive a
    request (a test client inside `app.app_context()`), and another body must never be
    answered with this one.
    """
    request.environ[KEY] = digest


def _key(asked) -> str:
    """Flask-Compress's cache key for the request `asked` (COMPRESS_CACHE_KEY); it puts the
    algorithm in front. Empty for a body nobody named, which is never kept."""
    return asked.environ.get(KEY, "")


class CompressedBodies:
    """Flask-Compress's cache (COMPRESS_CACHE_BACKEND): bodies kept by algorithm and digest.

    Keys without a digest ("gzip;") are answered with nothing and not kept. Full, it starts
    again empty: the bodies are cheap to make again and this keeps no order to maintain.
    """

    def __init__(self, size: int = KEPT_BODIES):
        self.size = size
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        return self._bodies.get(key)

    def set(self, key: str, body: bytes) -> None:
        if key.endswith(";") or key in self._bodies:
            return
        with self._lock:
            if len(self._bodies) >= self.size:
                self._bodies.clear()
            self._bodies[key] = body


def init_app(app):
    app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedBodies)
    app.config.setdefault("COMPRESS_CACHE_KEY", _key)
    compress.init_app(app)
    serve_static = app.view_functions["static"]

    @wraps(serve_static)
    def static_file(**kwargs):
        response = serve_static(**kwargs)
        if response.direct_passthrough and response.mimetype in app.config["COMPRESS_MIMETYPES"]:
            # Stylesheets and scripts are small: read them in, so they are compressed whole
            # (gzip too, which streams are not given) and the file is closed with the response.
            stream = response.response
            try:
                body = b"".join(stream)
            finally:
                stream.close()
            response.direct_passthrough = False
            response.set_data(body)
        return response

    app.view_functions["static"] = compress.compressed()(static_file)
