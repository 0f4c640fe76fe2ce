"""The household roster (住户名单): who lives where, and the groups campaigns may be limited to.

Staff import the community's households from a sheet (a preview first, then apply) or add them
one by one. A household is its address (楼栋-单元-门牌, read by `households.parse_household`
however it was written), the head of household's name, an optional phone (stored as digits,
shown masked), how many people live there, and its groups (低保, 特困, 高龄, 残疾, 优抚,
独居老人). No ID numbers are asked for or kept.

On request (个人信息保护法) staff erase a household's name, phone and groups; its address stays,
because its cards and their uses name it. The audit rows of the roster never hold a name or a
full phone, so an erasure leaves nothing behind in the log either.

A campaign may be limited to groups (`CampaignGroup`), each with a number of cards one
household of it may hold; `household_limit` says what a household may hold, or refuses it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import inputs
from ..clock import utcnow
from ..models import Campaign, CampaignGroup, Household, HouseholdGroup, HouseholdMembership, User
from . import accounts, audit
from .errors import N_, DomainError, Problems
from .households import HouseholdError, household_label, parse_household
from .sheets import SheetColumn, SheetRow

MAX_PEOPLE = 30
MAX_NAME = 40
MAX_NOTE = 200
_PHONE_DIGITS = re.compile(r"\d{7,12}")
_PEOPLE = re.compile(r"[0-9０-９]{1,2}\s*人?")
_GROUP_SEPARATORS = re.compile(r"[,，、;；/|\s]+")

# Every way staff write a group in a sheet, after NFKC and lower-casing.
GROUP_WORDS = {
    HouseholdGroup.LOW_INCOME: ("低保", "低保户", "最低生活保障", "low_income"),
    HouseholdGroup.EXTREME_POVERTY: ("特困", "特困户", "特困供养", "特困人员", "extreme_poverty"),
    HouseholdGroup.AGED_80: ("高龄", "高龄老人", "高龄80+", "80岁以上", "80+", "aged_80"),
    HouseholdGroup.DISABILITY: ("残疾", "残疾人", "残疾户", "disability"),
    HouseholdGroup.ENTITLED: ("优抚", "优抚对象", "优抚户", "entitled"),
    HouseholdGroup.LIVING_ALONE: ("独居", "独居老人", "空巢独居", "living_alone"),
}
_GROUP_OF_WORD = {word: group for group, words in GROUP_WORDS.items() for word in words}


class RosterError(DomainError):
    messages = {
        "household_exists": N_("%(household)s is already on the roster."),
        "name_too_long": N_("The head of household's name may have at most 40 characters."),
        "people_range": N_("The number of people is a whole number from 1 to 30."),
        "phone_format": N_("Write the phone with digits only, e.g. 13912345678."),
        "unknown_group": N_(
            "Unknown group “%(word)s”. Use 低保, 特困, 高龄, 残疾, 优抚 or 独居老人."
        ),
        "note_too_long": N_("A note may have at most 200 characters."),
        "duplicate_row": N_(
            "%(household)s appears twice in the sheet (rows %(first)s and %(line)s)."
        ),
        "already_erased": N_("This household's personal data was already removed."),
        "reason_required": N_("Please give a reason."),
        "not_eligible": N_(
            "This campaign's cards go only to households in these groups: %(groups)s. "
            "%(household)s is not one of them."
        ),
        "not_on_roster": N_(
            "This campaign's cards go only to households on the roster in these groups: "
            "%(groups)s. %(household)s is not on the roster."
        ),
        "per_household_range": N_("Cards per household is a whole number from 1 to 100."),
    }


# The word on printed lists and in sheets: short, and the one staff use.
GROUP_SHORT = {
    HouseholdGroup.LOW_INCOME: "低保",
    HouseholdGroup.EXTREME_POVERTY: "特困",
    HouseholdGroup.AGED_80: "高龄",
    HouseholdGroup.DISABILITY: "残疾",
    HouseholdGroup.ENTITLED: "优抚",
    HouseholdGroup.LIVING_ALONE: "独居老人",
}


# --- reading what staff type ----------------------------------------------------------------


def clean_text(text: str | None, limit: int, code: str) -> str:
    """Return one line of text without control characters, or refuse it when too long."""
    plain = inputs.clean_text(text).strip()
    if len(plain) > limit:
        raise RosterError(code)
    return plain


def parse_people(text: str | None) -> int | None:
    """Return how many people live in a household (blank: not known), 1 to 30."""
    plain = (text or "").strip()
    if not plain:
        return None
    # Bounded before converting: one or two digits (full-width too), an optional 人.
    if not _PEOPLE.fullmatch(plain):
        raise RosterError("people_range")
    people = int(unicodedata.normalize("NFKC", plain.removesuffix("人").strip()))
    if not 1 <= people <= MAX_PEOPLE:
        raise RosterError("people_range")
    return people


def parse_phone(text: str | None) -> str | None:
    """Return a phone as stored (digits), None when blank, or refuse it."""
    raw = unicodedata.normalize("NFKC", (text or "").strip())[:40]
    phone = accounts.normalise_phone(raw)
    if not phone:
        return None
    if not _PHONE_DIGITS.fullmatch(phone) or not phone.isascii():
        raise RosterError("phone_format")
    return phone


def parse_groups(text: str | None) -> list[HouseholdGroup]:
    """Return the groups written in a cell (``低保、高龄``), in a stable order."""
    plain = unicodedata.normalize("NFKC", (text or "")[:200]).strip().lower()
    found: set[HouseholdGroup] = set()
    for word in _GROUP_SEPARATORS.split(plain):
        if not word:
            continue
        group = _GROUP_OF_WORD.get(word)
        if group is None:
            raise RosterError("unknown_group", word=inputs.clean_text(word)[:20])
        found.add(group)
    return sorted(found, key=list(HouseholdGroup).index)


@dataclass(frozen=True)
class HouseholdFields:
    """A household as staff describe it, read and checked."""

    address: str
    head_name: str | None
    phone: str | None
    people: int | None
    groups: tuple[HouseholdGroup, ...]
    note: str = ""

    @classmethod
    def read(
        cls, address, head_name="", phone="", people="", groups="", note=""
    ) -> HouseholdFields:
        """Read a household from text (a form or a sheet's cells); refuse everything that is
        wrong at once."""
        problems = Problems()
        if isinstance(groups, str):
            groups = problems.check(lambda: parse_groups(groups)) or []
        fields = {
            "address": problems.check(lambda: parse_household(address)),
            "head_name": problems.check(lambda: clean_text(head_name, MAX_NAME, "name_too_long")),
            "phone": problems.check(lambda: parse_phone(phone)),
            "people": people
            if isinstance(people, int) or people is None
            else problems.check(lambda: parse_people(people)),
            "note": problems.check(lambda: clean_text(note, MAX_NOTE, "note_too_long")),
        }
        problems.raise_any()
        return cls(
            **fields | {"head_name": fields["head_name"] or None},
            groups=tuple(sorted(set(groups), key=list(HouseholdGroup).index)),
        )


def building_of(address: str) -> str:
    """Return the building of a stored address: ``3-2-501`` is in building ``3``."""
    return address.split("-", 1)[0]


def sort_key(address: str) -> str:
    """Return an address that sorts as people count: ``2-1-101`` before ``10-1-101``."""
    return "-".join(part.zfill(6) if part.isdigit() else "~" + part for part in address.split("-"))


def audit_view(household: Household) -> dict:
    """Return what the audit log keeps of a household: never a name or a full phone."""
    return {
        "address": household.address,
        "head_name": "✓" if household.head_name else "",
        "phone": accounts.mask_phone(household.phone),
        "people": household.people,
        "groups": [group.value for group in household.groups],
        "note": "✓" if household.note else "",
    }


# --- one household at a time ----------------------------------------------------------------


def find(session: Session, community_id: int, address: str) -> Household | None:
    """Return the household of a community at a stored address, or None."""
    return session.scalar(
        select(Household).where(
            Household.community_id == community_id, Household.address == address
        )
    )


def add_household(
    session: Session, actor: User, community_id: int, fields: HouseholdFields
) -> Household:
    """Put a new household on the roster."""
    if find(session, community_id, fields.address) is not None:
        raise RosterError("household_exists", household=household_label(fields.address))
    household = Household(community_id=community_id)
    session.add(household)
    _apply(household, fields)
    session.flush()
    audit.record(session, actor, "household.create", household, after=audit_view(household))
    return household


def update_household(
    session: Session, actor: User, household: Household, fields: HouseholdFields
) -> Household:
    """Change what the roster says of a household (not its address: that is who it is)."""
    before = audit_view(household)
    _apply(household, fields, keep_address=True)
    household.updated_at = utcnow()
    session.flush()
    after = audit_view(household)
    if after != before:
        audit.record(session, actor, "household.update", household, before=before, after=after)
    return household


def _apply(household: Household, fields: HouseholdFields, keep_address: bool = False) -> None:
    if not keep_address:
        household.address = fields.address
        household.building = building_of(fields.address)
        household.sort_key = sort_key(fields.address)
    household.head_name = fields.head_name
    household.phone = fields.phone
    household.people = fields.people
    household.note = fields.note
    current = {row.group: row for row in household.group_rows}
    wanted = set(fields.groups)
    household.group_rows = [
        current.get(group) or HouseholdMembership(group=group)
        for group in HouseholdGroup
        if group in wanted
    ]
    if household.erased_at is not None and (fields.head_name or fields.phone or fields.groups):
        household.erased_at = None  # the household gave its data again


def erase_household(session: Session, actor: User, household: Household, reason: str) -> Household:
    """Remove a household's personal data on its request; its address and cards stay."""
    reason = clean_text(reason, MAX_NOTE, "note_too_long")
    if not reason:
        raise RosterError("reason_required")
    if household.erased_at is not None:
        raise RosterError("already_erased")
    before = audit_view(household)
    household.head_name = None
    household.phone = None
    household.people = None
    household.note = ""
    household.group_rows = []
    household.erased_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "household.erase",
        household,
        before=before,
        after=audit_view(household),
        note=reason,
    )
    return household


