import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
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
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.http import generate_etag

from ..compression import keep_compressed
from ..errorpages import EXPLANATIONS, TITLES
from ..extensions import compress, configured_limit, db, limiter
from ..i18n import select_locale
from ..main.routes import redirect_back
from ..services import cardview
from ..services.cards import normalise_serial, normalise_token
from ..services.errors import NotFound
from ..templating import asset_url, html_lang, public_base_url
from ..view_limits import ViewLimit
from . import bp
from .forms import LookupForm

LARGE_COOKIE = "large"
ONE_YEAR = 60 * 60 * 24 * 365
# The card token's alphabet (base32), for the manifest, which answers without a lookup.
TOKEN = re.compile(r"[A-Z2-7]{16,64}")


@lru_cache(maxsize=4096)
def _day(day: date, locale: str) -> str:
    return format_date(day, "medium", locale=locale)


def _gettext_of_this_request():
    """Return the templates' `gettext`, bound to this request's catalogue once.

    Jinja's i18n extension resolves `gettext` from the context for every `_()`; Flask-Babel's
    own looks the catalogue up again each time, which was 40 % of rendering a card page. This
    one keeps the extension's "newstyle" behaviour: autoescaped, and always %-formatted.
    """
    translate = get_translations().ugettext

    @pass_context
    def gettext(context, message: str, **variables) -> str:
        text = translate(message)
        if context.eval_ctx.autoescape:
            # our own catalogue, as Jinja does; Markup % escapes the variables
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables

    return gettext


@lru_cache(maxsize=256)
def _shop_list_once(shops: cardview.ShopList, show_campaign: bool, locale: str) -> Markup:
    return _shop_list_macro()(shops, show_campaign=show_campaign)


def _shop_list_macro():
    return current_app.jinja_env.get_template("resident/_shops.html").module.shop_list


def shop_list(shops: cardview.ShopList, show_campaign: bool = False) -> Markup:
    """The shops grouped by category, with their filter (templates/resident/_shops.html).

    Every card of a campaign shows the same list, a third of rendering a card page: a worker
    renders each list once per language, and again only when the list changed (a shop's
    details, a rule, the filter chosen, a shop where this card reached today's limit).
    """
    if current_app.debug:
        return _shop_list_macro()(shops, show_campaign=show_campaign)
    return _shop_list_once(shops, show_campaign, select_locale())


def render_resident(template: str, **context) -> str:
    """Render a resident page, with `day(d)` writing a date as people read it (2026年6月3日)
    and `shop_list(shops)` the shops where the card works.

    Dates are written through a memo: a card's history repeats the same few days, and Babel
    takes ~30 µs a date.
    """
    locale = str(get_locale())
    return render_template(
        template,
        day=lambda value: _day(value, locale),
        gettext=_gettext_of_this_request(),
        shop_list=shop_list,
        **context,
    )


@lru_cache(maxsize=512)
def _render_once(template: str, page, locale: str, large: bool, here: str, root: str) -> str:
    return render_resident(template, page=page)


def render_page(template: str, page) -> str:
    """Render a resident page from its data, reusing the HTML when nothing it shows changed.

    The key holds everything the template reads: the page's data (frozen dataclasses: every
    number, word and date on the page), the language, large type, the address (the switches
    link back to it) and the site's root. Equal keys give equal pages, so the memo can never
    show stale data; it only saves rendering a card again that nobody used in between.
    """
    if current_app.debug:  # templates may change under a running development server
        return render_resident(template, page=page)
    here = request.full_path if request.query_string else request.path
    large = request.cookies.get(LARGE_COOKIE) == "1"
    # The language as chosen, not Babel's parsed Locale: parsing it costs more than a hit.
    return _render_once(template, page, select_locale(), large, here, request.script_root)


def _failed_lookup(response) -> bool:
    return response.status_code != 302


def _lookup_serial_key() -> str:
    """Rate-limit key for one card, whatever address the guesses come from."""
    return "lookup-serial:" + normalise_serial(request.form.get("serial", ""))[:40]


@lru_cache(maxsize=512)
def _etag(html: str) -> str:
    """The page's ETag: a digest of its HTML. Memoised on the string, which the render memo
    hands out again for an unchanged page (the string keeps its hash: the lookup is free)."""
    return generate_etag(html.encode())


