"""Mistakes undone by the buttons, clicked in Chromium as the office does them, confirm step
included: the district admin makes a community and its staff login, archives it (it leaves
every public page, its staff cannot sign in, the district's figures say it is left out) and
brings it back; staff delete a draft campaign made by mistake.
"""

import re
from datetime import timedelta

from sqlalchemy import select

from app.clock import local_today
from app.models import AuditLog, Campaign, Community

from .conftest import WALK_PASSWORD, WALK_STAFF, log_in

NAME, SLUG = "归元社区", "guiyuan"
STAFF_LOGIN, STAFF_PASSWORD = "guiyuan-staff", "guiyuan-2026"
ARCHIVED_SAYS = "该账号所在的社区已归档"
# What must never reach an office page: an audit action or a state as the code names it.
RAW_CODE = re.compile(r"\b[a-z]+(?:\.[a-z_]+|_[a-z]+)\b")


def confirm_then(page, answer: bool):
    """Answer the next confirm dialog (data-confirm forms ask one) with OK or Cancel."""
    page.once("dialog", lambda dialog: dialog.accept() if answer else dialog.dismiss())


def public_sees(page, server) -> dict[str, bool]:
    """Where the public sees the community: home page, both sign-up lists, its own page."""
    page.goto(f"{server.url}/")
    home = NAME in page.locator("main").inner_text()
    page.goto(f"{server.url}/join")
    shops = NAME in page.locator("#community").inner_text()
    page.goto(f"{server.url}/aid/join")
    residents = NAME in page.locator("#community").inner_text()
    own = page.goto(f"{server.url}/s/{SLUG}").status == 200
    return {"home": home, "shop sign-up": shops, "resident sign-up": residents, "own page": own}


def test_the_district_admin_makes_archives_and_brings_back_a_community(
    server, desk, new_context, guard
):
    guard.allow(r"404")  # the archived community's own page is asked for on purpose
    office = desk
    log_in(office, server, "hanyang")

    # A new community and its staff login, through the forms.
    office.goto(f"{server.url}/admin/communities/new")
    office.locator("#name").fill(NAME)
    office.locator("#slug").fill(SLUG)
    office.locator("#street").select_option(label="琴断口街（汉阳区）")
    office.locator("#households").fill("640")
    office.get_by_role("button", name="保存").click()
    assert office.locator("h1").inner_text() == NAME
    office.locator("#owner_name").fill("刘主任")
    office.locator("#owner_login").fill(STAFF_LOGIN)
    office.locator("#owner_password").fill(STAFF_PASSWORD)
    office.get_by_role("button", name="添加工作人员账号").click()
    assert STAFF_LOGIN in office.locator("table").first.inner_text()
    community_url = office.url

    visitor = new_context().new_page()
    assert all(public_sees(visitor, server).values())

    # Archive: Cancel in the confirm step changes nothing; OK archives.
    confirm_then(office, False)
    office.get_by_role("button", name="归档").click()
    assert office.locator("h1 .badge").count() == 0
    confirm_then(office, True)
    office.get_by_role("button", name="归档").click()
    office.wait_for_load_state()
    assert office.locator("h1 .badge").inner_text() == "已归档"
    assert "公众看不到这个社区" in office.locator(".notice.info").first.inner_text()
    with server.db() as session:
        assert session.scalar(select(Community.archived_at).where(Community.slug == SLUG))

    assert not any(public_sees(visitor, server).values())

    # Its staff are refused at sign-in, in Chinese.
    staff = new_context(phone=False).new_page()
    staff.goto(f"{server.url}/login")
    staff.locator("#login").fill(STAFF_LOGIN.upper())
    staff.locator("#password").fill(STAFF_PASSWORD)
    staff.locator("form button[type=submit]").click()
    assert ARCHIVED_SAYS in staff.locator("main").inner_text()
    assert "/login" in staff.url

    # The district's figures leave it out and say so.
    office.goto(f"{server.url}/admin/dashboard")
    assert f"此处不含已归档的社区：{NAME}" in office.locator(".left-out").inner_text()
    office.goto(f"{server.url}/admin/")
    assert NAME in office.locator(".left-out").inner_text()

    # Bring it back: the public sees it again and its staff sign in.
    office.goto(community_url)
    office.get_by_role("button", name="恢复").click()
    office.wait_for_load_state()
    assert office.locator("h1 .badge").count() == 0
    assert all(public_sees(visitor, server).values())
    log_in(staff, server, STAFF_LOGIN, STAFF_PASSWORD)
    assert staff.url.endswith("/admin/")

    # The audit log says both moves in words (the community's own rows: the demo has many).
    with server.db() as session:
        community_id = session.scalar(select(Community.id).where(Community.slug == SLUG))
    office.goto(f"{server.url}/admin/audit?object_type=community&object_id={community_id}")
    log = office.locator("main").inner_text()
    archived = office.locator("tbody tr", has_text="归档社区").first.inner_text()
    assert "已归档" in archived and "否" in archived and "是" in archived, archived
    assert "共 3 条" in log  # made, archived, brought back
    assert not RAW_CODE.search(log), RAW_CODE.search(log)


def test_staff_delete_a_draft_campaign_after_confirming(server, desk):
    office = desk
    log_in(office, server, WALK_STAFF, WALK_PASSWORD)
    office.goto(f"{server.url}/admin/campaigns/new")
    office.locator("#name").fill("七里庙打错的活动")
    office.locator("#code").fill("QLMX")
    office.locator("input[name=kind][value=coupon]").check()
    office.locator("input[name=funding][value=merchant]").check()
    today = local_today()
    office.locator("#valid_from").fill(today.isoformat())
    office.locator("#valid_until").fill((today + timedelta(days=30)).isoformat())
    office.locator("#rule").fill("立减5元")
    office.locator("form.stack button[type=submit]:not(.visually-hidden)").last.click()
    assert office.locator("h1").inner_text().startswith("七里庙打错的活动")
    with server.db() as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.code == "QLMX"))
    assert campaign_id

    confirm_then(office, False)
    office.get_by_role("button", name="删除草稿").click()
    assert office.locator("h1").inner_text().startswith("七里庙打错的活动")
    confirm_then(office, True)
    office.get_by_role("button", name="删除草稿").click()
    office.wait_for_url("**/admin/campaigns")
    assert "草稿“七里庙打错的活动”已删除。" in office.locator(".flash").inner_text()
    assert "七里庙打错的活动" not in office.locator("table").inner_text()
    with server.db() as session:
        assert session.get(Campaign, campaign_id) is None
        assert session.scalar(
            select(AuditLog.id).where(
                AuditLog.action == "campaign.delete", AuditLog.object_id == campaign_id
            )
        )
    office.goto(f"{server.url}/admin/audit")
    row = office.locator("tr", has_text="七里庙打错的活动").first.inner_text()
    assert "删除" in row and not RAW_CODE.search(row), row
