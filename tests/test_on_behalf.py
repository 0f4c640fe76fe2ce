"""代办: staff acting on a resident's behalf. A resident without a phone is added with someone
to call; staff post for them, say for them the help was given, cancel for them and exchange
their points for a card printed on the spot. Every act is scoped to the staff's community,
marked on its row and said in the audit log; the resident's own pages say 由工作人员代办."""

import csv
import io
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.i18n import message
from app.models import (
    AuditLog,
    Card,
    CardStatus,
    HelpPost,
    HelpStatus,
    PointsEntry,
    PointsKind,
    Role,
    User,
)
from app.services import accounts, helpboard, on_behalf, points, residents
from app.services.errors import AccountError
from app.services.helpboard import HelpError, PostDetails
from app.services.points import PointsError
from app.services.residents import ResidentError

from . import factories
from .calls import refused, run
from .conftest import login

MEDICINE = PostDetails(
    "request", "medicine", "帮王奶奶去药店取降压药", "取好送到3-2-501，她腿脚不便", "明天上午"
)


@pytest.fixture
def desk(community):
    """王芳, staff of 紫荆花 at the office."""
    return factories.user(Role.STAFF, community=community, username="zjh-wangfang", name="王芳")


@pytest.fixture
def grandma(db, desk):
    """王奶奶: no phone, no login; her daughter is the one to call."""
    return run(
        db, on_behalf.add_resident, desk, "王桂兰", "3-2-501", "李红（女儿）", "139 0000 0101"
    )


@pytest.fixture
def helper(community):
    return factories.resident(community, "13900000002", "5-1-302", "张志强")


def zh(error) -> str:
    with force_locale("zh_Hans_CN"):
        return message(error)


def actions_for(db, resident):
    """The audit rows that say they were done for `resident`, as (actor, action)."""
    db.session.rollback()
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    return [
        (row.actor_id, row.action)
        for row in rows
        if (row.after or {}).get("on_behalf_of") == resident.id
    ]


# --- a resident without a phone ---------------------------------------------------------------


def test_staff_add_a_resident_without_a_phone_who_can_hold_points_but_never_sign_in(
    db, desk, grandma
):
    db.session.rollback()
    user = db.session.get(User, grandma.id)
    assert (user.role, user.community_id, user.household) == (
        Role.RESIDENT,
        desk.community_id,
        "3-2-501",
    )
    assert (user.username, user.phone, user.has_login) == (None, None, False)
    assert (user.contact_name, user.contact_phone) == ("李红（女儿）", "13900000101")
    assert user.confirmed_at is not None and user.points_balance == 0
    assert helpboard.is_confirmed_resident(user)
    for attempt in ("", "王桂兰", "13900000101", "!"):
        with pytest.raises(AccountError):
            accounts.authenticate(db.session, attempt, "!")
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "resident.add"))
    assert (row.actor_id, row.object_id, row.after["contact_phone"]) == (
        desk.id,
        user.id,
        "13900000101",
    )
    # the office cannot hand out a password to someone who has no login to use it with
    refused(db, "no_login", residents.reset_password, desk, user, error=ResidentError)


@pytest.mark.parametrize(
    ("name", "household", "contact", "phone", "code"),
    [
        ("", "3-2-501", "李红", "13900000101", "name_required"),
        ("王桂兰", "", "李红", "13900000101", "household_required"),
        ("王桂兰", "3-2-501", "", "13900000101", "contact_name_required"),
        ("王桂兰", "3-2-501", "李" * 41, "13900000101", "contact_name_too_long"),
        ("王桂兰", "3-2-501", "李红", "", "contact_phone_format"),
        ("王桂兰", "3-2-501", "李红", "一三九", "contact_phone_format"),
    ],
)
def test_adding_a_resident_without_a_phone_needs_name_household_and_someone_to_call(
    db, desk, name, household, contact, phone, code
):
    error = refused(db, code, on_behalf.add_resident, desk, name, household, contact, phone)
    assert re.search(r"[\u4e00-\u9fff]", zh(error)), zh(error)
    assert db.session.scalar(select(func.count(User.id)).where(User.role == Role.RESIDENT)) == 0


def test_the_same_resident_is_not_added_twice(db, desk, grandma):
    error = refused(
        db,
        "already_added",
        on_behalf.add_resident,
        desk,
        "王桂兰",
        "3栋2单元501",
        "李红",
        "13900000101",
    )
    assert "王桂兰" in zh(error)


