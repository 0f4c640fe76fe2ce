"""活动: creating and changing campaigns, their status, and the shops taking part (offers).

A campaign is ``draft → active ⇄ paused → ended``; ended is final. Its limits may be raised at
any time, and lowered only as far as what is already used: the budget not below what has been
given, uses per card not below the most any card has used, and so on. What cards were made
under (the kind and the serial prefix) and what was spent under (who funds it) cannot change
once there are cards or uses. Every change writes an audit row; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import local_today
from ..database import locked
from ..inputs import EARLIEST_DATE, LATEST_DATE
from ..models import (
    Campaign,
    CampaignGroup,
    CampaignKind,
    CampaignStatus,
    Card,
    CardBatch,
    CardStatus,
    Funding,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    RedemptionStatus,
    Role,
    User,
)
from ..rules import Rule, RuleError, format_money, parse_rule
from . import audit, streets
from .cards import CODE_PATTERN
from .errors import N_, DomainError, NotFound, Problems

# Bounds no community would reach; past them a figure is a typing mistake.
MAX_USES_PER_CARD = 1000
MAX_DAILY_USES = 100
MAX_CARDS_PER_HOUSEHOLD = 100
MAX_BUDGET_FEN = 1_000_000_00  # ¥1,000,000, as much as any amount the form reads
MAX_CAMPAIGN_DAYS = 3 * 365 + 1  # three years
EARLIEST_DAY = EARLIEST_DATE
LATEST_DAY = LATEST_DATE
LIMITS = (  # field, refusal below 1, refusal above the bound, the bound
    ("uses_per_card", "uses_min", "uses_too_many", MAX_USES_PER_CARD),
    ("daily_uses_per_merchant", "daily_min", "daily_too_many", MAX_DAILY_USES),
    ("cards_per_household", "household_min", "household_too_many", MAX_CARDS_PER_HOUSEHOLD),
)

CAMPAIGN_FIELDS = [
    "name",
    "code",
    "kind",
    "funding",
    "valid_from",
    "valid_until",
    "uses_per_card",
    "daily_uses_per_merchant",
    "cards_per_household",
    "budget_fen",
    "default_rule_text",
    "description",
]


class CampaignError(DomainError):
    messages = {
        "community_required": N_("Please choose a community."),
        "name_required": N_("Please enter the campaign's name."),
        "name_too_long": N_("A campaign's name may have at most 80 characters."),
        "code_format": N_(
            "The serial prefix is 2 to 6 capital letters or digits, without 0, O, 1 or I "
            "(they look alike), e.g. ZJH."
        ),
        "kind_invalid": N_("Please choose card or coupon."),
        "funding_invalid": N_("Please choose who pays for the discount."),
        "dates_required": N_("Please give the first and the last day."),
        "dates_order": N_("The last day cannot be before the first day."),
        "dates_range": N_("A campaign's days lie between %(first)s and %(last)s."),
        "dates_too_long": N_("A campaign runs at most %(years)s years; start a new one after."),
        "already_over": N_("The last day has passed already: a new campaign ends today or later."),
        "limit_min": N_("A limit is at least 1; leave it empty for no limit."),
        "uses_min": N_("A limit is at least 1; leave it empty for no limit."),
        "daily_min": N_("A limit is at least 1; leave it empty for no limit."),
        "household_min": N_("A limit is at least 1; leave it empty for no limit."),
        "uses_too_many": N_("Uses per card is at most %(most)s; leave it empty for no limit."),
        "daily_too_many": N_(
            "Uses per card per shop per day is at most %(most)s; leave it empty for no limit."
        ),
        "household_too_many": N_(
            "Cards per household is at most %(most)s; leave it empty for no limit."
        ),
        "budget_negative": N_("The budget cannot be below ¥0; leave it empty for no limit."),
        "budget_too_high": N_("The budget is at most ¥%(most)s; leave it empty for no limit."),
        "name_taken": N_("Another campaign of this community already has this name."),
        "code_taken": N_("Another campaign of this community already uses this serial prefix."),
        "coupon_one_use": N_("A coupon is used once: its uses per card must be 1."),
        "rule_required": N_("Please write the rule, e.g. 8折 or 满100减10."),
        "bad_rule": N_("The rule cannot be read."),
        "budget_below_spent": N_(
            "The budget cannot be lower than the ¥%(spent)s already given as discounts."
        ),
        "uses_below_used": N_(
            "Uses per card cannot be lower than %(used)s: a card has already been used that often."
        ),
        "daily_below_used": N_(
            "Uses per shop per day cannot be lower than %(used)s: "
            "a card has been used that often at one shop today."
        ),
        "household_below_issued": N_(
            "Cards per household cannot be lower than %(issued)s: "
            "a household already holds that many."
        ),
        "window_excludes_uses": N_(
            "The campaign must stay valid on every day a card was used (%(first)s to %(last)s)."
        ),
        "kind_locked": N_("The kind cannot change once cards have been made."),
        "code_locked": N_("The serial prefix cannot change once cards have been made."),
        "funding_locked": N_("Who pays the discount cannot change once cards have been used."),
        "ended": N_("This campaign has ended and can no longer be changed."),
        "not_draft": N_("Only a draft campaign can be started."),
        "delete_not_draft": N_(
            "Only a draft can be deleted; a campaign that has run is ended instead."
        ),
        "delete_has_cards": N_(
            "This draft has cards already, so it cannot be deleted; end it instead."
        ),
        "not_active": N_("Only a running campaign can be paused."),
        "not_paused": N_("Only a paused campaign can be resumed."),
        "merchant_required": N_("Please choose at least one shop."),
        "merchant_not_active": N_(
            "%(name)s does not take cards at the moment (not approved or suspended)."
        ),
        "offer_exists": N_("%(name)s already takes part in this campaign."),
        "offer_not_pending": N_("Only a shop that applied can be accepted."),
        "offer_not_active": N_("This shop does not take part at the moment."),
        "offer_not_withdrawn": N_("This shop already takes part."),
        "owner_only": N_("Only the shop's owner can apply to join a campaign."),
        "already_applied": N_("Your shop has applied already; the community office will decide."),
    }


@dataclass
class CampaignDetails:
    """What a campaign form says; limits are None for no limit, money in fen."""

    name: str
    code: str
    kind: str
    funding: str
    valid_from: date | None
    valid_until: date | None
    uses_per_card: int | None = None
    daily_uses_per_merchant: int | None = None
    cards_per_household: int | None = None
    budget_fen: int | None = None
    rule_text: str = ""
    description: str = ""

    def cleaned(self) -> tuple[CampaignDetails, Rule]:
        """Return the details trimmed and checked with their rule, or raise every problem."""
        problems = Problems()
        name = " ".join((self.name or "").split())
        if not name:
            problems.add(CampaignError("name_required"))
        elif len(name) > 80:
            problems.add(CampaignError("name_too_long"))
        code = (self.code or "").strip().upper()
        if not CODE_PATTERN.fullmatch(code):
            problems.add(CampaignError("code_format"))
        if self.kind not in {k.value for k in CampaignKind}:
            problems.add(CampaignError("kind_invalid"))
        if self.funding not in {f.value for f in Funding}:
            problems.add(CampaignError("funding_invalid"))
        if self.valid_from is None or self.valid_until is None:
            problems.add(CampaignError("dates_required"))
        elif not (EARLIEST_DAY <= self.valid_from and self.valid_until <= LATEST_DAY):
            problems.add(
                CampaignError("dates_range", first=EARLIEST_DAY.year, last=LATEST_DAY.year)
            )
        elif self.valid_until < self.valid_from:
            problems.add(CampaignError("dates_order"))
        elif (self.valid_until - self.valid_from).days >= MAX_CAMPAIGN_DAYS:
            problems.add(CampaignError("dates_too_long", years=MAX_CAMPAIGN_DAYS // 365))
        for field, too_few, too_many, most in LIMITS:
            value = getattr(self, field)
            if value is not None and value < 1:
                problems.add(CampaignError(too_few))
            elif value is not None and value > most:
                problems.add(CampaignError(too_many, most=most))
        uses = self.uses_per_card
        if self.kind == CampaignKind.COUPON:
            if uses not in (None, 1):
                problems.add(CampaignError("coupon_one_use"))
            uses = 1
        if self.budget_fen is not None and self.budget_fen < 0:
            problems.add(CampaignError("budget_negative"))
        elif self.budget_fen is not None and self.budget_fen > MAX_BUDGET_FEN:
            problems.add(CampaignError("budget_too_high", most=format_money(MAX_BUDGET_FEN)))
        rule = None
        try:
            rule = read_rule(self.rule_text)
        except CampaignError as error:
            problems.add(error)
        else:
            if rule is None:
                problems.add(CampaignError("rule_required"))
        problems.raise_any()
        cleaned = CampaignDetails(
            name=name,
            code=code,
            kind=self.kind,
            funding=self.funding,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            uses_per_card=uses,
            daily_uses_per_merchant=self.daily_uses_per_merchant,
            cards_per_household=self.cards_per_household,
            budget_fen=self.budget_fen,
            rule_text=rule.render(),
            description=(self.description or "").strip(),
        )
        return cleaned, rule


def _check_unique(
    session: Session, community_id: int, details: CampaignDetails, but: int | None = None
) -> None:
    """Refuse a name or serial prefix another campaign of the community has."""
    problems = Problems()
    for column, code in ((Campaign.name, "name_taken"), (Campaign.code, "code_taken")):
        stmt = select(Campaign.id).where(
            Campaign.community_id == community_id, column == getattr(details, column.key)
        )
        if but is not None:
            stmt = stmt.where(Campaign.id != but)
        if session.scalar(stmt.limit(1)) is not None:
            problems.add(CampaignError(code))
    problems.raise_any()


def _flush_unique(session: Session) -> None:
    """Write the campaign now; a name or serial prefix another campaign of the community took
    in the meantime (two offices saving at once, PostgreSQL) is refused as the check would."""
    try:
        session.flush()
    except IntegrityError as error:
        said = str(error.orig)
        for column, code in (("code", "code_taken"), ("name", "name_taken")):
            if f"uq_campaign_community_{column}" in said or f"campaign.{column}" in said:
                raise CampaignError(code) from None
        raise


def read_rule(text: str) -> Rule | None:
    """Return the rule `text` says (None when blank), or raise `bad_rule` in the engine's words."""
    if not (text or "").strip():
        return None
    try:
        return parse_rule(text)
    except RuleError as error:
        raise CampaignError("bad_rule", error.message, **error.carried()) from None


