"""What a resident sees of a card: its state in plain words, where it works, its history.

The card page (`/c/<token>`), the lookup by serial and PIN (`/card`) and a community's public
page (`/s/<slug>`) read everything they show through this module. It only reads, except that a
failed lookup adds a row to the attempt log for the caller to commit.

Everything returned is plain data (dataclasses of strings and ints), so templates never load
anything lazily and the page costs a fixed, small number of queries.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import Connection, Text, and_, bindparam, cast, func, select
from sqlalchemy.orm import Session

from ..clock import local_today
from ..database import DriverStatement
from ..models import (
    MERCHANT_CATEGORIES,
    AttemptLog,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Card,
    CardStatus,
    Community,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    RedemptionStatus,
)
from ..rules import Rule
from . import audit
from .cards import normalise_serial, normalise_token
from .errors import N_, DomainError, NotFound
from .qr import card_qr_svg, card_qr_text, qr_svg
from .redemptions import RedeemError, check

HISTORY_LIMIT = 50  # the newest uses shown; the total counts them all
REPLACEMENT_DEPTH = 5  # a replacement of a replacement of ... is followed this far
_DUMMY_PIN = "0000"  # compared against when no card has the serial, so both answers take as long


class CardLookupError(DomainError):
    """A lookup by serial and PIN that found nothing; the same answer whichever was wrong."""

    messages = {
        "lookup_failed": N_(
            "No card matches this card number and PIN. Check both against the card and try again."
        ),
    }


# --- the card's state in plain words ----------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    """One of the states a resident can find a card in, with the words the page uses."""

    code: str
    label: str  # a msgid: 可用, 已用完, ...
    advice: str  # a msgid: what it means for the holder
    tone: str  # ok | warn | bad: the colour of the badge

    @property
    def usable(self) -> bool:
        return self.code == "usable"


STATES = {
    state.code: state
    for state in (
        CardState(
            "usable",
            N_("Usable"),
            N_("Show this QR code at a participating shop before you pay."),
            "ok",
        ),
        CardState(
            "used_up",
            N_("Used up"),
            N_("All the uses of this card have been used. Thank you for supporting local shops!"),
            "bad",
        ),
        CardState(
            "expired",
            N_("Expired"),
            N_("The campaign is over, so the card can no longer be used."),
            "bad",
        ),
        CardState(
            "not_issued",
            N_("Not handed out"),
            N_("This card has not been handed out yet. Please collect it at the community office."),
            "warn",
        ),
        CardState(
            "void",
            N_("Voided"),
            N_(
                "This card has been voided. If you think it is a mistake, ask the community office."
            ),
            "bad",
        ),
        CardState(
            "not_started",
            N_("Not started"),
            N_("The campaign has not started yet; the card works from its first day."),
            "warn",
        ),
        CardState(
            "campaign_paused",
            N_("Paused"),
            N_("The community office has paused the campaign for now. Please check again later."),
            "warn",
        ),
        CardState(
            "budget_exhausted",
            N_("Budget used up"),
            N_("The campaign's discount budget has been used up, so no more discounts are given."),
            "bad",
        ),
        CardState(  # a refusal the till may add later, said in general words
            "unusable",
            N_("Not usable now"),
            N_("This card cannot be used at the moment. Please ask the community office."),
            "warn",
        ),
    )
}


@dataclass(frozen=True)
class _AtATakingPartShop:
    """A card as the till's check() reads it, at an active shop that takes its campaign."""

    status: CardStatus
    campaign_status: CampaignStatus
    valid_from: date
    valid_until: date
    uses_left: int | None
    budget_fen: int | None
    spent_fen: int
    offer_status: OfferStatus = OfferStatus.ACTIVE


