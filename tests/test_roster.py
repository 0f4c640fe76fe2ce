"""The household roster: importing with a preview, groups, erasing personal data, eligibility."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.models import AuditLog, CampaignGroup, Card, CardStatus, Household, HouseholdGroup
from app.services import issuing, roster
from app.services.households import HouseholdError
from app.services.issuing import IssueError
from app.services.roster import HouseholdFields, RosterError
from app.services.sheets import SheetRow, read_sheet

from . import factories


def rows(*cells_list):
    keys = ("address", "head_name", "phone", "people", "groups", "note")
    return [
        SheetRow(line, dict(zip(keys, cells, strict=False)))
        for line, cells in enumerate(cells_list, start=2)
    ]


def fields(address="3-2-501", **kwargs):
    return HouseholdFields.read(address, **kwargs)


# --- reading what staff write ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("低保", [HouseholdGroup.LOW_INCOME]),
        ("低保户、高龄", [HouseholdGroup.LOW_INCOME, HouseholdGroup.AGED_80]),
        ("独居老人，残疾人", [HouseholdGroup.DISABILITY, HouseholdGroup.LIVING_ALONE]),
        ("特困 优抚", [HouseholdGroup.EXTREME_POVERTY, HouseholdGroup.ENTITLED]),
        ("高龄80+", [HouseholdGroup.AGED_80]),
        ("", []),
    ],
)
def test_groups_are_read_however_staff_write_them(text, groups):
    assert roster.parse_groups(text) == groups


def test_an_unknown_group_is_refused_with_the_word():
    with pytest.raises(RosterError) as e:
        roster.parse_groups("低保、贫困")
    assert e.value.code == "unknown_group"
    assert e.value.details["word"] == "贫困"


@pytest.mark.parametrize("text", ["0", "31", "1e9", "²", "９９９", "-1", "3.5", "9" * 5000])
def test_people_out_of_range_or_not_a_number_are_refused_before_converting(text):
    with pytest.raises(RosterError) as e:
        roster.parse_people(text)
    assert e.value.code == "people_range"


def test_people_may_be_written_with_full_width_digits_and_a_unit():
    assert roster.parse_people("３人") == 3
    assert roster.parse_people("") is None


def test_control_characters_are_dropped_from_names():
    assert fields(head_name="王\x03秀英").head_name == "王秀英"


# --- one household ---------------------------------------------------------------------------


def test_adding_a_household_keeps_its_stored_address_building_and_groups(db, community, staff_user):
    household = roster.add_household(
        db.session,
        staff_user,
        community.id,
        fields(
            "3栋2单元501",
            head_name="王秀英",
            phone="139 1234 5678",
            people="2",
            groups="低保、高龄",
        ),
    )
    db.session.commit()
    assert (household.address, household.building) == ("3-2-501", "3")
    assert household.phone == "13912345678"
    assert household.groups == [HouseholdGroup.LOW_INCOME, HouseholdGroup.AGED_80]
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "household.create"))
    assert row.after["phone"] == "139****5678"
    assert "王秀英" not in str(row.after)


def test_the_same_address_twice_in_a_community_is_refused(
    db, community, other_community, staff_user
):
    roster.add_household(db.session, staff_user, community.id, fields("3-2-501"))
    with pytest.raises(RosterError) as e:
        roster.add_household(db.session, staff_user, community.id, fields("3栋2单元501室"))
    assert e.value.code == "household_exists"
    # another community may have the same address
    roster.add_household(db.session, staff_user, other_community.id, fields("3-2-501"))


def test_erasing_removes_name_phone_and_groups_but_keeps_the_address_and_cards(
    db, community, staff_user
):
    campaign = factories.campaign(community)
    household = roster.add_household(
        db.session,
        staff_user,
        community.id,
        fields(head_name="王秀英", phone="13912345678", people="2", groups="低保"),
    )
    card = factories.cards(campaign, 1, issued=False)[0]
    issuing.issue_card(db.session, staff_user, card.serial, "3-2-501")
    db.session.commit()
    roster.erase_household(db.session, staff_user, household, "本人来电要求")
    db.session.commit()
    db.session.refresh(household)
    assert household.head_name is None and household.phone is None and household.people is None
    assert household.groups == []
    assert household.erased_at is not None
    assert household.address == "3-2-501"
    assert db.session.get(Card, card.id).household == "3-2-501"
    logged = " ".join(str(r.before) + str(r.after) for r in db.session.scalars(select(AuditLog)))
    assert "王秀英" not in logged and "13912345678" not in logged
    with pytest.raises(RosterError) as e:
        roster.erase_household(db.session, staff_user, household, "again")
    assert e.value.code == "already_erased"


# --- importing -------------------------------------------------------------------------------


def test_a_preview_says_what_would_change_and_changes_nothing(db, community, staff_user):
    roster.add_household(db.session, staff_user, community.id, fields("3-2-501", people="2"))
    roster.add_household(db.session, staff_user, community.id, fields("3-2-502", people="1"))
    db.session.commit()
    plan = roster.plan_import(
        db.session,
        community.id,
        rows(
            ["3-2-501", "王秀英", "", "3", "低保"],  # changes
            ["3栋2单元502", "", "", "1", ""],  # as on the roster
            ["5号楼1单元101室", "张伟", "", "4", ""],  # new
            ["九栋", "李", "", "", ""],  # bad address
            ["6-1-101", "", "", "", "贫困户"],  # bad group
            ["5-1-101", "", "", "", ""],  # the same household again
        ),
    )
    assert [c.fields.address for c in plan.new] == ["5-1-101"]
    assert [c.household.address for c in plan.changed] == ["3-2-501"]
    assert plan.changed[0].changes == {
        "head_name": (None, "王秀英"),
        "people": (2, 3),
        "groups": ((), (HouseholdGroup.LOW_INCOME,)),
    }
    assert plan.unchanged == 1
    assert [(line, e.code) for line, _typed, e in plan.refused] == [
        (5, "household_format"),
        (6, "unknown_group"),
        (7, "duplicate_row"),
    ]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Household.id))) == 2


def test_applying_an_import_adds_and_updates_and_writes_one_audit_row(db, community, staff_user):
    roster.add_household(
        db.session, staff_user, community.id, fields("3-2-501", head_name="王秀英")
    )
    db.session.commit()
    plan = roster.apply_import(
        db.session,
        staff_user,
        community.id,
        rows(["3-2-501", "", "13900000009", "", "高龄"], ["7-1-301", "赵四", "", "2", "独居老人"]),
    )
    db.session.commit()
    assert (len(plan.new), len(plan.changed)) == (1, 1)
    kept = roster.find(db.session, community.id, "3-2-501")
    assert kept.head_name == "王秀英"  # a blank cell keeps what the roster has
    assert kept.phone == "13900000009" and kept.groups == [HouseholdGroup.AGED_80]
    new = roster.find(db.session, community.id, "7-1-301")
    assert (new.head_name, new.people, new.groups) == ("赵四", 2, [HouseholdGroup.LIVING_ALONE])
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "household.import"))
    assert audit.after == {"created": 1, "updated": 1, "unchanged": 0, "refused": 0}


def test_a_roster_sheet_is_read_from_xlsx_with_chinese_headers():
    book = Workbook()
    sheet = book.active
    sheet.append(["户号", "户主", "电话", "人数", "类别"])
    sheet.append(["3-2-501", "王秀英", 13912345678, 2, "低保、高龄"])
    data = io.BytesIO()
    book.save(data)
    read = read_sheet("名单.xlsx", data.getvalue(), roster.ROSTER_COLUMNS)
    assert read[0].cells == {
        "address": "3-2-501",
        "head_name": "王秀英",
        "phone": "13912345678",
        "people": "2",
        "groups": "低保、高龄",
    }


# --- eligibility -----------------------------------------------------------------------------


@pytest.fixture
def dibao_campaign(db, community, staff_user):
    campaign = factories.campaign(community, cards_per_household=1)
    roster.set_campaign_groups(
        db.session,
        staff_user,
        campaign,
        {HouseholdGroup.LOW_INCOME: None, HouseholdGroup.EXTREME_POVERTY: 2},
    )
    roster.add_household(db.session, staff_user, community.id, fields("1-1-101", groups="低保"))
    roster.add_household(db.session, staff_user, community.id, fields("1-1-102", groups="特困"))
    roster.add_household(db.session, staff_user, community.id, fields("1-1-103", groups="高龄"))
    db.session.commit()
    return campaign


def test_a_card_for_a_household_outside_the_groups_is_refused_not_eligible(
    db, staff_user, dibao_campaign
):
    card = factories.cards(dibao_campaign, 1, issued=False)[0]
    with pytest.raises(RosterError) as e:
        issuing.issue_card(db.session, staff_user, card.serial, "1-1-103")
    assert e.value.code == "not_eligible"
    assert e.value.details["groups"] == "低保、特困"
    db.session.rollback()
    assert db.session.get(Card, card.id).status == CardStatus.NEW


def test_a_card_for_a_household_not_on_the_roster_is_refused_not_on_roster(
    db, staff_user, dibao_campaign
):
    card = factories.cards(dibao_campaign, 1, issued=False)[0]
    with pytest.raises(RosterError) as e:
        issuing.issue_card(db.session, staff_user, card.serial, "9-9-909")
    assert e.value.code == "not_on_roster"


def test_each_group_has_its_own_number_of_cards_per_household(db, staff_user, dibao_campaign):
    made = factories.cards(dibao_campaign, 5, issued=False)
    issuing.issue_card(db.session, staff_user, made[0].serial, "1-1-101")
    with pytest.raises(IssueError) as e:
        issuing.issue_card(db.session, staff_user, made[1].serial, "1-1-101")
    assert e.value.code == "household_limit"
    db.session.rollback()
    issuing.issue_card(db.session, staff_user, made[1].serial, "1-1-102")
    issuing.issue_card(db.session, staff_user, made[2].serial, "1-1-102")
    with pytest.raises(IssueError):
        issuing.issue_card(db.session, staff_user, made[3].serial, "1-1-102")


def test_a_campaign_without_groups_is_open_to_households_off_the_roster(db, community, staff_user):
    campaign = factories.campaign(community)
    card = factories.cards(campaign, 1, issued=False)[0]
    issuing.issue_card(db.session, staff_user, card.serial, "9-9-909")
    assert card.status == CardStatus.ISSUED


def test_setting_groups_is_audited_and_an_empty_set_opens_the_campaign(
    db, staff_user, dibao_campaign
):
    roster.set_campaign_groups(db.session, staff_user, dibao_campaign, {})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CampaignGroup)) == 0
    rows_ = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "campaign.eligibility").order_by(AuditLog.id)
    ).all()
    assert rows_[-1].before == {"groups": {"low_income": None, "extreme_poverty": 2}}
    assert rows_[-1].after == {"groups": {}}


def test_exchanging_points_for_a_card_of_a_limited_campaign_is_refused_outside_its_groups(
    db, community, staff_user
):
    from app.services import points

    campaign = factories.exchange_campaign(community, price=10)
    roster.set_campaign_groups(db.session, staff_user, campaign, {HouseholdGroup.LOW_INCOME: 1})
    db.session.commit()
    resident = factories.resident(community, household="4-1-401")
    points.adjust(db.session, staff_user, resident, 50, "打扫楼道")
    db.session.commit()
    with pytest.raises(RosterError) as e:
        points.exchange(db.session, resident, campaign.id)
    assert e.value.code == "not_on_roster"


def test_every_roster_refusal_reads_in_chinese(app):
    import re

    from flask_babel import force_locale, gettext

    details = {
        "household": "3栋2单元501室",
        "word": "贫困",
        "first": 2,
        "line": 5,
        "groups": "低保",
    }
    for code, text in RosterError.messages.items():
        with app.test_request_context(), force_locale("zh_Hans_CN"):
            said = gettext(text, **details)
        assert re.search(r"[\u4e00-\u9fff]", said) and said != text, code


def test_household_errors_of_the_address_stay_household_errors():
    with pytest.raises(HouseholdError):
        fields("三栋")


def test_a_draft_campaign_limited_to_groups_can_still_be_deleted(db, community, staff_user):
    from app.models import Campaign, CampaignStatus
    from app.services import campaigns

    draft = factories.campaign(community, status=CampaignStatus.DRAFT)
    roster.set_campaign_groups(db.session, staff_user, draft, {HouseholdGroup.LOW_INCOME: 1})
    db.session.commit()
    campaigns.delete_draft(db.session, staff_user, draft)
    db.session.commit()
    assert db.session.get(Campaign, draft.id) is None
    assert db.session.scalar(select(func.count()).select_from(CampaignGroup)) == 0
