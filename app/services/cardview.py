"""What a resident sees of a card: its state in plain words, where it works, its history.

The card page (`/c/<token>`), the lookup by serial and PIN (`/card`) and a community's public
page (`/s/<slug>`) read everything they show through this module, with the request's session.
It only reads, except that a failed lookup adds a row to the attempt log for the caller to
commit.

The card page is made in two steps so that a repeat visit costs little: `read_card` reads the
few rows the page is made of (the card, its campaign and community, its newest uses, the shops)
and gives a digest of them; the page answers `304 Not Modified` when the digest is what the
browser already has, and only otherwise `build_page` makes the page from the same rows.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, and_, bindparam, func, select
from sqlalchemy import inspect as inspect_entity
from sqlalchemy.orm import Session

from ..clock import local_today
from ..models import (
    MERCHANT_CATEGORIES,
    AttemptLog,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Card,
    CardBatch,
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
from . import audit, pins
from .cards import normalise_serial, normalise_token
from .errors import N_, DomainError, NotFound
from .qr import card_qr_svg
from .waves import valid_window

HISTORY_LIMIT = 50  # the newest uses shown; the total counts them all
REPLACEMENT_DEPTH = 5  # a replacement of a replacement of ... is followed this far
_DUMMY_PIN = "0000"  # compared against when no card has the serial, so both answers take as long


class CardLookupError(DomainError):
    """A lookup by serial and PIN that found nothing; the same answer whichever was wrong."""

    messages = {
        "lookup_failed": N_(
            "No card matches this card number and PIN. Check both against the card and try again."
        ),
        "pin_locked": pins.LOCKED_MESSAGE,
    }


# --- the card's state in plain words ----------------------------------------------------------


@dataclass(frozen=True)
class HolderState:
    """A state a resident can find a card or coupon in, with the words the page says of it.

    Each text is a msgid, said of a 卡 (`label`, `advice`) and of a 券 (`coupon_label`,
    `coupon_advice`).
    """

    code: str
    tone: str  # ok | warn | bad: the colour of the badge
    label: str
    advice: str
    coupon_label: str
    coupon_advice: str

    @property
    def usable(self) -> bool:
        return self.code == "usable"

    @property
    def final(self) -> bool:
        """Whether the card can never be used again: no QR to show, nothing to wait for."""
        return self.code in {"used_up", "expired", "void"}


STATES = {
    state.code: state
    for state in (
        HolderState(
            "usable",
            "ok",
            N_("Usable"),
            N_("Show this QR code at a participating shop before you pay."),
            N_("Usable"),
            N_("Show this QR code at a participating shop before you pay. It can be used once."),
        ),
        HolderState(
            "used_up",
            "bad",
            N_("Used up"),
            N_("All the uses of this card have been used. Thank you for supporting local shops!"),
            N_("Used"),
            N_("This coupon has been used. Thank you for supporting local shops!"),
        ),
        HolderState(
            "expired",
            "bad",
            N_("Expired"),
            N_("The campaign is over, so the card can no longer be used."),
            N_("Expired"),
            N_("The campaign is over, so the coupon can no longer be used."),
        ),
        HolderState(
            "not_issued",
            "warn",
            N_("Not handed out"),
            N_("This card has not been handed out yet. Please collect it at the community office."),
            N_("Not handed out"),
            N_(
                "This coupon has not been handed out yet. Please collect it at the community "
                "office."
            ),
        ),
        HolderState(
            "void",
            "bad",
            N_("Voided"),
            N_(
                "This card has been voided. If you think it is a mistake, ask the community office."
            ),
            N_("Voided"),
            N_(
                "This coupon has been voided. If you think it is a mistake, ask the community "
                "office."
            ),
        ),
        HolderState(
            "not_started",
            "warn",
            N_("Not started"),
            N_("The campaign has not started yet; the card works from its first day."),
            N_("Not started"),
            N_("The campaign has not started yet; the coupon works from its first day."),
        ),
        HolderState(
            "campaign_paused",
            "warn",
            N_("Paused"),
            N_("The community office has paused the campaign for now. Please check again later."),
            N_("Paused"),
            N_("The community office has paused the campaign for now. Please check again later."),
        ),
        HolderState(
            "budget_exhausted",
            "bad",
            N_("Budget used up"),
            N_("The campaign's discount budget has been used up, so no more discounts are given."),
            N_("Budget used up"),
            N_("The campaign's discount budget has been used up, so no more discounts are given."),
        ),
    )
}


def card_state(
    card: Card, campaign: Campaign, today: date, window: tuple[date, date] | None = None
) -> HolderState:
    """Return the state of `card` on `today`: what the till of any taking-part shop would say.

    The till's own refusals (`redemptions.refuse_unless_usable`) in the till's order, less
    those about one particular shop (its status, its offer, its daily limit, its hours); a
    test holds the two together. `window` is the card's first and last day when its wave has
    days of its own (`waves.valid_window`); else the campaign's.
    """
    return STATES[_refusal(card, campaign, today, window) or "usable"]


def _refusal(card: Card, campaign: Campaign, today: date, window=None) -> str | None:
    first, last = window or (campaign.valid_from, campaign.valid_until)
    if card.status == CardStatus.VOID:
        return "void"
    if card.status == CardStatus.NEW:
        return "not_issued"
    if campaign.status == CampaignStatus.PAUSED:
        return "campaign_paused"
    if campaign.status == CampaignStatus.DRAFT or today < first:
        return "not_started"
    if campaign.status == CampaignStatus.ENDED or today > last or card.status == CardStatus.EXPIRED:
        return "expired"
    if card.status == CardStatus.USED_UP or uses_left(card, campaign) == 0:
        return "used_up"
    if campaign.budget_fen is not None and campaign.spent_fen >= campaign.budget_fen:
        return "budget_exhausted"
    return None


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


_OFFERS = (
    select(
        Offer.campaign_id,
        Offer.rule,
        Merchant.id,
        Merchant.name,
        Merchant.category,
        Merchant.address,
        Merchant.hours,
        Merchant.phone,
    )
    .join(Merchant, Merchant.id == Offer.merchant_id)
    .where(
        Offer.campaign_id.in_(bindparam("campaigns", expanding=True)),
        Offer.status == OfferStatus.ACTIVE,
        Merchant.status == MerchantStatus.ACTIVE,
        Merchant.community_id == Offer.community_id,
    )
    .order_by(Merchant.id, Offer.campaign_id)
)


def _participating(session: Session, campaign_ids: list[int]) -> list[Row]:
    """Return the live offers of the campaigns with their active shops, in shop order: rows of
    the campaign's id, the offer's rule and the shop's columns."""
    if not campaign_ids:
        return []
    return session.execute(_OFFERS, {"campaigns": campaign_ids}).all()


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


