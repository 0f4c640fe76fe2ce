"""The JSON API: the same redemption service as the shop's pages, for tills and other systems.

A request carries the shop's key as `Authorization: Bearer lk_...`. Session cookies mean nothing
here: without a key every call is 401, and CSRF does not apply because no cookie authenticates.
Errors are `{"error": <stable code>, "message": <Chinese>}`.
"""

from functools import wraps

from flask import g, jsonify, request
from flask_babel import gettext as _

from .. import till
from ..clock import local_today
from ..extensions import configured_limit, csrf, db, limiter
from ..i18n import message
from ..inputs import MAX_JSON_BYTES, InputError, clean_text, load_json_object, parse_date, parse_fen
from ..models import Redemption
from ..rules import format_money
from ..services import apikeys, redemptions, takings
from ..services.redemptions import Receipt, RedeemError, TillRequest
from . import bp
from .openapi import document

csrf.exempt(bp)


def error(code: str, message: str, status: int):
    return jsonify(error=code, message=message), status


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Api-Key")


def key_required(view):
    """Let through requests with a valid, unrevoked key, each call one write transaction.

    The key's shop is `g.merchant`; the owner who created the key is `g.actor`, in whose name
    redemptions and voids are recorded. The key is read in the call's transaction (a till's
    redemption is then one transaction from the key to the audit row); a refusal is rolled back,
    kept in the attempt log and answered with its code.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            with till.transaction(db.session):
                found = apikeys.authenticate(db.session, _presented_key())
                if found is None:
                    return error("unauthorized", _("A valid API key is required."), 401)
                _key, g.merchant, g.actor = found
                return view(*args, **kwargs)
        except RedeemError as refusal:
            return error(refusal.code, message(refusal), till.refusal_status(refusal.code))

    return wrapped


def _key_prefix() -> str:
    return "api:" + (_presented_key() or request.remote_addr or "")[:11]


limiter.limit(configured_limit("API_RATE_LIMIT"), key_func=_key_prefix)(bp)


class BadBody(Exception):
    """The body is not a JSON object this API can read; answered 400 or 413."""

    def __init__(self, error: InputError):
        self.error = error


@bp.errorhandler(BadBody)
def bad_body(caught: BadBody):
    status = 413 if caught.error.code == "json_too_large" else 400
    return error(caught.error.code, _(caught.error.message), status)


def _body() -> dict:
    """Read the JSON body, bounded in size and depth, its numbers exact (never a float).

    A request without a JSON body reads as an empty object (a void's reason is optional).
    """
    if not request.is_json:
        return {}
    try:
        if (request.content_length or 0) > MAX_JSON_BYTES:
            raise InputError("json_too_large")  # refused before the body is read
        return load_json_object(request.get_data(cache=True))
    except InputError as refusal:
        raise BadBody(refusal) from None


def _text(body: dict, name: str, limit: int = 200) -> str:
    """Return a text field of the body as one line of text without control characters."""
    value = body.get(name)
    if value is None or isinstance(value, dict | list):
        return ""
    return clean_text(str(value)[:limit])


def _pin(body: dict) -> str | None:
    return _text(body, "pin", 8) if body.get("pin") is not None else None


def _bill(body: dict) -> int:
    """The bill: a whole number of fen however JSON writes it (7287, 7287.0, 7.287e3)."""
    try:
        return parse_fen(body.get("bill_fen"))
    except InputError:
        raise RedeemError(
            "bad_bill", _("bill_fen must be a whole number of fen, from 1 to 100000000.")
        ) from None


def redemption_json(r: Receipt) -> dict:
    return {
        "id": r.id,
        "card": r.card_serial,
        "bill_fen": r.bill_fen,
        "discount_fen": r.discount_fen,
        "paid_fen": r.paid_fen,
        "rule": r.rule_text,
        "status": r.status,
        "created_at": r.created_at.isoformat(),
        "local_day": r.local_day.isoformat(),
        "void_reason": r.void_reason or None,
    }


@bp.post("/quote")
@key_required
def quote():
    """Bill, discount and what to collect, without recording anything."""
    body = _body()
    at_till = redemptions.card_at_till(
        db.session, g.merchant, _text(body, "card"), pin=_pin(body), user=g.actor, channel="api"
    )
    priced = redemptions.price(at_till, _bill(body))
    return jsonify(
        card=at_till.serial,
        campaign=at_till.campaign_name,
        rule=at_till.rule.render(),
        uses_left=at_till.uses_left,
        bill_fen=priced.bill_fen,
        discount_fen=priced.discount_fen,
        pay_fen=priced.pay_fen,
        pay=format_money(priced.pay_fen),
    )


@bp.post("/redemptions")
@key_required
def create_redemption():
    """Record a redemption once per Idempotency-Key; a repeat returns the first answer."""
    body = _body()
    asked = TillRequest(
        _text(body, "card"),
        _bill(body),
        request.headers.get("Idempotency-Key", ""),
        pin=_pin(body),
        channel="api",
    )
    receipt = redemptions.redeem(db.session, g.merchant, g.actor, asked)
    response = jsonify(redemption_json(receipt))
    response.status_code = 200 if receipt.replayed else 201
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/redemptions/<int:redemption_id>/void")
@key_required
def void_redemption(redemption_id):
    """Void one of the shop's own redemptions, within ten minutes."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None or redemption.merchant_id != g.merchant.id:
        return error("not_found", _("No such redemption."), 404)
    receipt = redemptions.void_redemption(db.session, redemption, g.actor, _text(_body(), "reason"))
    return jsonify(redemption_json(receipt))


@bp.get("/redemptions")
@key_required
def list_redemptions():
    """The shop's redemptions of one day (`?date=YYYY-MM-DD`, default today), with totals."""
    try:
        day = parse_date(request.args["date"]) if "date" in request.args else local_today()
    except InputError:
        return error("bad_date", _("date must be written YYYY-MM-DD, from 2000 to 2099."), 400)
    taken = takings.of_day(db.session, g.merchant.id, day)
    return jsonify(
        date=day.isoformat(),
        count=taken.count,
        bills_fen=taken.bills_fen,
        discounts_fen=taken.discounts_fen,
        paid_fen=taken.paid_fen,
        redemptions=[redemption_json(Receipt.of(r, r.card.serial)) for r in taken.redemptions],
    )


@bp.get("/openapi.json")
@limiter.exempt
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(document())