def test_a_landline_is_a_contact_phone_too(db, desk):
    user = run(
        db, on_behalf.add_resident, desk, "刘大爷", "7-1-101", "本人（座机）", "027-8465 1234"
    )
    assert user.contact_phone == "02784651234"


# --- who may act ----------------------------------------------------------------------------


def test_only_staff_of_the_residents_community_act_for_them(
    db,
    community,
    other_community,
    grandma,
    other_staff_user,
    street_staff_user,
    district_admin_user,
):
    shop = factories.merchant(community)
    owner = factories.user(Role.MERCHANT_OWNER, merchant=shop, username="shop-owner")
    campaign = factories.exchange_campaign(community, price=10)
    cases = [
        (other_staff_user, "other_community"),
        (street_staff_user, "staff_only"),
        (district_admin_user, "staff_only"),
        (owner, "staff_only"),
    ]
    for actor, code in cases:
        for service, args in (
            (on_behalf.post_for, (grandma, MEDICINE)),
            (on_behalf.exchange_for, (grandma, campaign.id)),
        ):
            error = refused(db, code, service, actor, *args)
            assert re.search(r"[\u4e00-\u9fff]", zh(error))
        if actor.role != Role.STAFF:  # staff of B may add a resident, but to B
            add = ("赵奶奶", "1-1-101", "赵强", "13900000111")
            refused(db, "staff_only", on_behalf.add_resident, actor, *add)
    assert db.session.scalar(select(func.count(HelpPost.id))) == 0
    assert db.session.scalar(select(func.count(Card.id))) == 0
    assert actions_for(db, grandma) == []


def test_staff_cannot_act_for_a_login_that_is_not_a_residents(db, desk, community):
    cashier = factories.user(
        Role.CASHIER, merchant=factories.merchant(community), username="zjh-cashier"
    )
    refused(db, "not_resident", on_behalf.post_for, desk, cashier, MEDICINE)


def test_another_communitys_post_is_refused_to_staff(db, other_staff_user, grandma, helper):
    post = run(
        db,
        on_behalf.post_for,
        factories.user(Role.STAFF, community=grandma.community, username="zjh-2", name="周敏"),
        grandma,
        MEDICINE,
    )
    run(db, helpboard.take, helper, post)
    refused(db, "other_community", on_behalf.done_for, other_staff_user, post)
    refused(db, "other_community", on_behalf.cancel_for, other_staff_user, post)
    db.session.rollback()
    assert db.session.get(HelpPost, post.id).status == HelpStatus.TAKEN


# --- the whole story, by the services ----------------------------------------------------------


def test_a_request_posted_done_and_exchanged_for_a_resident_is_marked_and_audited(
    db, community, desk, grandma, helper
):
    post = run(db, on_behalf.post_for, desk, grandma, MEDICINE)
    assert (post.author_id, post.posted_by_id, post.status) == (
        grandma.id,
        desk.id,
        HelpStatus.OPEN,
    )
    # on the board like any other post, its phone and room hidden from the board
    assert helpboard.shown_text(post, None).masked
    run(db, helpboard.take, helper, post)
    # the helper cannot say it was done: only the one helped, or staff for them
    refused(db, "not_helped", helpboard.mark_done, helper, post, error=HelpError)
    post = run(db, on_behalf.done_for, desk, post)
    assert (post.status, post.done_by_id) == (HelpStatus.DONE, desk.id)
    run(db, helpboard.confirm, desk, post, 90)  # the office's own step, as for anyone
    run(db, points.adjust, desk, grandma, 120, "春节楼道大扫除")
    campaign = factories.exchange_campaign(community, price=100, stock=3)
    card = run(db, on_behalf.exchange_for, desk, grandma, campaign.id)
    db.session.rollback()
    assert (card.status, card.household, card.holder_phone, card.issued_by_id) == (
        CardStatus.ISSUED,
        "3-2-501",
        None,
        desk.id,
    )
    entry = db.session.scalar(select(PointsEntry).where(PointsEntry.card_id == card.id))
    assert (
        entry.user_id,
        entry.kind,
        entry.amount,
        entry.on_behalf_by_id,
        entry.created_by_id,
    ) == (
        grandma.id,
        PointsKind.EXCHANGED,
        -100,
        desk.id,
        desk.id,
    )
    assert (
        db.session.get(User, grandma.id).points_balance
        == 20
        == points.ledger_sum(db.session, grandma.id)
    )
    # the helper earned their points as always; nothing was done on the helper's behalf
    assert db.session.get(User, helper.id).points_balance == points.points_for(post.category, 90)
    assert actions_for(db, grandma) == [
        (desk.id, "help.post"),
        (desk.id, "help.done"),
        (desk.id, "points.exchange"),
    ]
    assert actions_for(db, helper) == []


