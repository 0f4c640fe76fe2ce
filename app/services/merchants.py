"""商户: registering shops, their applications through /join, suspending them, their logins.

A shop's life is ``pending → active ⇄ suspended`` (or ``pending → refused``). Staff register a
shop directly as active, with its owner's login; a shop that applies through /join waits as
pending until staff approve it (creating the owner's login then) or refuse it with a reason.
Every change writes an audit row; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Community, Merchant, MerchantStatus, Role, User
from . import accounts, audit, logins, streets
from .errors import N_, AccountError, DomainError, Problems
from .logins import Login
from .sheets import SheetColumn, SheetRow

MERCHANT_FIELDS = ("name", "category", "address", "phone", "hours", "note")
_PHONE = re.compile(r"[0-9+\-() ]{5,20}")


class MerchantError(DomainError):
    messages = {
        "name_required": N_("Please enter the shop's name."),
        "name_too_long": N_("A shop's name may have at most 80 characters."),
        "name_taken": N_("A shop with this name is already registered in this community."),
        "category_required": N_("Please choose the shop's category."),
        "category_too_long": N_("A category may have at most 20 characters."),
        "address_too_long": N_("The address may have at most 200 characters."),
        "hours_too_long": N_("Opening hours may have at most 80 characters."),
        "phone_format": N_("Write the phone number with digits only, e.g. 13912345678."),
        "phone_required": N_("Please enter a phone number we can call."),
        "applicant_required": N_("Please enter your name."),
        "community_required": N_("Please choose a community."),
        "not_pending": N_("Only an application waiting for a decision can be approved or refused."),
        "not_active": N_("Only an active shop can be suspended."),
        "not_suspended": N_("Only a suspended shop can be reactivated."),
        "reason_required": N_("Please give a reason."),
        "not_merchant_login": N_("That login does not belong to this shop."),
    }


@dataclass
class MerchantDetails:
    """What describes a shop, as typed into a form or a sheet."""

    name: str
    category: str
    address: str = ""
    phone: str = ""
    hours: str = ""
    note: str = ""

    def cleaned(self) -> MerchantDetails:
        """Return the details trimmed and checked, or raise every problem at once."""
        details = MerchantDetails(
            name=" ".join((self.name or "").split()),
            category=(self.category or "").strip(),
            address=(self.address or "").strip(),
            phone=(self.phone or "").strip(),
            hours=(self.hours or "").strip(),
            note=(self.note or "").strip(),
        )
        problems = Problems()
        if not details.name:
            problems.add(MerchantError("name_required"))
        elif len(details.name) > 80:
            problems.add(MerchantError("name_too_long"))
        if not details.category:
            problems.add(MerchantError("category_required"))
        elif len(details.category) > 20:
            problems.add(MerchantError("category_too_long"))
        if len(details.address) > 200:
            problems.add(MerchantError("address_too_long"))
        if len(details.hours) > 80:
            problems.add(MerchantError("hours_too_long"))
        if details.phone and not _PHONE.fullmatch(details.phone):
            problems.add(MerchantError("phone_format"))
        problems.raise_any()
        return details


DETAIL_FIELDS = ["name", "category", "address", "phone", "hours", "note", "status"]


def _name_taken(session: Session, community_id: int, name: str, but: int | None = None) -> bool:
    stmt = select(Merchant.id).where(Merchant.community_id == community_id, Merchant.name == name)
    if but is not None:
        stmt = stmt.where(Merchant.id != but)
    return session.scalar(stmt) is not None


def register(
    session: Session,
    actor: User,
    community_id: int | None,
    details: MerchantDetails,
    owner: Login | None = None,
) -> Merchant:
    """Register an active shop for `community_id`, with its owner's login when one is given."""
    problems = Problems()
    if not community_id:
        problems.add(MerchantError("community_required"))
    else:
        streets.may_act_for(session, actor, community_id)
    details = problems.check(details.cleaned)
    if details is not None and community_id and _name_taken(session, community_id, details.name):
        problems.add(MerchantError("name_taken"))
    owner_fields = problems.check(lambda: owner.fields(session)) if owner is not None else None
    problems.raise_any()
    merchant = Merchant(
        community_id=community_id, status=MerchantStatus.ACTIVE, **vars(details), status_reason=""
    )
    session.add(merchant)
    session.flush()
    audit.record(
        session, actor, "merchant.create", merchant, after=audit.snapshot(merchant, DETAIL_FIELDS)
    )
    if owner is not None:
        _create_login(session, actor, merchant, Role.MERCHANT_OWNER, owner_fields, owner.password)
    return merchant


