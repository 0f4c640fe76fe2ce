"""The data model: communities, their people and shops, campaigns, cards and what happens to them.

Money is an integer of fen in every column (`*_fen`), guarded by a CHECK ≥ 0. Times are UTC
(`UTCDateTime`); calendar days that limits count by (`local_day`) are Asia/Shanghai dates.
Everything a community owns carries `community_id`, so one helper can scope every query.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import utcnow
from .database import UTCDateTime
from .extensions import db

# werkzeug's default (scrypt). Tests switch to a cheap method; the stored hash names its method,
# so checking works whichever was used.
# A hash method name.
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105  # nosec B105
# Published passwords (the demo's) hashed once while the demo is seeded: its ~90 logins share
# one password everyone knows, so one scrypt serves them all instead of one each.
PUBLISHED_HASHES: dict[str, str] = {}


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """Store an enum as its string value, guarded by a named CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


def money_check(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_not_negative")


class Role(enum.StrEnum):
    DISTRICT_ADMIN = "district_admin"
    STAFF = "staff"
    STREET_STAFF = "street_staff"  # 街道工作人员: compares a street's communities, reads their rows
    MERCHANT_OWNER = "merchant_owner"
    CASHIER = "cashier"
    RESIDENT = "resident"


STAFF_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.STAFF, Role.STREET_STAFF})
MERCHANT_ROLES = frozenset({Role.MERCHANT_OWNER, Role.CASHIER})


class MerchantStatus(enum.StrEnum):
    PENDING = "pending"  # applied through /join, waiting for staff
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REFUSED = "refused"  # an application staff turned down


class CampaignKind(enum.StrEnum):
    CARD = "card"  # 消费卡: reusable
    COUPON = "coupon"  # 消费券: one use


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Funding(enum.StrEnum):
    MERCHANT = "merchant"  # 让利: the shop gives the discount
    COMMUNITY = "community"  # 补贴: the office pays the shop back


class OfferStatus(enum.StrEnum):
    PENDING = "pending"  # the merchant applied to join
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class CardStatus(enum.StrEnum):
    NEW = "new"  # printed, not yet handed to a household
    ISSUED = "issued"
    USED_UP = "used_up"
    EXPIRED = "expired"
    VOID = "void"


class RedemptionStatus(enum.StrEnum):
    OK = "ok"
    VOID = "void"