def test_staff_cancel_a_post_for_its_author(db, desk, grandma):
    post = run(db, on_behalf.post_for, desk, grandma, MEDICINE)
    post = run(db, on_behalf.cancel_for, desk, post)
    assert (post.status, post.cancelled_by_id) == (HelpStatus.CANCELLED, desk.id)
    refused(db, "not_cancellable", on_behalf.cancel_for, desk, post, error=HelpError)
    assert actions_for(db, grandma) == [(desk.id, "help.post"), (desk.id, "help.cancel")]


def test_done_for_an_open_post_is_refused(db, desk, grandma):
    post = run(db, on_behalf.post_for, desk, grandma, MEDICINE)
    refused(db, "not_taken", on_behalf.done_for, desk, post, error=HelpError)


def test_an_exchange_for_a_resident_keeps_every_office_rule(db, community, desk, grandma):
    campaign = factories.exchange_campaign(community, price=100, cards_per_household=1)
    error = refused(db, "not_enough", on_behalf.exchange_for, desk, grandma, campaign.id)
    assert "100" in zh(error)
    run(db, points.adjust, desk, grandma, 250, "值守卡点")
    run(db, on_behalf.exchange_for, desk, grandma, campaign.id)
    refused(db, "household_limit", on_behalf.exchange_for, desk, grandma, campaign.id)
    assert db.session.scalar(select(func.count(Card.id))) == 1
    assert points.ledger_sum(db.session, grandma.id) == 150


def test_a_resident_with_a_login_can_be_served_on_their_behalf_too(db, community, desk, helper):
    caller = factories.resident(community, "13900000003", "2-1-402", "陈阿姨")
    post = run(db, on_behalf.post_for, desk, caller, MEDICINE)
    run(db, helpboard.take, helper, post)
    run(db, on_behalf.done_for, desk, post)
    assert actions_for(db, caller) == [(desk.id, "help.post"), (desk.id, "help.done")]
    refused(db, "not_exchangeable", on_behalf.exchange_for, desk, caller, 999999, error=PointsError)


# --- the pages ------------------------------------------------------------------------------


def test_the_desk_adds_a_resident_without_a_phone_and_lists_the_contact_masked(app, db, desk):
    client = login(app, desk)
    assert client.get("/admin/aid/residents/new").status_code == 200
    response = client.post(
        "/admin/aid/residents/new",
        data={
            "name": "王桂兰",
            "household": "3栋2单元501",
            "contact_name": "李红（女儿）",
            "contact_phone": "13900000101",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.name == "王桂兰"))
    page = client.get(f"/admin/aid/residents/{user.id}").text
    assert "13900000101" in page and "代办" in page
    assert "临时密码" not in page  # no login to give a password for
    listing = client.get("/admin/aid/residents").text
    assert "139****0101" in listing and "13900000101" not in listing
    body = client.get("/admin/aid/residents?export=csv").data.decode("utf-8-sig")
    assert "139****0101" in body and "13900000101" not in body
    refused_page = client.post(
        "/admin/aid/residents/new",
        data={"name": "刘大爷", "household": "7-1-101", "contact_name": "", "contact_phone": ""},
    )
    assert refused_page.status_code == 422
    assert "请填写可以联系的人" in refused_page.text


def test_the_helper_who_takes_it_sees_whom_to_call_and_the_board_does_not(
    app, db, desk, grandma, helper, community
):
    post = run(db, on_behalf.post_for, desk, grandma, MEDICINE)
    other = factories.resident(community, "13900000004", "6-1-101", "孙丽")
    board = login(app, other).get("/aid/").text
    assert MEDICINE.title in board and "13900000101" not in board
    assert "由工作人员代办" in board
    assert "13900000101" not in login(app, other).get(f"/aid/posts/{post.id}").text
    run(db, helpboard.take, helper, post)
    page = login(app, helper).get(f"/aid/posts/{post.id}").text
    assert "李红（女儿）" in page and "13900000101" in page and "3栋2单元501室" in page