def apply_to_join(
    session: Session, community_id: int | None, details: MerchantDetails, applicant: str
) -> Merchant:
    """Record a shop's application from the public /join form; it waits as pending.

    A shop refused before may apply again under the same name: its application is reopened.
    """
    community = session.get(Community, community_id) if community_id else None
    if community is None or community.archived_at is not None:
        raise MerchantError("community_required")
    details = details.cleaned()
    applicant = " ".join((applicant or "").split())[:40]
    if not applicant:
        raise MerchantError("applicant_required")
    if not details.phone:
        raise MerchantError("phone_required")
    note = f"申请人：{applicant}" + (f"\n{details.note}" if details.note else "")
    details.note = note[:1000]
    existing = session.scalar(
        select(Merchant).where(Merchant.community_id == community_id, Merchant.name == details.name)
    )
    if existing is not None and existing.status != MerchantStatus.REFUSED:
        raise MerchantError("name_taken")
    if existing is not None:
        before = audit.snapshot(existing, DETAIL_FIELDS)
        for key, value in vars(details).items():
            setattr(existing, key, value)
        existing.status = MerchantStatus.PENDING
        existing.status_reason = ""
        merchant = existing
    else:
        before = None
        merchant = Merchant(
            community_id=community_id,
            status=MerchantStatus.PENDING,
            status_reason="",
            **vars(details),
        )
        session.add(merchant)
        session.flush()
    audit.record(
        session,
        None,
        "merchant.apply",
        merchant,
        before=before,
        after=audit.snapshot(merchant, DETAIL_FIELDS),
        note=applicant,
    )
    return merchant


def update(session: Session, actor: User, merchant: Merchant, details: MerchantDetails) -> None:
    """Change a shop's details."""
    details = details.cleaned()
    if _name_taken(session, merchant.community_id, details.name, but=merchant.id):
        raise MerchantError("name_taken")
    before = audit.snapshot(merchant, MERCHANT_FIELDS)
    for key, value in vars(details).items():
        setattr(merchant, key, value)
    after = audit.snapshot(merchant, MERCHANT_FIELDS)
    changed = [key for key in MERCHANT_FIELDS if before[key] != after[key]]
    if changed:
        audit.record(
            session,
            actor,
            "merchant.update",
            merchant,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )


def _change_status(
    session, actor, merchant, action, allowed_from, code, to, reason, reason_required=True
):
    if merchant.status not in allowed_from:
        raise MerchantError(code)
    reason = (reason or "").strip()[:200]
    if reason_required and not reason:
        raise MerchantError("reason_required")
    before = audit.snapshot(merchant, ["status", "status_reason"])
    merchant.status = to
    merchant.status_reason = reason
    audit.record(
        session,
        actor,
        action,
        merchant,
        before=before,
        after=audit.snapshot(merchant, ["status", "status_reason"]),
        note=reason,
    )


def approve(session: Session, actor: User, merchant: Merchant, owner: Login | None = None) -> None:
    """Accept a pending application: the shop becomes active, with its owner's login if given."""
    owner_fields = owner.fields(session) if owner is not None else None
    _change_status(
        session,
        actor,
        merchant,
        "merchant.approve",
        {MerchantStatus.PENDING},
        "not_pending",
        MerchantStatus.ACTIVE,
        "",
        reason_required=False,
    )
    if owner is not None:
        _create_login(session, actor, merchant, Role.MERCHANT_OWNER, owner_fields, owner.password)


def refuse(session: Session, actor: User, merchant: Merchant, reason: str) -> None:
    """Turn down a pending application, saying why."""
    _change_status(
        session,
        actor,
        merchant,
        "merchant.refuse",
        {MerchantStatus.PENDING},
        "not_pending",
        MerchantStatus.REFUSED,
        reason,
    )


def suspend(session: Session, actor: User, merchant: Merchant, reason: str) -> None:
    """Stop an active shop from taking cards, saying why; its logins keep working."""
    _change_status(
        session,
        actor,
        merchant,
        "merchant.suspend",
        {MerchantStatus.ACTIVE},
        "not_active",
        MerchantStatus.SUSPENDED,
        reason,
    )


def reactivate(session: Session, actor: User, merchant: Merchant, reason: str) -> None:
    """Let a suspended shop take cards again, saying why."""
    _change_status(
        session,
        actor,
        merchant,
        "merchant.reactivate",
        {MerchantStatus.SUSPENDED},
        "not_suspended",
        MerchantStatus.ACTIVE,
        reason,
    )


# --- logins ---------------------------------------------------------------------------------


