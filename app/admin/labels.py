"""What people call the states and kinds of things, for pages and exports alike."""

import re

from flask_babel import lazy_gettext as _l

from ..models import (
    ActivityKind,
    ActivityStatus,
    CampaignKind,
    CampaignStatus,
    CardStatus,
    Funding,
    HandoutStatus,
    HelpCategory,
    HelpKind,
    HelpStatus,
    HouseholdGroup,
    MerchantStatus,
    OfferStatus,
    PointsKind,
    RedemptionStatus,
    Role,
    SignupStatus,
    VolunteerOrigin,
    VolunteerStatus,
)
from ..services.paper import PassbookKind

LABELS = {
    MerchantStatus: {
        MerchantStatus.PENDING: (_l("Waiting for approval"), "warn"),
        MerchantStatus.ACTIVE: (_l("Taking cards"), "ok"),
        MerchantStatus.SUSPENDED: (_l("Suspended"), "bad"),
        MerchantStatus.REFUSED: (_l("Refused"), ""),
    },
    CampaignStatus: {
        CampaignStatus.DRAFT: (_l("Draft"), ""),
        CampaignStatus.ACTIVE: (_l("Running"), "ok"),
        CampaignStatus.PAUSED: (_l("Paused"), "warn"),
        CampaignStatus.ENDED: (_l("Ended"), ""),
    },
    CampaignKind: {
        CampaignKind.CARD: (_l("Discount card (reusable)"), ""),
        CampaignKind.COUPON: (_l("Coupon (one use)"), ""),
    },
    Funding: {
        Funding.MERCHANT: (_l("Shops give the discount"), ""),
        Funding.COMMUNITY: (_l("Community pays the discount"), ""),
    },
    OfferStatus: {
        OfferStatus.PENDING: (_l("Applied"), "warn"),
        OfferStatus.ACTIVE: (_l("Taking part"), "ok"),
        OfferStatus.WITHDRAWN: (_l("Withdrawn"), ""),
    },
    CardStatus: {
        CardStatus.NEW: (_l("Not handed out"), ""),
        CardStatus.ISSUED: (_l("Handed out"), "ok"),
        CardStatus.USED_UP: (_l("Used up"), ""),
        CardStatus.EXPIRED: (_l("Expired"), ""),
        CardStatus.VOID: (_l("Voided"), "bad"),
    },
    RedemptionStatus: {
        RedemptionStatus.OK: (_l("Valid use"), "ok"),
        RedemptionStatus.VOID: (_l("Voided"), "bad"),
    },
    Role: {
        Role.DISTRICT_ADMIN: (_l("District admin"), ""),
        Role.STAFF: (_l("Community staff"), ""),
        Role.STREET_STAFF: (_l("Street staff"), ""),
        Role.MERCHANT_OWNER: (_l("Owner"), ""),
        Role.CASHIER: (_l("Cashier"), ""),
        Role.RESIDENT: (_l("Resident"), ""),
    },
    HelpKind: {
        HelpKind.REQUEST: (_l("Needs help"), "warn"),
        HelpKind.OFFER: (_l("Offers help"), "ok"),
    },
    HelpCategory: {
        HelpCategory.SHOPPING: (_l("Shopping"), ""),
        HelpCategory.MEDICINE: (_l("Medicine delivery"), ""),
        HelpCategory.ESCORT: (_l("Hospital escort"), ""),
        HelpCategory.REPAIR: (_l("Repairs"), ""),
        HelpCategory.CARE: (_l("Looking after someone"), ""),
        HelpCategory.OTHER: (_l("Other"), ""),
    },
    HelpStatus: {
        HelpStatus.OPEN: (_l("Open"), "warn"),
        HelpStatus.TAKEN: (_l("Taken on"), ""),
        HelpStatus.DONE: (_l("Done, to confirm"), "warn"),
        HelpStatus.CONFIRMED: (_l("Confirmed"), "ok"),
        HelpStatus.CANCELLED: (_l("Cancelled"), ""),
    },
    PointsKind: {
        PointsKind.EARNED: (_l("Earned"), "ok"),
        PointsKind.EXCHANGED: (_l("Exchanged"), ""),
        PointsKind.ADJUSTED: (_l("Adjusted"), "warn"),
    },
    # the 摘要 of a line of the printed passbook
    PassbookKind: {
        PassbookKind.HELPED_OTHERS: (_l("Helped a neighbour"), ""),
        PassbookKind.VOLUNTEERED: (_l("Volunteer service"), ""),
        PassbookKind.EXCHANGED: (_l("Exchanged for a card"), ""),
        PassbookKind.ADJUSTED_UP: (_l("Added by the office"), ""),
        PassbookKind.ADJUSTED_DOWN: (_l("Taken off by the office"), ""),
        PassbookKind.WAS_HELPED: (_l("Help received"), ""),
    },
    HouseholdGroup: {
        HouseholdGroup.LOW_INCOME: (_l("Low income"), ""),
        HouseholdGroup.EXTREME_POVERTY: (_l("Extreme poverty"), ""),
        HouseholdGroup.AGED_80: (_l("Aged 80 and over"), ""),
        HouseholdGroup.DISABILITY: (_l("Disability"), ""),
        HouseholdGroup.ENTITLED: (_l("Entitled family"), ""),
        HouseholdGroup.LIVING_ALONE: (_l("Elderly living alone"), ""),
    },
    HandoutStatus: {
        HandoutStatus.OPEN: (_l("Out for signing"), "warn"),
        HandoutStatus.CLOSED: (_l("Taken back in"), ""),
    },
    # volunteers (志愿服务)
    VolunteerOrigin: {
        VolunteerOrigin.RESIDENT: (_l("Resident volunteer"), ""),
        VolunteerOrigin.UNIT: (_l("Cadre or party member of a unit"), ""),
    },
    VolunteerStatus: {
        VolunteerStatus.PENDING: (_l("Waiting for confirmation"), "warn"),
        VolunteerStatus.CONFIRMED: (_l("Confirmed"), "ok"),
        VolunteerStatus.INACTIVE: (_l("Turned off"), ""),
    },
    ActivityKind: {
        ActivityKind.CLEANUP: (_l("Cleaning up"), ""),
        ActivityKind.PATROL: (_l("Patrol and flood watch"), ""),
        ActivityKind.CLINIC: (_l("Free clinic"), ""),
        ActivityKind.ELDERLY: (_l("Helping the elderly"), ""),
        ActivityKind.PUBLICITY: (_l("Publicity"), ""),
        ActivityKind.EPIDEMIC: (_l("Epidemic prevention"), ""),
        ActivityKind.OTHER: (_l("Other"), ""),
    },
    ActivityStatus: {
        ActivityStatus.OPEN: (_l("Open for sign-up"), "ok"),
        ActivityStatus.CLOSED: (_l("Closed, points credited"), ""),
        ActivityStatus.CANCELLED: (_l("Cancelled"), "bad"),
    },
    SignupStatus: {
        SignupStatus.SIGNED: (_l("Has a place"), "ok"),
        SignupStatus.WAITING: (_l("On the waiting list"), "warn"),
        SignupStatus.WITHDRAWN: (_l("Withdrew"), ""),
    },
}