def _shop_rule(rule: dict | None, campaign: Campaign) -> ShopRule:
    """Return the rule an offer gives (its own, else the campaign's), as people say it."""
    said = Rule.from_dict(rule if rule is not None else campaign.default_rule)
    return ShopRule(campaign.name, said.render(), said.explain())


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
    state: HolderState
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

    @property
    def is_coupon(self) -> bool:
        return self.kind == CampaignKind.COUPON.value

    @property
    def state_label(self) -> str:
        return self.state.coupon_label if self.is_coupon else self.state.label

    @property
    def state_advice(self) -> str:
        return self.state.coupon_advice if self.is_coupon else self.state.advice


@dataclass(frozen=True)
class UseTotals:
    """The live uses of a card, counted in the database when there are more than are shown."""

    count: int
    saved_fen: int
    today_by_shop: tuple[tuple[int, int], ...]  # (shop id, live uses today)


@dataclass(frozen=True)
class CardRows:
    """The rows a card's page is made of, read in one transaction."""

    card: Card
    campaign: Campaign
    community: Community
    family: tuple[int, ...]  # the card and the lost cards it replaces
    uses: tuple[Row, ...]  # newest first, one more than the page shows
    totals: UseTotals | None  # None when `uses` are all the card's uses
    offers: tuple[Row, ...]
    today: date
    window: tuple[date, date]  # the days the card may be used: its wave's within the campaign's

    def digest(self) -> str:
        """Return a digest of every row and value read: equal digests make equal pages."""
        campaign = self.campaign
        # The campaign's spent sum moves with every use of every card; the page shows only
        # whether the budget is used up, so one card's use leaves the others' pages unchanged.
        budget_used_up = (
            campaign.budget_fen is not None and campaign.spent_fen >= campaign.budget_fen
        )
        read = (
            _columns(self.card),
            _columns(campaign, leave_out={"spent_fen"}),
            budget_used_up,
            _columns(self.community),
            self.window,
            self.family,
            tuple(tuple(use) for use in self.uses),
            self.totals,
            tuple(tuple(offer) for offer in self.offers),
            self.today,
        )
        return hashlib.blake2b(repr(read).encode(), digest_size=16).hexdigest()