def add_login(session: Session, actor: User, merchant: Merchant, role: Role, login: Login) -> User:
    """Add an owner's or cashier's login to a shop."""
    if role not in (Role.MERCHANT_OWNER, Role.CASHIER):
        raise ValueError("a shop login is an owner or a cashier")
    return _create_login(session, actor, merchant, role, login.fields(session), login.password)


def _create_login(session, actor, merchant, role, fields, password) -> User:
    user = accounts.create_user(
        session,
        actor,
        role=role,
        password=password,
        community_id=merchant.community_id,
        merchant_id=merchant.id,
        **fields,
    )
    user.must_change_password = True  # staff chose it: the shop picks its own at first sign-in
    return user


def set_login_active(
    session: Session, actor: User, merchant: Merchant, user: User, active: bool
) -> None:
    """Disable a shop's login (its sessions end at once) or enable it again."""
    if user.merchant_id != merchant.id:
        raise MerchantError("not_merchant_login")
    logins.set_active(session, actor, user, active)


def reset_password(
    session: Session, actor: User, merchant: Merchant, user: User, password: str
) -> None:
    """Give a shop's login a new password (the shop forgot theirs); its sessions end, and the
    shop chooses its own at the next sign-in, as a resident does."""
    if user.merchant_id != merchant.id:
        raise MerchantError("not_merchant_login")
    accounts.check_new_password(password)
    user.set_password(password)
    user.must_change_password = True
    audit.record(session, actor, "user.reset_password", user, community_id=merchant.community_id)


def merchant_logins(session: Session, merchant: Merchant) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.merchant_id == merchant.id).order_by(User.role.desc(), User.id)
        )
    )


# --- importing a sheet ----------------------------------------------------------------------

IMPORT_COLUMNS = [
    SheetColumn("name", ("名称", "商户名称", "店名", "name"), required=True),
    SheetColumn("category", ("类别", "分类", "行业", "category"), required=True),
    SheetColumn("address", ("地址", "address")),
    SheetColumn("phone", ("电话", "联系电话", "phone")),
    SheetColumn("hours", ("营业时间", "hours")),
    SheetColumn("note", ("备注", "note")),
    SheetColumn("owner_name", ("店主姓名", "店主", "owner name", "owner")),
    SheetColumn("owner_login", ("店主登录名", "登录名", "owner login", "login")),
    SheetColumn("password", ("初始密码", "密码", "password")),
]
IMPORT_TEMPLATE_ROWS = [
    ["张记热干面", "餐饮", "琴断口小区3栋底商", "027-84001234", "06:00–13:00", "",
     "张师傅", "13912345678", "zjh-first-pw"],
    ["丝艺美发", "美发", "琴断口小区5栋底商", "13800001111", "09:00–21:00", "周一休息",
     "", "", ""],
]  # fmt: skip


@dataclass
class ImportReport:
    """What an import did: the shops it registered and, line by line, the rows it refused."""

    created: list[tuple[int, Merchant]] = field(default_factory=list)
    refused: list[tuple[int, str, DomainError]] = field(default_factory=list)


def import_sheet(
    session: Session, actor: User, community_id: int | None, rows: list[SheetRow]
) -> ImportReport:
    """Register a shop for each good row of a sheet; report each row refused and why.

    Rows are independent: a bad row is refused and the others are registered. A shop already
    registered (or twice in the sheet) is refused, so a corrected sheet can be imported again.
    """
    if not community_id:
        raise MerchantError("community_required")
    streets.may_act_for(session, actor, community_id)
    report = ImportReport()
    seen_names: set[str] = set()
    seen_logins: set[str] = set()
    for row in rows:
        name = " ".join(row.get("name").split())
        try:
            if name in seen_names:
                raise MerchantError("name_taken")
            details = MerchantDetails(
                **{key: row.get(key) for key in ("name", "category", "address", "phone", "hours")},
                note=row.get("note"),
            )
            owner = None
            if row.get("owner_login") or row.get("password"):
                owner = Login(
                    row.get("owner_name") or f"{name}店主",
                    row.get("owner_login"),
                    row.get("password"),
                )
                login_key = (owner.fields()["username"] or owner.fields()["phone"]).lower()
                if login_key in seen_logins:
                    raise AccountError("login_taken")
                seen_logins.add(login_key)
            with session.begin_nested():
                merchant = register(session, actor, community_id, details, owner)
        except DomainError as error:
            report.refused.append((row.line, name, error))
            continue
        seen_names.add(merchant.name)
        report.created.append((row.line, merchant))
    audit.record(
        session,
        actor,
        "merchant.import",
        object_type="merchant",
        community_id=community_id,
        after={"created": len(report.created), "refused": len(report.refused)},
    )
    return report