def card_state(card, campaign, today: date) -> CardState:
    """Return the state of `card` on `today`: what the till of any taking-part shop would say.

    The till's own check decides, so the card page and the till never disagree; only the
    refusals that depend on a particular shop (its status, its offer, its daily limit) are out.
    """
    at_till = _AtATakingPartShop(
        card.status,
        campaign.status,
        campaign.valid_from,
        campaign.valid_until,
        uses_left(card, campaign),
        campaign.budget_fen,
        campaign.spent_fen,
    )
    try:
        check(at_till, MerchantStatus.ACTIVE, today)
    except RedeemError as refusal:
        return STATES.get(refusal.code, STATES["unusable"])
    return STATES["usable"]


def uses_left(card: Card, campaign: Campaign) -> int | None:
    """Return how many more times the card can be used, or None when there is no limit."""
    if campaign.uses_per_card is None:
        return None
    return max(campaign.uses_per_card - card.uses_count, 0)


# --- where it works ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopRule:
    """A rule a shop gives, and the campaign it belongs to."""

    campaign: str
    text: str  # canonical, as on the shop's poster: 8折，最高减20
    explained: str  # for residents: 打8折，最多优惠20元


@dataclass(frozen=True)
class Shop:
    """A participating shop as residents see it."""

    id: int
    name: str
    category: str
    address: str
    hours: str
    phone: str
    tel: str  # the phone number as a `tel:` URL wants it: digits and a leading +
    rules: tuple[ShopRule, ...]
    full_today: bool = False  # this card reached today's limit at this shop


@dataclass(frozen=True)
class ShopList:
    """Shops grouped by category, with the categories to filter by."""

    categories: tuple[str, ...]  # every category that has a shop, in the usual order
    groups: tuple[tuple[str, tuple[Shop, ...]], ...]  # what the filter lets through
    selected: str | None
    total: int  # shops in every category

    @property
    def shown(self) -> int:
        return sum(len(shops) for _category, shops in self.groups)


def _category_order(category: str) -> tuple[int, str]:
    try:
        return (MERCHANT_CATEGORIES.index(category), category)
    except ValueError:
        return (len(MERCHANT_CATEGORIES), category)


def _group(shops: list[Shop], category: str | None) -> ShopList:
    categories = tuple(sorted({shop.category for shop in shops}, key=_category_order))
    selected = category if category in categories else None
    groups = tuple(
        (name, tuple(shop for shop in shops if shop.category == name))
        for name in categories
        if selected is None or name == selected
    )
    return ShopList(categories, groups, selected, len(shops))


# The page's statements are built once (building a select() costs more than running it) and
# run on the driver's cursor of the caller's connection (database.DriverStatement): they read
# plain rows, which the ORM and even SQLAlchemy's execution would only slow down.
_OFFERS = (
    select(
        Offer.campaign_id,
        cast(Offer.rule, Text).label("rule"),  # JSON text: hashable, and parsed only once
        Merchant.id,
        Merchant.name,
        Merchant.category,
        Merchant.address,
        Merchant.hours,
        Merchant.phone,
    )
    .join(Merchant, Merchant.id == Offer.merchant_id)
    .where(
        Offer.status == OfferStatus.ACTIVE,
        Merchant.status == MerchantStatus.ACTIVE,
        Merchant.community_id == Offer.community_id,
    )
    .order_by(Merchant.id, Offer.campaign_id)
)
# An IN list of one is the usual case, and a plain parameter is cheaper than an expanding one.
_OFFERS_OF_ONE = DriverStatement(_OFFERS.where(Offer.campaign_id == bindparam("campaign")))
_OFFERS_OF_MANY = DriverStatement(
    _OFFERS.where(Offer.campaign_id.in_(bindparam("campaigns", expanding=True)))
)


def _participating(connection: Connection, campaign_ids: list[int]) -> list[tuple]:
    """Return the live offers of the campaigns with their active shops, in shop order.

    Named tuples (campaign_id, rule, and the shop's columns): a page reads a dozen or two of
    them and needs no objects.
    """
    if not campaign_ids:
        return []
    if len(campaign_ids) == 1:
        return _OFFERS_OF_ONE.all(connection, {"campaign": campaign_ids[0]})
    return _OFFERS_OF_MANY.all(connection, {"campaigns": campaign_ids})