def _columns(entity, leave_out: frozenset[str] | set[str] = frozenset()) -> tuple:
    """The values of an ORM object's columns, but deferred ones (the stored QR drawing: a
    function of the token and the site's address, which the digest holds anyway)."""
    mapper = inspect_entity(entity).mapper
    return tuple(
        getattr(entity, column.key)
        for column in mapper.column_attrs
        if not column.deferred and column.key not in leave_out
    )


# The page's statements, built once like the till's (building a select() costs more than the
# query); values are bound when they run.
_CARD = (
    select(Card, Campaign, Community, CardBatch)
    .join(Campaign, Campaign.id == Card.campaign_id)
    .join(Community, Community.id == Campaign.community_id)
    .outerjoin(CardBatch, CardBatch.id == Card.batch_id)  # a wave's own days
    .where(Card.token == bindparam("token"))
)
_USES = (
    select(
        Redemption.local_day,
        Redemption.created_at,
        Merchant.name.label("shop"),
        Redemption.bill_fen,
        Redemption.discount_fen,
        Redemption.status,
        Redemption.merchant_id,
    )
    .join(Merchant, Merchant.id == Redemption.merchant_id)
    .where(Redemption.card_id.in_(bindparam("family", expanding=True)))
    .order_by(Redemption.created_at.desc(), Redemption.id.desc())
    .limit(HISTORY_LIMIT + 1)
)


def read_card(session: Session, token: str, *, today: date | None = None) -> CardRows:
    """Read what the page of the card with QR token `token` is made of; `NotFound` if none.

    Three statements for nearly every card: the card with its campaign, community and wave, its
    newest uses, and the shops; one more for each lost card it replaces, and two more count
    the totals of a card with more uses than are shown.
    """
    found = session.execute(_CARD, {"token": normalise_token(token)}).one_or_none()
    if found is None:
        raise NotFound()
    card, campaign, community, batch = found
    today = today or local_today()
    family = card_family(session, card)
    uses = session.execute(_USES, {"family": list(family)}).all()
    totals = _totals(session, family, today) if len(uses) > HISTORY_LIMIT else None
    offers = _participating(session, [campaign.id])
    window = valid_window(campaign, batch)
    return CardRows(
        card, campaign, community, family, tuple(uses), totals, tuple(offers), today, window
    )


def card_family(session: Session, card: Card) -> tuple[int, ...]:
    """Return the ids of `card` and of the lost cards it replaces (their uses carry over)."""
    ids = [card.id]
    previous = card.replaces_id
    while previous is not None and len(ids) <= REPLACEMENT_DEPTH and previous not in ids:
        ids.append(previous)
        previous = session.scalar(select(Card.replaces_id).where(Card.id == previous))
    return tuple(ids)


def _totals(session: Session, family: tuple[int, ...], today: date) -> UseTotals:
    live = and_(Redemption.card_id.in_(family), Redemption.status == RedemptionStatus.OK)
    count, saved_fen = session.execute(
        select(func.count(), func.coalesce(func.sum(Redemption.discount_fen), 0)).where(live)
    ).one()
    today_by_shop = session.execute(
        select(Redemption.merchant_id, func.count())
        .where(live, Redemption.local_day == today)
        .group_by(Redemption.merchant_id)
        .order_by(Redemption.merchant_id)
    ).all()
    return UseTotals(count, saved_fen, tuple((shop, n) for shop, n in today_by_shop))