def label(member) -> str:
    """Return what people call an enum member, e.g. MerchantStatus.PENDING: 待审核."""
    if member is None:
        return ""
    found = LABELS.get(type(member), {}).get(member)
    return str(found[0]) if found else str(member)


def tone(member) -> str:
    """Return the badge colour of a status: ok, warn, bad or nothing."""
    found = LABELS.get(type(member), {}).get(member)
    return found[1] if found else ""


def choices(enum_class) -> list[tuple[str, str]]:
    """Return (value, label) pairs for a select of an enum's members."""
    return [(member.value, label(member)) for member in enum_class]


# What each audited action is called; an action not listed shows as its code.
ACTION_LABELS = {
    "merchant.create": _l("Registered a shop"),
    "merchant.apply": _l("A shop applied to join"),
    "merchant.update": _l("Changed a shop's details"),
    "merchant.approve": _l("Approved a shop"),
    "merchant.refuse": _l("Refused a shop's application"),
    "merchant.suspend": _l("Suspended a shop"),
    "merchant.reactivate": _l("Reactivated a shop"),
    "merchant.import": _l("Imported shops from a sheet"),
    "user.create": _l("Created a login"),
    "user.disable": _l("Disabled a login"),
    "user.enable": _l("Enabled a login"),
    "user.reset_password": _l("Set a new password for a login"),
    "user.change_password": _l("Changed own password"),
    "campaign.create": _l("Created a campaign"),
    "campaign.update": _l("Changed a campaign"),
    "campaign.start": _l("Started a campaign"),
    "campaign.pause": _l("Paused a campaign"),
    "campaign.resume": _l("Resumed a campaign"),
    "campaign.end": _l("Ended a campaign"),
    "offer.create": _l("Added a shop to a campaign"),
    "offer.rejoin": _l("Took a shop back into a campaign"),
    "offer.update": _l("Changed a shop's rule"),
    "offer.withdraw": _l("Withdrew a shop from a campaign"),
    "offer.accept": _l("Accepted a shop into a campaign"),
    "offer.apply": _l("A shop asked to join a campaign"),
    "batch.create": _l("Made a batch of cards"),
    "batch.print": _l("Printed cards"),
    "card.print": _l("Printed a card exchanged for points"),
    "card.issue": _l("Handed out a card"),
    "card.issue_bulk": _l("Handed out cards"),
    "card.issue_sheet": _l("Handed out cards from a sheet"),
    "card.void": _l("Voided a card"),
    "card.replace": _l("Replaced a lost card"),
    "card.pin_release": _l("Released a card locked after wrong PINs"),
    "redemption.create": _l("Redeemed a card"),
    "redemption.void": _l("Voided a use"),
    "community.create": _l("Created a community"),
    "community.update": _l("Changed a community"),
    "community.archive": _l("Archived a community"),
    "community.restore": _l("Brought an archived community back"),
    "campaign.delete": _l("Deleted a draft campaign"),
    "api_key.create": _l("Made a till key"),
    "api_key.revoke": _l("Revoked a till key"),
    "demo.seed": _l("Loaded the demo"),
    "resident.join": _l("A resident joined the help board"),
    "resident.confirm": _l("Confirmed a resident's household"),
    "resident.disable": _l("Turned a resident's login off"),
    "resident.enable": _l("Turned a resident's login on"),
    "resident.household": _l("Corrected a resident's household"),
    "resident.reset_password": _l("Set a temporary password for a resident"),
    "resident.add": _l("Added a resident without a phone"),
    "help.post": _l("Posted on the help board"),
    "help.take": _l("Took on a post"),
    "help.done": _l("Marked help as given"),
    "help.cancel": _l("Cancelled a post"),
    "help.release": _l("Gave a post back"),
    "help.confirm": _l("Confirmed help and awarded points"),
    "help.hide": _l("Hid a post from the board"),
    "help.unhide": _l("Put a post back on the board"),
    "points.adjust": _l("Added or took off points"),
    "points.exchange": _l("Exchanged points for a card"),
    "campaign.points": _l("Set a campaign's price in points"),
    "community.leaderboard": _l("Switched the help leaderboard"),
    "community.move": _l("Moved a community to another street"),
    "street.create": _l("Created a street"),
    "street.update": _l("Changed a street"),
    "report.send": _l("Sent a monthly report up to the street"),
    "household.create": _l("Added a household to the roster"),
    "household.update": _l("Changed a household on the roster"),
    "household.erase": _l("Removed a household's personal data"),
    "household.import": _l("Imported households from a sheet"),
    "campaign.eligibility": _l("Set who a campaign's cards go to"),
    "handout.create": _l("Made a hand-out list"),
    "handout.receive": _l("Took in signatures from a hand-out list"),
    "handout.close": _l("Closed a hand-out list"),
    "wave.plan": _l("Planned waves of cards"),
    # volunteers (志愿服务)
    "volunteer.register": _l("Registered as a volunteer"),
    "volunteer.add": _l("Added a volunteer"),
    "volunteer.confirm": _l("Confirmed a volunteer"),
    "volunteer.disable": _l("Turned a volunteer off"),
    "volunteer.enable": _l("Turned a volunteer on"),
    "volunteer_unit.create": _l("Recorded a co-building unit"),
    "volunteer_unit.update": _l("Changed a co-building unit"),
    "activity.publish": _l("Published a volunteer activity"),
    "activity.update": _l("Changed a volunteer activity"),
    "activity.cancel": _l("Cancelled a volunteer activity"),
    "activity.close": _l("Closed a volunteer activity and credited points"),
    "signup.create": _l("Signed up for an activity"),
    "signup.withdraw": _l("Withdrew from an activity"),
    "signup.promote": _l("Got a place from the waiting list"),
    "signup.add": _l("Put a volunteer on an activity's list"),
    "signup.check_in": _l("Checked in at an activity"),
    "signup.check_out": _l("Checked out of an activity"),
    "signup.correct": _l("Corrected a volunteer's hours"),
    "certificate.issue": _l("Issued a volunteer service certificate"),
}

