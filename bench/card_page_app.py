"""The app `bench/card_page.py` serves under gunicorn: the real site with two reference views.

`site()` is the real application (`create_app`) on the benchmark's database, with:

- `/bench/bare-304`: a bare Flask view answering 304 to its ETag (`make_conditional`), the
  reference for a repeat visit of the card page;
- `/bench/bare-render`: a bare Flask view rendering a template of the card page's size (the
  page's HTML, from `BENCH_HTML`, as a template of plain text), the reference for a changed
  card page.

Both are in the same app, behind the same request machinery (security headers, sessions,
Flask-Compress), so the ratios measure what the card page itself does.
"""

import os
from pathlib import Path

from flask import make_response, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader

from app import create_app
from app.extensions import compress

BARE_ETAG = "bench-bare"


def site():
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
            "SECRET_KEY": "bench",  # noqa: S106 - a throwaway benchmark app
            "INSTANCE_PATH": os.environ["BENCH_INSTANCE"],
            "BASE_URL": os.environ["BENCH_BASE_URL"],
            "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_LIMITS", "memory://"),
            "RATELIMIT_KEY_PREFIX": f"linli-bench-{os.getpid()}",
            # Limits stay on (their cost is part of the page) but high enough not to answer 429.
            "CARD_RATE_LIMIT": "100000000 per minute",
            "CARD_MISS_RATE_LIMIT": "100000000 per minute",
        }
    )
    html = Path(os.environ["BENCH_HTML"]).read_text()
    folder = Path(os.environ["BENCH_INSTANCE"]) / "bench-templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench_card.html").write_text("{% raw %}" + html + "{% endraw %}")
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(folder), app.jinja_env.loader])

    @app.get("/bench/bare-304")
    @compress.compressed()
    def bare_304():
        response = make_response(html)
        response.set_etag(BARE_ETAG, weak=True)
        return response.make_conditional(request)

    @app.get("/bench/bare-render")
    @compress.compressed()
    def bare_render():
        return render_template("bench_card.html")

    return app
