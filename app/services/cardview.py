"""What a resident sees of a card: its state in plain words, where it works, its history.

The card page (`/c/<token>`), the lookup by serial and PIN (`/card`) and a community's public
page (`/s/<slug>`) read everything they show through this module. It only reads, except that a
failed lookup adds a row to the attempt log for the caller to commit.

Everything returned is plain data (dataclasses of strings and ints), so templates never load
anything lazily and the page costs a fixed, small number of queries.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload, undefer

from ..clock import local_today
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
from .qr import card_qr_svg
from .redemptions import rule_for

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
            "paused",
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
    )
}


def card_state(card: Card, campaign: Campaign, today: date) -> CardState:
    """Return the state of `card` on `today`, checked in the order the till checks it."""
    if card.status == CardStatus.VOID:
        return STATES["void"]
    if card.status == CardStatus.NEW:
        return STATES["not_issued"]
    if campaign.status == CampaignStatus.PAUSED:
        return STATES["paused"]
    if campaign.status == CampaignStatus.DRAFT or today < campaign.valid_from:
        return STATES["not_started"]
    if (
        campaign.status == CampaignStatus.ENDED
        or today > campaign.valid_until
        or card.status == CardStatus.EXPIRED
    ):
        return STATES["expired"]
    if card.status == CardStatus.USED_UP or uses_left(card, campaign) == 0:
        return STATES["used_up"]
    if campaign.budget_fen is not None and campaign.spent_fen >= campaign.budget_fen:
        return STATES["budget_exhausted"]
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
    rules: tuple[ShopRule, ...]
    full_today: bool = False  # this card reached today's limit at this shop

    @property
    def tel(self) -> str:
        """Return the phone number as a `tel:` URL wants it (digits and a leading +)."""
        return re.sub(r"[^\d+]", "", self.phone)


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


def _participating(session: Session, campaign_ids: list[int]) -> list[tuple[Offer, Merchant]]:
    """Return the live offers of the campaigns with their active merchants, in shop order."""
    if not campaign_ids:
        return []
    return list(
        session.execute(
            select(Offer, Merchant)
            .join(Merchant, Merchant.id == Offer.merchant_id)
            .where(
                Offer.campaign_id.in_(campaign_ids),
                Offer.status == OfferStatus.ACTIVE,
                Merchant.status == MerchantStatus.ACTIVE,
                Merchant.community_id == Offer.community_id,
            )
            .order_by(Merchant.id, Offer.campaign_id)
        )
    )


def _shop(merchant: Merchant, rules: list[ShopRule], full_today: bool = False) -> Shop:
    return Shop(
        id=merchant.id,
        name=merchant.name,
        category=merchant.category,
        address=merchant.address,
        hours=merchant.hours,
        phone=merchant.phone,
        rules=tuple(rules),
        full_today=full_today,
    )


def _shop_rule(offer: Offer, campaign: Campaign) -> ShopRule:
    rule = rule_for(offer, campaign)
    return ShopRule(campaign.name, rule.render(), rule.explain())


def _campaign_shops(
    session: Session, campaign: Campaign, full_today: frozenset[int] = frozenset()
) -> list[Shop]:
    """Return the active shops taking part in `campaign`, each with its rule.

    A suspended shop, a withdrawn offer and a shop of another community are left out;
    `full_today` holds the shops where the card has reached today's limit.
    """
    return [
        _shop(merchant, [_shop_rule(offer, campaign)], merchant.id in full_today)
        for offer, merchant in _participating(session, [campaign.id])
    ]


def common_rule(campaign: Campaign, shops: list[Shop]) -> ShopRule | None:
    """Return the rule every shop of the campaign gives, or None when shops differ.

    With no shop taking part yet, the campaign's default rule is the one that will apply.
    """
    given = {(rule.text, rule.explained) for shop in shops for rule in shop.rules}
    if len(given) == 1:
        ((text, explained),) = given
        return ShopRule(campaign.name, text, explained)
    if not given and campaign.default_rule:
        rule = Rule.from_dict(campaign.default_rule)
        return ShopRule(campaign.name, rule.render(), rule.explain())
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

    @property
    def is_coupon(self) -> bool:
        return self.kind == CampaignKind.COUPON.value


def find_by_token(session: Session, token: str) -> Card | None:
    """Return the card whose QR token is `token`, or None.

    Every token, well-formed or not, costs the same single lookup on the unique index, so the
    answer to a guess takes as long as the answer to any other guess.
    """
    return session.scalar(
        select(Card)
        .where(Card.token == normalise_token(token))
        .options(
            undefer(Card.qr_svg),
            joinedload(Card.campaign, innerjoin=True).joinedload(
                Campaign.community, innerjoin=True
            ),
        )
    )


def _card_family(session: Session, card: Card) -> list[int]:
    """Return the ids of `card` and of the lost cards it replaces (their uses carry over)."""
    ids = [card.id]
    previous = card.replaces_id
    while previous is not None and len(ids) <= REPLACEMENT_DEPTH and previous not in ids:
        ids.append(previous)
        previous = session.scalar(select(Card.replaces_id).where(Card.id == previous))
    return ids


def card_page(
    session: Session,
    token: str,
    base_url: str,
    *,
    category: str | None = None,
    today: date | None = None,
) -> CardPage:
    """Return what the card page shows for the card with QR token `token`.

    Raises `NotFound` for an unknown token. `base_url` is the site's address the QR encodes.
    """
    today = today or local_today()
    card = find_by_token(session, token)
    if card is None:
        raise NotFound()
    campaign = card.campaign
    family = _card_family(session, card)
    used_today_by_shop = dict(
        session.execute(
            select(Redemption.merchant_id, func.count(Redemption.id))
            .where(
                Redemption.card_id.in_(family),
                Redemption.local_day == today,
                Redemption.status == RedemptionStatus.OK,
            )
            .group_by(Redemption.merchant_id)
        ).all()
    )
    daily = campaign.daily_uses_per_merchant
    full_today = frozenset(
        shop for shop, count in used_today_by_shop.items() if daily is not None and count >= daily
    )
    shops = _campaign_shops(session, campaign, full_today)
    state = card_state(card, campaign, today)
    history_count, saved_fen = _totals(session, family)
    history = _history(session, family, HISTORY_LIMIT + 1)
    return CardPage(
        serial=card.serial,
        token=card.token,
        qr_svg=card_qr_svg(card, base_url),
        state=state,
        kind=campaign.kind.value,
        campaign=campaign.name,
        community=campaign.community.name,
        community_slug=campaign.community.slug,
        valid_from=campaign.valid_from,
        valid_until=campaign.valid_until,
        uses_total=campaign.uses_per_card,
        uses_left=uses_left(card, campaign),
        used_today=sum(used_today_by_shop.values()),
        daily_per_shop=daily,
        days_left=(campaign.valid_until - today).days + 1 if state.usable else None,
        rule=common_rule(campaign, shops),
        shops=_group(shops, category),
        history=history[:HISTORY_LIMIT],
        history_complete=len(history) <= HISTORY_LIMIT,
        history_count=history_count,
        saved_fen=saved_fen,
    )


def _totals(session: Session, family: list[int]) -> tuple[int, int]:
    """Return the number of live uses and the total saved, in fen."""
    count, saved = session.execute(
        select(
            func.count(Redemption.id), func.coalesce(func.sum(Redemption.discount_fen), 0)
        ).where(Redemption.card_id.in_(family), Redemption.status == RedemptionStatus.OK)
    ).one()
    return count, saved


def _history(session: Session, family: list[int], limit: int) -> tuple[Use, ...]:
    rows = session.execute(
        select(
            Redemption.local_day,
            Redemption.created_at,
            Merchant.name,
            Redemption.bill_fen,
            Redemption.discount_fen,
            case((Redemption.status == RedemptionStatus.VOID, True), else_=False),
        )
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(Redemption.card_id.in_(family))
        .order_by(Redemption.created_at.desc(), Redemption.id.desc())
        .limit(limit)
    )
    return tuple(Use(*row) for row in rows)


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
    for offer, merchant in _participating(session, list(by_id)):
        shop_rule = _shop_rule(offer, by_id[offer.campaign_id])
        rules.setdefault(merchant.id, []).append(shop_rule)
        given.setdefault(offer.campaign_id, []).append(_shop(merchant, [shop_rule]))
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
