from flask import abort, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Card
from ..services.cards import normalise_token
from . import bp


@bp.get("/c/<token>")
@bp.get("/C/<token>")  # the QR carries the URL in upper case (see services.qr)
def card(token):
    """A card as its holder sees it, opened from the QR."""
    found = db.session.scalar(select(Card).where(Card.token == normalise_token(token)))
    if found is None:
        abort(404)
    return render_template("resident/card.html", card=found)
