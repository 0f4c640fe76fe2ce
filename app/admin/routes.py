from flask import render_template
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import roles_required, scope
from ..extensions import db
from ..models import Campaign, Card, CardStatus, Community, Merchant, Redemption, Role
from . import bp


@bp.get("/")
@roles_required(Role.STAFF, Role.DISTRICT_ADMIN)
def index():
    """The office's start page: how many shops, campaigns, cards and uses there are."""

    def count(model, *conditions):
        stmt = scope(select(func.count()).select_from(model), model).where(*conditions)
        return db.session.scalar(stmt)

    figures = {
        "merchants": count(Merchant),
        "campaigns": count(Campaign),
        "cards_issued": count(Card, Card.status != CardStatus.NEW),
        "redemptions": count(Redemption),
    }
    communities = []
    if current_user.role == Role.DISTRICT_ADMIN:
        communities = db.session.scalars(select(Community).order_by(Community.id)).all()
    return render_template("admin/index.html", figures=figures, communities=communities)