# --- importing a sheet: preview, then apply -------------------------------------------------

ROSTER_COLUMNS = [
    SheetColumn(
        "address", ("户号", "住户", "楼栋单元门牌", "门牌", "地址", "address"), required=True
    ),
    SheetColumn("head_name", ("户主", "户主姓名", "姓名", "head_name", "name")),
    SheetColumn("phone", ("电话", "手机", "联系电话", "phone")),
    SheetColumn("people", ("人数", "人口", "家庭人数", "people")),
    SheetColumn("groups", ("类别", "分类", "人群", "帮扶类别", "groups")),
    SheetColumn("note", ("备注", "note")),
]
ROSTER_TEMPLATE_ROWS = [
    ["3-2-501", "王秀英", "13912345678", "2", "低保、高龄", ""],
    ["3栋2单元502", "李建国", "", "1", "独居老人", "腿脚不便，送到门口"],
    ["5号楼1单元101室", "张伟", "", "4", "", ""],
]
IMPORT_FIELDS = ("head_name", "phone", "people", "groups", "note")


@dataclass
class RosterChange:
    """What one row of a sheet does to the roster."""

    line: int
    fields: HouseholdFields
    household: Household | None = None  # None: a new household
    changes: dict[str, tuple] = field(default_factory=dict)  # field: (old, new)


