"""The apps `bench/card_page.py` serves under gunicorn: the real site with one bare view added.

`site()` is the real application on the benchmark's database, with `/bench/bare` returning
the card page's HTML (read from `BENCH_HTML`) as a static string: same size, same
compression, same request machinery, no data and no template. `BENCH_COLD=changed` switches
off the card page's memos of pages built from rows, of rendered HTML, of its ETag and of its
compressed body (as after a use of the card: the page is built, rendered and compressed
again); `BENCH_COLD=all` also those of QR drawings, rule texts, dates and asset URLs, so every
request does all the work. `plain()` is a Flask app with nothing but the bare view, to show
what the site's own machinery costs.
"""

import os
from pathlib import Path

from flask import Flask

from app import create_app
from app.extensions import compress


def _html() -> bytes:
    return Path(os.environ["BENCH_HTML"]).read_bytes()


def site():
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
            "SECRET_KEY": "bench",  # noqa: S106 - a throwaway benchmark app
            "INSTANCE_PATH": os.environ["BENCH_INSTANCE"],
            "BASE_URL": os.environ["BENCH_BASE_URL"],
            # Limits stay on (their cost is part of the page) but high enough not to answer 429.
            "CARD_RATE_LIMIT": "100000000 per minute",
            "CARD_MISS_RATE_LIMIT": "100000000 per minute",
        }
    )
    if os.environ.get("BENCH_COLD"):
        _forget_memos(everything=os.environ["BENCH_COLD"] == "all")
    html = _html()

    @app.get("/bench/bare")
    @compress.compressed()
    def bare():
        return html

    return app


def _forget_memos(everything: bool):
    from app import templating
    from app.resident import routes
    from app.services import cardview

    memos = [(cardview, "_page"), (routes, "_render_once"), (routes, "_etag")]
    if everything:
        memos += [
            (cardview, "_drawn_qr"),
            (cardview, "_said"),
            (routes, "_day"),
            (templating, "_kept_url"),
        ]
    for module, name in memos:
        setattr(module, name, getattr(module, name).__wrapped__)
    compress.cache = None  # the kept compressed bodies: a changed page is compressed anew


def plain():
    app = Flask(__name__)
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    html = _html()

    @app.get("/bench/bare")
    @compress.compressed()
    def bare():
        return html

    return app
