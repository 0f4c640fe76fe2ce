"""The help board through its pages: joining, staff confirming, signing in, posting, taking on,
contacts, points and exchange; the office's lists, moderation, resets and exports."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Card, HelpPost, HelpStatus, PointsEntry, User

from . import factories
from .conftest import login


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def asker(community):
    return factories.resident(community, "13900000001", "3-2-501", "王小明")


@pytest.fixture
def helper(community):
    return factories.resident(community, "13900000002", "5-1-302", "李红")


def test_a_resident_joins_waits_for_staff_and_then_signs_in(app, db, client, community, staff):
    form = {
        "community": community.id,
        "name": "赵大妈",
        "phone": "139 0000 0005",
        "household": "3栋2单元502室",
        "password": "secret-123",
        "confirm": "secret-123",
    }
    response = client.post("/aid/join", data=form)
    assert response.status_code == 200
    assert "核实你的住户信息" in page_text(response)
    resident = db.session.scalar(select(User).where(User.phone == "13900000005"))
    assert (resident.household, resident.confirmed_at) == ("3-2-502", None)
    response = client.post("/login", data={"login": "13900000005", "password": "secret-123"})
    assert "社区居委会还没有确认" in page_text(response)
    staff.post(f"/admin/aid/residents/{resident.id}/confirm")
    db.session.refresh(resident)
    assert resident.confirmed_at is not None
    response = client.post("/login", data={"login": "13900000005", "password": "secret-123"})
    assert response.headers["Location"] == "/aid/"
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "resident.join" in actions and "resident.confirm" in actions


def test_a_join_form_with_a_bad_household_or_phone_says_so_and_writes_nothing(
    db, client, community
):
    form = {
        "community": community.id,
        "name": "赵",
        "phone": "12345",
        "household": "x",
        "password": "secret-123",
        "confirm": "secret-123",
    }
    response = client.post("/aid/join", data=form)
    assert response.status_code == 422
    assert "11 位手机号" in page_text(response)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_the_board_shows_no_phone_or_room_and_contacts_appear_once_taken(
    app, db, community, asker, helper
):
    asker_client, helper_client = login(app, asker), login(app, helper)
    response = asker_client.post(
        "/aid/new",
        data={
            "kind": "request",
            "category": "medicine",
            "title": "帮忙取降压药",
            "details": "社区医院",
            "when_text": "明天上午",
            "area": "3栋附近",
        },
    )
    post = db.session.scalar(select(HelpPost))
    assert response.headers["Location"] == f"/aid/posts/{post.id}"
    board = page_text(helper_client.get("/aid/"))
    assert "帮忙取降压药" in board
    for secret in ("13900000001", "3栋2单元501室", "501"):
        assert secret not in board
    before = page_text(helper_client.get(f"/aid/posts/{post.id}"))
    assert "13900000001" not in before and "3栋2单元501室" not in before
    helper_client.post(f"/aid/posts/{post.id}/take")
    after = page_text(helper_client.get(f"/aid/posts/{post.id}"))
    assert "13900000001" in after and "3栋2单元501室" in after
    mine = page_text(asker_client.get(f"/aid/posts/{post.id}"))
    assert "13900000002" in mine and "5栋1单元302室" in mine
    third = factories.resident(community, "13900000003", "7-1-101", "张三")
    other = page_text(login(app, third).get(f"/aid/posts/{post.id}"))
    assert "13900000001" not in other and "13900000002" not in other


def test_the_whole_way_through_pages_ends_in_points_and_a_card(
    app, db, community, staff, asker, helper
):
    campaign = factories.exchange_campaign(community, price=20)
    post = factories.help_post(asker, category="escort")
    helper_client = login(app, helper)
    helper_client.post(f"/aid/posts/{post.id}/take")
    login(app, asker).post(f"/aid/posts/{post.id}/done")
    response = staff.post(f"/admin/aid/posts/{post.id}/confirm", data={"hours": "1.5"})
    assert response.status_code == 302
    db.session.refresh(post)
    assert (post.status, post.points) == (HelpStatus.CONFIRMED, 23)
    page = page_text(helper_client.get("/aid/points"))
    assert "23" in page and "李*" in page and "5栋" in page
    response = helper_client.post(f"/aid/exchange/{campaign.id}")
    card = db.session.scalar(select(Card))
    assert response.headers["Location"] == f"/aid/points?new={card.id}#new-card"
    page = page_text(helper_client.get(response.headers["Location"]))
    assert f"/c/{card.token}" in page
    assert db.session.get(User, helper.id).points_balance == 3


def test_a_refused_exchange_reads_in_chinese_and_changes_nothing(app, db, community, asker):
    campaign = factories.exchange_campaign(community, price=20)
    client = login(app, asker)
    response = client.post(f"/aid/exchange/{campaign.id}", follow_redirects=True)
    assert "你有 0 积分" in page_text(response)
    assert db.session.scalar(select(func.count(Card.id))) == 0
    assert db.session.scalar(select(func.count(PointsEntry.id))) == 0


def test_another_communitys_resident_gets_404_for_a_post(
    app, db, community, other_community, asker
):
    post = factories.help_post(asker)
    outsider = factories.resident(other_community, "13900000099", "1-1-101", "江大")
    client = login(app, outsider)
    assert client.get(f"/aid/posts/{post.id}").status_code == 404
    assert client.post(f"/aid/posts/{post.id}/take").status_code == 404
    assert "帮忙买菜" not in page_text(client.get("/aid/"))
    db.session.refresh(post)
    assert post.status == HelpStatus.OPEN


def test_a_hidden_post_leaves_the_board_but_its_author_sees_why(app, db, staff, asker, helper):
    post = factories.help_post(asker, title="卖保健品")
    staff.post(f"/admin/aid/posts/{post.id}/hide", data={"reason": "广告"})
    assert "卖保健品" not in page_text(login(app, helper).get("/aid/"))
    assert login(app, helper).get(f"/aid/posts/{post.id}").status_code == 404
    assert "广告" in page_text(login(app, asker).get(f"/aid/posts/{post.id}"))


def test_staff_reset_shows_a_temporary_password_once_and_it_must_be_changed(
    app, db, client, staff, asker
):
    response = staff.post(f"/admin/aid/residents/{asker.id}/password")
    assert response.headers["Cache-Control"] == "no-store"
    temporary = re.search(r'class="big-code"><code>(\w+)</code>', response.get_data(as_text=True))
    assert temporary
    response = client.post("/login", data={"login": asker.phone, "password": temporary[1]})
    assert response.headers["Location"] == "/account/password"
    assert client.get("/aid/").headers["Location"] == "/account/password"
    client.post(
        "/account/password",
        data={"current": temporary[1], "new": "my-own-pass", "confirm": "my-own-pass"},
    )
    db.session.refresh(asker)
    assert asker.must_change_password is False
    assert client.get("/aid/").status_code == 200


def test_open_requests_older_than_a_day_stand_out_for_staff(app, db, staff, asker):
    from datetime import timedelta

    from app.clock import utcnow

    factories.help_post(asker, title="很久没人管", created_at=utcnow() - timedelta(hours=30))
    factories.help_post(asker, title="刚刚发的")
    page = staff.get("/admin/aid/posts").get_data(as_text=True)
    assert page.count('class="stale"') == 1
    assert "超过一天" in page
    stale = page_text(staff.get("/admin/aid/posts?stale=1"))
    assert "很久没人管" in stale and "刚刚发的" not in stale


def test_the_points_report_per_resident_exports(app, db, staff, staff_user, asker, helper):
    from app.services import points

    points.adjust(db.session, staff_user, helper, 40, "打扫楼道")
    db.session.commit()
    response = staff.get("/admin/aid/residents?export=csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["李红"][6] == "40" and by_name["王小明"][6] == "0"


def test_staff_of_another_community_get_404_for_posts_and_residents(app, db, other_staff, asker):
    post = factories.help_post(asker)
    assert other_staff.get(f"/admin/aid/posts/{post.id}").status_code == 404
    assert other_staff.get(f"/admin/aid/residents/{asker.id}").status_code == 404
    assert "帮忙买菜" not in page_text(other_staff.get("/admin/aid/posts"))
    assert "王小明" not in page_text(other_staff.get("/admin/aid/residents"))


def test_the_leaderboard_switch_hides_it_from_residents_and_is_audited(
    app, db, community, staff, asker
):
    assert "谁帮得最多" in page_text(login(app, asker).get("/aid/points"))
    staff.post(f"/admin/aid/communities/{community.id}/leaderboard/off")
    assert "谁帮得最多" not in page_text(login(app, asker).get("/aid/points"))
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "community.leaderboard")
        )
        == 1
    )


def test_posting_and_taking_are_rate_limited_per_resident(make_app, community):
    app = make_app(AID_POST_RATE_LIMIT="2 per hour", AID_TAKE_RATE_LIMIT="1 per hour")
    with app.app_context():
        asker = factories.resident(community, "13900000001", "3-2-501", "王小明")
        helper = factories.resident(community, "13900000002", "5-1-302", "李红")
        posts = [factories.help_post(asker, title=f"帮忙{i}").id for i in range(2)]
        client, helper_client = login(app, asker), login(app, helper)
    form = {"kind": "request", "category": "shopping", "title": "买菜"}
    codes = [client.post("/aid/new", data=form).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert helper_client.post(f"/aid/posts/{posts[0]}/take").status_code == 302
    refused = helper_client.post(f"/aid/posts/{posts[1]}/take")
    assert refused.status_code == 429
    with app.app_context():
        from app.extensions import db as _db

        assert _db.session.get(HelpPost, posts[1]).status == HelpStatus.OPEN


def test_a_community_funded_card_campaign_page_says_its_price_in_points(db, staff, community):
    campaign = factories.exchange_campaign(community, price=50)
    page = page_text(staff.get(f"/admin/campaigns/{campaign.id}"))
    assert "50 积分" in page and "/admin/aid/exchange" in page


def test_a_neighbour_who_cannot_go_gives_the_request_back_to_the_board(
    app, db, community, asker, helper
):
    post = factories.help_post(asker)
    helper_client = login(app, helper)
    helper_client.post(f"/aid/posts/{post.id}/take")
    page = page_text(helper_client.get(f"/aid/posts/{post.id}"))
    assert "我去不了了，退回让别人接" in page and "13900000001" in page
    response = helper_client.post(f"/aid/posts/{post.id}/release")
    assert response.status_code == 302
    assert "已退回" in page_text(helper_client.get(response.headers["Location"]))
    db.session.refresh(post)
    assert (post.status, post.taker_id) == (HelpStatus.OPEN, None)
    assert "13900000001" not in page_text(helper_client.get(f"/aid/posts/{post.id}"))
    # the asker cannot give back what they did not take: refused in Chinese, nothing written
    login(app, helper).post(f"/aid/posts/{post.id}/take")
    audits = db.session.scalar(select(func.count(AuditLog.id)))
    refused = login(app, asker).post(f"/aid/posts/{post.id}/release", follow_redirects=True)
    assert "只有接单的邻居才能退回" in page_text(refused)
    assert db.session.scalar(select(func.count(AuditLog.id))) == audits
