"""The audit log in words: who did what to which thing, and each change as 字段: 旧 → 新.

A row stores codes (`merchant.suspend`, `status: active`, `merchant_id: 35`, `bill_fen: 3000`)
so that it reads the same whatever language wrote it. This module says it in the reader's
words: the action's name, the thing by its name (张记热干面, 卡 ZJH-7K3M-Q9) with a link to it,
fields by their Chinese names, money in ¥, states and kinds by their labels, other rows by
their names. The page and the export both read from `Words`, so they say the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..models import (
    ActivityKind,
    ActivityStatus,
    ApiKey,
    AuditLog,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Card,
    CardBatch,
    CardStatus,
    Community,
    Funding,
    HandoutList,
    HandoutStatus,
    HelpCategory,
    HelpKind,
    HelpPost,
    HelpStatus,
    Household,
    HouseholdGroup,
    Merchant,
    MerchantStatus,
    MonthlyReport,
    Offer,
    OfferStatus,
    PointsEntry,
    PointsKind,
    Redemption,
    RedemptionStatus,
    Role,
    SignupStatus,
    Street,
    User,
    Volunteer,
    VolunteerActivity,
    VolunteerCertificate,
    VolunteerOrigin,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerUnit,
)
from ..services.accounts import mask_phone
from ..services.households import household_label
from ..templating import localdate, localtime, money
from .labels import action_label, label, who

# What each kind of thing is called (AuditLog.object_type is the table's name).
OBJECT_LABELS = {
    "community": _l("Community"),
    "street": _l("Street"),
    "monthly_report": _l("Monthly report"),
    "users": _l("Login"),
    "merchant": _l("Shop"),
    "campaign": _l("Campaign"),
    "offer": _l("Shop in a campaign"),
    "card_batch": _l("Card batch"),
    "card": _l("Card"),
    "redemption": _l("Redemption"),
    "help_post": _l("Help post"),
    "points_entry": _l("Points"),
    "api_key": _l("Till key"),
    "demo": _l("Demo data"),
    "household": _l("Household"),
    "handout_list": _l("Hand-out list"),
    "volunteer": _l("Volunteer"),
    "volunteer_unit": _l("Co-building unit"),
    "volunteer_activity": _l("Volunteer activity"),
    "volunteer_signup": _l("Sign-up for an activity"),
    "volunteer_certificate": _l("Volunteer service certificate"),
}

# What each field of a before/after is called. A field not listed shows as its code, and the
# vocabulary test fails on it.
FIELD_LABELS = {
    "name": _l("Name"),
    "wrong_pins": _l("Wrong PINs within the hour"),
    "slug": _l("Web name"),
    "street": _l("Street"),
    "district": _l("District"),
    "archived": _l("Archived"),
    "households": _l("Households"),
    "month": _l("Month"),
    "residents": _l("Residents"),
    "staff_may_act": _l("Street staff may act for the community"),
    "leaderboard_on": _l("Help leaderboard"),
    "category": _l("Category"),
    "address": _l("Address"),
    "phone": _l("Phone"),
    "hours": _l("Opening hours"),
    "note": _l("Note"),
    "status": _l("Status"),
    "status_reason": _l("Reason"),
    "code": _l("Serial prefix"),
    "kind": _l("Kind"),
    "funding": _l("Who pays the discount"),
    "valid_from": _l("First day"),
    "valid_until": _l("Last day"),
    "uses_per_card": _l("Uses per card"),
    "daily_uses_per_merchant": _l("Uses per card per shop per day"),
    "cards_per_household": _l("Cards per household"),
    "budget_fen": _l("Budget"),
    "default_rule_text": _l("Default rule"),
    "description": _l("Description"),
    "points_price": _l("Price in points"),
    "points_stock": _l("Cards left for points"),
    "merchant_id": _l("Shop"),
    "campaign_id": _l("Campaign"),
    "rule_text": _l("Rule"),
    "rule": _l("Rule"),
    "size": _l("Cards"),
    "first": _l("First serial"),
    "last": _l("Last serial"),
    "first_sheet": _l("First sheet"),
    "last_sheet": _l("Last sheet"),
    "cards": _l("Cards"),
    "count": _l("Cards"),
    "issued": _l("Handed out"),
    "refused": _l("Refused"),
    "created": _l("Shops registered"),
    "household": _l("Household"),
    "holder_phone": _l("Holder's phone"),
    "uses_count": _l("Uses so far"),
    "void_reason": _l("Void reason"),
    "replaces_id": _l("Replaces card"),
    "serial": _l("Card"),
    "card": _l("Card"),
    "bill_fen": _l("Bill"),
    "discount_fen": _l("Discount"),
    "paid_fen": _l("Paid"),
    "channel": _l("Redeemed through"),
    "role": _l("Role"),
    "username": _l("Login name"),
    "active": _l("Login on"),
    "confirmed_at": _l("Household confirmed"),
    "taker_id": _l("Taken on by"),
    "minutes": _l("Time given"),
    "points": _l("Points"),
    "hidden": _l("Hidden from the board"),
    "hidden_reason": _l("Why hidden"),
    "title": _l("Title"),
    "user_id": _l("Resident"),
    "amount": _l("Points"),
    "balance": _l("Balance"),
    "price": _l("Price in points"),
    "prefix": _l("Key"),
    "head_name": _l("Head of household"),
    "people": _l("People"),
    "groups": _l("Groups"),
    "updated": _l("Changed"),
    "unchanged": _l("Unchanged"),
    "campaign": _l("Campaign"),
    "buildings": _l("Buildings"),
    "lines": _l("Cards"),
    "first_serial": _l("First serial"),
    "last_serial": _l("Last serial"),
    "signed": _l("Signed"),
    "returned": _l("Back in stock"),
    "waves": _l("Waves"),
    # volunteers (志愿服务)
    "availability": _l("Times they can give"),
    "origin": _l("Volunteer from"),
    "party_report": _l("Reports as a party member"),
    "skills": _l("Skills"),
    "unit_id": _l("Unit"),
    "credited": _l("Points credited to"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "leader": _l("Person in charge"),
    "needed": _l("People needed"),
    "not_checked_out": _l("Not checked out"),
    "place": _l("Place"),
    "points_per_hour": _l("Points per hour"),
    "urgent": _l("Urgent call"),
    "activities": _l("Activities"),
    "volunteer_id": _l("Volunteer"),
    "activity_id": _l("Activity"),
    "by_staff": _l("By staff"),
    "checked_in_at": _l("Checked in"),
    "checked_out_at": _l("Checked out"),
    "agreement_date": _l("Agreement signed on"),
    "commitment": _l("Commitment"),
    "contact_name": _l("Contact"),
    "contact_phone": _l("Contact phone"),
    "on_behalf_of": _l("On behalf of"),
}

# Fields whose name depends on what they belong to.
FIELD_LABELS_OF = {
    ("merchant", "name"): _l("Shop name"),
    ("campaign", "name"): _l("Campaign name"),
    ("community", "name"): _l("Community name"),
    ("api_key", "name"): _l("Key name"),
    ("street", "name"): _l("Street name"),
    ("household", "address"): _l("Household"),
    ("household", "created"): _l("Households added"),
}

# Which enum a field holds, by the kind of thing it belongs to.
ENUM_FIELDS = {
    ("merchant", "status"): MerchantStatus,
    ("campaign", "status"): CampaignStatus,
    ("campaign", "kind"): CampaignKind,
    ("campaign", "funding"): Funding,
    ("offer", "status"): OfferStatus,
    ("card", "status"): CardStatus,
    ("redemption", "status"): RedemptionStatus,
    ("help_post", "status"): HelpStatus,
    ("help_post", "kind"): HelpKind,
    ("help_post", "category"): HelpCategory,
    ("points_entry", "kind"): PointsKind,
    ("users", "role"): Role,
    ("handout_list", "status"): HandoutStatus,
    ("volunteer", "origin"): VolunteerOrigin,
    ("volunteer", "status"): VolunteerStatus,
    ("volunteer_activity", "kind"): ActivityKind,
    ("volunteer_activity", "status"): ActivityStatus,
    ("volunteer_signup", "status"): SignupStatus,
}

MONEY_FIELDS = {"budget_fen", "bill_fen", "discount_fen", "paid_fen"}
POINTS_FIELDS = {"points", "amount", "balance", "price", "points_price", "points_per_hour"}
DATE_FIELDS = {"valid_from", "valid_until", "agreement_date"}
TIME_FIELDS = {"confirmed_at", "starts_at", "ends_at", "checked_in_at", "checked_out_at"}
PHONE_FIELDS = {"phone", "holder_phone", "contact_phone"}
YES_NO_FIELDS = {
    "active",
    "hidden",
    "archived",
    "leaderboard_on",
    "party_report",
    "urgent",
    "by_staff",
}
# Fields that name another row: the model and how that row is called.
REFERENCES = {
    "merchant_id": Merchant,
    "campaign_id": Campaign,
    "user_id": User,
    "taker_id": User,
    "on_behalf_of": User,
    "replaces_id": Card,
    "unit_id": VolunteerUnit,
    "activity_id": VolunteerActivity,
    "volunteer_id": Volunteer,
}
CHANNELS = {
    "web": _l("On the till page"),
    "api": _l("Through a till key"),
    "lookup": _l("Card look-up"),
}


@dataclass(frozen=True)
class Thing:
    """A row the log is about, as people read it: 卡 ZJH-7K3M-Q9 · 张记热干面."""

    kind: str
    name: str
    url: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


class Words:
    """Say audit rows in words; names of the rows they point at are read in a few queries.

    `read(rows)` loads the names for a page (or a chunk of an export) at once; `describe`
    then needs no query. `links` says whether objects get URLs (the export has none).
    """

    def __init__(self, session, *, links: bool = True, district: bool = False):
        self.session = session
        self.links = links
        self.district = district
        self.names: dict[type, dict[int, object]] = defaultdict(dict)

    # --- reading the names ------------------------------------------------------------------

    def read(self, rows) -> None:
        wanted: dict[type, set[int]] = defaultdict(set)
        for row in rows:
            model = OBJECTS.get(row.object_type)
            if model is not None and row.object_id is not None:
                wanted[model].add(row.object_id)
            for values in (row.before or {}, row.after or {}):
                for key, value in values.items():
                    if key in REFERENCES and isinstance(value, int):
                        wanted[REFERENCES[key]].add(value)
        # Rows that name others (a redemption its card and shop) need those names too.
        for model in (Redemption, Offer, PointsEntry, ApiKey, CardBatch):
            self._load(model, wanted.pop(model, set()))
        for redemption in self._rows(Redemption):
            wanted[Card].add(redemption.card_id)
            wanted[Merchant].add(redemption.merchant_id)
        for offer in self._rows(Offer):
            wanted[Merchant].add(offer.merchant_id)
            wanted[Campaign].add(offer.campaign_id)
        for entry in self._rows(PointsEntry):
            wanted[User].add(entry.user_id)
        for key in self._rows(ApiKey):
            wanted[Merchant].add(key.merchant_id)
        for batch in self._rows(CardBatch):
            wanted[Campaign].add(batch.campaign_id)
        for model, ids in wanted.items():
            self._load(model, ids)

    def _rows(self, model):
        return list(self.names[model].values())

    def _load(self, model, ids) -> None:
        missing = [i for i in ids if i not in self.names[model]]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for row in self.session.scalars(select(model).where(model.id.in_(chunk))):
                self.names[model][row.id] = row

    def _get(self, model, ident):
        if ident is None:
            return None
        if ident not in self.names[model]:
            self._load(model, [ident])
        return self.names[model].get(ident)

    # --- saying a row -----------------------------------------------------------------------

    def actor(self, row: AuditLog) -> str:
        return who(row.actor_label)

    def action(self, row: AuditLog) -> str:
        """Say the action; one done for a resident (代办) says for whom: 代 王奶奶 发布互助."""
        said = action_label(row.action)
        ident = (row.after or {}).get("on_behalf_of")
        resident = self._get(User, ident) if isinstance(ident, int) else None
        if resident is None:
            return said
        return _("On behalf of %(name)s: %(action)s", name=resident.name, action=said)

    def thing(self, row: AuditLog) -> Thing:
        kind = str(OBJECT_LABELS.get(row.object_type, row.object_type))
        model = OBJECTS.get(row.object_type)
        obj = self._get(model, row.object_id) if model is not None else None
        if obj is None:
            # A deleted row (a draft campaign) is named by what its audit rows kept.
            kept = (row.before or {}).get("name") or (row.after or {}).get("name")
            if kept or row.object_type == "demo":
                return Thing(kind, kept or "")
            return Thing(kind, f"#{row.object_id}" if row.object_id else "")
        name, url = self._name_and_url(obj)
        return Thing(kind, name, url if self.links else None)

    def _name_and_url(self, obj) -> tuple[str, str | None]:
        if isinstance(obj, Street):
            return obj.name, None
        if isinstance(obj, MonthlyReport):
            community = self._get(Community, obj.community_id)
            month = f"{obj.month.year}-{obj.month.month:02d}"
            return f"{community.name} {month}", None
        if isinstance(obj, Community):
            url = url_for("admin.community", community_id=obj.id) if self.district else None
            return obj.name, url
        if isinstance(obj, Merchant):
            return obj.name, url_for("admin.merchant", merchant_id=obj.id)
        if isinstance(obj, Campaign):
            return obj.name, url_for("admin.campaign", campaign_id=obj.id)
        if isinstance(obj, Card):
            return obj.serial, url_for("admin.card", card_id=obj.id)
        if isinstance(obj, CardBatch):
            campaign = self._get(Campaign, obj.campaign_id)
            name = _("%(campaign)s, %(count)s cards", campaign=campaign.name, count=obj.size)
            return name, url_for("admin.batch", batch_id=obj.id)
        if isinstance(obj, Redemption):
            card = self._get(Card, obj.card_id)
            shop = self._get(Merchant, obj.merchant_id)
            name = f"{card.serial} · {shop.name} · {money(obj.bill_fen)}"
            return name, url_for("admin.redemption", redemption_id=obj.id)
        if isinstance(obj, Offer):
            shop = self._get(Merchant, obj.merchant_id)
            campaign = self._get(Campaign, obj.campaign_id)
            return f"{shop.name} · {campaign.name}", url_for(
                "admin.campaign", campaign_id=obj.campaign_id
            )
        if isinstance(obj, HelpPost):
            return obj.title, url_for("admin.aid_post", post_id=obj.id)
        if isinstance(obj, PointsEntry):
            return self._user(self._get(User, obj.user_id))
        if isinstance(obj, User):
            return self._user(obj)
        if isinstance(obj, ApiKey):
            shop = self._get(Merchant, obj.merchant_id)
            return f"{obj.name} · {shop.name}", url_for("admin.merchant", merchant_id=shop.id)
        if isinstance(obj, Volunteer):
            user = self._get(User, obj.user_id)
            url = url_for("admin.volunteer_detail", volunteer_id=obj.id)
            return (user.name if user else f"#{obj.id}"), url
        if isinstance(obj, VolunteerUnit):
            return obj.name, url_for("admin.volunteer_unit", unit_id=obj.id)
        if isinstance(obj, VolunteerActivity):
            return obj.title, url_for("admin.volunteer_activity", activity_id=obj.id)
        if isinstance(obj, VolunteerSignup):
            activity = self._get(VolunteerActivity, obj.activity_id)
            who_signed = self._name_and_url(self._get(Volunteer, obj.volunteer_id))[0]
            url = url_for("admin.volunteer_activity", activity_id=obj.activity_id)
            return f"{who_signed} · {activity.title}", url
        if isinstance(obj, VolunteerCertificate):
            return obj.serial, url_for("admin.volunteer_certificate", certificate_id=obj.id)
        if isinstance(obj, Household):
            return household_label(obj.address), url_for("admin.household", household_id=obj.id)
        if isinstance(obj, HandoutList):
            campaign = self._get(Campaign, obj.campaign_id)
            name = f"{_('List %(n)s', n=obj.id)} · {campaign.name}"
            return name, url_for("admin.handout", handout_id=obj.id)
        return f"#{obj.id}", None

    def _user(self, user: User | None) -> tuple[str, str | None]:
        if user is None:
            return "", None
        text = f"{user.name}（{label(user.role)}）"
        if user.role == Role.RESIDENT:
            return text, url_for("admin.aid_resident", resident_id=user.id)
        if user.merchant_id is not None:
            return text, url_for("admin.merchant", merchant_id=user.merchant_id)
        if user.role == Role.STAFF and self.district and user.community_id is not None:
            return text, url_for("admin.community", community_id=user.community_id)
        return text, None

    def changes(self, row: AuditLog) -> list[Change]:
        before, after = row.before or {}, row.after or {}
        keys = list(dict.fromkeys([*before, *after]))
        return [
            Change(
                field_label(key, row.object_type),
                self.value(row.object_type, key, before[key]) if key in before else "",
                self.value(row.object_type, key, after[key]) if key in after else "",
            )
            for key in keys
        ]

    def value(self, object_type: str, key: str, value) -> str:
        """Return one stored value in words: ¥30.00, 已作废, 张记热干面, 是."""
        if value is None or value == "":
            return "—"
        enum_class = ENUM_FIELDS.get((object_type, key))
        if enum_class is not None and value in enum_class._value2member_map_:
            return label(enum_class(value))
        if key in MONEY_FIELDS and isinstance(value, int):
            return money(value)
        if key in POINTS_FIELDS and isinstance(value, int):
            return _("%(num)s points", num=value)
        if key == "minutes" and isinstance(value, int):
            return _("%(num)s minutes", num=value)
        if key in YES_NO_FIELDS and isinstance(value, bool):
            return _("Yes") if value else _("No")
        if key in DATE_FIELDS and isinstance(value, str):
            try:
                return localdate(date.fromisoformat(value))
            except ValueError:
                return value
        if key in TIME_FIELDS and isinstance(value, str):
            try:
                return localtime(datetime.fromisoformat(value))
            except ValueError:
                return value
        if key in PHONE_FIELDS:
            return mask_phone(str(value))
        if key == "household" or (object_type == "household" and key == "address"):
            return household_label(str(value))
        if key in ("head_name", "note") and value == "✓":
            return _("recorded")  # the roster's log keeps no name (see services.roster)
        if key == "groups":
            return _groups_text(value)
        if key == "buildings" and isinstance(value, list):
            return "、".join(_("Building %(b)s", b=b) for b in value)
        if key == "waves" and isinstance(value, list):
            return "；".join(_wave_text(wave) for wave in value if isinstance(wave, dict))
        if key == "channel" and value in CHANNELS:
            return str(CHANNELS[value])
        if key in REFERENCES and isinstance(value, int):
            obj = self._get(REFERENCES[key], value)
            if obj is None:
                return f"#{value}"
            if isinstance(obj, User):
                return self._user(obj)[0]
            return self._name_and_url(obj)[0]
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return str(value)

    def summary(self, row: AuditLog) -> str:
        """Return the whole row in one line, for exports and the front page."""
        parts = [self.actor(row), self.action(row)]
        thing = str(self.thing(row))
        if thing:
            parts.append(thing)
        return " · ".join(parts)


def _groups_text(value) -> str:
    """低保、高龄 for a household's groups; 低保（每户 2 张）、高龄 for a campaign's."""
    if isinstance(value, dict):
        parts = []
        for code, number in value.items():
            name = _group(code)
            parts.append(
                name if number is None else _("%(group)s (%(n)s a household)", group=name, n=number)
            )
        return "、".join(parts) or _("every household")
    if isinstance(value, list):
        return "、".join(_group(code) for code in value) or "—"
    return str(value)


def _group(code) -> str:
    return label(HouseholdGroup(code)) if code in HouseholdGroup._value2member_map_ else str(code)


def _wave_text(wave: dict) -> str:
    return _(
        "wave %(n)s: %(cards)s cards, %(start)s – %(end)s",
        n=wave.get("wave"),
        cards=wave.get("cards"),
        start=wave.get("from"),
        end=wave.get("until"),
    )


def field_label(key: str, object_type: str = "") -> str:
    """Return what a field of an audit row is called, e.g. budget_fen: 预算."""
    found = FIELD_LABELS_OF.get((object_type, key)) or FIELD_LABELS.get(key)
    return str(found) if found is not None else key


def changes_text(changes: list[Change]) -> str:
    """Return changes as one text: 状态：有效 → 已作废；账单金额：¥30.00."""
    parts = []
    for change in changes:
        if change.old and change.new:
            parts.append(f"{change.field}：{change.old} → {change.new}")
        else:
            parts.append(f"{change.field}：{change.new or change.old}")
    return "；".join(parts)


OBJECTS = {
    "community": Community,
    "street": Street,
    "monthly_report": MonthlyReport,
    "users": User,
    "merchant": Merchant,
    "campaign": Campaign,
    "offer": Offer,
    "card_batch": CardBatch,
    "card": Card,
    "redemption": Redemption,
    "help_post": HelpPost,
    "points_entry": PointsEntry,
    "api_key": ApiKey,
    "household": Household,
    "handout_list": HandoutList,
    "volunteer": Volunteer,
    "volunteer_unit": VolunteerUnit,
    "volunteer_activity": VolunteerActivity,
    "volunteer_signup": VolunteerSignup,
    "volunteer_certificate": VolunteerCertificate,
}
