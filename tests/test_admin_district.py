"""The district admin's pages: communities and their staff."""

import pytest

from app.models import AuditLog, Community, Merchant, Role, User

from . import factories
from .calls import rows

COMMUNITY = {"name": "七里庙社区", "slug": "qilimiao", "district": "汉阳区"}


@pytest.fixture
def qinduankou(db):
    return factories.street("琴断口街")


def test_only_the_district_admin_opens_the_communities(staff, district_admin):
    assert staff.get("/admin/communities").status_code == 403
    assert district_admin.get("/admin/communities").status_code == 200
    assert staff.post("/admin/communities/new", data=COMMUNITY).status_code == 403


def test_the_district_admin_creates_a_community_and_its_staff(district_admin, db, app, qinduankou):
    response = district_admin.post(
        "/admin/communities/new", data=COMMUNITY | {"street": qinduankou.id}
    )
    (community,) = rows(db, Community)
    assert response.headers["Location"] == f"/admin/communities/{community.id}"
    assert (community.name, community.slug, community.street_name) == (
        "七里庙社区",
        "qilimiao",
        "琴断口街",
    )
    response = district_admin.post(
        f"/admin/communities/{community.id}",
        data={"owner_name": "赵主任", "owner_login": "qilimiao", "owner_password": "staff-pass-1"},
    )
    assert response.status_code == 302
    (staff_user,) = rows(db, User, User.role == Role.STAFF)
    assert (staff_user.community_id, staff_user.username) == (community.id, "qilimiao")
    actions = [a.action for a in rows(db, AuditLog)]
    assert actions == ["community.create", "user.create"]
    from .conftest import login

    assert login(app, staff_user).get("/admin/merchants").status_code == 200


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"name": ""}, "请输入社区名称"),
        ({"slug": "七里庙"}, "网址名是 2 到 40 位小写字母"),
        ({"street": ""}, "请选择所在街道"),
        ({"street": "999"}, "请选择本区的街道"),
        ({"name": "紫荆花社区"}, "已有同名社区"),
        ({"slug": "zijinghua"}, "已被别的社区使用"),
    ],
)
def test_a_bad_community_is_refused_in_chinese(district_admin, db, community, change, says):
    data = COMMUNITY | {"street": community.street_id} | change
    response = district_admin.post("/admin/communities/new", data=data)
    assert response.status_code == 422
    assert says in response.text
    assert len(rows(db, Community)) == 1


def test_editing_a_community_is_audited(district_admin, db, community):
    data = {
        "name": "紫荆花社区",
        "slug": "zjh",
        "street": community.street_id,
        "district": "汉阳区",
    }
    district_admin.post(f"/admin/communities/{community.id}/edit", data=data)
    assert rows(db, Community)[0].slug == "zjh"
    (logged,) = rows(db, AuditLog)
    assert (logged.before, logged.after) == ({"slug": "zijinghua"}, {"slug": "zjh"})


def test_a_staff_login_is_disabled_and_signed_out(
    district_admin, db, app, community, staff_user, staff
):
    assert staff.get("/admin/").status_code == 200
    district_admin.post(f"/admin/communities/{community.id}/staff/{staff_user.id}/disable")
    assert staff.get("/admin/").status_code == 302
    assert rows(db, User, User.id == staff_user.id)[0].active is False


def test_a_login_that_is_not_staff_of_that_community_cannot_be_disabled_there(
    district_admin, db, community, other_community, other_staff_user
):
    response = district_admin.post(
        f"/admin/communities/{community.id}/staff/{other_staff_user.id}/disable",
        follow_redirects=True,
    )
    assert "这个账号不是本社区的工作人员" in response.text
    assert rows(db, User, User.id == other_staff_user.id)[0].active is True


def test_the_communities_list_counts_shops_and_staff(district_admin, community, staff_user):
    factories.merchant(community, "张记热干面")
    factories.merchant(community, "丝艺美发", category="美发")
    text = district_admin.get("/admin/communities?export=csv").data.decode()
    assert "紫荆花社区,琴断口街,汉阳区,2,0,1" in text


# --- archiving ------------------------------------------------------------------------------

JOIN_SHOP = {
    "name": "紫荆花鲜花坊",
    "category": "其他",
    "address": "紫荆花路40号",
    "applicant": "陈女士",
    "phone": "13900001234",
    "hours": "",
    "note": "",
}
JOIN_RESIDENT = {
    "name": "王秀英",
    "phone": "13900000005",
    "household": "3-2-502",
    "password": "secret-123",
    "confirm": "secret-123",
}


def test_an_archived_community_is_hidden_everywhere_public_and_its_data_kept(
    district_admin, client, db, community, shop
):
    assert "紫荆花社区" in client.get("/").text
    response = district_admin.post(f"/admin/communities/{community.id}/archive")
    assert response.status_code == 302
    assert rows(db, Community)[0].archived_at is not None
    assert "紫荆花社区" not in client.get("/").text
    assert "紫荆花社区" not in client.get("/join").text
    assert "紫荆花社区" not in client.get("/aid/join").text
    assert client.get("/s/zijinghua").status_code == 404
    # A form posted with its id anyway is refused, and writes nothing.
    assert client.post("/join", data=JOIN_SHOP | {"community": community.id}).status_code == 422
    response = client.post("/aid/join", data=JOIN_RESIDENT | {"community": community.id})
    assert response.status_code == 422
    assert [m.name for m in rows(db, Merchant)] == ["张记热干面"]  # its shop is kept
    page = district_admin.get(f"/admin/communities/{community.id}").text
    assert "已归档" in page and "恢复" in page
    (row,) = rows(db, AuditLog, AuditLog.action == "community.archive")
    assert (row.before, row.after) == ({"archived": False}, {"archived": True})


def test_an_archived_community_can_be_brought_back(district_admin, client, db, community):
    district_admin.post(f"/admin/communities/{community.id}/archive")
    response = district_admin.post(
        f"/admin/communities/{community.id}/restore", follow_redirects=True
    )
    assert "紫荆花社区 已恢复" in response.text
    assert rows(db, Community)[0].archived_at is None
    assert "紫荆花社区" in client.get("/").text
    assert client.get("/s/zijinghua").status_code == 200
    actions = [a.action for a in rows(db, AuditLog)]
    assert actions[-2:] == ["community.archive", "community.restore"]
    text = district_admin.get("/admin/audit?export=csv").data.decode()
    assert "归档社区,社区 紫荆花社区,已归档：否 → 是" in text


def test_only_the_district_admin_archives(staff, community):
    assert staff.post(f"/admin/communities/{community.id}/archive").status_code == 403


def test_every_wrong_field_of_a_community_is_said_at_once(district_admin, db):
    response = district_admin.post(
        "/admin/communities/new", data={"name": "", "slug": "X", "district": "汉阳区"}
    )
    assert response.status_code == 422
    assert response.text.count('class="errors"') >= 3
    assert not rows(db, Community)
