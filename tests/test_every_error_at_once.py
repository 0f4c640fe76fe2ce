"""Every form says all its fields' problems at once: two wrong fields, two messages, nothing
written. (The campaign, shop-detail and community forms have their own tests.)"""

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.i18n import message
from app.models import Card, CardStatus, HelpPost, Household, User
from app.services.accounts import AccountError
from app.services.helpboard import HelpError
from app.services.households import HouseholdError
from app.services.issuing import IssueError
from app.services.logins import LoginError
from app.services.merchants import MerchantError
from app.services.residents import ResidentError
from app.services.roster import RosterError

from . import factories
from .conftest import login


def said(error) -> str:
    """The refusal as a Chinese page says it."""
    with current_app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        return message(error)


def count(db, model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def says_all(response, *errors):
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for error in errors:
        assert said(error) in text, error.code


def test_a_new_shop_with_a_bad_name_and_a_short_owner_password_says_both(staff, db):
    users = count(db, User)
    response = staff.post(
        "/admin/merchants/new",
        data={
            "name": "",
            "category": "餐饮",
            "owner_name": "张",
            "owner_login": "zhang-owner",
            "owner_password": "123",
        },
    )
    says_all(response, MerchantError("name_required"), AccountError("weak_password"))
    assert count(db, User) == users


def test_a_shop_login_without_a_name_and_with_a_short_password_says_both(staff, db, shop):
    users = count(db, User)
    response = staff.post(
        f"/admin/merchants/{shop.id}/logins",
        data={"role": "cashier", "owner_name": "", "owner_login": "x!", "owner_password": "1"},
    )
    says_all(
        response,
        LoginError("owner_name_required"),
        LoginError("login_format"),
        AccountError("weak_password"),
    )
    assert count(db, User) == users


def test_a_staff_login_already_taken_with_a_short_password_says_both(
    district_admin, db, community, staff_user
):
    users = count(db, User)
    response = district_admin.post(
        f"/admin/communities/{community.id}",
        data={"owner_name": "李", "owner_login": staff_user.username, "owner_password": "short"},
    )
    says_all(response, AccountError("login_taken"), AccountError("weak_password"))
    assert count(db, User) == users


def test_a_street_staff_login_without_login_name_or_password_says_both(district_admin, db):
    street = factories.street("琴断口街")
    users = count(db, User)
    response = district_admin.post(
        f"/admin/streets/{street.id}",
        data={"owner_name": "王", "owner_login": "", "owner_password": ""},
    )
    says_all(response, LoginError("login_required"), AccountError("weak_password"))
    assert count(db, User) == users


def test_a_resident_signing_up_wrong_in_every_field_hears_every_problem(client, db):
    users = count(db, User)
    response = client.post(
        "/aid/join",
        data={
            "community": 0,
            "name": "",
            "phone": "12345",
            "household": "楼上",
            "password": "1",
            "confirm": "1",
        },
    )
    says_all(
        response,
        ResidentError("community_required"),
        ResidentError("name_required"),
        ResidentError("phone_format"),
        HouseholdError("household_format"),
        AccountError("weak_password"),
    )
    assert count(db, User) == users


def test_a_sign_up_whose_passwords_differ_still_says_the_other_problems(client, db, community):
    response = client.post(
        "/aid/join",
        data={
            "community": community.id,
            "name": "赵大妈",
            "phone": "12345",
            "household": "",
            "password": "secret-123",
            "confirm": "secret-124",
        },
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "两次输入的密码不一致。" in text
    assert said(ResidentError("phone_format")) in text
    assert said(HouseholdError("household_required")) in text


def test_a_help_post_with_no_title_and_a_long_place_says_both(app, db, community):
    resident = login(app, factories.resident(community))
    response = resident.post(
        "/aid/new",
        data={"kind": "request", "category": "shopping", "title": "", "area": "远" * 81},
    )
    says_all(response, HelpError("title_required"), HelpError("area_too_long"))
    assert count(db, HelpPost) == 0


def test_a_help_post_the_form_refuses_still_says_the_services_problems(app, db, community):
    resident = login(app, factories.resident(community))
    response = resident.post(
        "/aid/new",
        data={"kind": "request", "category": "shopping", "title": "买" * 201, "area": "远" * 81},
    )
    says_all(response, HelpError("area_too_long"))
    assert count(db, HelpPost) == 0


def test_handing_out_an_unknown_card_to_a_bad_household_says_both(staff, db, community):
    campaign = factories.campaign(community)
    factories.cards(campaign, 1, issued=False)
    response = staff.post(
        "/admin/issue", data={"serial": "ZZZ-0000-00", "household": "楼上", "phone": "abc"}
    )
    says_all(
        response,
        IssueError("card_not_found"),
        HouseholdError("household_format"),
        IssueError("phone_format"),
    )
    assert db.session.scalar(select(Card.status)) == CardStatus.NEW


def test_a_household_with_a_bad_phone_and_too_many_people_says_both(staff, db):
    response = staff.post(
        "/admin/households/new",
        data={"address": "3-2-501", "head_name": "王", "phone": "abc", "people": "99"},
    )
    says_all(response, RosterError("phone_format"), RosterError("people_range"))
    assert count(db, Household) == 0


@pytest.mark.parametrize(
    "codes",
    [["owner_name_required", "login_required", "weak_password"]],
)
def test_a_login_collects_every_problem_with_the_first_ones_code(codes):
    from app.services.logins import Login

    with pytest.raises(LoginError) as refused:
        Login("", "", "").fields()
    assert refused.value.code == codes[0]
    assert [error.code for error in refused.value.errors] == codes


def test_an_activity_without_title_or_place_ending_before_it_starts_says_all_three(db, staff):
    from app.models import VolunteerActivity
    from app.services.volunteers import VolunteerError

    response = staff.post(
        "/admin/volunteers/activities/new",
        data={"title": "", "kind": "cleanup", "place": " ", "needed": "5",
              "starts_at": "2030-07-01T20:00", "ends_at": "2030-07-01T19:00"},
    )  # fmt: skip
    says_all(
        response,
        VolunteerError("title_required"),
        VolunteerError("place_required"),
        VolunteerError("ends_before_start"),
    )
    assert count(db, VolunteerActivity) == 0


def test_a_unit_s_volunteer_without_a_name_a_mobile_or_a_unit_says_all_three(db, staff, community):
    from app.models import Volunteer
    from app.services.volunteers import VolunteerError

    response = staff.post("/admin/volunteers/new", data={"name": "", "phone": "12345", "unit": "0"})
    says_all(
        response,
        VolunteerError("name_required"),
        VolunteerError("phone_format"),
        VolunteerError("unit_required"),
    )
    assert count(db, Volunteer) == 0