def _apply(campaign: Campaign, details: CampaignDetails, rule: Rule) -> None:
    campaign.name = details.name
    campaign.code = details.code
    campaign.kind = CampaignKind(details.kind)
    campaign.funding = Funding(details.funding)
    campaign.valid_from = details.valid_from
    campaign.valid_until = details.valid_until
    campaign.uses_per_card = details.uses_per_card
    campaign.daily_uses_per_merchant = details.daily_uses_per_merchant
    campaign.cards_per_household = details.cards_per_household
    campaign.budget_fen = details.budget_fen
    campaign.default_rule = rule.to_dict()
    campaign.default_rule_text = rule.render()
    campaign.description = details.description


def create(
    session: Session, actor: User, community_id: int | None, details: CampaignDetails
) -> Campaign:
    """Create a campaign as a draft: shops and cards can be prepared before it starts."""
    if not community_id:
        raise CampaignError("community_required")
    streets.may_act_for(session, actor, community_id)
    details, rule = details.cleaned()
    if details.valid_until < local_today():
        raise CampaignError("already_over")
    _check_unique(session, community_id, details)
    campaign = Campaign(
        community_id=community_id,
        status=CampaignStatus.DRAFT,
        spent_fen=0,
        created_by_id=actor.id,
    )
    _apply(campaign, details, rule)
    session.add(campaign)
    _flush_unique(session)
    audit.record(
        session, actor, "campaign.create", campaign, after=audit.snapshot(campaign, CAMPAIGN_FIELDS)
    )
    return campaign


