"""The apps `bench/card_page.py` serves under gunicorn: the real site with one bare view added.

`site()` is the real application on the benchmark's database, with `/bench/bare` returning
the card page's HTML (read from `BENCH_HTML`) as a static string: same size, same
compression, same request machinery, no data and no template. `plain()` is a Flask app with
nothing but the bare view, to show what the site's own machinery costs.
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
    html = _html()

    @app.get("/bench/bare")
    @compress.compressed()
    def bare():
        return html

    return app


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
