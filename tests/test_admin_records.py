"""Records in the office: the list of uses and voiding one, refused attempts, the audit log."""

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from app.clock import utcnow
from app.models import (
    AttemptLog,
    AuditLog,
    Campaign,
    Card,
    CardStatus,
    Redemption,
    RedemptionStatus,
)
from app.services import audit

from . import factories
from .calls import redeem


def fresh(db, obj):
    db.session.rollback()
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def used(db, community, shop, cashier_user):
    """A coupon campaign with a budget, and a coupon redeemed through the real service."""
    campaign = factories.campaign(community, kind="coupon", rule="满50减10", budget_fen=100_000)
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    outcome = redeem(db.session, card.token, shop, cashier_user, 6800, "key-records-1")
    return db.session.get(Redemption, outcome.id)


def test_the_list_shows_uses_with_shop_card_and_money(staff, used):
    page = staff.get("/admin/redemptions").text
    assert "张记热干面" in page and used.card.serial in page
    assert "¥68.00" in page and "¥10.00" in page and "¥58.00" in page


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"status": "ok"}, True),
        ({"status": "void"}, False),
        ({"bill_min": "60", "bill_max": "70"}, True),
        ({"bill_min": "70"}, False),
        ({"from": "2000-01-01", "to": "2000-01-02"}, False),
        ({"q": "张记"}, True),
        ({"q": "丝艺"}, False),
    ],
)
def test_the_list_filters_by_status_amount_day_and_search(staff, used, query, shown):
    page = staff.get("/admin/redemptions", query_string=query).text
    assert (used.card.serial in page) is shown


def test_the_list_filters_by_a_card_serial_however_typed(staff, used):
    typed = used.card.serial.lower().replace("-", " ")
    assert used.card.serial in staff.get("/admin/redemptions", query_string={"card": typed}).text


def test_staff_of_another_community_see_none_of_the_uses(other_staff, used):
    assert used.card.serial not in other_staff.get("/admin/redemptions").text
    assert other_staff.get(f"/admin/redemptions/{used.id}").status_code == 404
    response = other_staff.post(f"/admin/redemptions/{used.id}/void", data={"reason": "x"})
    assert response.status_code == 404


def test_the_uses_export_opens_in_excel_with_the_money(staff, used):
    response = staff.get("/admin/redemptions?export=xlsx")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("时间", "商户", "卡号")
    assert rows[1][1:3] == ("张记热干面", used.card.serial)
    assert [str(v) for v in rows[1][4:7]] == ["68", "10", "58"]


