"""Compressed responses where that is safe: residents' pages and static files.

Pages choose with `@compress.compressed()` (Flask-Compress, as configured in `config.py`). Not
every page: one that holds a CSRF token beside text the visitor typed would let an eavesdropper
guess the token from the compressed sizes (BREACH), so forms stay uncompressed. Behind a
reverse proxy that compresses, set `COMPRESS_MIMETYPES = []` and let the proxy do it.
"""

from functools import wraps

from .extensions import compress


def init_app(app):
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