def _shop(merchant, rules: list[ShopRule], full_today: bool = False) -> Shop:
    """Return a shop from a Merchant or a row with its columns."""
    return Shop(
        id=merchant.id,
        name=merchant.name,
        category=merchant.category,
        address=merchant.address,
        hours=merchant.hours,
        phone=merchant.phone,
        tel=re.sub(r"[^\d+]", "", merchant.phone),
        rules=tuple(rules),
        full_today=full_today,
    )


def _shop_rule(rule_json: str | None, campaign) -> ShopRule:
    """Return the rule an offer gives (its own as JSON text, else the campaign's), as said."""
    if rule_json is None or rule_json == "null":  # the JSON column keeps None as `null`
        rule_json = json.dumps(campaign.default_rule, sort_keys=True)
    return _said(campaign.name, rule_json)


@lru_cache(maxsize=1024)
def _said(campaign: str, rule_json: str) -> ShopRule:
    # A page shows the same few rules again and again; reading one costs ~30 µs.
    rule = Rule.from_dict(json.loads(rule_json))
    return ShopRule(campaign, rule.render(), rule.explain())


def _campaign_shops(rows, campaign, full_today: frozenset[int]) -> list[Shop]:
    """Return the shops of `rows` (from _OFFERS), each with its rule in `campaign`.

    `full_today` holds the shops where the card has reached today's limit.
    """
    return [_shop(row, [_shop_rule(row.rule, campaign)], row.id in full_today) for row in rows]


def common_rule(campaign: Campaign, shops: list[Shop]) -> ShopRule | None:
    """Return the rule every shop of the campaign gives, or None when shops differ.

    With no shop taking part yet, the campaign's default rule is the one that will apply.
    """
    given = {(rule.text, rule.explained) for shop in shops for rule in shop.rules}
    if len(given) == 1:
        ((text, explained),) = given
        return ShopRule(campaign.name, text, explained)
    if not given and campaign.default_rule:
        return _shop_rule(None, campaign)
    return None


# --- the card page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One line of the holder's history."""

    day: date
    at: datetime
    shop: str
    bill_fen: int
    discount_fen: int
    voided: bool


@dataclass(frozen=True)
class CardPage:
    """Everything the resident's card page shows."""

    serial: str
    token: str
    qr_svg: str
    state: CardState
    kind: str  # card | coupon
    campaign: str
    community: str
    community_slug: str
    valid_from: date
    valid_until: date
    uses_total: int | None  # None: no limit
    uses_left: int | None
    used_today: int
    daily_per_shop: int | None
    days_left: int | None  # days until it expires, counting today, while it is usable
    rule: ShopRule | None  # the one rule every shop gives, when they all give the same
    shops: ShopList
    history: tuple[Use, ...]  # the newest HISTORY_LIMIT uses, voided ones too
    history_complete: bool  # False when older uses are left out
    history_count: int  # every live use, also those left out
    saved_fen: int
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Hashed on every view, as the key of the rendered HTML: the fields are hashed once.
        values = tuple(getattr(self, f.name) for f in fields(self) if f.compare)
        object.__setattr__(self, "_hash", hash(values))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_coupon(self) -> bool:
        return self.kind == CampaignKind.COUPON.value


@dataclass(frozen=True, slots=True)
class _Card:
    """A card as its page reads it (duck-types the model for card_state and the QR)."""

    id: int
    serial: str
    token: str
    status: CardStatus
    uses_count: int
    replaces_id: int | None
    qr_svg: str | None