@dataclass(frozen=True)
class Usage:
    """How far a campaign's limits are already used: no limit may go below these."""

    cards: int
    max_uses: int
    max_daily_here: int
    max_household: int
    first_day: date | None
    last_day: date | None
    redemptions: int


def usage(session: Session, campaign: Campaign, today: date | None = None) -> Usage:
    """Return how much of `campaign` is already used."""
    today = today or local_today()
    cards, max_uses = session.execute(
        select(func.count(Card.id), func.coalesce(func.max(Card.uses_count), 0)).where(
            Card.campaign_id == campaign.id
        )
    ).one()
    per_pair = (
        select(func.count(Redemption.id).label("n"))
        .where(
            Redemption.campaign_id == campaign.id,
            Redemption.local_day == today,
            Redemption.status == RedemptionStatus.OK,
        )
        .group_by(Redemption.card_id, Redemption.merchant_id)
        .subquery()
    )
    max_daily = session.scalar(select(func.coalesce(func.max(per_pair.c.n), 0)))
    per_household = (
        select(func.count(Card.id).label("n"))
        .where(
            Card.campaign_id == campaign.id,
            Card.household.is_not(None),
            Card.status != CardStatus.VOID,
        )
        .group_by(Card.household)
        .subquery()
    )
    max_household = session.scalar(select(func.coalesce(func.max(per_household.c.n), 0)))
    first, last, count = session.execute(
        select(
            func.min(Redemption.local_day),
            func.max(Redemption.local_day),
            func.count(Redemption.id),
        ).where(Redemption.campaign_id == campaign.id)
    ).one()
    return Usage(cards, max_uses, max_daily, max_household, first, last, count)


