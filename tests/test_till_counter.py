"""The till a new shop meets: a card of another community, a card made from points typed in by
its serial and PIN, the camera that will not start, and the till keys in plain words."""

import re

from sqlalchemy import select

from app.models import AttemptLog, Card
from app.services import points

from . import factories
from .conftest import login


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_card_of_another_community_says_whose_it_is(db, merchant, other_community):
    elsewhere = factories.campaign(other_community, code="JB")
    (card,) = factories.cards(elsewhere, 1)
    response = merchant.get("/m/card", query_string={"ref": f"http://x/c/{card.token}"})
    assert response.status_code == 409
    assert "这张卡是江博社区的卡，只能在江博社区的商户使用" in page_text(response)
    assert "找不到这张卡" not in page_text(response)
    refused = db.session.scalars(select(AttemptLog)).one()
    assert (refused.code, refused.card_id) == ("other_community", None)  # not their card's row


def test_a_typed_serial_of_another_community_says_whose_without_looking_at_the_pin(
    db, merchant, other_community
):
    elsewhere = factories.campaign(other_community, code="JB")
    (card,) = factories.cards(elsewhere, 1)
    wrong_pin = "0000" if card.pin != "0000" else "1111"
    for pin in (card.pin, wrong_pin):  # the same answer: no way to try PINs round the count
        typed = merchant.post("/m/card", data={"serial": card.serial, "pin": pin})
        assert typed.status_code == 409
        assert "江博社区" in page_text(typed)


def test_the_till_api_refuses_another_communitys_card_with_its_own_code(
    db, client, merchant_user, other_community
):
    from app.services import apikeys

    elsewhere = factories.campaign(other_community, code="JB")
    (card,) = factories.cards(elsewhere, 1)
    _row, key = apikeys.create_key(db.session, merchant_user, "前台")
    db.session.commit()
    response = client.post(
        "/api/v1/quote",
        json={"card": card.token, "bill_fen": 10000},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 409
    assert response.json["error"] == "other_community"
    assert "江博社区" in response.json["message"]


def test_a_card_made_from_points_shows_its_pin_and_a_shop_types_it_in(
    app, db, community, shop, merchant, staff_user
):
    campaign = factories.exchange_campaign(community, price=20)
    factories.offer(campaign, shop)
    resident = factories.resident(community)
    points.adjust(db.session, staff_user, resident, 30, "打扫楼道")
    db.session.commit()
    resident_client = login(app, resident)
    response = resident_client.post(f"/aid/exchange/{campaign.id}")
    card = db.session.scalar(select(Card).where(Card.campaign_id == campaign.id))
    page = page_text(resident_client.get(response.headers["Location"]))
    assert card.serial in page and f'class="serial-text pin key-figure">{card.pin}<' in page
    assert "密码" in page
    at_till = merchant.post("/m/card", data={"serial": card.serial, "pin": card.pin})
    assert at_till.status_code == 200
    assert card.serial in page_text(at_till)


def test_the_scan_page_says_in_chinese_why_the_camera_cannot_start(cashier):
    page = cashier.get("/m/scan").get_data(as_text=True)
    reasons = dict(re.findall(r'data-why-(\w+)="([^"]+)"', page))
    assert set(reasons) == {"insecure", "unsupported", "denied", "none", "busy", "other"}
    assert "https" in reasons["insecure"] and "没有允许" in reasons["denied"]
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in reasons.values())
    assert 'href="#typed-card"' in page and 'id="typed-card"' in page  # the typed path
    assert 'id="photo"' in page  # the photo path


def test_the_till_keys_page_says_plain_words_first_and_folds_the_technical_part(merchant):
    page = merchant.get("/m/keys").get_data(as_text=True)
    folded = page.index("<details")
    for jargon in ("JSON", "OpenAPI", "Bearer", "Idempotency"):
        assert page.index(jargon) > folded, jargon
    assert "收银机" in page[:folded]
