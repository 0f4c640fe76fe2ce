"""The office's roster and hand-out pages: import with a preview, eligibility, lists, scoping."""

import io
import re

from sqlalchemy import func, select

from app.models import CampaignGroup, Card, CardStatus, HandoutList, Household, HouseholdGroup
from app.services import handout, roster
from app.services.roster import HouseholdFields

from . import factories

CSV = (
    "户号,户主,电话,人数,类别\n"
    "3-2-501,王秀英,13912345678,2,低保、高龄\n"
    "3栋2单元502,李建国,,1,独居老人\n"
    "九栋,错行,,,\n"
).encode()


def upload(staff, data=CSV, name="名单.csv"):
    return staff.post(
        "/admin/households/import",
        data={"sheet": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_import_previews_first_then_applies_what_it_showed(staff, db, community):
    page = upload(staff)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "预览" in text and "3栋2单元501室" in text and "139****5678" in text
    assert "13912345678" not in text
    assert "第 4 行" in text or "4" in text  # the bad row is listed with its reason
    assert db.session.scalar(select(func.count(Household.id))) == 0
    payload = re.search(r'name="rows" type="hidden" value="([^"]+)"', text).group(1)
    done = staff.post("/admin/households/import/apply", data={"rows": payload, "community": ""})
    assert done.status_code == 200
    assert "新增 2 户" in done.get_data(as_text=True)
    kept = roster.find(db.session, community.id, "3-2-501")
    assert kept.groups == [HouseholdGroup.LOW_INCOME, HouseholdGroup.AGED_80]
    assert kept.phone == "13912345678"


def test_an_altered_preview_is_refused_and_nothing_is_written(staff, db):
    response = staff.post("/admin/households/import/apply", data={"rows": "x" * 50})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Household.id))) == 0


def test_the_roster_list_masks_phones_on_the_page_and_in_the_export(
    staff, db, community, staff_user
):
    roster.add_household(
        db.session,
        staff_user,
        community.id,
        HouseholdFields.read("3-2-501", head_name="王秀英", phone="13912345678", groups="低保"),
    )
    db.session.commit()
    page = staff.get("/admin/households?group=low_income").get_data(as_text=True)
    assert "王秀英" in page and "139****5678" in page and "13912345678" not in page
    export = staff.get("/admin/households?export=csv").get_data(as_text=True)
    assert "139****5678" in export and "13912345678" not in export and "低保" in export


def test_adding_a_household_with_every_field_wrong_shows_every_error(staff, db):
    response = staff.post(
        "/admin/households/new",
        data={"address": "三栋", "people": "99", "groups": ["low_income"]},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Household.id))) == 0


def test_another_communitys_household_and_list_are_not_found(
    other_staff, db, community, staff_user
):
    household = roster.add_household(
        db.session, staff_user, community.id, HouseholdFields.read("3-2-501")
    )
    campaign = factories.campaign(community)
    factories.cards(campaign, 2, issued=False)
    made = handout.make_list(db.session, staff_user, campaign, None, factories.a_date())
    db.session.commit()
    for url in (
        f"/admin/households/{household.id}",
        f"/admin/campaigns/{campaign.id}/eligibility",
        f"/admin/campaigns/{campaign.id}/handouts",
        f"/admin/handouts/{made.id}",
        f"/admin/handouts/{made.id}/print",
    ):
        assert other_staff.get(url).status_code == 404, url
    assert other_staff.post(f"/admin/handouts/{made.id}/close").status_code == 404
    listed = other_staff.get("/admin/households").get_data(as_text=True)
    assert "3栋2单元501室" not in listed


def test_staff_limit_a_campaign_to_groups_on_its_eligibility_page(staff, db, community):
    campaign = factories.campaign(community)
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/eligibility",
        data={"group-low_income": "1", "per-low_income": "2", "group-aged_80": "1"},
    )
    assert response.status_code == 302
    rows = db.session.scalars(select(CampaignGroup).order_by(CampaignGroup.group)).all()
    assert {(r.group, r.cards_per_household) for r in rows} == {
        (HouseholdGroup.LOW_INCOME, 2),
        (HouseholdGroup.AGED_80, None),
    }
    bad = staff.post(
        f"/admin/campaigns/{campaign.id}/eligibility",
        data={"group-low_income": "1", "per-low_income": "1e999999999"},
    )
    assert bad.status_code == 422
    assert "1 到 100" in bad.get_data(as_text=True)


def test_a_list_is_made_printed_ticked_and_closed_through_the_pages(
    staff, db, community, staff_user
):
    for address in ("3-1-101", "3-1-102", "5-1-101"):
        roster.add_household(db.session, staff_user, community.id, HouseholdFields.read(address))
    campaign = factories.campaign(community, cards_per_household=1)
    factories.cards(campaign, 5, issued=False)
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/handouts",
        data={"buildings": ["3"], "hand_out_on": factories.a_date().isoformat()},
    )
    assert response.status_code == 302
    made = db.session.scalar(select(HandoutList))
    assert [line.household.address for line in made.lines] == ["3-1-101", "3-1-102"]
    printed = staff.get(f"/admin/handouts/{made.id}/print").get_data(as_text=True)
    assert "3 栋" in printed and made.lines[0].card.serial in printed and "签字" in printed
    staff.post(f"/admin/handouts/{made.id}/received", data={"line": [str(made.lines[0].id)]})
    staff.post(f"/admin/handouts/{made.id}/close")
    db.session.expire_all()
    cards = {line.household.address: db.session.get(Card, line.card_id) for line in made.lines}
    assert cards["3-1-101"].status == CardStatus.ISSUED
    assert cards["3-1-102"].status == CardStatus.NEW
    page = staff.get(f"/admin/handouts/{made.id}").get_data(as_text=True)
    assert "已收回" in page
