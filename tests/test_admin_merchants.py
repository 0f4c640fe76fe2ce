"""Shops in the office: the list, registering, /join, approving, suspending, logins, imports."""

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.models import AuditLog, Merchant, MerchantStatus, Role, User

from . import factories
from .calls import rows

SHOP = {
    "name": "鲜果园",
    "category": "水果生鲜",
    "address": "紫荆花路15号",
    "phone": "027-84001234",
    "hours": "07:00–22:00",
    "note": "",
}


def owner(name, login, password):
    return {"owner_name": name, "owner_login": login, "owner_password": password}


def audit_actions(db):
    db.session.rollback()
    return [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_only_the_staffs_own_community(staff, community, other_community):
    factories.merchant(community, "张记热干面")
    factories.merchant(other_community, "江堤小吃店")
    page = staff.get("/admin/merchants").text
    assert "张记热干面" in page
    assert "江堤小吃店" not in page


def test_the_district_admin_sees_every_community_and_can_filter_one(
    district_admin, community, other_community
):
    factories.merchant(community, "张记热干面")
    factories.merchant(other_community, "江堤小吃店")
    page = district_admin.get("/admin/merchants").text
    assert "张记热干面" in page and "江堤小吃店" in page
    page = district_admin.get(f"/admin/merchants?community={other_community.id}").text
    assert "江堤小吃店" in page and "张记热干面" not in page


def test_the_list_searches_sorts_filters_and_pages(staff, community):
    for i in range(25):
        factories.merchant(community, f"店{i:02d}", category="餐饮" if i % 2 else "美发")
    factories.merchant(community, "停业小店", status=MerchantStatus.SUSPENDED)
    assert "店07" in staff.get("/admin/merchants?q=店07").text
    assert "店08" not in staff.get("/admin/merchants?q=店07").text
    first = staff.get("/admin/merchants?sort=-name&per=20").text
    assert first.index("店24") < first.index("店23")
    assert "店00" not in first  # on page 2
    assert "店00" in staff.get("/admin/merchants?sort=-name&per=20&page=2").text
    suspended = staff.get("/admin/merchants?status=suspended").text
    assert "停业小店" in suspended and "店01" not in suspended
    assert "店03" not in staff.get("/admin/merchants?category=美发").text


def test_a_search_for_a_percent_sign_does_not_match_everything(staff, community):
    factories.merchant(community, "张记热干面")
    assert "张记热干面" not in staff.get("/admin/merchants?q=%25").text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_list_exports_every_matching_shop(staff, community, fmt):
    factories.merchant(community, "=张记", phone="13912345678")
    factories.merchant(community, "丝艺美发", category="美发")
    response = staff.get(f"/admin/merchants?export={fmt}&category=餐饮")
    assert response.status_code == 200
    if fmt == "csv":
        text = response.data.decode("utf-8")
        assert text.startswith("\ufeff")
        assert "'=张记" in text and "13912345678" in text
        assert "丝艺美发" not in text
    else:
        sheet = load_workbook(io.BytesIO(response.data)).active
        names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert names == ["'=张记"]


# --- registering ----------------------------------------------------------------------------


def test_staff_register_a_shop_with_its_owners_login(staff, db, community, staff_user):
    response = staff.post(
        "/admin/merchants/new",
        data=SHOP | owner("王老板", "139 1234 5678", "first-pass"),
    )
    assert response.status_code == 302
    (merchant,) = rows(db, Merchant)
    assert (merchant.name, merchant.status, merchant.community_id) == (
        "鲜果园",
        MerchantStatus.ACTIVE,
        community.id,
    )
    (login,) = rows(db, User, User.merchant_id == merchant.id)
    assert (login.role, login.phone, login.username) == (Role.MERCHANT_OWNER, "13912345678", None)
    assert login.check_password("first-pass")
    assert audit_actions(db) == ["merchant.create", "user.create"]


def test_a_shop_can_be_registered_without_a_login(staff, db):
    assert staff.post("/admin/merchants/new", data=SHOP).status_code == 302
    assert len(rows(db, Merchant)) == 1
    assert rows(db, User, User.merchant_id.is_not(None)) == []


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"name": ""}, "请输入商户名称"),
        ({"category": ""}, "请选择商户类别"),
        ({"phone": "call me"}, "电话号码只写数字"),
        ({"owner_login": "x"}, "登录名是手机号"),
        ({"owner_login": "13912345678", "owner_password": "short"}, "密码至少需要 8 个字符"),
        ({"owner_login": "", "owner_password": "long-enough"}, "请输入登录名"),
    ],
)
def test_a_bad_registration_is_refused_in_chinese_and_writes_nothing(staff, db, change, says):
    response = staff.post("/admin/merchants/new", data=SHOP | {"owner_name": "王"} | change)
    assert response.status_code == 422
    assert says in response.text
    assert rows(db, Merchant) == []
    assert rows(db, User, User.merchant_id.is_not(None)) == []