@dataclass(frozen=True, slots=True)
class _Campaign:
    """A card's campaign and community as its page reads them."""

    id: int
    name: str
    kind: CampaignKind
    status: CampaignStatus
    valid_from: date
    valid_until: date
    uses_per_card: int | None
    daily_uses_per_merchant: int | None
    budget_fen: int | None
    spent_fen: int
    default_rule: dict | None
    community: str
    community_slug: str


_CARD_BY_TOKEN = DriverStatement(
    select(
        Card.id,
        Card.serial,
        Card.token,
        Card.status,
        Card.uses_count,
        Card.replaces_id,
        Card.qr_svg,
        Campaign.id,
        Campaign.name,
        Campaign.kind,
        Campaign.status,
        Campaign.valid_from,
        Campaign.valid_until,
        Campaign.uses_per_card,
        Campaign.daily_uses_per_merchant,
        Campaign.budget_fen,
        Campaign.spent_fen,
        cast(Campaign.default_rule, Text),
        Community.name,
        Community.slug,
    )
    .join(Campaign, Campaign.id == Card.campaign_id)
    .join(Community, Community.id == Campaign.community_id)
    .where(Card.token == bindparam("token"))
)


def _card_family(connection: Connection, card: _Card) -> list[int]:
    """Return the ids of `card` and of the lost cards it replaces (their uses carry over)."""
    ids = [card.id]
    previous = card.replaces_id
    while previous is not None and len(ids) <= REPLACEMENT_DEPTH and previous not in ids:
        ids.append(previous)
        previous = connection.scalar(select(Card.replaces_id).where(Card.id == previous))
    return ids


@lru_cache(maxsize=4096)
def _drawn_qr(text: str, label: str) -> str:
    return qr_svg(text, label=label)


def card_qr(card: Card | _Card, base_url: str) -> str:
    """Return the card's QR SVG: its stored drawing, else one this process drew before.

    The drawing is a pure function of the URL, so a worker draws each card once (~1 ms) and
    then reuses it; the stored drawing (print sheets keep one) saves even that.
    """
    text = card_qr_text(base_url, card.token)
    if (card.qr_svg or "").startswith(text + "\n"):
        return card_qr_svg(card, base_url)
    return _drawn_qr(text, card.serial)


def card_page(
    connection: Connection,
    token: str,
    base_url: str,
    *,
    category: str | None = None,
    today: date | None = None,
) -> CardPage:
    """Return what the card page shows for the card with QR token `token`.

    Raises `NotFound` for an unknown token. `base_url` is the site's address the QR encodes.
    Three statements for nearly every card: the card with its campaign and community, its
    uses, and the shops; two more count the totals of a card with more uses than are shown.
    They run on `connection`, in one transaction for a consistent picture: a plain
    connection, not a session, because the page only reads rows and a session's
    bookkeeping cost more than the statements (`session.connection()` gives one in tests).
    """
    today = today or local_today()
    card_row = _CARD_BY_TOKEN.first(connection, {"token": normalise_token(token)})
    if card_row is None:
        raise NotFound()
    family = _card_family(connection, _Card(*card_row[:7]))
    if len(family) == 1:
        use_rows = _USES_OF_ONE.all(connection, {"card": family[0]})
    else:
        use_rows = _USES_OF_MANY.all(connection, {"cards": family})
    totals = _totals(connection, family, today) if len(use_rows) > HISTORY_LIMIT else None
    shop_rows = _participating(connection, [card_row[7]])
    return _page(card_row, tuple(use_rows), totals, tuple(shop_rows), today, base_url, category)


