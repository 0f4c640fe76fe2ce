"""Volunteers through the pages: registering, the office confirming, publishing, signing up,
checking in and out by the activity's QR URL, the organiser's list, closing, certificates,
exports, and another community's activity being a 404."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.models import (
    ActivityStatus,
    AuditLog,
    PointsEntry,
    SignupStatus,
    User,
    Volunteer,
    VolunteerActivity,
    VolunteerCertificate,
    VolunteerSignup,
    VolunteerStatus,
)

from . import factories
from .conftest import login


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def unit(community):
    return factories.unit(community, "汉阳区城管局")


@pytest.fixture
def volunteer(community):
    return factories.volunteer(community, "13900000101", "李志远")


def signup_row(db, activity, volunteer):
    db.session.rollback()
    return db.session.scalar(
        select(VolunteerSignup).where(
            VolunteerSignup.activity_id == activity.id,
            VolunteerSignup.volunteer_id == volunteer.id,
        )
    )


def test_a_cadre_registers_the_office_confirms_and_they_sign_in(
    app, db, client, community, unit, staff
):
    form = {
        "community": community.id,
        "name": "陈建国",
        "phone": "139 0000 0301",
        "unit": unit.id,
        "party_report": "y",
        "skills": "开车",
        "password": "secret-123",
        "confirm": "secret-123",
    }
    page = client.get("/v/join?c=zijinghua")
    assert "汉阳区城管局" in text(page)
    response = client.post("/v/join", data=form)
    assert response.status_code == 200, text(response)
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.status == VolunteerStatus.PENDING and volunteer.party_report
    response = client.post("/login", data={"login": "13900000301", "password": "secret-123"})
    assert "还没有确认" in text(response)
    roster = staff.get("/admin/volunteers?status=pending")
    assert "陈建国" in text(roster) and "139****0301" in text(roster)
    staff.post(f"/admin/volunteers/{volunteer.id}/confirm")
    response = client.post("/login", data={"login": "13900000301", "password": "secret-123"})
    assert response.headers["Location"] == "/v/"
    assert "志愿活动" in text(client.get("/v/"))


def test_a_join_form_without_a_unit_says_so_and_writes_nothing(db, client, community, unit):
    form = {
        "community": community.id,
        "name": "陈建国",
        "phone": "13900000301",
        "unit": 0,
        "password": "secret-123",
        "confirm": "secret-123",
    }
    response = client.post("/v/join", data=form)
    assert response.status_code == 422
    assert "请选择您的单位" in text(response)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_a_resident_registers_as_a_volunteer_from_the_help_board(app, db, community):
    resident = factories.resident(community, "13900000401", "2-1-201", "周梅")
    phone = login(app, resident)
    assert "登记成为志愿者" in text(phone.get("/v/"))
    response = phone.post("/v/register", data={"skills": "会理发", "availability": "周末"})
    assert response.status_code == 302
    assert db.session.scalar(select(Volunteer.skills)) == "会理发"


def test_staff_publish_an_activity_and_it_shows_on_the_board_and_the_notice_board(
    app, db, staff, community, volunteer
):
    response = staff.post(
        "/admin/volunteers/activities/new",
        data={
            "title": "防汛巡堤",
            "kind": "patrol",
            "place": "江堤 3 号闸口",
            "starts_at": "2030-07-01T20:00",
            "ends_at": "2030-07-01T23:00",
            "needed": "20",
            "points_per_hour": "12",
            "leader": "王芳",
            "urgent": "y",
        },
    )
    assert response.status_code == 302, text(response)
    activity = db.session.scalar(select(VolunteerActivity))
    assert (activity.needed, activity.points_per_hour, activity.urgent) == (20, 12, True)
    assert activity.starts_at.hour == 12  # 20:00 in Wuhan is 12:00 UTC
    board = text(login(app, volunteer.user).get("/v/"))
    assert "一呼百应" in board or "紧急召集" in board
    assert "防汛巡堤" in board and "0/20" in board.replace(" ", "") or "0 / 20" in board
    public = text(app.test_client().get("/s/zijinghua"))
    assert "防汛巡堤" in public
    notice = staff.get(f"/admin/volunteers/activities/{activity.id}/notice")
    assert notice.status_code == 200 and "<svg" in notice.get_data(as_text=True)


def test_a_bad_activity_form_says_where_and_writes_nothing(db, staff):
    response = staff.post(
        "/admin/volunteers/activities/new",
        data={
            "title": "清扫",
            "kind": "cleanup",
            "place": "3栋",
            "starts_at": "2030-07-01T20:00",
            "ends_at": "2030-07-01T19:00",
            "needed": "0",
        },
    )
    assert response.status_code == 422
    assert "结束时间必须晚于开始时间" in text(response)
    assert db.session.scalar(select(func.count(VolunteerActivity.id))) == 0


def test_sign_up_withdraw_and_the_waiting_list_through_the_pages(app, db, community, volunteer):
    activity = factories.activity(community, needed=1)
    other = factories.volunteer(community, "13900000102", "王二")
    first, second = login(app, volunteer.user), login(app, other.user)
    first.post(f"/v/a/{activity.id}/signup")
    page = second.post(f"/v/a/{activity.id}/signup", follow_redirects=True)
    assert "候补" in text(page)
    assert signup_row(db, activity, other).status == SignupStatus.WAITING
    first.post(f"/v/a/{activity.id}/withdraw")
    assert signup_row(db, activity, other).status == SignupStatus.SIGNED
    count = second.get(f"/v/a/{activity.id}/count").get_json()
    assert count == {"signed": 1, "waiting": 0, "checked_in": 0, "needed": 1}


def test_the_qr_url_checks_a_volunteer_in_and_out(app, db, community, volunteer):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5), hours=2)
    phone = login(app, volunteer.user)
    page = phone.get(f"/V/{activity.token}")
    assert page.status_code == 200 and 'id="check-in"' in page.get_data(as_text=True)
    assert signup_row(db, activity, volunteer) is None  # opening the page writes nothing
    phone.post(f"/V/{activity.token}/in")
    phone.post(f"/V/{activity.token}/in")  # twice is once
    page = phone.get(f"/V/{activity.token}")
    assert 'id="check-out"' in page.get_data(as_text=True)
    phone.post(f"/V/{activity.token}/out")
    signup = signup_row(db, activity, volunteer)
    assert signup.checked_in_at is not None and signup.checked_out_at is not None
    assert signup.minutes == 0  # a few seconds, rounded to the half hour
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "signup.check_in")
        )
        == 1
    )


def test_checking_out_before_in_by_the_page_is_refused_in_chinese(app, db, community, volunteer):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5))
    page = login(app, volunteer.user).post(f"/V/{activity.token}/out", follow_redirects=True)
    assert "您还没有签到，不能签退" in text(page)


def test_the_scanner_opens_what_it_read(app, community, volunteer):
    activity = factories.activity(community)
    phone = login(app, volunteer.user)
    scanned = f"HTTP://LOCALHOST/V/{activity.token}"
    response = phone.get("/v/scan/open", query_string={"ref": scanned})
    assert response.headers["Location"] == f"/V/{activity.token}"
    assert phone.get("/v/scan").status_code == 200


def test_anyone_signed_out_who_scans_is_asked_to_sign_in_first(app, client, community):
    activity = factories.activity(community)
    response = client.get(f"/V/{activity.token}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_communitys_activity_is_a_404(
    app, db, community, other_community, other_staff, volunteer
):
    activity = factories.activity(community)
    outsider = factories.volunteer(other_community, "13900000999", "外人")
    phone = login(app, outsider.user)
    assert phone.get(f"/v/a/{activity.id}").status_code == 404
    assert phone.get(f"/V/{activity.token}").status_code == 404
    assert phone.post(f"/v/a/{activity.id}/signup").status_code == 404
    assert other_staff.get(f"/admin/volunteers/activities/{activity.id}").status_code == 404
    assert other_staff.get(f"/admin/volunteers/{volunteer.id}").status_code == 404
    assert "李志远" not in text(other_staff.get("/admin/volunteers"))


def test_the_organiser_checks_in_from_the_list_corrects_and_closes_once(
    app, db, staff, community, volunteer
):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5), points_per_hour=10)
    staff.post(f"/admin/volunteers/activities/{activity.id}/list", data={"volunteer": volunteer.id})
    signup = signup_row(db, activity, volunteer)
    base = f"/admin/volunteers/activities/{activity.id}/list/{signup.id}"
    staff.post(f"{base}/in")
    assert signup_row(db, activity, volunteer).checked_in_by_id is not None
    page = staff.post(f"{base}/hours", data={"hours": "2.5", "reason": ""}, follow_redirects=True)
    assert "请填写原因" in text(page)
    staff.post(f"{base}/hours", data={"hours": "2.5", "reason": "现场确认"})
    assert signup_row(db, activity, volunteer).minutes == 150
    staff.post(f"/admin/volunteers/activities/{activity.id}/close")
    again = staff.post(f"/admin/volunteers/activities/{activity.id}/close", follow_redirects=True)
    assert "已经结束" in text(again)
    db.session.rollback()
    assert db.session.get(VolunteerActivity, activity.id).status == ActivityStatus.CLOSED
    amounts = db.session.scalars(select(PointsEntry.amount)).all()
    assert amounts == [25]


def test_certificate_printed_by_the_volunteer_and_checked_publicly(
    app, db, staff_user, client, community, volunteer
):
    from app.database import write_transaction
    from app.services import volunteers as service

    activity = factories.activity(community, starts_in=-timedelta(hours=3), points_per_hour=10)
    with write_transaction(db.session):
        signup = service.staff_add(db.session, staff_user, activity, volunteer.id)
        service.correct_hours(db.session, staff_user, signup, 120, "补录")
        service.close(db.session, staff_user, activity)
    phone = login(app, volunteer.user)
    assert "2" in text(phone.get("/v/hours"))
    response = phone.post(
        "/v/hours", data={"period_from": "2020-01-01", "period_until": "2099-12-31"}
    )
    assert response.status_code == 302
    certificate = db.session.scalar(select(VolunteerCertificate))
    page = text(phone.get(response.headers["Location"]))
    for field in ("志愿服务记录证明", "李志远", certificate.serial, "琴断口小区大扫除", "3栋楼下"):
        assert field in page
    assert "本人自助打印" in page
    check = text(client.get(f"/v/check?serial={certificate.serial.lower()}"))
    assert "李*远" in check and "李志远" not in check and "2" in check
    assert client.get("/v/check?serial=ZM-2222-2222-22").status_code == 404


def test_the_roster_and_the_hours_report_export_to_excel(
    app, db, staff, staff_user, community, unit, volunteer
):
    from app.database import write_transaction
    from app.services import volunteers as service

    cadre = factories.volunteer(community, "13900000501", "陈建国", unit=unit)
    activity = factories.activity(community, starts_in=-timedelta(hours=3))
    with write_transaction(db.session):
        for person, minutes in ((volunteer, 90), (cadre, 120)):
            signup = service.staff_add(db.session, staff_user, activity, person.id)
            service.correct_hours(db.session, staff_user, signup, minutes, "补录")
        service.close(db.session, staff_user, activity)
    roster = staff.get(f"/admin/volunteers?unit={unit.id}")
    assert "陈建国" in text(roster) and "李志远" not in text(roster)
    export = staff.get("/admin/volunteers?export=xlsx")
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any("陈建国" in row and "汉阳区城管局" in row for row in rows)
    assert not any("13900000501" in row for row in rows)  # phones masked
    by_unit = staff.get("/admin/volunteers/hours?by=unit&period_from=2020-01-01&export=xlsx")
    sheet = load_workbook(io.BytesIO(by_unit.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert sorted((row[0], row[-2]) for row in values) == [("居民", "1.5"), ("汉阳区城管局", "2")]
    printed = text(staff.get(f"/admin/volunteers/units/{unit.id}/print"))
    assert "陈建国" in printed and "汉阳区城管局" in printed


def test_units_are_recorded_and_changed_with_an_audit_row(db, staff):
    response = staff.post(
        "/admin/volunteers/units/new",
        data={"name": "汉阳供电公司", "commitment": "每天派一人", "agreement_date": "2020-03-01",
              "active": "y"},
    )  # fmt: skip
    assert response.status_code == 302
    again = staff.post("/admin/volunteers/units/new", data={"name": "汉阳供电公司"})
    assert again.status_code == 422 and "已有同名的单位" in text(again)
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert actions.count("volunteer_unit.create") == 1


def test_the_offices_figures_show_volunteers_hours_and_activities_by_month(
    db, staff, staff_user, community, volunteer
):
    from app.database import write_transaction
    from app.services import volunteers as service

    activity = factories.activity(community, starts_in=-timedelta(hours=3))
    with write_transaction(db.session):
        signup = service.staff_add(db.session, staff_user, activity, volunteer.id)
        service.correct_hours(db.session, staff_user, signup, 150, "补录")
        service.close(db.session, staff_user, activity)
    page = staff.get("/admin/dashboard")
    assert page.status_code == 200
    section = re.sub(r"\s+", "", page.get_data(as_text=True)).split('id="volunteers"')[1]
    month = service.monthly_figures(db.session, [community.id])[-1].month
    cells = '<tdclass="num">1</td><tdclass="num">1</td><tdclass="num">2.5</td>'
    assert f"<td>{month}</td>{cells}" in section