def update(session: Session, actor: User, campaign: Campaign, details: CampaignDetails) -> None:
    """Change a campaign, refusing to lower a limit below what is already used."""
    if campaign.status == CampaignStatus.ENDED:
        raise CampaignError("ended")
    details, rule = details.cleaned()
    _check_unique(session, campaign.community_id, details, but=campaign.id)
    used = usage(session, campaign)
    problems = Problems()
    if used.cards and details.kind != campaign.kind.value:
        problems.add(CampaignError("kind_locked"))
    if used.cards and details.code != campaign.code:
        problems.add(CampaignError("code_locked"))
    if used.redemptions and details.funding != campaign.funding.value:
        problems.add(CampaignError("funding_locked"))
    if details.budget_fen is not None and details.budget_fen < campaign.spent_fen:
        problems.add(CampaignError("budget_below_spent", spent=format_money(campaign.spent_fen)))
    if details.uses_per_card is not None and details.uses_per_card < used.max_uses:
        problems.add(CampaignError("uses_below_used", used=used.max_uses))
    if (
        details.daily_uses_per_merchant is not None
        and details.daily_uses_per_merchant < used.max_daily_here
    ):
        problems.add(CampaignError("daily_below_used", used=used.max_daily_here))
    if details.cards_per_household is not None and details.cards_per_household < used.max_household:
        problems.add(CampaignError("household_below_issued", issued=used.max_household))
    if used.first_day is not None and (
        details.valid_from > used.first_day or details.valid_until < used.last_day
    ):
        problems.add(
            CampaignError(
                "window_excludes_uses",
                first=used.first_day.isoformat(),
                last=used.last_day.isoformat(),
            )
        )
    problems.raise_any()
    before = audit.snapshot(campaign, CAMPAIGN_FIELDS)
    _apply(campaign, details, rule)
    _flush_unique(session)
    after = audit.snapshot(campaign, CAMPAIGN_FIELDS)
    changed = [key for key in CAMPAIGN_FIELDS if before[key] != after[key]]
    if changed:
        audit.record(
            session,
            actor,
            "campaign.update",
            campaign,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )


