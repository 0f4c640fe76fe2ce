from flask import abort, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Card
from . import bp


@bp.get("/c/<token>")
def card(token):
    """A card as its holder sees it, opened from the QR."""
    found = db.session.scalar(select(Card).where(Card.token == token[:64]))
    if found is None:
        abort(404)
    return render_template("resident/card.html", card=found)