# What staff call each refusal in the attempt log: short words, not the till's sentences.
REFUSAL_LABELS = {
    "not_found": _l("No such card"),
    "other_community": _l("Card of another community"),
    "not_issued": _l("Card not handed out"),
    "expired": _l("Card expired"),
    "not_started": _l("Campaign not started"),
    "used_up": _l("No uses left"),
    "daily_limit": _l("Today's limit at this shop reached"),
    "budget_exhausted": _l("Campaign budget used up"),
    "merchant_not_in_campaign": _l("Shop not in the campaign"),
    "merchant_suspended": _l("Shop suspended"),
    "void": _l("Card voided"),
    "campaign_paused": _l("Campaign paused"),
    "outside_hours": _l("Outside the card's days and hours at this shop"),
    "no_discount": _l("Bill below the rule"),
    "bad_bill": _l("Bill not an amount"),
    "bad_key": _l("Malformed request"),
    "key_reused": _l("Request sent twice with different bills"),
    "already_void": _l("Redemption already voided"),
    "void_too_late": _l("Too late for the shop to void"),
    "reason_required": _l("No reason given"),
    "lookup_failed": _l("Wrong serial or PIN when looking a card up"),
    "pin_required": _l("Serial typed without its PIN"),
    "wrong_pin": _l("Wrong PIN"),
    "pin_locked": _l("Card locked after wrong PINs"),
}