@dataclass
class RosterPlan:
    """What importing a sheet would do (or did): new, changed, unchanged and refused rows."""

    new: list[RosterChange] = field(default_factory=list)
    changed: list[RosterChange] = field(default_factory=list)
    unchanged: int = 0
    refused: list[tuple[int, str, DomainError]] = field(default_factory=list)

    @property
    def applicable(self) -> bool:
        return bool(self.new or self.changed)


def plan_import(session: Session, community_id: int, rows: list[SheetRow]) -> RosterPlan:
    """Say what importing these rows would change, without changing anything.

    A row for an address already on the roster updates the cells the sheet fills (a blank cell
    keeps what the roster has); a row for a new address adds a household.
    """
    plan = RosterPlan()
    existing = {
        h.address: h
        for h in session.scalars(select(Household).where(Household.community_id == community_id))
    }
    seen: dict[str, int] = {}
    for row in rows:
        typed = row.get("address")
        try:
            fields = HouseholdFields.read(
                typed,
                row.get("head_name"),
                row.get("phone"),
                row.get("people"),
                row.get("groups"),
                row.get("note"),
            )
            if fields.address in seen:
                raise RosterError(
                    "duplicate_row",
                    household=household_label(fields.address),
                    first=seen[fields.address],
                    line=row.line,
                )
        except (RosterError, HouseholdError) as error:
            plan.refused.append((row.line, typed, error))
            continue
        seen[fields.address] = row.line
        household = existing.get(fields.address)
        if household is None:
            plan.new.append(RosterChange(row.line, fields))
            continue
        merged = _merged(household, fields, row)
        changes = _changes(household, merged)
        if changes:
            plan.changed.append(RosterChange(row.line, merged, household, changes))
        else:
            plan.unchanged += 1
    return plan


def _merged(household: Household, fields: HouseholdFields, row: SheetRow) -> HouseholdFields:
    """Return the sheet's fields where its cells are filled, the roster's where they are blank."""
    keep = {name: not row.get(name).strip() for name in IMPORT_FIELDS}
    return HouseholdFields(
        address=household.address,
        head_name=household.head_name if keep["head_name"] else fields.head_name,
        phone=household.phone if keep["phone"] else fields.phone,
        people=household.people if keep["people"] else fields.people,
        groups=tuple(household.groups) if keep["groups"] else fields.groups,
        note=household.note if keep["note"] else fields.note,
    )


