"""The help board keeps phones and rooms typed into a post to the post's two people, and asks
once before a step that cannot be taken back (cancelling a post, exchanging points)."""

import re

import pytest
from sqlalchemy import select

from app.models import Card, HelpPost, HelpStatus, User
from app.services import points
from app.services.helpboard import has_contact, mask_contacts

from . import factories
from .conftest import login


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("电话13812345678", "电话***********"),
        ("打 138 1234 5678 找我", "打 *** **** **** 找我"),
        ("+86-138-1234-5678", "+**-***-****-****"),
        ("１３８１２３４５６７８", "***********"),
        ("座机027-84651234", "座机***-********"),
        ("送到3栋2单元501室", "送到*栋*单元***室"),
        ("3-2-501", "*-*-***"),
        ("３栋２单元５０１", "*栋*单元***"),
        ("5栋1502门口", "*栋****门口"),
        ("住501室", "住***室"),
    ],
)
def test_phones_and_rooms_are_hidden_digit_by_digit(written, shown):
    assert has_contact(written)
    assert mask_contacts(written) == shown


@pytest.mark.parametrize(
    "plain",
    ["明天上午10:00-12:00", "2026-12-05", "买2斤肉，50元", "3号楼附近", "到10-12点", "共100份"],
)
def test_times_amounts_and_buildings_are_left_as_written(plain):
    assert not has_contact(plain)
    assert mask_contacts(plain) == plain


@pytest.fixture
def asker(community):
    return factories.resident(community, "13900000001", "3-2-501", "王小明")


@pytest.fixture
def helper(community):
    return factories.resident(community, "13900000002", "5-1-302", "李红")


def test_a_phone_and_room_in_a_post_reach_only_its_two_people_once_taken(
    app, db, community, asker, helper
):
    post = factories.help_post(
        asker,
        title="帮忙送药到3栋2单元501",
        details="到了打我电话 139-0000-0001",
        area="3栋2单元门口",
    )
    neighbour = factories.resident(community, "13900000003", "7-1-101", "张三")
    for viewer in (helper, neighbour):
        board = page_text(login(app, viewer).get("/aid/"))
        assert "帮忙送药到*栋*单元***" in board and "501" not in board
        page = page_text(login(app, viewer).get(f"/aid/posts/{post.id}"))
        assert "139-0000-0001" not in page and "***-****-****" in page
        assert "已遮住" in page
    own = page_text(login(app, asker).get(f"/aid/posts/{post.id}"))
    assert "139-0000-0001" in own and "遮住" in own  # the author is told what others see

    login(app, helper).post(f"/aid/posts/{post.id}/take")
    taken = page_text(login(app, helper).get(f"/aid/posts/{post.id}"))
    assert "帮忙送药到3栋2单元501" in taken and "139-0000-0001" in taken
    still = page_text(login(app, neighbour).get(f"/aid/posts/{post.id}"))
    assert "139-0000-0001" not in still


def test_the_post_form_hints_while_typing_and_says_after_posting(app, db, asker):
    client = login(app, asker)
    form = client.get("/aid/new").get_data(as_text=True)
    assert 'id="contact-hint"' in form and "js/aid-post" in form
    response = client.post(
        "/aid/new",
        data={"kind": "request", "category": "shopping", "title": "买菜", "details": "3-2-501"},
        follow_redirects=True,
    )
    assert "你写的电话号码和门牌号在看板上会被遮住" in page_text(response)
    assert db.session.scalar(select(HelpPost.details)) == "3-2-501"  # kept as written


def test_cancelling_a_taken_post_asks_once_naming_who_took_it(app, db, asker, helper):
    post = factories.help_post(asker)
    login(app, helper).post(f"/aid/posts/{post.id}/take")
    client = login(app, asker)
    page = client.get(f"/aid/posts/{post.id}").get_data(as_text=True)
    assert f'href="/aid/posts/{post.id}/cancel"' in page
    assert f'action="/aid/posts/{post.id}/cancel"' not in page  # no one-tap cancel
    asked = page_text(client.get(f"/aid/posts/{post.id}/cancel"))
    assert "撤销这条" in asked and "李红" in asked
    db.session.refresh(post)
    assert post.status == HelpStatus.TAKEN  # asking changed nothing
    client.post(f"/aid/posts/{post.id}/cancel")
    db.session.refresh(post)
    assert post.status == HelpStatus.CANCELLED


def test_someone_else_asking_to_cancel_is_sent_back_to_the_post(app, db, asker, helper):
    post = factories.help_post(asker)
    response = login(app, helper).get(f"/aid/posts/{post.id}/cancel")
    assert response.headers["Location"] == f"/aid/posts/{post.id}"


def test_exchanging_points_asks_once_with_the_balance_after(app, db, community, staff_user, asker):
    campaign = factories.exchange_campaign(community, price=20)
    points.adjust(db.session, staff_user, asker, 50, "打扫楼道")
    db.session.commit()
    client = login(app, asker)
    page = client.get("/aid/points").get_data(as_text=True)
    assert f'href="/aid/exchange/{campaign.id}"' in page
    assert f'action="/aid/exchange/{campaign.id}"' not in page  # no one-tap exchange
    asked = page_text(client.get(f"/aid/exchange/{campaign.id}"))
    assert "用 20 积分兑换" in asked and "互助积分兑换卡" in asked
    assert re.search(r"兑换后.*30", asked)
    assert db.session.scalar(select(Card)) is None
    client.post(f"/aid/exchange/{campaign.id}")
    assert db.session.get(User, asker.id).points_balance == 30
    assert db.session.scalar(select(Card.campaign_id)) == campaign.id


def test_asking_to_exchange_for_a_campaign_not_on_offer_says_so(app, db, community, asker):
    campaign = factories.campaign(community)  # not exchangeable
    response = login(app, asker).get(f"/aid/exchange/{campaign.id}", follow_redirects=True)
    assert "这张卡不能用积分兑换" in page_text(response)
