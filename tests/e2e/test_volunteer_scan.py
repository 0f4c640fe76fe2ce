"""A volunteer on site: the activity's QR read by the phone's camera (Chromium's fake one)
checks them in, and read again checks them out; the organiser's list shows both."""

from datetime import timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.database import write_transaction
from app.models import Community, User, Volunteer, VolunteerSignup
from app.services import volunteers

from .conftest import launch_with_camera, log_in
from .media import camera_file, qr_image

CADRE = "13800000021"  # the demo's 刘卫东, a cadre of 汉阳区城市管理执法局


def activity_now(server) -> tuple[int, str]:
    """An activity of 紫荆花 that started ten minutes ago, published as the office does."""
    with server.db() as session:
        with write_transaction(session):
            community = session.scalar(select(Community).where(Community.slug == "zijinghua"))
            staff = session.scalar(select(User).where(User.username == "zijinghua"))
            start = utcnow().replace(microsecond=0) - timedelta(minutes=10)
            activity = volunteers.publish(
                session,
                staff,
                community.id,
                volunteers.ActivityDetails(
                    title="扫码签到测试：垃圾分类宣传",
                    kind="publicity",
                    place="党群服务中心门口",
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    needed=10,
                    points_per_hour=10,
                ),
            )
        return activity.id, activity.token


def test_a_volunteer_checks_in_and_out_by_scanning_the_activitys_qr(
    server, playwright, new_context, tmp_path
):
    activity_id, token = activity_now(server)
    qr = volunteers.qr_text(server.url, token)  # what the printed notice carries
    camera = launch_with_camera(playwright, camera_file(qr_image(qr), tmp_path / "notice.y4m"))
    try:
        page = new_context(browser_=camera).new_page()
        log_in(page, server, CADRE)
        page.goto(f"{server.url}/v/scan")
        page.wait_for_url(f"**/V/{token}", timeout=15_000)
        page.locator("#check-in").click()
        page.wait_for_load_state()
        assert "已于" in page.locator("#state").inner_text()
        assert page.locator("#check-out").is_visible()

        page.goto(f"{server.url}/v/scan")  # leaving: scan the same code again
        page.wait_for_url(f"**/V/{token}", timeout=15_000)
        page.locator("#check-out").click()
        page.wait_for_load_state()
        assert "签退" in page.locator("#state").inner_text()
    finally:
        camera.close()
    with server.db() as session:
        signup = session.scalar(
            select(VolunteerSignup)
            .join(Volunteer, VolunteerSignup.volunteer_id == Volunteer.id)
            .join(User, Volunteer.user_id == User.id)
            .where(VolunteerSignup.activity_id == activity_id, User.phone == CADRE)
        )
        assert signup.checked_in_at is not None and signup.checked_out_at is not None
        assert signup.checked_in_by_id is None  # by the volunteer's own phone, not staff
        assert signup.checked_out_at >= signup.checked_in_at


def test_the_organiser_sees_who_checked_in_on_the_list(server, desk):
    activity_id, token = activity_now(server)
    with server.db() as session:
        with write_transaction(session):
            user = session.scalar(select(User).where(User.phone == CADRE))
            volunteers.check_in(session, user, token)
    log_in(desk, server, "zijinghua")
    desk.goto(f"{server.url}/admin/volunteers/activities/{activity_id}")
    row = desk.locator("#list tr", has_text="刘卫东")
    assert row.locator("form button", has_text="签退").is_visible()