class Community(db.Model):
    """社区: a community office and everything it runs."""

    __tablename__ = "community"
    __table_args__ = (
        CheckConstraint("households IS NULL OR households >= 0", name="households_not_negative"),
        CheckConstraint("residents IS NULL OR residents >= 0", name="residents_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)  # the /s/<slug> notice-board URL
    # 街道: NULL only for a community the district has not yet placed in a street.
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    district: Mapped[str] = mapped_column(String(80))  # 区
    # The community's size, for per-household figures; NULL while the office has not said.
    households: Mapped[int | None] = mapped_column(Integer)
    residents: Mapped[int | None] = mapped_column(Integer)
    # The office's phone, on the notice-board poster and the paper residents keep.
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Whether residents see the help board's leaderboard (staff switch it off).
    leaderboard_on: Mapped[bool] = mapped_column(default=True)
    # 归档: a community made by mistake or no longer run is hidden from everything public (the
    # home page, sign-up lists, /s/<slug>) with its data kept; staff can bring it back.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at_column()

    street: Mapped[Street | None] = relationship(back_populates="communities")
    merchants: Mapped[list[Merchant]] = relationship(back_populates="community")
    campaigns: Mapped[list[Campaign]] = relationship(back_populates="community")

    @property
    def street_name(self) -> str:
        return self.street.name if self.street is not None else ""

    def __repr__(self) -> str:
        return f"<Community {self.id} {self.name}>"


class User(UserMixin, db.Model):
    """A login: district admin, community staff, merchant owner or cashier, or resident."""

    __tablename__ = "users"
    __table_args__ = (
        # A resident without a phone (代办) has no login name, but someone to call.
        CheckConstraint(
            "username IS NOT NULL OR phone IS NOT NULL "
            "OR (role = 'resident' AND contact_phone IS NOT NULL)",
            name="has_login_name",
        ),
        CheckConstraint(
            "role IN ('district_admin', 'street_staff') OR community_id IS NOT NULL",
            name="community_required",
        ),
        CheckConstraint(
            "role <> 'street_staff' OR (street_id IS NOT NULL AND community_id IS NULL)",
            name="street_required",
        ),
        CheckConstraint(
            "role NOT IN ('merchant_owner', 'cashier') OR merchant_id IS NOT NULL",
            name="merchant_required",
        ),
        CheckConstraint("points_balance >= 0", name="points_balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(40), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(40))  # what people call them
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)  # 街道
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password changes or the account is disabled: old sessions stop working.
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff reset the password at the office: the temporary one must be changed at next login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Residents only: their household (3-2-501), when staff confirmed they live there, and
    # their 互助积分 balance, always the sum of their PointsEntry rows (kept by services.points).
    household: Mapped[str | None] = mapped_column(String(40))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    points_balance: Mapped[int] = mapped_column(Integer, default=0)
    # A resident without a phone, whom staff serve at the office (代办): no login name, and a
    # neighbour or family member to call instead (name as staff wrote it, e.g. 李红（女儿）).
    contact_name: Mapped[str | None] = mapped_column(String(40))
    contact_phone: Mapped[str | None] = mapped_column(String(20))

    community: Mapped[Community | None] = relationship()
    merchant: Mapped[Merchant | None] = relationship(back_populates="users")
    street: Mapped[Street | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = PUBLISHED_HASHES.get(password) or generate_password_hash(
            password, method=PASSWORD_HASH_METHOD
        )
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login
    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_merchant(self) -> bool:
        return self.role in MERCHANT_ROLES

    @property
    def login_name(self) -> str:
        return self.username or self.phone or ""

    @property
    def has_login(self) -> bool:
        """Whether this person can sign in at all (a resident without a phone cannot)."""
        return bool(self.username or self.phone)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login_name} {self.role}>"


# A user name signs in whatever its case (ZhiYin-Staff, zhiyin-staff): unique in any case, and
# looked up as lower(username) (accounts.authenticate).
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class Merchant(db.Model):
    """商户: a small shop that takes the community's cards."""

    __tablename__ = "merchant"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        Index("ix_merchant_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(20))  # 餐饮, 美发, 超市副食, ...
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    hours: Mapped[str] = mapped_column(String(80), default="")  # opening hours, as written
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MerchantStatus] = mapped_column(
        str_enum(MerchantStatus, "merchant_status"), default=MerchantStatus.PENDING
    )
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()

    community: Mapped[Community] = relationship(back_populates="merchants")
    users: Mapped[list[User]] = relationship(back_populates="merchant")
    offers: Mapped[list[Offer]] = relationship(back_populates="merchant")

    def __repr__(self) -> str:
        return f"<Merchant {self.id} {self.name} {self.status}>"


class Campaign(db.Model):
    """活动: a run of cards or coupons with a validity window, limits and a default rule."""

    __tablename__ = "campaign"
    __table_args__ = (
        money_check("budget_fen"),
        money_check("spent_fen"),
        CheckConstraint(
            "budget_fen IS NULL OR spent_fen <= budget_fen", name="spent_within_budget"
        ),
        CheckConstraint("valid_until >= valid_from", name="valid_window"),
        CheckConstraint("uses_per_card IS NULL OR uses_per_card >= 1", name="uses_per_card_min"),
        CheckConstraint(
            "daily_uses_per_merchant IS NULL OR daily_uses_per_merchant >= 1",
            name="daily_uses_min",
        ),
        CheckConstraint(
            "cards_per_household IS NULL OR cards_per_household >= 1", name="household_min"
        ),
        CheckConstraint("points_price IS NULL OR points_price >= 1", name="points_price_min"),
        CheckConstraint("points_stock IS NULL OR points_stock >= 0", name="points_stock_min"),
        Index("ix_campaign_community_status", "community_id", "status"),
        # Names and serial prefixes are unique within a community (campaigns.create and
        # update check first and say so; the index decides two at once).
        Index("uq_campaign_community_name", "community_id", "name", unique=True),
        Index("uq_campaign_community_code", "community_id", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str] = mapped_column(String(80))
    # Upper-case letters that start every serial of the campaign (ZJH in ZJH-7K3M-Q9).
    code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind, "campaign_kind"))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    funding: Mapped[Funding] = mapped_column(str_enum(Funding, "funding"))
    valid_from: Mapped[date] = mapped_column(Date)  # first local day, inclusive
    valid_until: Mapped[date] = mapped_column(Date)  # last local day, inclusive
    # Limits; NULL means no limit. A coupon campaign has uses_per_card = 1.
    uses_per_card: Mapped[int | None] = mapped_column(Integer)
    daily_uses_per_merchant: Mapped[int | None] = mapped_column(Integer)
    cards_per_household: Mapped[int | None] = mapped_column(Integer)
    budget_fen: Mapped[int | None] = mapped_column(Integer)
    # Sum of discounts of live redemptions, kept with the budget so both move in one UPDATE.
    spent_fen: Mapped[int] = mapped_column(Integer, default=0)
    default_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    default_rule_text: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # 互助积分: a community-funded card campaign may be exchanged for this many points.
    points_price: Mapped[int | None] = mapped_column(Integer)
    # How many cards may be exchanged for points in all (NULL: no limit but the others).
    points_stock: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    community: Mapped[Community] = relationship(back_populates="campaigns")
    offers: Mapped[list[Offer]] = relationship(back_populates="campaign")
    batches: Mapped[list[CardBatch]] = relationship(back_populates="campaign")

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name} {self.kind} {self.status}>"


class Offer(db.Model):
    """A merchant taking part in a campaign, with its own rule."""

    __tablename__ = "offer"
    __table_args__ = (UniqueConstraint("campaign_id", "merchant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    # The rule as `rules.Rule.to_dict()`, and its canonical text; NULL: the campaign's default.
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rule_text: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[OfferStatus] = mapped_column(
        str_enum(OfferStatus, "offer_status"), default=OfferStatus.ACTIVE
    )
    created_at: Mapped[datetime] = created_at_column()

    campaign: Mapped[Campaign] = relationship(back_populates="offers")
    merchant: Mapped[Merchant] = relationship(back_populates="offers")


class CardBatch(db.Model):
    """One generation run of cards, printed together."""

    __tablename__ = "card_batch"
    __table_args__ = (CheckConstraint("size >= 1", name="size_min"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # 分批发放: a batch may be a wave of the campaign, with its own number, the first day its
    # cards may be handed out, and the days they are valid (within the campaign's). NULL: the
    # campaign's own dates.
    wave: Mapped[int | None] = mapped_column(Integer)
    hand_out_from: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="batches")
    cards: Mapped[list[Card]] = relationship(back_populates="batch")


class Card(db.Model):
    """卡/券: one printed card or coupon.

    `serial` is for people (printed, typed at a till), `pin` proves the holder has the card in
    hand, `token` is the unguessable secret only the QR carries. Cards that were used are never
    deleted.
    """

    __tablename__ = "card"
    __table_args__ = (
        CheckConstraint("uses_count >= 0", name="uses_count_not_negative"),
        Index("ix_card_campaign_status", "campaign_id", "status"),
        Index("ix_card_campaign_household", "campaign_id", "household"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("card_batch.id"), index=True)
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    pin: Mapped[str] = mapped_column(String(4))
    token: Mapped[str] = mapped_column(String(43), unique=True)
    status: Mapped[CardStatus] = mapped_column(
        str_enum(CardStatus, "card_status"), default=CardStatus.NEW
    )
    uses_count: Mapped[int] = mapped_column(Integer, default=0)
    household: Mapped[str | None] = mapped_column(String(40))  # 楼栋-单元-门牌
    holder_phone: Mapped[str | None] = mapped_column(String(20))  # shown masked
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    # A replacement for a lost card carries over what the lost one had used.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    # The print sheet's QR, rendered once: a second print of 2000 cards is then cheap.
    qr_svg: Mapped[str | None] = deferred(mapped_column(Text))

    campaign: Mapped[Campaign] = relationship()
    batch: Mapped[CardBatch | None] = relationship(back_populates="cards")
    replaces: Mapped[Card | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Card {self.serial} {self.status}>"


class Redemption(db.Model):
    """核销: one use of a card at a shop, with the money as it was computed then."""

    __tablename__ = "redemption"
    __table_args__ = (
        money_check("bill_fen"),
        money_check("discount_fen"),
        money_check("paid_fen"),
        CheckConstraint("discount_fen <= bill_fen", name="discount_within_bill"),
        CheckConstraint("paid_fen + discount_fen = bill_fen", name="paid_adds_up"),
        UniqueConstraint("merchant_id", "idempotency_key"),
        Index("ix_redemption_merchant_day", "merchant_id", "local_day"),
        Index("ix_redemption_campaign_day", "campaign_id", "local_day"),
        # (community, day) first; the rest lets 互看互比 and the misuse checks read uses from
        # the index alone (migration 0011)
        Index(
            "ix_redemption_community_day_uses",
            "community_id",
            "local_day",
            "status",
            "campaign_id",
            "merchant_id",
            "card_id",
            "bill_fen",
            "rule_text",
        ),
        Index("ix_redemption_card_merchant_day", "card_id", "merchant_id", "local_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"))
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    bill_fen: Mapped[int] = mapped_column(Integer)
    discount_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer)
    rule_text: Mapped[str] = mapped_column(String(200))  # the rule as applied
    created_at: Mapped[datetime] = created_at_column()
    local_day: Mapped[date] = mapped_column(Date)  # Asia/Shanghai day of created_at
    idempotency_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10), default="web")  # web | api
    status: Mapped[RedemptionStatus] = mapped_column(
        str_enum(RedemptionStatus, "redemption_status"), default=RedemptionStatus.OK
    )
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(String(200), default="")

    card: Mapped[Card] = relationship()
    merchant: Mapped[Merchant] = relationship()
    campaign: Mapped[Campaign] = relationship()
    cashier: Mapped[User | None] = relationship(foreign_keys=[cashier_id])


class AttemptLog(db.Model):
    """A refused redemption or card lookup, kept so staff can see misuse."""

    __tablename__ = "attempt_log"
    __table_args__ = (
        Index("ix_attempt_log_community_created", "community_id", "created_at"),
        Index("ix_attempt_log_merchant_created", "merchant_id", "created_at"),
        Index("ix_attempt_log_card_created", "card_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
    code: Mapped[str] = mapped_column(String(40))  # the refusal's stable code
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    # What was typed or scanned: a serial, or the first characters of a token.
    card_ref: Mapped[str] = mapped_column(String(40), default="")
    bill_fen: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10), default="web")
    ip: Mapped[str] = mapped_column(String(45), default="")

    merchant: Mapped[Merchant | None] = relationship()
    card: Mapped[Card | None] = relationship()


class AuditLog(db.Model):
    """Who did what to which object, and when. Rows are only ever added.

    The migration puts triggers on the table that refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_community_created", "community_id", "created_at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(80), default="")  # name and role at the time
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    action: Mapped[str] = mapped_column(String(60))  # e.g. merchant.suspend
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")  # a reason, when one was given
    ip: Mapped[str] = mapped_column(String(45), default="")

    actor: Mapped[User | None] = relationship()


class ApiKey(db.Model):
    """A merchant's key for the JSON API (shop tills). Only a hash is kept."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merchant: Mapped[Merchant] = relationship()


# Shop categories offered in forms; merchants keep whatever text they were saved with.
MERCHANT_CATEGORIES = (
    "餐饮",
    "美发",
    "超市副食",
    "药店",
    "维修",
    "洗衣",
    "水果生鲜",
    "早点",
    "教育培训",
    "其他",
)


class RedemptionDay(db.Model):
    """One campaign's figures on one closed day, so district-wide figures need not read every use.

    Kept by `services.summary`: a day is summarised once it is two days old (no redemption can
    be written for it any more), and `summary.refresh_day` recomputes a (campaign, day) row
    after a use of that day is voided. Only live (not voided) redemptions are counted.
    """

    __tablename__ = "redemption_day"
    __table_args__ = (
        money_check("bills_fen"),
        money_check("discounts_fen"),
        Index("ix_redemption_day_community_day", "community_id", "local_day"),
    )

    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    redemptions: Mapped[int] = mapped_column(Integer)
    bills_fen: Mapped[int] = mapped_column(BigInteger)
    discounts_fen: Mapped[int] = mapped_column(BigInteger)


class ClosedDay(db.Model):
    """A day whose `RedemptionDay` rows are complete for every campaign."""

    __tablename__ = "redemption_day_closed"

    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = created_at_column()


class HelpKind(enum.StrEnum):
    REQUEST = "request"  # 求助: someone needs help
    OFFER = "offer"  # 帮忙: someone offers help


class HelpCategory(enum.StrEnum):
    SHOPPING = "shopping"  # 代买
    MEDICINE = "medicine"  # 送药
    ESCORT = "escort"  # 陪诊
    REPAIR = "repair"  # 维修
    CARE = "care"  # 照看
    OTHER = "other"  # 其他


class HelpStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    DONE = "done"  # the one helped says it was done
    CONFIRMED = "confirmed"  # staff confirmed it and awarded the points
    CANCELLED = "cancelled"


class PointsKind(enum.StrEnum):
    EARNED = "earned"  # for help staff confirmed
    EXCHANGED = "exchanged"  # spent on a card
    ADJUSTED = "adjusted"  # by staff, with a reason


class HelpPost(db.Model):
    """互助: a resident's request for help, or offer of it, on the community's help board.

    For a request the author is helped and the taker helps; for an offer, the other way round.
    Contacts of both are shown to the two of them only, once the post is taken.
    """

    __tablename__ = "help_post"
    __table_args__ = (
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("points IS NULL OR points >= 0", name="points_not_negative"),
        CheckConstraint("taker_id IS NULL OR taker_id <> author_id", name="taker_not_author"),
        CheckConstraint(
            "status = 'open' OR status = 'cancelled' OR taker_id IS NOT NULL",
            name="taken_has_taker",
        ),
        Index("ix_help_post_community_status", "community_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    kind: Mapped[HelpKind] = mapped_column(str_enum(HelpKind, "help_kind"))
    category: Mapped[HelpCategory] = mapped_column(str_enum(HelpCategory, "help_category"))
    title: Mapped[str] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text, default="")
    when_text: Mapped[str] = mapped_column(String(80), default="")  # when, as written
    area: Mapped[str] = mapped_column(String(80), default="")  # where, roughly (e.g. 3栋附近)
    status: Mapped[HelpStatus] = mapped_column(
        str_enum(HelpStatus, "help_status"), default=HelpStatus.OPEN
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    taker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # confirmed or cancelled
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    minutes: Mapped[int | None] = mapped_column(Integer)  # time given, as staff confirmed
    points: Mapped[int | None] = mapped_column(Integer)  # points awarded to the helper
    hidden: Mapped[bool] = mapped_column(default=False)  # by staff: off the board
    hidden_reason: Mapped[str] = mapped_column(String(200), default="")
    # 代办: the staff member who posted it, marked it done or cancelled it for the resident
    # (after a phone call or a visit); NULL where the resident did it themselves.
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    taker: Mapped[User | None] = relationship(foreign_keys=[taker_id])
    posted_by: Mapped[User | None] = relationship(foreign_keys=[posted_by_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    # For a request the author is helped and the taker helps; for an offer it is the other way.
    @property
    def helper_id(self) -> int | None:
        return self.taker_id if self.kind == HelpKind.REQUEST else self.author_id

    @property
    def helped_id(self) -> int | None:
        return self.author_id if self.kind == HelpKind.REQUEST else self.taker_id

    @property
    def helper(self) -> User | None:
        return self.taker if self.kind == HelpKind.REQUEST else self.author

    @property
    def helped(self) -> User | None:
        return self.author if self.kind == HelpKind.REQUEST else self.taker

    def __repr__(self) -> str:
        return f"<HelpPost {self.id} {self.kind} {self.status}>"


class PointsEntry(db.Model):
    """One line of a resident's 互助积分 ledger; the balance is the sum of the amounts."""

    __tablename__ = "points_entry"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint("kind <> 'earned' OR amount > 0", name="earned_is_positive"),
        CheckConstraint("kind <> 'exchanged' OR amount < 0", name="exchanged_is_negative"),
        Index("ix_points_entry_user", "user_id", "id"),
        Index("ix_points_entry_community_created", "community_id", "created_at"),
        Index("ix_points_entry_campaign", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[PointsKind] = mapped_column(str_enum(PointsKind, "points_kind"))
    amount: Mapped[int] = mapped_column(Integer)  # + earned or added, - exchanged or taken off
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    post_id: Mapped[int | None] = mapped_column(ForeignKey("help_post.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), unique=True)
    # Points for a volunteer's hours on an activity: once per sign-up.
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_signup.id"), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # 代办: the staff member who did this for the resident (an exchange at the office).
    on_behalf_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    on_behalf_by: Mapped[User | None] = relationship(foreign_keys=[on_behalf_by_id])
    post: Mapped[HelpPost | None] = relationship()
    card: Mapped[Card | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()


# --- streets (街道) and their monthly reports --------------------------------------------------


class Street(db.Model):
    """街道: a street office between the district and its communities.

    Its staff compare the street's communities side by side (互看互比) and receive their monthly
    reports; they read a community's rows but do not run its daily work, unless the district
    lets them register shops and create campaigns on a community's behalf (`staff_may_act`).
    """

    __tablename__ = "street"
    __table_args__ = (UniqueConstraint("district", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    district: Mapped[str] = mapped_column(String(80))  # 区
    staff_may_act: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = created_at_column()

    communities: Mapped[list[Community]] = relationship(back_populates="street")

    def __repr__(self) -> str:
        return f"<Street {self.id} {self.name}>"


class MonthlyReport(db.Model):
    """月报 sent up: a community's figures for one month, frozen when its staff sent it.

    A month not yet sent has no row; its report is worked out from the rows as they are. Once
    sent, `figures` keeps what was reported, and changes to that month's rows afterwards show
    as corrections in the next month's report.
    """

    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("community_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[datetime] = created_at_column()
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_by_label: Mapped[str] = mapped_column(String(80), default="")  # name at the time

    community: Mapped[Community] = relationship()


# --- volunteers (志愿服务): volunteers, 共驻共建 units, activities, sign-ups, certificates -------


class VolunteerOrigin(enum.StrEnum):
    RESIDENT = "resident"  # 居民志愿者: a resident of the help board
    UNIT = "unit"  # 下沉干部 / 在职党员: sent by a unit, lives elsewhere


class VolunteerStatus(enum.StrEnum):
    PENDING = "pending"  # registered, waiting for the office
    CONFIRMED = "confirmed"
    INACTIVE = "inactive"  # left, or turned off by the office


class ActivityKind(enum.StrEnum):
    CLEANUP = "cleanup"  # 清扫
    PATROL = "patrol"  # 巡逻/防汛
    CLINIC = "clinic"  # 义诊
    ELDERLY = "elderly"  # 助老
    PUBLICITY = "publicity"  # 宣传
    EPIDEMIC = "epidemic"  # 防疫
    OTHER = "other"  # 其他


class ActivityStatus(enum.StrEnum):
    OPEN = "open"  # published: sign-up, check-in and check-out
    CLOSED = "closed"  # hours confirmed and points credited
    CANCELLED = "cancelled"


class SignupStatus(enum.StrEnum):
    SIGNED = "signed"  # has a place
    WAITING = "waiting"  # on the waiting list, in order of sign-up
    WITHDRAWN = "withdrawn"


class VolunteerUnit(db.Model):
    """共驻共建单位: a unit that signed a co-building agreement with the community."""

    __tablename__ = "volunteer_unit"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    agreement_date: Mapped[date | None] = mapped_column(Date)  # 共驻共建协议签订日期
    commitment: Mapped[str] = mapped_column(String(200), default="")  # e.g. 每天派一人
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()

    community: Mapped[Community] = relationship()
    volunteers: Mapped[list[Volunteer]] = relationship(back_populates="unit")

    def __repr__(self) -> str:
        return f"<VolunteerUnit {self.id} {self.name}>"


class Volunteer(db.Model):
    """志愿者: a login's volunteer profile in its community. No national ID number is kept."""

    __tablename__ = "volunteer"
    __table_args__ = (
        CheckConstraint("origin <> 'unit' OR unit_id IS NOT NULL", name="unit_volunteer_has_unit"),
        Index("ix_volunteer_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    origin: Mapped[VolunteerOrigin] = mapped_column(str_enum(VolunteerOrigin, "volunteer_origin"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_unit.id"), index=True)
    # 在职党员到社区报到: reports to the community as a party member.
    party_report: Mapped[bool] = mapped_column(default=False)
    skills: Mapped[str] = mapped_column(String(200), default="")
    availability: Mapped[str] = mapped_column(String(200), default="")  # times they can give
    status: Mapped[VolunteerStatus] = mapped_column(
        str_enum(VolunteerStatus, "volunteer_status"), default=VolunteerStatus.PENDING
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[VolunteerUnit | None] = relationship(back_populates="volunteers")

    @property
    def number(self) -> str:
        """志愿者编号, as the certificate prints it."""
        return f"ZY{self.community_id:03d}{self.id:06d}"

    def __repr__(self) -> str:
        return f"<Volunteer {self.id} {self.origin} {self.status}>"


class VolunteerActivity(db.Model):
    """志愿活动: a turnout at a time and place, with people needed and points per hour.

    `token` is what the on-site QR carries (not the id): scanning it opens the check-in page.
    """

    __tablename__ = "volunteer_activity"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("needed >= 1", name="needed_min"),
        CheckConstraint("points_per_hour >= 0", name="points_per_hour_not_negative"),
        Index("ix_volunteer_activity_community_starts", "community_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    title: Mapped[str] = mapped_column(String(80))
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, "activity_kind"))
    place: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="")
    leader: Mapped[str] = mapped_column(String(40), default="")  # 活动负责人, as printed
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    needed: Mapped[int] = mapped_column(Integer)
    points_per_hour: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[bool] = mapped_column(default=False)  # 一呼百应: top of the board
    status: Mapped[ActivityStatus] = mapped_column(
        str_enum(ActivityStatus, "activity_status"), default=ActivityStatus.OPEN
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    community: Mapped[Community] = relationship()
    signups: Mapped[list[VolunteerSignup]] = relationship(
        back_populates="activity", order_by="VolunteerSignup.id"
    )

    def __repr__(self) -> str:
        return f"<VolunteerActivity {self.id} {self.title} {self.status}>"


class VolunteerSignup(db.Model):
    """A volunteer on an activity's list: a place or the waiting list, check-in, check-out, hours.

    `minutes` is the time credited: check-in to check-out rounded to the half hour, or what
    staff corrected it to (`VolunteerCorrection`). Points go to the ledger once, when the
    activity is closed (`PointsEntry.signup_id` is unique).
    """

    __tablename__ = "volunteer_signup"
    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name="out_after_in"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("points IS NULL OR points >= 0", name="points_not_negative"),
        Index("ix_volunteer_signup_volunteer", "volunteer_id", "id"),
        Index("ix_volunteer_signup_activity_status", "activity_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_activity.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"))
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus, "signup_status"))
    created_at: Mapped[datetime] = created_at_column()  # order of the waiting list
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # staff, or None
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    minutes: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int | None] = mapped_column(Integer)  # credited when the activity closed

    activity: Mapped[VolunteerActivity] = relationship(back_populates="signups")
    volunteer: Mapped[Volunteer] = relationship()

    def __repr__(self) -> str:
        return f"<VolunteerSignup {self.id} {self.status}>"


class VolunteerCorrection(db.Model):
    """Staff changed the hours credited for a sign-up, with a reason."""

    __tablename__ = "volunteer_correction"
    __table_args__ = (
        CheckConstraint("minutes_after >= 0", name="minutes_after_not_negative"),
        Index("ix_volunteer_correction_signup", "signup_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    signup_id: Mapped[int] = mapped_column(ForeignKey("volunteer_signup.id"))
    minutes_before: Mapped[int | None] = mapped_column(Integer)
    minutes_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship()


class VolunteerCertificate(db.Model):
    """志愿服务记录证明: what it certified, frozen when it was issued, under a checkable serial.

    `lines` keeps each activity as printed (title, kind, place, day, hours, organiser), so the
    certificate and its public check say the same thing however records change later.
    """

    __tablename__ = "volunteer_certificate"
    __table_args__ = (
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("period_until >= period_from", name="period_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"), index=True)
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    volunteer_name: Mapped[str] = mapped_column(String(40))
    volunteer_number: Mapped[str] = mapped_column(String(20))
    issuer_name: Mapped[str] = mapped_column(String(120))  # 出具单位
    period_from: Mapped[date] = mapped_column(Date)
    period_until: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    activities: Mapped[int] = mapped_column(Integer)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = created_at_column()
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_by_label: Mapped[str] = mapped_column(String(80))  # 经办人: staff, or 本人自助打印

    volunteer: Mapped[Volunteer] = relationship()


# --- the household roster (住户名单), who a campaign's cards go to, hand-out lists ------------


class HouseholdGroup(enum.StrEnum):
    """A group a household belongs to, which a campaign may be limited to."""

    LOW_INCOME = "low_income"  # 低保
    EXTREME_POVERTY = "extreme_poverty"  # 特困
    AGED_80 = "aged_80"  # 高龄 (80+)
    DISABILITY = "disability"  # 残疾
    ENTITLED = "entitled"  # 优抚 (families of servicemen and martyrs)
    LIVING_ALONE = "living_alone"  # 独居老人


class Household(db.Model):
    """住户: one household on the community's roster, as staff know it.

    As little as the job needs: the address (楼栋-单元-门牌, stored as ``3-2-501``), the head of
    household's name, an optional phone (shown masked), how many people, and its groups. No ID
    numbers. On request staff erase the name, phone and groups (`erased_at`); the address stays,
    because the household's cards and their uses name it.
    """

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("community_id", "address"),
        CheckConstraint("people IS NULL OR (people >= 1 AND people <= 30)", name="people_range"),
        Index("ix_household_community_building", "community_id", "building"),
        Index("ix_household_community_sort", "community_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    address: Mapped[str] = mapped_column(String(40))  # stored form, 3-2-501
    building: Mapped[str] = mapped_column(String(10))  # 3: the hand-out lists go per building
    # The address with its numbers zero-padded, so 2-1-101 sorts before 10-1-101.
    sort_key: Mapped[str] = mapped_column(String(60), default="")
    head_name: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    people: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship()
    group_rows: Mapped[list[HouseholdMembership]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def groups(self) -> list[HouseholdGroup]:
        """The household's groups, in the order `HouseholdGroup` lists them."""
        return sorted((row.group for row in self.group_rows), key=list(HouseholdGroup).index)

    def __repr__(self) -> str:
        return f"<Household {self.id} {self.address}>"


class HouseholdMembership(db.Model):
    """That a household belongs to a group (低保, 高龄, ...)."""

    __tablename__ = "household_group"

    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    group: Mapped[HouseholdGroup] = mapped_column(
        str_enum(HouseholdGroup, "household_group"), primary_key=True
    )


class CampaignGroup(db.Model):
    """A group a campaign's cards go to, with how many cards one household of it may hold.

    A campaign with no rows here is open to every household; with rows, only to households of
    the roster in one of the groups.
    """

    __tablename__ = "campaign_group"
    __table_args__ = (
        CheckConstraint(
            "cards_per_household IS NULL OR cards_per_household >= 1", name="per_household_min"
        ),
    )

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    group: Mapped[HouseholdGroup] = mapped_column(
        str_enum(HouseholdGroup, "campaign_group"), primary_key=True
    )
    # NULL: the campaign's own cards_per_household.
    cards_per_household: Mapped[int | None] = mapped_column(Integer)


class HandoutStatus(enum.StrEnum):
    OPEN = "open"  # printed and out with the staff going door to door
    CLOSED = "closed"  # taken back in: cards not signed for went back to stock


class HandoutList(db.Model):
    """签收单: cards of a campaign assigned to households, to hand out door to door and sign for."""

    __tablename__ = "handout_list"
    __table_args__ = (Index("ix_handout_list_campaign", "campaign_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    status: Mapped[HandoutStatus] = mapped_column(
        str_enum(HandoutStatus, "handout_status"), default=HandoutStatus.OPEN
    )
    hand_out_on: Mapped[date] = mapped_column(Date)  # the day printed on the list
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()
    lines: Mapped[list[HandoutLine]] = relationship(
        back_populates="handout", order_by="HandoutLine.position"
    )


class HandoutLine(db.Model):
    """One household's line on a hand-out list: the card set aside for it, and when it signed."""

    __tablename__ = "handout_line"
    __table_args__ = (Index("ix_handout_line_list", "handout_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handout_id: Mapped[int] = mapped_column(ForeignKey("handout_list.id"))
    position: Mapped[int] = mapped_column(Integer)  # order on the printed list
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # back to stock

    handout: Mapped[HandoutList] = relationship(back_populates="lines")
    household: Mapped[Household] = relationship()
    card: Mapped[Card] = relationship()
