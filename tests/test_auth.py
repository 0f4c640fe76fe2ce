"""Signing in by phone or user name, signing out, changing a password, and the login limit."""

from sqlalchemy import select

from app.models import AuditLog, Role, User

from . import factories
from .conftest import login


def sign_in(client, name, password=factories.PASSWORD, **extra):
    return client.post("/login", data={"login": name, "password": password, **extra})


def test_staff_signs_in_with_user_name_and_lands_in_the_office(client, staff_user):
    response = sign_in(client, "zjh-staff")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_merchant_signs_in_with_phone_number_written_any_way(client, shop):
    factories.user(Role.MERCHANT_OWNER, merchant=shop, phone="13812345678")
    response = sign_in(client, "+86 138-1234-5678")
    assert response.status_code == 302
    assert response.headers["Location"] == "/m/"


def test_wrong_password_is_refused_in_chinese(client, staff_user):
    response = sign_in(client, "zjh-staff", "wrong password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert client.get("/admin/").status_code == 302


def test_unknown_login_gets_the_same_answer_as_a_wrong_password(client, staff_user):
    assert "用户名或密码错误" in sign_in(client, "nobody-here").text


def test_disabled_account_cannot_sign_in(client, community):
    factories.user(Role.STAFF, community=community, username="gone", active=False)
    assert "该账号已停用" in sign_in(client, "gone").text


def test_a_turned_off_resident_is_told_so_even_before_being_confirmed(client, db, community):
    waiting = factories.resident(community, "13900000009", confirmed=False)
    assert "社区居委会还没有确认" in sign_in(client, "13900000009").text
    waiting.active = False
    db.session.commit()
    page = sign_in(client, "13900000009").text
    assert "该账号已停用" in page and "社区居委会还没有确认" not in page


def test_empty_form_gets_chinese_field_errors(client):
    response = client.post("/login", data={"login": "", "password": ""})
    assert "请输入手机号或用户名" in response.text
    assert "请输入密码" in response.text


def test_sign_in_follows_a_local_next_but_not_another_site(client, staff_user):
    assert sign_in_next(client, "/admin/?page=2").headers["Location"] == "/admin/?page=2"
    client.post("/logout")
    assert sign_in_next(client, "https://evil.example/").headers["Location"] == "/admin/"


def sign_in_next(client, target):
    return client.post(
        "/login",
        query_string={"next": target},
        data={"login": "zjh-staff", "password": factories.PASSWORD},
    )


def test_sign_out_is_a_post_and_ends_the_session(staff):
    assert staff.get("/logout").status_code == 405
    response = staff.post("/logout")
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 302


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_change_password_checks_the_current_one(staff, db, staff_user):
    response = staff.post(
        "/account/password",
        data={"current": "not it", "new": "new password 1", "confirm": "new password 1"},
    )
    assert "当前密码不正确" in response.text
    db.session.refresh(staff_user)
    assert staff_user.check_password(factories.PASSWORD)


def test_change_password_refuses_short_or_mismatched_passwords(staff):
    response = staff.post(
        "/account/password",
        data={"current": factories.PASSWORD, "new": "short", "confirm": "short"},
    )
    assert "密码至少需要 8 个字符" in response.text
    response = staff.post(
        "/account/password",
        data={"current": factories.PASSWORD, "new": "long enough 1", "confirm": "long enough 2"},
    )
    assert "两次输入的新密码不一致" in response.text


def test_changing_password_keeps_this_session_and_ends_the_others(app, db, staff, staff_user):
    elsewhere = login(app, staff_user)
    response = staff.post(
        "/account/password",
        data={"current": factories.PASSWORD, "new": "a new password", "confirm": "a new password"},
    )
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    db.session.rollback()  # end the test's own snapshot to see what the request wrote
    user = db.session.scalar(select(User).where(User.username == "zjh-staff"))
    assert user.check_password("a new password")
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "user.change_password"))


def test_wrong_passwords_from_one_address_are_limited_with_a_chinese_page(client, community):
    for n in range(10):
        factories.user(Role.STAFF, community=community, username=f"staff-{n}")
        assert sign_in(client, f"staff-{n}", "guess").status_code == 200
    response = sign_in(client, "staff-0", factories.PASSWORD)
    assert response.status_code == 429
    assert "尝试次数过多" in response.text


def test_guesses_at_one_account_from_one_address_do_not_lock_the_owner_elsewhere(
    client, app, staff_user
):
    for _ in range(5):
        assert sign_in(client, "zjh-staff", "guess").status_code == 200
    assert sign_in(client, "zjh-staff", factories.PASSWORD).status_code == 429
    owner = app.test_client()
    response = owner.post(
        "/login",
        data={"login": "zjh-staff", "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.9.9"},
    )
    assert response.status_code == 302


def test_guesses_from_many_addresses_slow_strangers_but_not_the_owners_own_phone(app, staff_user):
    phone = app.test_client()
    assert sign_in(phone, "zjh-staff", factories.PASSWORD).status_code == 302
    phone.post("/logout")
    attacker = app.test_client()
    for i in range(30):
        attacker.post(
            "/login",
            data={"login": "ZJH-staff", "password": "guess"},
            environ_base={"REMOTE_ADDR": f"10.0.{i // 200}.{i % 200}"},
        )
    new_phone = app.test_client().post(
        "/login",
        data={"login": "zjh-staff", "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.7.7.7"},
    )
    assert new_phone.status_code == 429
    assert sign_in(phone, "zjh-staff", factories.PASSWORD).status_code == 302


def test_signing_in_with_the_right_password_costs_nothing(client, staff_user):
    for _ in range(15):
        assert sign_in(client, "zjh-staff", factories.PASSWORD).status_code == 302
        client.post("/logout")


def test_a_forged_known_browser_cookie_counts_as_a_stranger(client, staff_user):
    client.set_cookie("linli_known", "eyJiIjoiYSIsImEiOltdfQ.forged", path="/login")
    for _ in range(5):
        sign_in(client, "zjh-staff", "guess")
    assert sign_in(client, "zjh-staff", factories.PASSWORD).status_code == 429
