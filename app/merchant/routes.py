from flask import render_template
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import roles_required
from ..clock import local_today
from ..extensions import db
from ..models import Redemption, RedemptionStatus, Role
from . import bp


@bp.get("/")
@roles_required(Role.MERCHANT_OWNER, Role.CASHIER)
def index():
    """The shop's start page: today's takings at a glance."""
    count, bills, discounts = db.session.execute(
        select(
            func.count(Redemption.id),
            func.coalesce(func.sum(Redemption.bill_fen), 0),
            func.coalesce(func.sum(Redemption.discount_fen), 0),
        ).where(
            Redemption.merchant_id == current_user.merchant_id,
            Redemption.local_day == local_today(),
            Redemption.status == RedemptionStatus.OK,
        )
    ).one()
    return render_template(
        "merchant/index.html",
        merchant=current_user.merchant,
        today={"count": count, "bills": bills, "discounts": discounts},
    )