def delete_draft(session: Session, actor: User, campaign: Campaign) -> str:
    """Delete a draft campaign that has no cards (a mistake), with its shops' offers.

    Its audit rows stay, and the last one keeps what it was. Returns its name.
    """
    campaign = locked(session, Campaign, Campaign.id == campaign.id)
    if campaign is None:
        raise NotFound()
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError("delete_not_draft")
    if session.scalar(select(func.count(Card.id)).where(Card.campaign_id == campaign.id)):
        raise CampaignError("delete_has_cards")
    audit.record(
        session,
        actor,
        "campaign.delete",
        campaign,
        before=audit.snapshot(campaign, CAMPAIGN_FIELDS),
    )
    for offer in session.scalars(select(Offer).where(Offer.campaign_id == campaign.id)):
        session.delete(offer)
    for batch in session.scalars(select(CardBatch).where(CardBatch.campaign_id == campaign.id)):
        session.delete(batch)
    for group in session.scalars(
        select(CampaignGroup).where(CampaignGroup.campaign_id == campaign.id)
    ):
        session.delete(group)
    session.flush()
    session.delete(campaign)
    session.flush()
    return campaign.name


# Status changes: action -> (statuses it may start from, refusal code, status it leads to)
TRANSITIONS = {
    "start": ({CampaignStatus.DRAFT}, "not_draft", CampaignStatus.ACTIVE),
    "pause": ({CampaignStatus.ACTIVE}, "not_active", CampaignStatus.PAUSED),
    "resume": ({CampaignStatus.PAUSED}, "not_paused", CampaignStatus.ACTIVE),
    "end": (
        {CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED},
        "ended",
        CampaignStatus.ENDED,
    ),
}


def change_status(
    session: Session, actor: User, campaign: Campaign, action: str, note: str = ""
) -> None:
    """Start, pause, resume or end a campaign. Ending is final."""
    allowed_from, code, to = TRANSITIONS[action]
    if campaign.status not in allowed_from:
        raise CampaignError("ended" if campaign.status == CampaignStatus.ENDED else code)
    before = {"status": campaign.status.value}
    campaign.status = to
    audit.record(
        session,
        actor,
        f"campaign.{action}",
        campaign,
        before=before,
        after={"status": to.value},
        note=(note or "").strip()[:500],
    )


# --- offers ---------------------------------------------------------------------------------

OFFER_FIELDS = ["merchant_id", "rule_text", "status"]


def add_offers(
    session: Session, actor: User, campaign: Campaign, merchants: list[Merchant], rule_text: str
) -> list[Offer]:
    """Let shops take part in a campaign, all with `rule_text` (blank: the campaign's rule).

    A shop that withdrew before takes part again with the new rule.
    """
    if campaign.status == CampaignStatus.ENDED:
        raise CampaignError("ended")
    if not merchants:
        raise CampaignError("merchant_required")
    rule = read_rule(rule_text)
    existing = {
        offer.merchant_id: offer
        for offer in session.scalars(select(Offer).where(Offer.campaign_id == campaign.id))
    }
    offers = []
    for merchant in merchants:
        if merchant.community_id != campaign.community_id:
            raise ValueError("a shop joins campaigns of its own community only")
        if merchant.status != MerchantStatus.ACTIVE:
            raise CampaignError("merchant_not_active", name=merchant.name)
        offer = existing.get(merchant.id)
        if offer is not None and offer.status != OfferStatus.WITHDRAWN:
            raise CampaignError("offer_exists", name=merchant.name)
        before = audit.snapshot(offer, OFFER_FIELDS) if offer is not None else None
        if offer is None:
            offer = Offer(
                community_id=campaign.community_id,
                campaign_id=campaign.id,
                merchant_id=merchant.id,
            )
            session.add(offer)
        offer.rule = rule.to_dict() if rule else None
        offer.rule_text = rule.render() if rule else ""
        offer.status = OfferStatus.ACTIVE
        session.flush()
        audit.record(
            session,
            actor,
            "offer.create" if before is None else "offer.rejoin",
            offer,
            before=before,
            after=audit.snapshot(offer, OFFER_FIELDS),
        )
        offers.append(offer)
    return offers


