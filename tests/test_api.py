"""The till API: keys, quote, redeem once per Idempotency-Key, void, list, OpenAPI."""

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Redemption, Role
from app.services import apikeys

from . import factories


@pytest.fixture
def card(community, shop):
    campaign = factories.campaign(community, rule="8折")
    factories.offer(campaign, shop, "8折,最高减20")
    return factories.cards(campaign, 1)[0]


@pytest.fixture
def key(db, merchant_user):
    _row, plaintext = apikeys.create_key(db.session, merchant_user, "前台")
    db.session.commit()
    return plaintext


def auth(key, **headers):
    return {"Authorization": f"Bearer {key}", **headers}


def test_quote_answers_in_fen_and_writes_nothing(client, key, card, db):
    response = client.post(
        "/api/v1/quote", json={"card": card.token, "bill_fen": 18800}, headers=auth(key)
    )
    assert response.status_code == 200
    assert response.json["discount_fen"] == 2000 and response.json["pay_fen"] == 16800
    assert response.json["rule"] == "8折，最高减20"
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_redeem_with_the_same_idempotency_key_twice_gives_one_row_and_the_same_answer(
    client, key, card, db
):
    body = {"card": f"HTTPS://LINLI.EXAMPLE.CN/C/{card.token}", "bill_fen": 18800}
    first = client.post(
        "/api/v1/redemptions", json=body, headers=auth(key, **{"Idempotency-Key": "till-1-000042"})
    )
    again = client.post(
        "/api/v1/redemptions", json=body, headers=auth(key, **{"Idempotency-Key": "till-1-000042"})
    )
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json == again.json
    assert first.json["paid_fen"] == 16800
    assert db.session.scalar(select(func.count(Redemption.id))) == 1
    row = db.session.scalar(select(Redemption))
    assert row.channel == "api"


def test_redeem_without_an_idempotency_key_is_refused(client, key, card, db):
    response = client.post(
        "/api/v1/redemptions", json={"card": card.token, "bill_fen": 100}, headers=auth(key)
    )
    assert response.status_code == 400 and response.json["error"] == "bad_key"
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


@pytest.mark.parametrize("bill", [None, 0, -5, "188.00", 1.5, True, 10**12])
def test_a_bill_that_is_not_positive_whole_fen_is_refused(client, key, card, bill, db):
    response = client.post(
        "/api/v1/quote", json={"card": card.token, "bill_fen": bill}, headers=auth(key)
    )
    assert response.status_code == 400
    assert response.json["error"] == "bad_bill"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"])


def test_refusals_carry_the_stable_code_and_a_chinese_message(client, key, card, db):
    response = client.post(
        "/api/v1/redemptions",
        json={"card": "NOSUCHCARD", "bill_fen": 100},
        headers=auth(key, **{"Idempotency-Key": "nosuch-0001"}),
    )
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "找不到这张卡，请核对后再试。"}


def test_without_a_key_every_call_is_401_even_with_a_signed_in_session(merchant, card):
    for call in (
        lambda: merchant.post("/api/v1/quote", json={"card": card.token, "bill_fen": 100}),
        lambda: merchant.get("/api/v1/redemptions"),
        lambda: merchant.post("/api/v1/redemptions/1/void", json={}),
    ):
        response = call()
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized"


def test_a_wrong_or_revoked_key_is_refused(client, key, card, db, merchant_user):
    wrong = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    assert client.get("/api/v1/redemptions", headers=auth(wrong)).status_code == 401
    row = apikeys.keys_of(db.session, merchant_user.merchant_id)[0]
    apikeys.revoke_key(db.session, merchant_user, row.id)
    db.session.commit()
    assert client.get("/api/v1/redemptions", headers=auth(key)).status_code == 401


def test_void_through_the_api_gives_the_use_back_and_is_audited(client, key, card, db):
    made = client.post(
        "/api/v1/redemptions",
        json={"card": card.token, "bill_fen": 5000},
        headers=auth(key, **{"Idempotency-Key": "void-me-0001"}),
    ).json
    response = client.post(
        f"/api/v1/redemptions/{made['id']}/void", json={"reason": "顾客退货"}, headers=auth(key)
    )
    assert response.status_code == 200 and response.json["status"] == "void"
    again = client.post(f"/api/v1/redemptions/{made['id']}/void", json={}, headers=auth(key))
    assert again.status_code == 409 and again.json["error"] == "already_void"
    assert db.session.get(type(card), card.id).uses_count == 0
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "redemption.void"))


def test_a_key_cannot_touch_another_shops_redemption(client, key, card, db, community):
    made = client.post(
        "/api/v1/redemptions",
        json={"card": card.token, "bill_fen": 5000},
        headers=auth(key, **{"Idempotency-Key": "mine-000001"}),
    ).json
    neighbour = factories.merchant(community, "隔壁超市")
    owner = factories.user(Role.MERCHANT_OWNER, merchant=neighbour, username="gebi")
    _row, their_key = apikeys.create_key(db.session, owner, "他们的")
    db.session.commit()
    response = client.post(
        f"/api/v1/redemptions/{made['id']}/void", json={}, headers=auth(their_key)
    )
    assert response.status_code == 404
    listing = client.get("/api/v1/redemptions", headers=auth(their_key)).json
    assert listing["count"] == 0 and listing["redemptions"] == []
    assert db.session.get(Redemption, made["id"]).status.value == "ok"


def test_list_gives_the_days_redemptions_and_totals(client, key, card):
    client.post(
        "/api/v1/redemptions",
        json={"card": card.token, "bill_fen": 18800},
        headers=auth(key, **{"Idempotency-Key": "list-000001"}),
    )
    day = client.get("/api/v1/redemptions", headers=auth(key)).json
    assert (day["count"], day["bills_fen"], day["discounts_fen"], day["paid_fen"]) == (
        1,
        18800,
        2000,
        16800,
    )
    assert client.get("/api/v1/redemptions?date=nope", headers=auth(key)).status_code == 400


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    described = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    routes = {
        (rule.rule.removeprefix("/api/v1").replace("<int:redemption_id>", "{id}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == described


def test_the_api_is_rate_limited_per_key(make_app, db, card, merchant_user):
    app = make_app(API_RATE_LIMIT="3 per minute")
    with app.app_context():
        _row, key = apikeys.create_key(db.session, merchant_user, "限流")
        db.session.commit()
    client = app.test_client()
    answers = [client.get("/api/v1/redemptions", headers=auth(key)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_a_bill_written_with_a_zero_fraction_is_the_same_whole_number_of_fen(client, key, card):
    response = client.post(
        "/api/v1/quote",
        data='{"card": "' + card.token + '", "bill_fen": 18800.0}',
        headers=auth(key, **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 200 and response.json["discount_fen"] == 2000
    half = client.post(
        "/api/v1/quote",
        data='{"card": "' + card.token + '", "bill_fen": 18800.5}',
        headers=auth(key, **{"Content-Type": "application/json"}),
    )
    assert half.status_code == 400 and half.json["error"] == "bad_bill"


def test_a_nul_character_in_a_field_is_cleaned_not_a_crash(client, key, card, db):
    body = '{"card": "' + card.token + '\\u0000", "bill_fen": 18800, "extra\\u0000": 1}'
    response = client.post(
        "/api/v1/quote", data=body, headers=auth(key, **{"Content-Type": "application/json"})
    )
    assert response.status_code == 200 and response.json["discount_fen"] == 2000