def build_page(rows: CardRows, base_url: str, *, category: str | None = None) -> CardPage:
    """Make the card page from its rows. `base_url` is the site's address the QR encodes."""
    card, campaign, today = rows.card, rows.campaign, rows.today
    history = tuple(
        Use(
            use.local_day,
            use.created_at,
            use.shop,
            use.bill_fen,
            use.discount_fen,
            use.status == RedemptionStatus.VOID,
        )
        for use in rows.uses
    )
    if rows.totals is None:
        live = [use for use in rows.uses if use.status == RedemptionStatus.OK]
        totals = UseTotals(
            len(live),
            sum(use.discount_fen for use in live),
            tuple(Counter(use.merchant_id for use in live if use.local_day == today).items()),
        )
    else:
        totals = rows.totals
    state = card_state(card, campaign, today, rows.window)
    first_day, last_day = rows.window
    daily = campaign.daily_uses_per_merchant
    full_today = {shop for shop, n in totals.today_by_shop if daily is not None and n >= daily}
    shops = [
        _shop(offer, [_shop_rule(offer.rule, campaign)], state.usable and offer.id in full_today)
        for offer in rows.offers
    ]
    return CardPage(
        serial=card.serial,
        token=card.token,
        qr_svg=card_qr_svg(card, base_url),
        state=state,
        kind=campaign.kind.value,
        campaign=campaign.name,
        community=rows.community.name,
        community_slug=rows.community.slug,
        valid_from=first_day,
        valid_until=last_day,
        uses_total=campaign.uses_per_card,
        uses_left=uses_left(card, campaign),
        used_today=sum(n for _shop_id, n in totals.today_by_shop),
        daily_per_shop=daily,
        days_left=(last_day - today).days + 1 if state.usable else None,
        rule=common_rule(campaign, shops),
        shops=_group(shops, category),
        history=history[:HISTORY_LIMIT],
        history_complete=len(history) <= HISTORY_LIMIT,
        history_count=totals.count,
        saved_fen=totals.saved_fen,
    )


def card_page(
    session: Session,
    token: str,
    base_url: str,
    *,
    category: str | None = None,
    today: date | None = None,
) -> CardPage:
    """Return what the page of the card with QR token `token` shows; `NotFound` if none."""
    return build_page(read_card(session, token, today=today), base_url, category=category)


# --- lookup by serial and PIN -----------------------------------------------------------------


def lookup(session: Session, serial: str, pin: str) -> Card:
    """Return the card with this printed serial and PIN, for someone who lost the QR.

    A wrong serial and a wrong PIN get the same refusal after the same work, and both are
    added to the attempt log (channel `lookup`): `lookup_failed` for a serial no card has,
    `wrong_pin` naming the card, which counts against it as a wrong PIN at a till does. A card
    with five wrong PINs in the hour is refused (`pin_locked`) until the hour has passed or
    staff release it. The caller commits the attempt.
    """
    typed = normalise_serial(serial)[:40]
    card = session.scalar(select(Card).where(Card.serial == typed)) if typed else None
    expected = card.pin if card is not None else _DUMMY_PIN
    locked = pins.is_locked(session, card.id if card is not None else 0)
    pin_matches = secrets.compare_digest((pin or "").strip().encode()[:16], expected.encode())
    if card is not None and pin_matches and not locked:
        return card
    code = "lookup_failed" if card is None else "pin_locked" if locked else pins.WRONG_PIN
    session.add(
        AttemptLog(
            code=code,
            community_id=card.community_id if card is not None else None,
            card_id=card.id if card is not None else None,
            card_ref=typed or (serial or "")[:40],
            channel="lookup",
            ip=audit.client_ip.get(),
        )
    )
    raise CardLookupError("pin_locked" if code == "pin_locked" else "lookup_failed")


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
    community = session.scalar(
        select(Community).where(
            Community.slug == (slug or "")[:40], Community.archived_at.is_(None)
        )
    )
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
    for row in _participating(session, list(by_id)):
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
        street=community.street_name,
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