def test_a_second_shop_of_the_same_name_in_a_community_is_refused(staff, db, community):
    factories.merchant(community, "鲜果园")
    response = staff.post("/admin/merchants/new", data=SHOP)
    assert response.status_code == 422
    assert "已有同名商户" in response.text
    assert len(rows(db, Merchant)) == 1


def test_the_same_name_in_another_community_is_fine(staff, db, other_community):
    factories.merchant(other_community, "鲜果园")
    assert staff.post("/admin/merchants/new", data=SHOP).status_code == 302


def test_a_login_already_in_use_is_refused_and_the_shop_is_not_half_made(staff, db, community):
    factories.user(Role.STAFF, community=community, phone="13912345678")
    response = staff.post(
        "/admin/merchants/new",
        data=SHOP | owner("王", "13912345678", "long-enough"),
    )
    assert response.status_code == 422
    assert "已被使用" in response.text
    assert rows(db, Merchant) == []


def test_the_district_admin_must_choose_the_community(district_admin, db, community):
    response = district_admin.post("/admin/merchants/new", data=SHOP)
    assert response.status_code == 422
    assert "请选择社区" in response.text
    response = district_admin.post("/admin/merchants/new", data=SHOP | {"community": community.id})
    assert response.status_code == 302
    assert rows(db, Merchant)[0].community_id == community.id


def test_editing_a_shop_records_what_changed(staff, db, shop):
    response = staff.post(
        f"/admin/merchants/{shop.id}/edit",
        data={"name": "张记热干面", "category": "早点", "address": "3栋", "phone": "", "hours": ""},
    )
    assert response.status_code == 302
    (merchant,) = rows(db, Merchant)
    assert merchant.category == "早点"
    (logged,) = rows(db, AuditLog, AuditLog.action == "merchant.update")
    assert logged.before == {"category": "餐饮", "address": ""}
    assert logged.after == {"category": "早点", "address": "3栋"}


def test_another_communitys_shop_is_404_for_every_action(other_staff, shop):
    for path in ["", "/edit"]:
        assert other_staff.get(f"/admin/merchants/{shop.id}{path}").status_code == 404
    for action in ["suspend", "approve", "logins"]:
        response = other_staff.post(f"/admin/merchants/{shop.id}/{action}", data={"reason": "x"})
        assert response.status_code == 404


# --- /join and applications ---------------------------------------------------------------


JOIN = {
    "name": "紫荆花鲜花坊",
    "category": "其他",
    "address": "紫荆花路40号",
    "applicant": "陈女士",
    "phone": "13900001234",
    "hours": "",
    "note": "想参加消费卡",
}


def test_a_shop_applies_through_join_and_waits_as_pending(client, db, community):
    assert "紫荆花社区" in client.get("/join").text
    response = client.post("/join", data=JOIN | {"community": community.id})
    assert response.headers["Location"] == "/join/done"
    (merchant,) = rows(db, Merchant)
    assert merchant.status == MerchantStatus.PENDING
    assert merchant.note == "申请人：陈女士\n想参加消费卡"
    (logged,) = rows(db, AuditLog)
    assert (logged.action, logged.actor_id, logged.community_id) == (
        "merchant.apply",
        None,
        community.id,
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"community": ""}, "请选择社区"),
        ({"applicant": ""}, "请输入您的姓名"),
        ({"phone": ""}, "请留一个能联系到您的电话"),
        ({"name": ""}, "请输入商户名称"),
    ],
)
def test_an_incomplete_application_is_refused_in_chinese(client, db, community, change, says):
    response = client.post("/join", data=JOIN | {"community": community.id} | change)
    assert response.status_code == 422
    assert says in response.text
    assert rows(db, Merchant) == []


