"""Streets and their staff: the district admin makes streets and moves communities (audited);
street staff sign in, read every community of their street in lists, filters and exports, see
nothing of another street, change nothing, and act for a community only where allowed."""

import pytest
from sqlalchemy import select

from app.models import AuditLog, Community, Merchant, Role, Street, User
from app.services import campaigns as campaign_service
from app.services import merchants as merchant_service
from app.services import streets
from app.services.errors import DomainError

from . import factories
from .calls import rows
from .conftest import login


@pytest.fixture
def street_world(db, community, other_community, staff_user):
    """琴断口街: 紫荆花 and 七里庙, a shop each; 江堤街: 江博 with its own shop, card and use."""
    qilimiao = factories.community("七里庙社区", slug="qilimiao", street="琴断口街")
    factories.merchant(community, "张记热干面")
    factories.merchant(qilimiao, "七里庙便利店", category="超市副食")
    factories.merchant(other_community, "江堤小吃店")
    jb = factories.campaign(other_community, name="江博消费券", code="JB")
    factories.offer(jb, db.session.scalar(select(Merchant).filter_by(name="江堤小吃店")))
    return qilimiao


def test_the_district_admin_creates_a_street_and_moves_a_community_into_it(
    district_admin, db, community
):
    response = district_admin.post(
        "/admin/streets/new", data={"name": "五里墩街道", "district": "汉阳区"}
    )
    street = rows(db, Street, Street.name == "五里墩街道")[0]
    assert response.headers["Location"] == f"/admin/streets/{street.id}"
    old = community.street_id
    district_admin.post(f"/admin/streets/{street.id}/move", data={"move-community": community.id})
    assert rows(db, Community, Community.id == community.id)[0].street_id == street.id
    moved = rows(db, AuditLog, AuditLog.action == "community.move")[0]
    assert (moved.before, moved.after) == ({"street": "琴断口街"}, {"street": "五里墩街道"})
    assert moved.community_id == community.id
    assert rows(db, Street, Street.id == old)  # the old street stays, now without 紫荆花
    page = district_admin.get(f"/admin/streets/{street.id}").text
    assert "紫荆花社区" in page


def test_a_second_spelling_of_a_street_is_refused(district_admin, db, community):
    response = district_admin.post(
        "/admin/streets/new", data={"name": "琴断口 街道", "district": "汉阳区"}
    )
    assert response.status_code == 422
    assert "本区已有同名" in response.text
    assert len(rows(db, Street)) == 1


def test_street_staff_sign_in_and_land_in_the_office(app, db, community):
    factories.street_staff(community.street, "qinduankou", name="周敏")
    client = app.test_client()
    response = client.post("/login", data={"login": "qinduankou", "password": factories.PASSWORD})
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").text
    assert "紫荆花社区" in page and "江博社区" not in page


def test_street_staff_lists_and_exports_hold_their_street_only(
    street_staff, street_world, other_community
):
    listed = street_staff.get("/admin/merchants").text
    assert "张记热干面" in listed and "七里庙便利店" in listed and "江堤小吃店" not in listed
    exported = street_staff.get("/admin/merchants?export=csv").data.decode()
    assert "七里庙便利店" in exported and "江堤小吃店" not in exported
    # a filter naming another street's community shows nothing of it
    filtered = street_staff.get(f"/admin/merchants?community={other_community.id}").text
    assert "江堤小吃店" not in filtered
    campaigns = street_staff.get("/admin/campaigns?export=csv").data.decode()
    assert "江博消费券" not in campaigns


def test_street_staff_see_figures_of_their_communities_only(
    street_staff, street_world, community, other_community
):
    page = street_staff.get(f"/admin/dashboard?community={other_community.id}")
    assert page.status_code == 200
    assert "江博社区" not in page.text  # falls back to a community of the street
    assert "七里庙社区" in page.text  # the street's communities are offered


def test_street_staff_change_nothing_of_a_community(street_staff, db, street_world, community):
    merchant = rows(db, Merchant, Merchant.name == "张记热干面")[0]
    assert street_staff.get(f"/admin/merchants/{merchant.id}").status_code == 200
    assert street_staff.post(f"/admin/merchants/{merchant.id}/suspend").status_code == 403
    assert street_staff.get(f"/admin/merchants/{merchant.id}/edit").status_code == 403
    assert rows(db, Merchant, Merchant.id == merchant.id)[0].status.value == "active"
    # not allowed by the street's settings: no shop registration either
    response = street_staff.post(
        "/admin/merchants/new", data={"community": community.id, "name": "新店", "category": "餐饮"}
    )
    assert response.status_code == 403
    assert not rows(db, Merchant, Merchant.name == "新店")


def test_where_the_district_allows_it_street_staff_register_a_shop_for_a_community(
    app, db, street_world, community, street_staff_user
):
    community.street.staff_may_act = True
    db.session.commit()
    client = login(app, street_staff_user)
    data = {"community": street_world.id, "name": "七里庙早点", "category": "早点"}
    response = client.post("/admin/merchants/new", data=data)
    assert response.status_code == 302
    (shop,) = rows(db, Merchant, Merchant.name == "七里庙早点")
    assert shop.community_id == street_world.id
    (made,) = rows(db, AuditLog, AuditLog.action == "merchant.create")
    assert (made.actor_id, made.community_id) == (street_staff_user.id, street_world.id)


def test_street_staff_cannot_act_for_a_community_of_another_street(
    db, street_world, community, other_community, street_staff_user
):
    community.street.staff_may_act = True
    db.session.commit()
    details = merchant_service.MerchantDetails(name="越界小店", category="餐饮")
    with pytest.raises(DomainError) as refused:
        merchant_service.register(db.session, street_staff_user, other_community.id, details)
    assert refused.value.code == "not_in_street"
    db.session.rollback()


def test_street_staff_may_not_create_a_campaign_unless_allowed(db, community, street_staff_user):
    with pytest.raises(DomainError) as refused:
        campaign_service.create(db.session, street_staff_user, community.id, None)
    assert refused.value.code == "not_allowed"
    db.session.rollback()


def test_a_street_staff_login_is_disabled_and_signed_out(
    district_admin, db, community, street_staff_user, street_staff
):
    assert street_staff.get("/admin/merchants").status_code == 200
    district_admin.post(
        f"/admin/streets/{community.street_id}/staff/{street_staff_user.id}/disable"
    )
    assert street_staff.get("/admin/merchants").status_code == 302
    assert rows(db, User, User.id == street_staff_user.id)[0].active is False


def test_the_district_admin_adds_a_street_staff_login(district_admin, db, community):
    response = district_admin.post(
        f"/admin/streets/{community.street_id}",
        data={"owner_name": "周敏", "owner_login": "qinduankou", "owner_password": "street-pass-1"},
    )
    assert response.status_code == 302
    (user,) = rows(db, User, User.role == Role.STREET_STAFF)
    assert (user.street_id, user.community_id) == (community.street_id, None)


def test_street_keys_merge_spellings_of_one_street():
    assert streets.street_key("琴断口街") == streets.street_key(" 琴断口　街道办事处")
    assert streets.street_key("江堤街道") == streets.street_key("江堤街")
    assert streets.street_key("江堤街") != streets.street_key("琴断口街")
