"""The office's start page; the sections live in modules of their own, imported here."""

from datetime import timedelta

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import scope
from ..clock import local_today
from ..extensions import db
from ..models import (
    AuditLog,
    Campaign,
    CampaignStatus,
    Card,
    CardStatus,
    HelpPost,
    HelpStatus,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    RedemptionStatus,
    Role,
    User,
)
from ..services import helpboard, misuse, residents
from ..services.dashboard import Scope
from ..services.households import household_label
from . import bp
from .audit_words import Words
from .common import (
    STREET_REFUSED,
    left_out,
    message,
    not_archived,
    sees_many,
    staff_required,
    visible_communities,
)
from .dashboard import finding_url
from .labels import action_label, label, tone, who


@bp.app_template_filter("label")
def label_filter(member) -> str:
    return label(member)


@bp.app_template_filter("tone")
def tone_filter(member) -> str:
    return tone(member)


@bp.app_template_filter("household")
def household_filter(household) -> str:
    return household_label(household)


@bp.app_template_filter("action_label")
def action_label_filter(action: str) -> str:
    return action_label(action)


@bp.app_template_filter("who")
def who_filter(actor_label: str) -> str:
    return who(actor_label)


def error_message(error) -> str:
    return message(error)


def today_iso() -> str:
    return local_today().isoformat()


def here(**changes) -> str:
    """Return this page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


# The office's sections: endpoint, label, endpoints (by prefix) that count as inside it.
SECTIONS = [
    ("admin.index", _l("Overview"), ("admin.index",)),
    ("admin.merchants", _l("Shops"), ("admin.merchant",)),
    ("admin.campaigns", _l("Campaigns"), ("admin.campaign", "admin.offer", "admin.batch")),
    ("admin.cards", _l("Cards"), ("admin.card", "admin.issue")),
    ("admin.households", _l("Household roster"), ("admin.household", "admin.handout")),
    ("admin.redemptions", _l("Redemptions"), ("admin.redemption", "admin.attempt")),
    ("admin.aid_posts", _l("Help board"), ("admin.aid",)),
    ("admin.volunteers_roster", _l("Volunteers"), ("admin.volunteer",)),
    ("admin.dashboard", _l("Figures"), ("admin.dashboard", "admin.settlement")),
    ("admin.compare", _l("Compare (互看互比)"), ("admin.compare",)),
    ("admin.report", _l("Monthly reports"), ("admin.report", "admin.street_report")),
    ("admin.audit", _l("Audit log"), ("admin.audit",)),
    ("admin.communities", _l("Communities"), ("admin.communit",)),
    ("admin.streets", _l("Streets"), ("admin.street",)),
]
DISTRICT_ONLY = {"admin.communities", "admin.streets"}
NOT_FOR_COMMUNITY_STAFF = {"admin.compare"}


@bp.context_processor
def office_helpers():
    """Helpers for the office's templates only (other areas' templates keep their own names)."""
    return {
        "admin_nav": admin_nav,
        "error_message": error_message,
        "today_iso": today_iso,
        "here": here,
    }


def admin_nav() -> list[dict]:
    """Return the office's sections for the menu, marking the one the page is in."""
    endpoint_here = request.endpoint or ""
    items = []
    for endpoint, text, prefixes in SECTIONS:
        if endpoint not in current_app.view_functions:
            continue
        if endpoint in DISTRICT_ONLY and current_user.role != Role.DISTRICT_ADMIN:
            continue
        if endpoint in NOT_FOR_COMMUNITY_STAFF and current_user.role == Role.STAFF:
            continue
        if endpoint in STREET_REFUSED and current_user.role == Role.STREET_STAFF:
            continue
        current = endpoint_here == endpoint or (
            endpoint != "admin.index" and endpoint_here.startswith(prefixes)
        )
        items.append({"url": url_for(endpoint), "label": text, "current": current})
    return items


FINDINGS_DAYS = 30  # the front page looks for misuse in the last month


def recent_findings() -> list:
    """Return what looks wrong in the staff's community over the last month (not district-wide:
    the district admin picks a community in the figures)."""
    if current_user.community_id is None:
        return []
    today = local_today()
    period = Scope(
        current_user.community_id, None, today - timedelta(days=FINDINGS_DAYS - 1), today
    )
    return misuse.findings(db.session, period)


@bp.get("/")
@staff_required
def index():
    """The office's start page: what waits for a decision, today at a glance, the figures."""

    # Over many communities (the district, a street) the archived ones are left out, and said.
    running = sees_many()

    def count(model, *conditions):
        stmt = scope(select(func.count()).select_from(model), model).where(*conditions)
        return db.session.scalar(stmt.where(not_archived(model)) if running else stmt)

    figures = {
        "merchants": count(Merchant, Merchant.status == MerchantStatus.ACTIVE),
        "campaigns": count(Campaign, Campaign.status == CampaignStatus.ACTIVE),
        "cards_issued": count(Card, Card.status != CardStatus.NEW),
        "redemptions": count(Redemption, Redemption.status == RedemptionStatus.OK),
    }
    today = db.session.execute(
        scope(
            select(func.count(Redemption.id), func.coalesce(func.sum(Redemption.discount_fen), 0)),
            Redemption,
        ).where(
            Redemption.local_day == local_today(),
            Redemption.status == RedemptionStatus.OK,
            *([not_archived(Redemption)] if running else []),
        )
    ).one()
    waiting = {
        "merchants": count(Merchant, Merchant.status == MerchantStatus.PENDING),
        "offers": count(Offer, Offer.status == OfferStatus.PENDING),
        "posts": count(HelpPost, HelpPost.status == HelpStatus.DONE),
        "residents": count(User, User.role == Role.RESIDENT, residents.STATES["pending"]),
        "stale": count(HelpPost, helpboard.stale(HelpPost)),
        "findings": recent_findings(),
        "drafts": db.session.scalars(
            scope(select(Campaign), Campaign).where(
                Campaign.status == CampaignStatus.DRAFT,
                *([not_archived(Campaign)] if running else []),
            )
        ).all(),
    }
    recent = db.session.scalars(
        scope(select(AuditLog), AuditLog).order_by(AuditLog.id.desc()).limit(8)
    ).all()
    words = Words(db.session, district=sees_many())
    words.read(recent)
    communities = visible_communities(archived=False) if running else []
    return render_template(
        "admin/index.html",
        left_out=left_out(),
        figures=figures,
        today={"uses": today[0], "discounts": int(today[1])},
        waiting=waiting,
        recent=recent,
        communities=communities,
        finding_url=finding_url,
        words=words,
    )


from . import (  # noqa: E402, F401
    aid,
    campaigns,
    cards,
    commands,
    compare,
    dashboard,
    district,
    households,
    join,
    merchants,
    on_behalf,
    paper,
    records,
    reports,
    rule_box,
    streets,
    volunteers,
)