def test_voiding_a_use_needs_a_reason_and_gives_the_use_and_budget_back(
    staff, db, used, staff_user
):
    response = staff.post(f"/admin/redemptions/{used.id}/void", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写作废原因" in response.text
    assert fresh(db, used).status == RedemptionStatus.OK
    response = staff.post(f"/admin/redemptions/{used.id}/void", data={"reason": "商户输错了金额"})
    assert response.status_code == 302
    redemption = fresh(db, used)
    assert (redemption.status, redemption.void_reason, redemption.voided_by_id) == (
        RedemptionStatus.VOID,
        "商户输错了金额",
        staff_user.id,
    )
    card = db.session.get(Card, redemption.card_id)
    assert (card.uses_count, card.status) == (0, CardStatus.ISSUED)
    assert db.session.get(Campaign, redemption.campaign_id).spent_fen == 0
    logged = db.session.scalar(select(AuditLog).where(AuditLog.action == "redemption.void"))
    assert logged.note == "商户输错了金额" and logged.actor_id == staff_user.id


def test_voiding_twice_is_refused(staff, db, used):
    staff.post(f"/admin/redemptions/{used.id}/void", data={"reason": "输错"})
    response = staff.post(f"/admin/redemptions/{used.id}/void", data={"reason": "再来"})
    assert response.status_code == 422
    assert "这笔核销已经作废过了" in response.text
    assert db.session.get(Campaign, fresh(db, used).campaign_id).spent_fen == 0


# --- refused attempts -----------------------------------------------------------------------


def test_the_attempt_log_lists_refusals_in_chinese_and_filters_them(staff, db, community, shop):
    other = factories.merchant(community, "丝艺美发", category="美发")
    now = utcnow()
    db.session.add_all([
        AttemptLog(code="not_found", community_id=community.id, merchant_id=shop.id,
                   card_ref="ZJH-AAAA-AA", created_at=now),
        AttemptLog(code="used_up", community_id=community.id, merchant_id=other.id,
                   card_ref="ZJH-BBBB-BB", created_at=now - timedelta(minutes=1)),
    ])  # fmt: skip
    db.session.commit()
    page = staff.get("/admin/attempts").text
    assert "ZJH-AAAA-AA" in page and "ZJH-BBBB-BB" in page
    assert "没有这张卡" in page
    assert "<code>not_found</code>" not in page and ">not_found<" not in page
    page = staff.get("/admin/attempts", query_string={"code": "used_up"}).text
    assert "ZJH-BBBB-BB" in page and "ZJH-AAAA-AA" not in page
    page = staff.get("/admin/attempts", query_string={"merchant": shop.id}).text
    assert "ZJH-AAAA-AA" in page and "ZJH-BBBB-BB" not in page
    page = staff.get("/admin/attempts", query_string={"card": "zjh aaaa aa"}).text
    assert "ZJH-AAAA-AA" in page and "ZJH-BBBB-BB" not in page


def test_another_communitys_attempts_are_not_listed(other_staff, db, community, shop):
    db.session.add(AttemptLog(code="not_found", community_id=community.id, merchant_id=shop.id,
                              card_ref="ZJH-AAAA-AA"))  # fmt: skip
    db.session.commit()
    assert "ZJH-AAAA-AA" not in other_staff.get("/admin/attempts").text


# --- the audit log --------------------------------------------------------------------------


def test_the_audit_page_shows_who_what_which_and_the_change_in_words(staff, db, shop):
    staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"})
    page = staff.get("/admin/audit").text
    assert "暂停商户" in page and f'<a href="/admin/merchants/{shop.id}">张记热干面</a>' in page
    assert "正常营业" in page and "已暂停" in page and "装修" in page
    for code in ("merchant #", "merchant.suspend", ">active<", ">suspended<", "status_reason"):
        assert code not in page


def test_the_audit_log_names_the_actor_with_the_role_in_chinese(staff, staff_user, db, shop):
    staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"})
    stored = db.session.scalars(select(AuditLog.actor_label)).all()
    assert f"{staff_user.name} (staff)" in stored  # stored in a stable form
    shown = f"{staff_user.name}（社区工作人员）"
    assert shown in staff.get("/admin/audit").text
    assert shown in staff.get("/admin/audit?export=csv").data.decode()


def test_the_audit_page_filters_by_area_and_object(staff, db, community, shop):
    staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"})
    db.session.rollback()  # the request wrote: start a fresh snapshot before writing
    campaign = factories.campaign(community)
    staff.post(f"/admin/campaigns/{campaign.id}/pause")
    page = staff.get("/admin/audit", query_string={"area": "campaign"}).text
    assert "暂停活动" in page and "暂停商户" not in page
    page = staff.get(
        "/admin/audit", query_string={"object_type": "merchant", "object_id": shop.id}
    ).text
    assert "暂停商户" in page and "暂停活动" not in page


def test_the_audit_page_is_scoped_to_the_community(staff, other_staff, db, shop):
    staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"})
    assert "暂停商户" not in other_staff.get("/admin/audit").text


def test_the_audit_log_has_no_way_to_change_it_and_refuses_updates(staff, db, shop, app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == "admin.audit"]
    assert [sorted(r.methods - {"HEAD", "OPTIONS"}) for r in rules] == [["GET"]]
    assert staff.post("/admin/audit").status_code == 405
    audit.record(db.session, None, "test.row", object_type="test")
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE audit_log SET note = 'changed'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(text("DELETE FROM audit_log"))
        db.session.commit()
    db.session.rollback()


def test_the_audit_export_says_the_change_in_the_words_of_the_page(staff, db, shop):
    staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"})
    text_ = staff.get("/admin/audit?export=csv").data.decode()
    assert "暂停商户,商户 张记热干面,状态：正常营业 → 已暂停；原因：— → 装修" in text_
    assert "status" not in text_