def test_a_robot_filling_the_hidden_field_is_thanked_and_ignored(client, db, community):
    response = client.post("/join", data=JOIN | {"community": community.id, "website": "spam"})
    assert response.status_code == 302
    assert rows(db, Merchant) == []


def test_a_refused_shop_may_apply_again_under_the_same_name(client, db, community):
    factories.merchant(
        community, JOIN["name"], status=MerchantStatus.REFUSED, status_reason="不在本社区"
    )
    assert client.post("/join", data=JOIN | {"community": community.id}).status_code == 302
    (merchant,) = rows(db, Merchant)
    assert (merchant.status, merchant.status_reason) == (MerchantStatus.PENDING, "")


def test_staff_approve_an_application_and_make_the_owners_login(staff, db, community):
    applicant = factories.merchant(
        community, "紫荆花鲜花坊", status=MerchantStatus.PENDING, note="申请人：陈女士"
    )
    page = staff.get(f"/admin/merchants/{applicant.id}").text
    assert 'value="陈女士"' in page  # the owner's name is filled in from the application
    response = staff.post(
        f"/admin/merchants/{applicant.id}/approve",
        data={
            "owner_name": "陈女士",
            "owner_login": "13900001234",
            "owner_password": "flowers-2026",
        },
    )
    assert response.status_code == 302
    (merchant,) = rows(db, Merchant)
    assert merchant.status == MerchantStatus.ACTIVE
    assert rows(db, User, User.merchant_id == merchant.id)[0].phone == "13900001234"
    assert audit_actions(db)[-2:] == ["merchant.approve", "user.create"]


def test_staff_refuse_an_application_with_a_reason(staff, db, community):
    applicant = factories.merchant(community, "外区小店", status=MerchantStatus.PENDING)
    response = staff.post(f"/admin/merchants/{applicant.id}/refuse", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写原因" in response.text
    staff.post(f"/admin/merchants/{applicant.id}/refuse", data={"reason": "不在本社区"})
    (merchant,) = rows(db, Merchant)
    assert (merchant.status, merchant.status_reason) == (MerchantStatus.REFUSED, "不在本社区")
    (logged,) = rows(db, AuditLog, AuditLog.action == "merchant.refuse")
    assert logged.before["status"] == "pending" and logged.note == "不在本社区"


def test_an_active_shop_cannot_be_approved_again(staff, db, shop):
    response = staff.post(f"/admin/merchants/{shop.id}/approve", data={})
    assert response.status_code == 422
    assert "只有等待审核的申请" in response.text


def test_suspending_and_reactivating_need_a_reason_and_are_audited(staff, db, shop):
    assert staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": ""}).status_code == 422
    assert (
        staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"}).status_code
        == 302
    )
    assert rows(db, Merchant)[0].status == MerchantStatus.SUSPENDED
    response = staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "again"})
    assert "只有正常营业的商户" in response.text
    staff.post(f"/admin/merchants/{shop.id}/reactivate", data={"reason": "装修完了"})
    assert rows(db, Merchant)[0].status == MerchantStatus.ACTIVE
    assert audit_actions(db) == ["merchant.suspend", "merchant.reactivate"]


# --- logins ---------------------------------------------------------------------------------


def test_staff_add_a_cashier_login_to_a_shop(staff, db, shop):
    response = staff.post(
        f"/admin/merchants/{shop.id}/logins",
        data={"role": "cashier"} | owner("小李", "zhangji-li", "till-pass-1"),
    )
    assert response.status_code == 302
    (cashier,) = rows(db, User, User.merchant_id == shop.id)
    assert (cashier.role, cashier.username, cashier.community_id) == (
        Role.CASHIER,
        "zhangji-li",
        shop.community_id,
    )