def revalidated_page(html: str, *, private: bool = True, offline: bool = False):
    """Return a page that browsers keep but check on every visit.

    The ETag lets a repeat visit of an unchanged page cost a 304 and no body. A private page
    (a card) is never indexed; `offline` lets the service worker keep a copy (it keeps only
    pages that say so). A compressed answer is made conditional by Flask-Compress, under the
    ETag it gives the compressed body; this answers a browser that asked for the uncompressed
    page with this one's, and leaves Werkzeug's fuller check to that case alone.
    """
    response = make_response(html)
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, no-cache"
    response.vary.add("Cookie")  # large type and the language come in cookies
    if private:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    if offline:
        response.headers["X-Offline-Copy"] = "allow"
    etag = _etag(html)
    response.set_etag(etag)
    keep_compressed(etag)
    if etag in request.if_none_match:
        return response.make_conditional(request)
    return response


def _may_be_signed_in() -> bool:
    """Whether the request carries a session or remember-me cookie: without either nobody is
    signed in, and a resident's phone need not wait for Flask-Login to make sure (~0.1 ms)."""
    cookies = request.cookies
    return (
        current_app.config["SESSION_COOKIE_NAME"] in cookies
        or current_app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE) in cookies
    )


# Every card page an address asks for, against floods (many phones may share an address), and
# the unknown tokens it asks for: someone guessing. Only misses count against the second, so a
# holder opening their card again and again is never taken for a guesser.
CARD_VIEWS = ViewLimit("CARD_RATE_LIMIT", "card")
CARD_MISSES = ViewLimit("CARD_MISS_RATE_LIMIT", "card-miss")


@bp.get("/C/<token>")  # the QR carries the URL in upper case (see services.qr)
@bp.get("/c/<token>")  # registered first (decorators apply bottom-up): url_for's choice
@compress.compressed()
def card(token):
    """A card as its holder sees it, opened from the QR.

    A signed-in shop that opens the same URL (its phone camera or WeChat 扫一扫 read the QR)
    gets the till for the card instead.
    """
    if not (CARD_VIEWS.hit() and CARD_MISSES.allows()):
        abort(429)
    if _may_be_signed_in() and current_user.is_authenticated and current_user.is_merchant:
        return redirect(url_for("merchant.card", ref=normalise_token(token)))
    try:
        with db.engine.connect() as connection, connection.begin():
            page = cardview.card_page(
                connection, token, public_base_url(), category=request.args.get("cat")
            )
    except NotFound:
        CARD_MISSES.hit()
        abort(404)
    return revalidated_page(render_page("resident/card.html", page), offline=True)


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


@bp.route("/card", methods=["GET", "POST"])
@limiter.limit(configured_limit("LOOKUP_RATE_LIMIT"), methods=["POST"], deduct_when=_failed_lookup)
@limiter.limit(
    configured_limit("LOOKUP_SERIAL_RATE_LIMIT"),
    methods=["POST"],
    key_func=_lookup_serial_key,
    deduct_when=_failed_lookup,
)
def lookup():
    """Open a card by the serial and PIN printed on it, for someone who lost the QR."""
    form = LookupForm()
    if form.validate_on_submit():
        try:
            found = cardview.lookup(db.session, form.serial.data, form.pin.data)
        except cardview.CardLookupError as error:
            db.session.commit()  # keep the failed attempt in the log
            form.pin.errors.append(_(error.message))
        else:
            return redirect(url_for(".card", token=found.token))
    return render_template("resident/lookup.html", form=form)


@bp.get("/s/<slug>")
@compress.compressed()
def community(slug):
    """A community's public page for its notice board: current campaigns and their shops."""
    try:
        page = cardview.community_page(db.session, slug, category=request.args.get("cat"))
    except NotFound:
        abort(404)
    return revalidated_page(render_page("resident/community.html", page), private=False)


@bp.get("/large-type/<state>")
def large_type(state):
    """Switch large type on or off for this phone and go back to where the visitor was."""
    response = redirect_back()
    if state == "on":
        response.set_cookie(LARGE_COOKIE, "1", max_age=ONE_YEAR, httponly=True, samesite="Lax")
    elif state == "off":
        response.delete_cookie(LARGE_COOKIE, httponly=True, samesite="Lax")
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