def _changes(household: Household, fields: HouseholdFields) -> dict[str, tuple]:
    changes = {}
    for name in IMPORT_FIELDS:
        old = tuple(household.groups) if name == "groups" else getattr(household, name)
        new = getattr(fields, name)
        if (old or None) != (new or None):
            changes[name] = (old, new)
    return changes


def apply_import(
    session: Session, actor: User, community_id: int, rows: list[SheetRow]
) -> RosterPlan:
    """Import the rows: plan afresh (the roster may have changed since the preview), then apply."""
    plan = plan_import(session, community_id, rows)
    for change in plan.new:
        household = Household(community_id=community_id)
        session.add(household)
        _apply(household, change.fields)
        change.household = household
    for change in plan.changed:
        _apply(change.household, change.fields, keep_address=True)
        change.household.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "household.import",
        object_type="household",
        community_id=community_id,
        after={
            "created": len(plan.new),
            "updated": len(plan.changed),
            "unchanged": plan.unchanged,
            "refused": len(plan.refused),
        },
    )
    return plan


# --- who a campaign's cards go to -----------------------------------------------------------


def campaign_groups(session: Session, campaign_id: int) -> list[CampaignGroup]:
    """Return the groups a campaign is limited to (none: open to every household)."""
    found = session.scalars(select(CampaignGroup).where(CampaignGroup.campaign_id == campaign_id))
    return sorted(found, key=lambda row: list(HouseholdGroup).index(row.group))


def set_campaign_groups(
    session: Session, actor: User, campaign: Campaign, limits: dict[HouseholdGroup, int | None]
) -> list[CampaignGroup]:
    """Limit a campaign to these groups, each with its cards per household (None: the campaign's).

    An empty `limits` opens the campaign to every household again. Cards already handed out
    stay where they are.
    """
    for number in limits.values():
        if number is not None and not 1 <= number <= 100:
            raise RosterError("per_household_range")
    before = {
        row.group.value: row.cards_per_household for row in campaign_groups(session, campaign.id)
    }
    session.execute(delete(CampaignGroup).where(CampaignGroup.campaign_id == campaign.id))
    rows = [
        CampaignGroup(campaign_id=campaign.id, group=group, cards_per_household=limits[group])
        for group in HouseholdGroup
        if group in limits
    ]
    session.add_all(rows)
    session.flush()
    after = {row.group.value: row.cards_per_household for row in rows}
    if after != before:
        audit.record(
            session,
            actor,
            "campaign.eligibility",
            campaign,
            before={"groups": before},
            after={"groups": after},
        )
    return rows


@dataclass(frozen=True)
class Eligibility:
    """What a household may hold of a campaign: None is no limit."""

    limit: int | None
    household: Household | None


def household_limit(session: Session, campaign: Campaign, address: str) -> Eligibility:
    """Return how many cards of `campaign` the household at `address` may hold, or refuse it.

    A campaign open to everyone allows its cards per household. A campaign limited to groups
    allows a household of the roster in one of them the largest number of its groups (a group
    without a number of its own allows the campaign's); anyone else is refused.
    """
    groups = campaign_groups(session, campaign.id)
    household = find(session, campaign.community_id, address)
    if not groups:
        return Eligibility(campaign.cards_per_household, household)
    names = "、".join(GROUP_SHORT[row.group] for row in groups)
    if household is None:
        raise RosterError("not_on_roster", groups=names, household=household_label(address))
    limits = [
        row.cards_per_household
        if row.cards_per_household is not None
        else campaign.cards_per_household
        for row in groups
        if row.group in household.groups
    ]
    if not limits:
        raise RosterError("not_eligible", groups=names, household=household_label(address))
    return Eligibility(None if None in limits else max(limits), household)


def roster_counts(session: Session, community_id: int) -> dict:
    """Return the roster's size: households, people, and households per group."""
    households, people = session.execute(
        select(func.count(Household.id), func.coalesce(func.sum(Household.people), 0)).where(
            Household.community_id == community_id
        )
    ).one()
    per_group = dict(
        session.execute(
            select(HouseholdMembership.group, func.count())
            .join(Household, Household.id == HouseholdMembership.household_id)
            .where(Household.community_id == community_id)
            .group_by(HouseholdMembership.group)
        ).all()
    )
    return {"households": households, "people": people, "groups": per_group}
