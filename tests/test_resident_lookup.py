"""Looking a card up by serial and PIN (/card): one answer for any mistake, logged, rate-limited."""

import re

import pytest
from sqlalchemy import func, select

from app.models import AttemptLog
from app.services import cardview

from . import factories


@pytest.fixture
def card(community):
    campaign = factories.campaign(community, code="ZJH")
    return factories.cards(campaign, 1)[0]


def attempts(db):
    db.session.rollback()
    return db.session.scalars(select(AttemptLog).order_by(AttemptLog.id)).all()


def look_up(client, serial, pin, **kwargs):
    return client.post("/card", data={"serial": serial, "pin": pin}, **kwargs)


def test_the_lookup_page_asks_for_card_number_and_pin_in_chinese(client):
    html = client.get("/card").text
    assert "查找我的卡" in html
    assert 'name="serial"' in html and 'name="pin"' in html
    assert 'inputmode="numeric"' in html


def test_the_right_serial_and_pin_open_the_card_page(client, card, db):
    response = look_up(client, card.serial, card.pin)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{card.token}"
    assert attempts(db) == []


def test_a_serial_typed_loosely_is_read_as_printed(client, card):
    typed = card.serial.lower().replace("-", " ")
    response = look_up(client, typed, f" {card.pin} ")
    assert response.headers["Location"] == f"/c/{card.token}"


def wrong_pin(card) -> str:
    return f"{(int(card.pin) + 1) % 10000:04d}"


def visible_answer(html: str, typed_serial: str, typed_pin: str) -> str:
    """The page without what differs by design: the CSRF token and the values typed back."""
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)
    return html.replace(f'value="{typed_serial}"', "").replace(f'value="{typed_pin}"', "")


def test_a_wrong_pin_and_an_unknown_serial_get_the_same_answer(client, card):
    pin = wrong_pin(card)
    bad_pin = look_up(client, card.serial, pin)
    bad_serial = look_up(client, "ZJH-ZZZZ-ZZ", pin)
    assert bad_pin.status_code == bad_serial.status_code == 200
    assert "卡号或密码不对" in bad_pin.text
    assert visible_answer(bad_pin.text, card.serial, pin) == visible_answer(
        bad_serial.text, "ZJH-ZZZZ-ZZ", pin
    )


def test_failed_lookups_are_written_to_the_attempt_log(client, card, db):
    look_up(client, card.serial.lower(), wrong_pin(card), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    look_up(client, "zjh-zzzz-zz", "1234")
    logged = attempts(db)
    assert [(a.code, a.channel, a.card_ref) for a in logged] == [
        ("wrong_pin", "lookup", card.serial),  # counted against the card
        ("lookup_failed", "lookup", "ZJH-ZZZZ-ZZ"),
    ]
    assert (logged[0].card_id, logged[0].community_id) == (card.id, card.community_id)
    assert (logged[1].card_id, logged[1].community_id) == (None, None)
    assert logged[0].ip == "10.1.2.3"


def test_an_empty_form_is_refused_without_a_lookup(client, db):
    response = look_up(client, "", "")
    assert response.status_code == 200
    assert "请输入卡上印的卡号" in response.text
    assert "请输入卡上印的4位密码" in response.text
    assert attempts(db) == []


def test_the_lookup_form_needs_its_csrf_token(client, card):
    response = client.post("/card", data={"serial": card.serial, "pin": card.pin}, csrf=False)
    assert response.status_code == 400


def test_lookup_service_refuses_with_a_stable_code_and_adds_the_attempt(db, card):
    with pytest.raises(cardview.CardLookupError) as refused:
        cardview.lookup(db.session, card.serial, wrong_pin(card))
    assert refused.value.code == "lookup_failed"
    db.session.commit()
    assert db.session.scalar(select(func.count(AttemptLog.id))) == 1
    assert cardview.lookup(db.session, card.serial, card.pin).id == card.id


def test_too_many_failures_from_one_address_get_a_chinese_429(make_app, community):
    app = make_app(LOOKUP_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        card = factories.cards(factories.campaign(community), 1)[0]
        serial, pin, token = card.serial, card.pin, card.token
    codes = [look_up(client, f"ZJH-AAAA-A{i}", "0000").status_code for i in range(2, 5)]
    assert codes == [200, 200, 200]
    refused = look_up(client, serial, pin)
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.text
    assert "带上卡片到社区居委会" in refused.text
    elsewhere = look_up(client, serial, pin, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert elsewhere.headers["Location"] == f"/c/{token}"


def test_successful_lookups_do_not_use_up_the_limit(make_app, community):
    app = make_app(LOOKUP_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        card = factories.cards(factories.campaign(community), 1)[0]
        serial, pin = card.serial, card.pin
    assert [look_up(client, serial, pin).status_code for _ in range(5)] == [302] * 5
