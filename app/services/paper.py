"""Paper that works: what the printed 爱心存折, card statement, shop sticker and poster say.

For a neighbour without a phone the office prints what the phone would show. Each function
reads the rows and returns a plain record for one print page; nothing here writes. The
passbook's totals are the ledger's (`PointsEntry`), the statement's the card's uses
(`Redemption`), so a printed page always adds up to what the database holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..clock import local_today
from ..models import (
    Campaign,
    Card,
    CardBatch,
    Community,
    HelpKind,
    HelpPost,
    HelpStatus,
    Merchant,
    PointsEntry,
    PointsKind,
    Redemption,
    RedemptionStatus,
    User,
    VolunteerActivity,
    VolunteerSignup,
)
from . import cardview
from .errors import NotFound
from .points import mask_name
from .waves import valid_window

# Papers a page prints on: width and height in millimetres.
PAPERS = {"a4": (210, 297), "a5": (148, 210), "a6": (105, 148)}
PASSBOOK_PAPERS = ("a5", "a4")  # the first is the default


# --- 爱心存折: a resident's points passbook ----------------------------------------------------


class PassbookKind(enum.StrEnum):
    """What a line of the passbook records, as the 摘要 column says it."""

    HELPED_OTHERS = "helped_others"  # points for help given on the board
    VOLUNTEERED = "volunteered"  # points for a volunteer activity's hours
    EXCHANGED = "exchanged"  # points spent on a card
    ADJUSTED_UP = "adjusted_up"  # points the office added, with its reason
    ADJUSTED_DOWN = "adjusted_down"  # points the office took off, with its reason
    WAS_HELPED = "was_helped"  # help received: no points move


@dataclass(frozen=True)
class PassbookLine:
    at: datetime
    kind: PassbookKind
    what: str  # the post's title, the activity, the campaign, the office's reason
    card_serial: str = ""  # the card points were exchanged for
    other: str = ""  # who helped (masked: 王*)
    points_in: int = 0
    points_out: int = 0
    balance: int | None = None  # after the line; None where no points moved
    by_staff: bool = False  # 代办: the office did this for the resident (由工作人员代办)


@dataclass(frozen=True)
class Passbook:
    name: str
    household: str | None
    community: str
    office_phone: str
    lines: tuple[PassbookLine, ...]
    total_in: int
    total_out: int
    balance: int  # the resident's balance now; equals total_in - total_out

    @property
    def adds_up(self) -> bool:
        return self.total_in - self.total_out == self.balance


def passbook(session: Session, resident: User) -> Passbook:
    """Return a resident's whole ledger in order, with help received, and its totals."""
    rows = session.execute(
        select(PointsEntry, HelpPost.title, Card.serial, VolunteerActivity.title)
        .outerjoin(HelpPost, HelpPost.id == PointsEntry.post_id)
        .outerjoin(Card, Card.id == PointsEntry.card_id)
        .outerjoin(VolunteerSignup, VolunteerSignup.id == PointsEntry.signup_id)
        .outerjoin(VolunteerActivity, VolunteerActivity.id == VolunteerSignup.activity_id)
        .where(PointsEntry.user_id == resident.id)
        .order_by(PointsEntry.id)
    ).all()
    lines = [_ledger_line(entry, post, serial, activity) for entry, post, serial, activity in rows]
    helper = or_(  # the helper: the taker of a request, the author of an offer
        and_(HelpPost.kind == HelpKind.REQUEST, User.id == HelpPost.taker_id),
        and_(HelpPost.kind == HelpKind.OFFER, User.id == HelpPost.author_id),
    )
    helped = session.execute(
        select(HelpPost, User.name)
        .join(User, helper)
        .where(
            HelpPost.status == HelpStatus.CONFIRMED,
            or_(
                and_(HelpPost.kind == HelpKind.REQUEST, HelpPost.author_id == resident.id),
                and_(HelpPost.kind == HelpKind.OFFER, HelpPost.taker_id == resident.id),
            ),
        )
        .order_by(HelpPost.closed_at, HelpPost.id)
    ).all()
    lines += [
        PassbookLine(
            at=post.closed_at or post.created_at,
            kind=PassbookKind.WAS_HELPED,
            what=post.title,
            other=mask_name(helper),
            by_staff=post.posted_by_id is not None or post.done_by_id is not None,
        )
        for post, helper in helped
    ]
    # In time order; a ledger line before help received at the same moment.
    lines.sort(key=lambda line: (line.at, line.kind == PassbookKind.WAS_HELPED))
    community = session.get(Community, resident.community_id)
    return Passbook(
        name=resident.name,
        household=resident.household,
        community=community.name if community is not None else "",
        office_phone=community.phone if community is not None else "",
        lines=tuple(lines),
        total_in=sum(line.points_in for line in lines),
        total_out=sum(line.points_out for line in lines),
        balance=resident.points_balance,
    )


def _ledger_line(entry: PointsEntry, post: str | None, serial: str | None, activity: str | None):
    if entry.kind == PointsKind.EXCHANGED:
        kind, what = PassbookKind.EXCHANGED, entry.reason
    elif entry.kind == PointsKind.EARNED and activity is not None:
        kind, what = PassbookKind.VOLUNTEERED, activity
    elif entry.kind == PointsKind.EARNED:
        kind, what = PassbookKind.HELPED_OTHERS, post or entry.reason
    elif entry.amount > 0:
        kind, what = PassbookKind.ADJUSTED_UP, entry.reason
    else:
        kind, what = PassbookKind.ADJUSTED_DOWN, entry.reason
    return PassbookLine(
        at=entry.created_at,
        kind=kind,
        what=what or "",
        card_serial=serial or "",
        points_in=max(entry.amount, 0),
        points_out=max(-entry.amount, 0),
        balance=entry.balance_after,
        by_staff=entry.on_behalf_by_id is not None,
    )


