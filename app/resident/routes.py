"""The residents' pages: a card opened from its QR, the lookup by serial and PIN, a
community's notice-board page, and what makes the card work like an app (manifest, service
worker, offline page)."""

import hashlib
import re
from functools import cache
from pathlib import Path

from flask import (
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..clock import local_today
from ..database import write_transaction
from ..errorpages import EXPLANATIONS, TITLES
from ..extensions import compress, configured_limit, db, limiter
from ..i18n import select_locale
from ..main.routes import redirect_back
from ..models import Card
from ..services import cardview, paper, volunteers
from ..services.cards import normalise_token
from ..services.errors import NotFound
from ..templating import asset_url, html_lang, public_base_url
from . import bp
from .forms import LookupForm

LARGE_COOKIE = "large"
ONE_YEAR = 60 * 60 * 24 * 365
# The card token's alphabet (base32), for the manifest, which answers without a lookup.
TOKEN = re.compile(r"[A-Z2-7]{16,64}")


def _failed_lookup(response) -> bool:
    return response.status_code != 302


def _unknown_card(response) -> bool:
    return response.status_code == 404


@cache
def _release(template_folder: str, static_folder: str) -> str:
    """A digest of the templates, stylesheets, scripts and catalogues a release serves: a new
    release changes every page's ETag. Worked out once per worker, as files change only with
    a release; the development server works it out on every request."""
    digest = hashlib.blake2b(digest_size=8)
    app_folder = Path(__file__).resolve().parent.parent
    for folder, pattern in (
        (Path(template_folder), "resident/*.html"),
        (Path(static_folder), "css/card.css"),
        (Path(static_folder), "js/card.js"),
        (app_folder / "translations", "*/LC_MESSAGES/messages.mo"),
    ):
        for path in sorted(folder.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def page_etag(*depends_on: str) -> str:
    """Return the ETag of a resident's page made from `depends_on` (a digest of the rows it
    shows, ...) in this request's language, type size and address, by this release."""
    if current_app.debug:
        _release.cache_clear()
    parts = (
        _release(current_app.template_folder, current_app.static_folder),
        select_locale(),
        request.cookies.get(LARGE_COOKIE, ""),
        request.full_path,  # the switches lead back to it; it holds the filter chosen
        *depends_on,
    )
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def revalidated(response, etag: str, *, private: bool = True, offline: bool = False):
    """Mark a resident's page as one that browsers keep but check on every visit.

    The ETag is weak: it names what the page says, whichever compression carries it (a strong
    one Flask-Compress would rename per compression). A private page (a card) is never
    indexed; `offline` lets the service worker keep a copy (it keeps only pages that say so).
    """
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, no-cache"
    response.vary.add("Cookie")  # large type and the language come in cookies
    if private:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    if offline:
        response.headers["X-Offline-Copy"] = "allow"
    return response


def unchanged(etag: str) -> bool:
    """Whether the browser already holds the page tagged `etag`."""
    return request.if_none_match.contains_weak(etag)


@bp.get("/C/<token>")  # the QR carries the URL in upper case (see services.qr)
@bp.get("/c/<token>")  # registered first (decorators apply bottom-up): url_for's choice
@limiter.limit(configured_limit("CARD_RATE_LIMIT"), scope="card")
# Only unknown tokens count (someone guessing), so a holder opening their card again and again
# is never taken for a guesser; past the limit, this address gets no card page at all.
@limiter.limit(
    configured_limit("CARD_MISS_RATE_LIMIT"), scope="card-miss", deduct_when=_unknown_card
)
@compress.compressed()
def card(token):
    """A card as its holder sees it, opened from the QR.

    A signed-in shop that opens the same URL (its phone camera or WeChat 扫一扫 read the QR)
    gets the till for the card instead. A repeat visit of an unchanged page is answered 304
    from the rows read, before the page is made.
    """
    if current_user.is_authenticated and current_user.is_merchant:
        return redirect(url_for("merchant.card", ref=normalise_token(token)))
    try:
        rows = cardview.read_card(db.session, token)
    except NotFound:
        abort(404)
    base_url = public_base_url()
    etag = page_etag(rows.digest(), base_url)
    if unchanged(etag):
        return revalidated(make_response("", 304), etag, offline=True)
    page = cardview.build_page(rows, base_url, category=request.args.get("cat"))
    response = make_response(render_template("resident/card.html", page=page))
    return revalidated(response, etag, offline=True)


@bp.get("/c/<token>/statement")
@limiter.limit(configured_limit("CARD_RATE_LIMIT"), scope="card")
@limiter.limit(
    configured_limit("CARD_MISS_RATE_LIMIT"), scope="card-miss", deduct_when=_unknown_card
)
def card_statement(token):
    """The card's statement to print (A4): every use, voids shown as such, and what is left.

    Whoever holds the QR holds the card; the statement shows no more than the card's page.
    """
    card = db.session.scalar(select(Card).where(Card.token == normalise_token(token)))
    if card is None:
        abort(404)
    response = make_response(
        render_template(
            "paper/statement.html",
            st=paper.statement(db.session, card),
            paper_size="a4",
            show_household=False,
            today=local_today(),
            back_url=url_for(".card", token=card.token),
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/c/<token>/manifest.webmanifest")
@compress.compressed()
def manifest(token):
    """The web app manifest that makes this card open like an app from the home screen."""
    token = normalise_token(token)
    if not TOKEN.fullmatch(token):
        abort(404)
    start = url_for(".card", token=token)
    response = jsonify(
        {
            "id": start,
            "name": _("Linli card"),
            "short_name": _("Linli card"),
            "description": _("Your neighbourhood discount card: its QR code, uses and shops."),
            "lang": html_lang(),
            "start_url": start,
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#f6f4f1",
            "theme_color": "#c2410c",
            "icons": [
                {"src": _icon("icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": _icon("icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": _icon("icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
                {"src": _icon("icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _icon(name: str) -> str:
    return asset_url(f"icons/{name}")


@bp.get("/sw.js")
@compress.compressed()
def service_worker():
    """The service worker, from the site's root so that it may control /c/ and /C/.

    Browsers check it for updates on every visit (no-cache); the ETag makes that a 304.
    """
    script = (Path(current_app.static_folder) / "js" / "sw.js").read_bytes()
    response = make_response(script)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/offline")
@compress.compressed()
def offline():
    """What the service worker shows for a card never opened on this phone, with no network."""
    response = make_response(render_template("resident/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/card", methods=["GET", "POST"])
@limiter.limit(configured_limit("LOOKUP_RATE_LIMIT"), methods=["POST"], deduct_when=_failed_lookup)
def lookup():
    """Open a card by the serial and PIN printed on it, for someone who lost the QR.

    Failed lookups are limited per address; wrong PINs are counted per card by
    `services.pins` (five in an hour lock the card's PIN, not its QR, until staff release it),
    the same count the tills and the API add to.
    """
    form = LookupForm()
    status = 200
    if form.validate_on_submit():
        failed = None
        with write_transaction(db.session):
            try:
                found = cardview.lookup(db.session, form.serial.data, form.pin.data)
            except cardview.CardLookupError as error:
                failed = error  # the failed attempt it logged is kept
        if failed is None:
            return redirect(url_for(".card", token=found.token))
        form.pin.errors.append(_(failed.message))
        status = 429 if failed.code == "pin_locked" else 200
    return render_template("resident/lookup.html", form=form), status


@bp.get("/s/<slug>")
@compress.compressed()
def community(slug):
    """A community's public page for its notice board: current campaigns and their shops."""
    try:
        page = cardview.community_page(db.session, slug, category=request.args.get("cat"))
    except NotFound:
        abort(404)
    html = render_template(
        "resident/community.html",
        page=page,
        activities=volunteers.public_board(db.session, page.slug),
    )
    etag = hashlib.blake2b(html.encode(), digest_size=16).hexdigest()
    if unchanged(etag):
        return revalidated(make_response("", 304), etag, private=False)
    return revalidated(make_response(html), etag, private=False)


@bp.get("/large-type/<state>")
def large_type(state):
    """Switch large type (大字, 长辈版) on or off for this phone, remember the choice for a year,
    and go back to where the visitor was."""
    response = redirect_back()
    if state == "on":
        response.set_cookie(LARGE_COOKIE, "1", max_age=ONE_YEAR, httponly=True, samesite="Lax")
    elif state == "off":  # a choice too: the first visit's offer of 大字 is not made again
        response.set_cookie(LARGE_COOKIE, "0", max_age=ONE_YEAR, httponly=True, samesite="Lax")
    else:
        abort(404)
    return response


@bp.errorhandler(404)
@bp.errorhandler(429)
def resident_error(error):
    """Errors on residents' pages, on the same light pages.

    Nothing of the address is echoed (the switches lead to the lookup page), so every unknown
    card gets the same page, byte for byte.
    """
    status = error.code
    response = make_response(
        render_template(
            "resident/error.html",
            status=status,
            title=TITLES[status],
            message=EXPLANATIONS[status] if status == 404 else _limited_message(),
            here=url_for(".lookup"),
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _limited_message() -> str:
    if request.endpoint == "resident.lookup":
        return _(
            "Too many tries in a short time. Please wait and try again later, or bring the "
            "card to the community office."
        )
    return str(EXPLANATIONS[429])