def refusal_label(code: str) -> str:
    """Return what staff call a refused attempt's code, e.g. used_up: 次数已用完."""
    found = REFUSAL_LABELS.get(code)
    return str(found) if found is not None else code


AREA_LABELS = {
    "merchant": _l("Shops"),
    "user": _l("Logins"),
    "campaign": _l("Campaigns"),
    "offer": _l("Shops in campaigns"),
    "batch": _l("Card batches"),
    "card": _l("Cards"),
    "redemption": _l("Redemptions"),
    "community": _l("Communities"),
    "resident": _l("Residents"),
    "help": _l("Help board"),
    "points": _l("Points"),
    "street": _l("Streets"),
    "report": _l("Monthly reports"),
    "household": _l("Household roster"),
    "handout": _l("Hand-out lists"),
    "wave": _l("Waves"),
    "volunteer": _l("Volunteers"),
    "volunteer_unit": _l("Co-building units"),
    "activity": _l("Volunteer activities"),
    "signup": _l("Volunteer sign-ups"),
    "certificate": _l("Volunteer certificates"),
}


def action_label(action: str) -> str:
    """Return what people call an audited action, e.g. merchant.suspend: 暂停商户."""
    found = ACTION_LABELS.get(action)
    return str(found) if found is not None else action


# The audit log names an actor as "name (role)" with the role's stable value (services.audit.label),
# so the log reads the same whatever language wrote it; pages say the role in the reader's words.
_ACTOR = re.compile(r"(?P<name>.*) \((?P<role>[a-z_]+)\)")


def who(actor_label: str) -> str:
    """Return an audit row's actor as people read it: 王芳 (staff) gives 王芳（社区工作人员）."""
    if actor_label == "system":
        return str(_l("System"))
    found = _ACTOR.fullmatch(actor_label or "")
    if found is None or found["role"] not in Role._value2member_map_:
        return actor_label
    return f"{found['name']}（{label(Role(found['role']))}）"