# --- 卡片对账单: one card's uses and what is left ----------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    at: datetime
    shop: str
    bill_fen: int
    discount_fen: int
    paid_fen: int
    void: bool
    void_reason: str = ""
    lost_card: str = ""  # the serial of the lost card this use was made with, if not this one


@dataclass(frozen=True)
class Statement:
    serial: str
    kind: str  # card | coupon
    campaign: str
    community: str
    office_phone: str
    household: str | None
    state: cardview.HolderState
    valid_from: date
    valid_until: date
    lines: tuple[StatementLine, ...]
    uses: int  # uses that count (not void)
    bill_fen: int  # of the uses that count
    discount_fen: int
    paid_fen: int
    uses_total: int | None  # the campaign's uses per card; None: no limit
    uses_left: int | None
    budget_fen: int | None  # the campaign's budget, shared by all its cards
    budget_left_fen: int | None


def statement(session: Session, card: Card, today: date | None = None) -> Statement:
    """Return every use of a card in time order (voids shown as such) and what is left.

    A replacement card's uses include those of the lost cards it replaces, as its page and its
    count of uses do.
    """
    today = today or local_today()
    campaign = session.get(Campaign, card.campaign_id)
    community = session.get(Community, card.community_id)
    batch = session.get(CardBatch, card.batch_id) if card.batch_id is not None else None
    first, last = valid_window(campaign, batch)
    rows = session.execute(
        select(Redemption, Merchant.name, Card.serial)
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .join(Card, Card.id == Redemption.card_id)
        .where(Redemption.card_id.in_(cardview.card_family(session, card)))
        .order_by(Redemption.created_at, Redemption.id)
    ).all()
    lines = tuple(
        StatementLine(
            at=use.created_at,
            shop=shop,
            bill_fen=use.bill_fen,
            discount_fen=use.discount_fen,
            paid_fen=use.paid_fen,
            void=use.status == RedemptionStatus.VOID,
            void_reason=use.void_reason or "",
            lost_card=serial if use.card_id != card.id else "",
        )
        for use, shop, serial in rows
    )
    counted = [line for line in lines if not line.void]
    budget_left = None
    if campaign.budget_fen is not None:
        budget_left = max(campaign.budget_fen - campaign.spent_fen, 0)
    return Statement(
        serial=card.serial,
        kind=campaign.kind.value,
        campaign=campaign.name,
        community=community.name,
        office_phone=community.phone or "",
        household=card.household,
        state=cardview.card_state(card, campaign, today, (first, last)),
        valid_from=first,
        valid_until=last,
        lines=lines,
        uses=len(counted),
        bill_fen=sum(line.bill_fen for line in counted),
        discount_fen=sum(line.discount_fen for line in counted),
        paid_fen=sum(line.paid_fen for line in counted),
        uses_total=campaign.uses_per_card,
        uses_left=cardview.uses_left(card, campaign),
        budget_fen=campaign.budget_fen,
        budget_left_fen=budget_left,
    )


# --- the shop-window sticker and the notice-board poster --------------------------------------


@dataclass(frozen=True)
class Sticker:
    shop: str
    community: str
    slug: str
    rules: tuple[cardview.ShopRule, ...]  # what the shop gives in each current campaign


def sticker(session: Session, merchant: Merchant) -> Sticker:
    """Return the shop's sticker: its name and the rules it gives in current campaigns."""
    community = session.get(Community, merchant.community_id)
    rules: tuple[cardview.ShopRule, ...] = ()
    try:
        page = cardview.community_page(session, community.slug)
    except NotFound:  # an archived community: its shops take no card
        page = None
    if page is not None:
        for _category, shops in page.shops.groups:
            for shop in shops:
                if shop.id == merchant.id:
                    rules = shop.rules
    return Sticker(shop=merchant.name, community=community.name, slug=community.slug, rules=rules)


@dataclass(frozen=True)
class PosterRow:
    shop: cardview.Shop
    rules: tuple[str, ...]  # the shop's rule in each of the poster's campaigns ("" for none)


@dataclass(frozen=True)
class Poster:
    community: str
    slug: str
    street: str
    office_phone: str
    campaigns: tuple[cardview.CampaignSummary, ...]
    rows: tuple[PosterRow, ...]  # the first shops taking part, a rule per campaign
    more: int = 0  # shops taking part that did not fit on the sheet (the QR lists them)


# What one A4 poster holds; more shops are counted and left to the page its QR opens, more
# campaigns are listed but get no column of their own.
POSTER_SHOPS = 20
POSTER_COLUMNS = 4


def poster(session: Session, community: Community) -> Poster:
    """Return the notice-board poster: current campaigns, the shops and their rules."""
    try:
        page = cardview.community_page(session, community.slug)
    except NotFound:  # archived: nothing is current
        return Poster(
            community.name, community.slug, community.street_name, community.phone, (), ()
        )
    columns = [campaign.name for campaign in page.campaigns[:POSTER_COLUMNS]]
    rows = []
    for _category, group in page.shops.groups:
        for shop in group:
            given = {rule.campaign: rule.text for rule in shop.rules}
            if any(name in given for name in columns):
                rows.append(PosterRow(shop, tuple(given.get(name, "") for name in columns)))
    return Poster(
        community=community.name,
        slug=community.slug,
        street=community.street_name,
        office_phone=community.phone,
        campaigns=page.campaigns,
        rows=tuple(rows[:POSTER_SHOPS]),
        more=max(len(rows) - POSTER_SHOPS, 0),
    )