def test_disabling_a_shop_login_signs_it_out_at_once(app, staff, db, shop, cashier_user):
    from .conftest import login

    till = login(app, cashier_user)
    assert till.get("/m/").status_code == 200
    staff.post(f"/admin/merchants/{shop.id}/logins/{cashier_user.id}/disable")
    assert till.get("/m/").status_code == 302  # back to the login page
    assert rows(db, User, User.id == cashier_user.id)[0].active is False
    staff.post(f"/admin/merchants/{shop.id}/logins/{cashier_user.id}/enable")
    assert rows(db, User, User.id == cashier_user.id)[0].active is True


def test_a_login_of_another_shop_cannot_be_touched_through_this_one(
    staff, db, community, shop, cashier_user
):
    other = factories.merchant(community, "丝艺美发", category="美发")
    response = staff.post(f"/admin/merchants/{other.id}/logins/{cashier_user.id}/disable")
    assert response.status_code == 404
    assert rows(db, User, User.id == cashier_user.id)[0].active is True


def test_staff_set_a_new_password_for_a_shop_login(staff, db, shop, cashier_user):
    response = staff.post(
        f"/admin/merchants/{shop.id}/logins/{cashier_user.id}/password", data={"password": "short"}
    )
    assert response.status_code == 422
    staff.post(
        f"/admin/merchants/{shop.id}/logins/{cashier_user.id}/password",
        data={"password": "a-new-password"},
    )
    assert rows(db, User, User.id == cashier_user.id)[0].check_password("a-new-password")
    assert "user.reset_password" in audit_actions(db)


# --- importing a sheet ----------------------------------------------------------------------


def sheet(*data_rows, header=("名称", "类别", "地址", "电话", "店主登录名", "初始密码")):
    book = Workbook()
    book.active.append(list(header))
    for row in data_rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def upload(client, data, name="shops.xlsx", **fields):
    return client.post(
        "/admin/merchants/import",
        data={"sheet": (data, name), **fields},
        content_type="multipart/form-data",
    )


def test_an_import_registers_the_good_rows_and_reports_each_refused_row(staff, db, community):
    factories.merchant(community, "已有的店")
    response = upload(
        staff,
        sheet(
            ["张记热干面", "餐饮", "3栋底商", 2784001234, "13912345678", "first-pass"],
            ["", "餐饮", "", "", "", ""],
            ["已有的店", "超市副食", "", "", "", ""],
            ["丝艺美发", "美发", "", "", "13912345678", "other-pass"],
            ["阿芳理发店", "美发", "", "", "afang", "short"],
            ["鲜果园", "水果生鲜", "", "", "", ""],
        ),
    )
    assert response.status_code == 200
    page = response.text
    assert "2 家商户已登记，4 行未导入" in page
    for line, says in [
        (3, "请输入商户名称"),
        (4, "已有同名商户"),
        (5, "已被使用"),
        (6, "至少需要 8 个"),
    ]:
        assert f"第 {line} 行" in page
        assert says in page
    names = sorted(m.name for m in rows(db, Merchant))
    assert names == ["已有的店", "张记热干面", "鲜果园"]
    owner = rows(db, User, User.phone == "13912345678")[0]
    assert owner.merchant.name == "张记热干面" and owner.check_password("first-pass")
    (logged,) = rows(db, AuditLog, AuditLog.action == "merchant.import")
    assert logged.after == {"created": 2, "refused": 4}


def test_importing_the_same_sheet_twice_registers_nothing_new(staff, db):
    data = sheet(["张记热干面", "餐饮", "", "", "", ""]).getvalue()
    upload(staff, io.BytesIO(data))
    response = upload(staff, io.BytesIO(data))
    assert response.status_code == 422
    assert "已有同名商户" in response.text
    assert len(rows(db, Merchant)) == 1