@lru_cache(maxsize=1024)
def _page(card_row, use_rows, totals, shop_rows, today, base_url, category) -> CardPage:
    """Build the page from the rows read for it.

    A pure function of what was read, so a worker showing a card again with nothing on it
    changed reuses the page it built (and then the HTML it rendered) instead of building it.
    """
    card = _Card(*card_row[:7])
    default_rule = json.loads(card_row[17]) if card_row[17] else None  # `null` gives None
    campaign = _Campaign(*card_row[7:17], default_rule, *card_row[18:])
    uses = _Uses.of(use_rows, totals, today)
    daily = campaign.daily_uses_per_merchant
    full_today = frozenset(
        shop for shop, count in uses.today_by_shop.items() if daily is not None and count >= daily
    )
    shops = _campaign_shops(shop_rows, campaign, full_today)
    state = card_state(card, campaign, today)
    return CardPage(
        serial=card.serial,
        token=card.token,
        qr_svg=card_qr(card, base_url),
        state=state,
        kind=campaign.kind.value,
        campaign=campaign.name,
        community=campaign.community,
        community_slug=campaign.community_slug,
        valid_from=campaign.valid_from,
        valid_until=campaign.valid_until,
        uses_total=campaign.uses_per_card,
        uses_left=uses_left(card, campaign),
        used_today=sum(uses.today_by_shop.values()),
        daily_per_shop=daily,
        days_left=(campaign.valid_until - today).days + 1 if state.usable else None,
        rule=common_rule(campaign, shops),
        shops=_group(shops, category),
        history=uses.history[:HISTORY_LIMIT],
        history_complete=len(uses.history) <= HISTORY_LIMIT,
        history_count=uses.count,
        saved_fen=uses.saved_fen,
    )


@dataclass(frozen=True)
class _Uses:
    history: tuple[Use, ...]  # the newest, one more than shown
    count: int  # live uses, all of them
    saved_fen: int  # their discounts, all of them
    today_by_shop: dict[int, int]  # live uses today at each shop

    @classmethod
    def of(cls, rows, totals: tuple | None, today: date) -> _Uses:
        """Read the rows of _USES, newest first.

        When they are all the card's uses (`totals` is None), the totals are counted from
        them; otherwise `totals` holds what _totals() counted in the database.
        """
        history = tuple(
            Use(day, at, shop, bill, discount, status == RedemptionStatus.VOID)
            for day, at, shop, bill, discount, status, _shop_id in rows
        )
        if totals is not None:
            count, saved_fen, today_by_shop = totals
            return cls(history, count, saved_fen, dict(today_by_shop))
        live = [row for row in rows if row.status == RedemptionStatus.OK]
        today_by_shop = Counter(row.merchant_id for row in live if row.local_day == today)
        return cls(history, len(live), sum(row.discount_fen for row in live), today_by_shop)


# The newest uses, one more than the page shows: for nearly every card these are all its uses,
# and the totals are counted from them; only a card used more often needs _totals().
_USES = (
    select(
        Redemption.local_day,
        Redemption.created_at,
        Merchant.name,
        Redemption.bill_fen,
        Redemption.discount_fen,
        Redemption.status,
        Redemption.merchant_id,
    )
    .join(Merchant, Merchant.id == Redemption.merchant_id)
    .order_by(Redemption.created_at.desc(), Redemption.id.desc())
    .limit(HISTORY_LIMIT + 1)
)
_USES_OF_ONE = DriverStatement(_USES.where(Redemption.card_id == bindparam("card")))
_USES_OF_MANY = DriverStatement(  # a replacement card and the lost ones it replaces
    _USES.where(Redemption.card_id.in_(bindparam("cards", expanding=True)))
)


def _totals(connection: Connection, family: list[int], today: date) -> tuple:
    """Return (live uses, their discounts in fen, ((shop id, live uses today), ...)) of the
    cards in `family`, for a card with more uses than the page shows."""
    live = and_(Redemption.card_id.in_(family), Redemption.status == RedemptionStatus.OK)
    count, saved_fen = connection.execute(
        select(func.count(), func.coalesce(func.sum(Redemption.discount_fen), 0)).where(live)
    ).one()
    today_by_shop = connection.execute(
        select(Redemption.merchant_id, func.count())
        .where(live, Redemption.local_day == today)
        .group_by(Redemption.merchant_id)
        .order_by(Redemption.merchant_id)
    ).all()
    return count, saved_fen, tuple((shop, n) for shop, n in today_by_shop)