def update_offer(session: Session, actor: User, offer: Offer, rule_text: str) -> None:
    """Change a shop's own rule (blank: the campaign's rule)."""
    if offer.campaign.status == CampaignStatus.ENDED:
        raise CampaignError("ended")
    rule = read_rule(rule_text)
    before = audit.snapshot(offer, ["rule_text"])
    offer.rule = rule.to_dict() if rule else None
    offer.rule_text = rule.render() if rule else ""
    if before["rule_text"] != offer.rule_text:
        audit.record(
            session,
            actor,
            "offer.update",
            offer,
            before=before,
            after={"rule_text": offer.rule_text},
        )


def set_offer_status(session: Session, actor: User, offer: Offer, action: str) -> None:
    """Accept a shop's application (``accept``), withdraw a shop (``withdraw``) or take it back."""
    if offer.campaign.status == CampaignStatus.ENDED:
        raise CampaignError("ended")
    before = {"status": offer.status.value}
    if action == "withdraw":
        if offer.status == OfferStatus.WITHDRAWN:
            raise CampaignError("offer_not_active")
        offer.status = OfferStatus.WITHDRAWN
    elif action in ("accept", "rejoin"):
        wanted = OfferStatus.PENDING if action == "accept" else OfferStatus.WITHDRAWN
        if offer.status != wanted:
            raise CampaignError(
                "offer_not_pending" if action == "accept" else "offer_not_withdrawn"
            )
        if offer.merchant.status != MerchantStatus.ACTIVE:
            raise CampaignError("merchant_not_active", name=offer.merchant.name)
        offer.status = OfferStatus.ACTIVE
    else:
        raise ValueError(f"unknown offer action {action!r}")
    audit.record(
        session,
        actor,
        f"offer.{action}",
        offer,
        before=before,
        after={"status": offer.status.value},
    )


def apply_to_join(session: Session, owner: User, campaign: Campaign) -> Offer:
    """Let a shop's owner apply to take part in a campaign of their community (the caller commits).

    The application waits as a pending offer until staff accept it (`set_offer_status`); a shop
    that withdrew before may apply again.
    """
    if owner.role != Role.MERCHANT_OWNER:
        raise CampaignError("owner_only")
    merchant = owner.merchant
    if campaign.community_id != merchant.community_id:
        raise ValueError("a shop applies to campaigns of its own community only")
    if campaign.status == CampaignStatus.ENDED:
        raise CampaignError("ended")
    if merchant.status != MerchantStatus.ACTIVE:
        raise CampaignError("merchant_not_active", name=merchant.name)
    offer = session.scalar(
        select(Offer).where(Offer.campaign_id == campaign.id, Offer.merchant_id == merchant.id)
    )
    if offer is not None and offer.status == OfferStatus.ACTIVE:
        raise CampaignError("offer_exists", name=merchant.name)
    if offer is not None and offer.status == OfferStatus.PENDING:
        raise CampaignError("already_applied")
    before = audit.snapshot(offer, OFFER_FIELDS) if offer is not None else None
    if offer is None:
        offer = Offer(
            community_id=campaign.community_id, campaign_id=campaign.id, merchant_id=merchant.id
        )
        session.add(offer)
    offer.rule, offer.rule_text, offer.status = None, "", OfferStatus.PENDING
    session.flush()
    audit.record(
        session,
        owner,
        "offer.apply",
        offer,
        before=before,
        after=audit.snapshot(offer, OFFER_FIELDS),
    )
    return offer


def open_to_shop(session: Session, merchant: Merchant) -> list[tuple[Campaign, Offer | None]]:
    """Return the campaigns of the shop's community it may take part in, with its offer if any."""
    campaigns = session.scalars(
        select(Campaign)
        .where(
            Campaign.community_id == merchant.community_id,
            Campaign.status != CampaignStatus.ENDED,
        )
        .order_by(Campaign.valid_from.desc(), Campaign.id.desc())
    ).all()
    offers = {
        offer.campaign_id: offer
        for offer in session.scalars(select(Offer).where(Offer.merchant_id == merchant.id))
    }
    return [(campaign, offers.get(campaign.id)) for campaign in campaigns]