def test_an_import_reads_a_gbk_csv(staff, db):
    data = "名称,类别,电话\n李妈妈豆皮,餐饮,027-84000001\n".encode("gbk")
    assert upload(staff, io.BytesIO(data), "shops.csv").status_code == 200
    assert rows(db, Merchant)[0].phone == "027-84000001"


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"PK garbage", "shops.xlsx", "无法读取"),
        (b"name\n", "shops.pdf", "请上传 Excel"),
        ("地址\n3栋\n".encode(), "shops.csv", "缺少必需的列：名称、类别"),
    ],
)
def test_a_sheet_that_cannot_be_read_is_refused_in_chinese(staff, db, data, name, says):
    response = upload(staff, io.BytesIO(data), name)
    assert response.status_code == 422
    assert says in response.text
    assert rows(db, Merchant) == []


def test_an_import_of_more_than_2000_rows_is_refused_before_anything_is_written(staff, db):
    data = ("名称,类别\n" + "".join(f"店{i},餐饮\n" for i in range(2001))).encode()
    response = upload(staff, io.BytesIO(data), "shops.csv")
    assert response.status_code == 422
    assert "最多 2000 行" in response.text
    assert db.session.scalar(select(func.count(Merchant.id))) == 0


def test_the_example_sheet_has_the_columns_an_import_reads(staff, db):
    response = staff.get("/admin/merchants/import-template.xlsx")
    header = next(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert header[:2] == ("名称", "类别")
    assert upload(staff, io.BytesIO(response.data)).status_code == 200
    assert sorted(m.name for m in rows(db, Merchant)) == ["丝艺美发", "张记热干面"]


def test_a_list_too_long_for_excel_goes_back_with_a_message(staff, community, monkeypatch):
    monkeypatch.setattr("app.admin.tables.MAX_XLSX_ROWS", 1)
    factories.merchant(community, "张记热干面")
    factories.merchant(community, "丝艺美发", category="美发")
    response = staff.get("/admin/merchants?export=xlsx&sort=name")
    assert response.headers["Location"] == "/admin/merchants?sort=name"
    assert "Excel 放不下" in staff.get(response.headers["Location"]).text
    assert staff.get("/admin/merchants?export=csv").status_code == 200  # CSV has no limit


def test_join_is_rate_limited_per_address(make_app, community):
    app = make_app(JOIN_RATE_LIMIT="2 per hour")
    client = app.test_client()
    statuses = [
        client.post("/join", data=JOIN | {"community": community.id, "name": f"店{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_an_approved_shop_in_no_campaign_is_told_it_cannot_take_cards_yet(staff, db, community):
    applicant = factories.merchant(community, "紫荆花鲜花坊", status=MerchantStatus.PENDING)
    login = {"owner_name": "陈女士", "owner_login": "13900001234", "owner_password": "flowers-2026"}
    page = staff.post(
        f"/admin/merchants/{applicant.id}/approve", data=login, follow_redirects=True
    ).text
    assert "紫荆花鲜花坊 已通过审核。还没有参加任何活动" in page and "可以收卡了" not in page


def test_an_approved_shop_that_applied_to_a_running_campaign_can_take_cards(staff, db, community):
    applicant = factories.merchant(community, "紫荆花鲜花坊", status=MerchantStatus.PENDING)
    factories.offer(factories.campaign(community), applicant)
    login = {"owner_name": "陈女士", "owner_login": "13900001234", "owner_password": "flowers-2026"}
    page = staff.post(
        f"/admin/merchants/{applicant.id}/approve", data=login, follow_redirects=True
    ).text
    assert "紫荆花鲜花坊 已通过审核。现在可以收卡了。" in page


def test_every_wrong_field_of_a_shop_is_said_at_once(staff, db, community):
    data = SHOP | {"name": "", "category": "", "phone": "打电话"} | owner("陈", "x", "1")
    response = staff.post("/admin/merchants/new", data=data)
    assert response.status_code == 422
    assert response.text.count('class="errors"') >= 3
    assert not rows(db, Merchant)


def test_a_sheet_row_with_several_problems_is_refused_not_a_500(db, community, staff_user):
    from app.services.merchants import MerchantDetails, MerchantError

    with pytest.raises(MerchantError) as refused:
        MerchantDetails(name="", category="", phone="x").cleaned()
    assert refused.value.code == "name_required"
    assert [e.code for e in refused.value.errors] == [
        "name_required",
        "category_required",
        "phone_format",
    ]