# --- lookup by serial and PIN -----------------------------------------------------------------


def lookup(session: Session, serial: str, pin: str) -> Card:
    """Return the card with this printed serial and PIN, for someone who lost the QR.

    A wrong serial and a wrong PIN get the same refusal after the same work, and both are
    added to the attempt log (code `lookup_failed`, channel `lookup`); the caller commits it.
    """
    typed = normalise_serial(serial)[:40]
    card = session.scalar(select(Card).where(Card.serial == typed)) if typed else None
    expected = card.pin if card is not None else _DUMMY_PIN
    pin_matches = secrets.compare_digest((pin or "").strip().encode(), expected.encode())
    if card is not None and pin_matches:
        return card
    session.add(
        AttemptLog(
            code="lookup_failed",
            community_id=card.community_id if card is not None else None,
            card_id=card.id if card is not None else None,
            card_ref=typed or (serial or "")[:40],
            channel="lookup",
            ip=audit.client_ip.get(),
        )
    )
    raise CardLookupError("lookup_failed")


# --- a community's public page ----------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSummary:
    """A current campaign as the notice board shows it."""

    name: str
    kind: str
    status: str
    valid_from: date
    valid_until: date
    description: str
    rule: ShopRule | None
    shop_count: int

    @property
    def is_coupon(self) -> bool:
        return self.kind == CampaignKind.COUPON.value

    @property
    def paused(self) -> bool:
        return self.status == CampaignStatus.PAUSED.value


@dataclass(frozen=True)
class CommunityPage:
    """A community's public page: its current campaigns and the shops that take them."""

    name: str
    slug: str
    street: str
    district: str
    campaigns: tuple[CampaignSummary, ...]
    shops: ShopList


def community_page(
    session: Session, slug: str, *, category: str | None = None, today: date | None = None
) -> CommunityPage:
    """Return the public page of the community `slug`: current campaigns and their shops.

    A campaign is current while it is active or paused and its last day has not passed. Every
    active shop of the community is listed, with the rules it gives in current campaigns.
    Raises `NotFound` for an unknown slug.
    """
    today = today or local_today()
    community = session.scalar(select(Community).where(Community.slug == (slug or "")[:40]))
    if community is None:
        raise NotFound()
    campaigns = list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.community_id == community.id,
                Campaign.status.in_([CampaignStatus.ACTIVE, CampaignStatus.PAUSED]),
                Campaign.valid_until >= today,
            )
            .order_by(Campaign.valid_from, Campaign.id)
        )
    )
    by_id = {campaign.id: campaign for campaign in campaigns}
    rules: dict[int, list[ShopRule]] = {}
    given: dict[int, list[Shop]] = {}
    for row in _participating(session.connection(), list(by_id)):
        shop_rule = _shop_rule(row.rule, by_id[row.campaign_id])
        rules.setdefault(row.id, []).append(shop_rule)
        given.setdefault(row.campaign_id, []).append(_shop(row, [shop_rule]))
    merchants = session.scalars(
        select(Merchant)
        .where(Merchant.community_id == community.id, Merchant.status == MerchantStatus.ACTIVE)
        .order_by(Merchant.id)
    )
    shops = [_shop(merchant, rules.get(merchant.id, [])) for merchant in merchants]
    return CommunityPage(
        name=community.name,
        slug=community.slug,
        street=community.street,
        district=community.district,
        campaigns=tuple(
            CampaignSummary(
                name=campaign.name,
                kind=campaign.kind.value,
                status=campaign.status.value,
                valid_from=campaign.valid_from,
                valid_until=campaign.valid_until,
                description=campaign.description,
                rule=common_rule(campaign, given.get(campaign.id, [])),
                shop_count=len(given.get(campaign.id, [])),
            )
            for campaign in campaigns
        ),
        shops=_group(shops, category),
    )