def test_the_residents_own_pages_say_what_staff_did_for_them(app, db, community, desk, helper):
    caller = factories.resident(community, "13900000003", "2-1-402", "陈阿姨")
    post = run(db, on_behalf.post_for, desk, caller, MEDICINE)
    run(db, helpboard.take, helper, post)
    run(db, on_behalf.done_for, desk, post)
    run(db, points.adjust, desk, caller, 100, "值守卡点")
    campaign = factories.exchange_campaign(community, price=100)
    card = run(db, on_behalf.exchange_for, desk, caller, campaign.id)
    client = login(app, caller)
    page = client.get(f"/aid/posts/{post.id}").text
    assert page.count("由工作人员代办") == 2  # posted, and the help marked given
    ledger = client.get("/aid/points").text
    assert ledger.count("由工作人员代办") == 2  # the exchange's line, and the card from it
    assert card.serial in ledger
    # the helper's view of the same post says who posted it, not that they were served
    assert "由工作人员代办" in login(app, helper).get(f"/aid/posts/{post.id}").text


def test_the_desk_does_it_all_and_prints_the_card(app, db, community, desk, grandma, helper):
    client = login(app, desk)
    response = client.post(
        f"/admin/aid/residents/{grandma.id}/post",
        data={"kind": "request", "category": "medicine", "title": "取降压药", "details": ""},
    )
    assert response.status_code == 302
    post = db.session.scalar(select(HelpPost))
    assert post.posted_by_id == desk.id
    run(db, helpboard.take, helper, post)
    assert client.post(f"/admin/aid/posts/{post.id}/done").status_code == 302
    db.session.rollback()
    assert db.session.get(HelpPost, post.id).done_by_id == desk.id
    page = client.get(f"/admin/aid/posts/{post.id}").text
    assert "由王芳代办发布" in page and "由王芳代办确认" in page
    run(db, points.adjust, desk, grandma, 60, "值守卡点")
    campaign = factories.exchange_campaign(community, price=50)
    response = client.post(f"/admin/aid/residents/{grandma.id}/exchange/{campaign.id}")
    card = db.session.scalar(select(Card).where(Card.campaign_id == campaign.id))
    assert response.headers["Location"].endswith(f"/admin/cards/{card.id}/print")
    sheet = client.get(f"/admin/cards/{card.id}/print")
    assert sheet.status_code == 200
    assert card.serial in sheet.text and f"<strong>{card.pin}</strong>" in sheet.text
    assert sheet.text.count('class="card"') == 1 and "<svg" in sheet.text
    assert 'class="sheet"' in sheet.text  # the batch's A4 sheet, with its crop marks
    printed = db.session.scalar(select(AuditLog).where(AuditLog.action == "card.print"))
    assert (printed.actor_id, printed.after["on_behalf_of"]) == (desk.id, grandma.id)


def test_the_audit_log_says_who_did_what_for_whom(app, db, desk, grandma, helper):
    run(db, on_behalf.post_for, desk, grandma, MEDICINE)
    body = login(app, desk).get("/admin/audit?export=csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]
    said = [row for row in rows if "代 王桂兰" in row[2]]
    assert said, rows
    assert "王芳" in said[0][1] and "发布互助" in said[0][2]
    assert "代办对象：王桂兰" in said[0][4]
    added = [row for row in rows if "没有手机" in row[2]]
    assert added and "139****0101" in added[0][4]


def test_other_communitys_staff_get_404_for_the_desk_pages(
    app, db, desk, grandma, other_staff_user, district_admin_user
):
    other = login(app, other_staff_user)
    assert other.get(f"/admin/aid/residents/{grandma.id}/post").status_code == 404
    assert other.post(f"/admin/aid/residents/{grandma.id}/post", data={}).status_code == 404
    assert (
        login(app, district_admin_user).get(f"/admin/aid/residents/{grandma.id}/post").status_code
        == 403
    )
    assert db.session.scalar(select(func.count(HelpPost.id))) == 0


def test_the_passbook_says_which_lines_staff_did_for_the_resident(app, db, community, desk, helper):
    from app.services import paper

    grandma = run(db, on_behalf.add_resident, desk, "王桂兰", "3-2-501", "李红", "13900000101")
    post = run(db, on_behalf.post_for, desk, grandma, MEDICINE)
    run(db, helpboard.take, helper, post)
    run(db, on_behalf.done_for, desk, post)
    run(db, helpboard.confirm, desk, post, 60)
    run(db, points.adjust, desk, grandma, 100, "值守卡点")
    campaign = factories.exchange_campaign(community, price=100)
    run(db, on_behalf.exchange_for, desk, grandma, campaign.id)
    db.session.rollback()
    book = paper.passbook(db.session, db.session.get(User, grandma.id))
    assert [line.by_staff for line in book.lines] == [True, False, True]  # helped, added, card
    assert book.adds_up and book.balance == 0
    page = login(app, desk).get(f"/admin/aid/residents/{grandma.id}/passbook").text
    assert page.count("由工作人员代办") == 2
