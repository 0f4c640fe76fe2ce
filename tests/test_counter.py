"""Signing in and signing up at the office counter: user names in any case, phone numbers
written any way, a busy morning of sign-ups at one address, and passwords staff set."""

import re

import pytest
import time_machine
from sqlalchemy import func, select

from app.clock import utcnow
from app.models import Role, User
from app.services import accounts
from app.services.errors import AccountError

from . import factories


def sign_in(client, name, password=factories.PASSWORD):
    return client.post("/login", data={"login": name, "password": password})


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- logins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["ZJH-Staff", "zjh-staff", "ＺＪＨ－ＳＴＡＦＦ", " Zjh-Staff "])
def test_a_user_name_signs_in_whatever_its_case(client, community, typed):
    factories.user(Role.STAFF, community=community, username="zjh-Staff")
    response = sign_in(client, typed)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_a_user_name_differing_only_in_case_is_taken(db, community):
    factories.user(Role.STAFF, community=community, username="ZhiYin-Staff")
    with pytest.raises(AccountError) as refused:
        accounts.create_user(
            db.session,
            None,
            role=Role.STAFF,
            name="另一个",
            username="zhiyin-staff",
            password="long enough",
            community_id=community.id,
        )
    assert refused.value.code == "login_taken"
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize(
    "typed",
    [
        "138 1234 5678",
        "138-1234-5678",
        "138—1234—5678",
        "１３８１２３４５６７８",
        "+86(138)1234.5678",
    ],
)
def test_a_phone_number_signs_in_with_spaces_dashes_or_full_width_digits(client, shop, typed):
    factories.user(Role.MERCHANT_OWNER, merchant=shop, phone="13812345678")
    response = sign_in(client, typed)
    assert response.headers["Location"] == "/m/"


def test_staff_find_a_resident_by_a_phone_written_with_spaces(staff, community):
    factories.resident(community, "13900000007", "3-2-501", "赵大妈")
    factories.resident(community, "13900000008", "3-2-502", "钱大爷")
    page = page_text(staff.get("/admin/aid/residents", query_string={"q": "139 0000 0007"}))
    assert "赵大妈" in page and "钱大爷" not in page


# --- passwords staff set --------------------------------------------------------------------


def test_a_shop_password_staff_set_is_changed_at_the_next_sign_in(
    db, client, staff, shop, merchant_user
):
    response = staff.post(
        f"/admin/merchants/{shop.id}/logins/{merchant_user.id}/password",
        data={"password": "from-the-office"},
    )
    assert response.status_code == 302
    response = sign_in(client, "zjh01", "from-the-office")
    assert response.headers["Location"] == "/account/password"
    assert client.get("/m/").headers["Location"] == "/account/password"
    assert client.get("/m/scan").headers["Location"] == "/account/password"
    client.post(
        "/account/password",
        data={"current": "from-the-office", "new": "our-own-pass", "confirm": "our-own-pass"},
    )
    db.session.refresh(merchant_user)
    assert merchant_user.must_change_password is False
    assert client.get("/m/").status_code == 200


def test_a_shop_login_staff_create_chooses_its_own_password_first(db, client, staff, shop):
    response = staff.post(
        f"/admin/merchants/{shop.id}/logins",
        data={
            "role": "cashier",
            "owner_name": "小李",
            "owner_login": "zjh01-li",
            "owner_password": "first-password",
        },
    )
    assert response.status_code == 302, page_text(response)
    cashier = db.session.scalar(select(User).where(User.username == "zjh01-li"))
    assert cashier.must_change_password is True
    assert sign_in(client, "ZJH01-Li", "first-password").headers["Location"] == "/account/password"


def test_a_password_a_person_chose_is_not_asked_again(client, merchant_user):
    assert sign_in(client, "zjh01").headers["Location"] == "/m/"
    assert client.get("/m/").status_code == 200


# --- signing up neighbours at one counter -------------------------------------------------------


def join_form(community_id: int, number: int, **changes) -> dict:
    return {
        "community": community_id,
        "name": f"居民{number}",
        "phone": f"139{number:08d}",
        "household": f"3-2-{100 + number}",
        "password": "secret-123",
        "confirm": "secret-123",
    } | changes


def test_one_counter_signs_up_sixty_neighbours_in_an_hour(db, client, community):
    codes = [
        client.post("/aid/join", data=join_form(community.id, n)).status_code for n in range(60)
    ]
    assert codes == [200] * 60
    assert db.session.scalar(select(func.count(User.id)).where(User.role == Role.RESIDENT)) == 60


def test_refused_sign_ups_do_not_count_against_the_counter(make_app, community):
    app = make_app(AID_JOIN_RATE_LIMIT="3 per hour")
    client = app.test_client()
    community_id = community.id
    for n in range(10):  # a mistyped phone, ten times over
        mistyped = client.post("/aid/join", data=join_form(community_id, n, phone="139"))
        assert mistyped.status_code == 422
    codes = [
        client.post("/aid/join", data=join_form(community_id, n)).status_code for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_the_sign_up_limit_says_how_long_to_wait(make_app, community):
    app = make_app(AID_JOIN_RATE_LIMIT="1 per hour")
    client = app.test_client()
    community_id = community.id
    start = utcnow()
    with time_machine.travel(start, tick=False):
        assert client.post("/aid/join", data=join_form(community_id, 1)).status_code == 200
    with time_machine.travel(start.timestamp() + 20 * 60, tick=False):
        refused = client.post("/aid/join", data=join_form(community_id, 2))
    assert refused.status_code == 429
    assert re.search(r"请 4[01] 分钟后再试", page_text(refused))  # the hour's window: 40 min left
    assert "请等一分钟" not in page_text(refused)


def test_a_daily_limit_says_the_time_it_opens_again(make_app, community):
    app = make_app(AID_JOIN_RATE_LIMIT="1 per day")
    client = app.test_client()
    community_id = community.id
    with time_machine.travel("2026-12-04 02:00:00+00:00", tick=False):  # 10:00 in Wuhan
        assert client.post("/aid/join", data=join_form(community_id, 1)).status_code == 200
        refused = client.post("/aid/join", data=join_form(community_id, 2))
    assert refused.status_code == 429
    assert "明天 10:00 以后再试" in page_text(refused)
