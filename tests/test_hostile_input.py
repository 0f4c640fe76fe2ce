"""Issue 16, defect by defect: what an attacker sent, and what the site must answer now.

Each test reproduces one defect as it was reported (a frozen worker, an off-site redirect, a
500) and asserts the clear 4xx that replaced it, with nothing written.
"""

import time

import pytest
from sqlalchemy import func, select

from app.models import Redemption
from app.services import apikeys

from . import factories


@pytest.fixture
def card(community, shop):
    campaign = factories.campaign(community, rule="8折")
    factories.offer(campaign, shop, "8折")
    return factories.cards(campaign, 1)[0]


@pytest.fixture
def key(db, merchant_user):
    _row, plaintext = apikeys.create_key(db.session, merchant_user, "前台")
    db.session.commit()
    return plaintext


def api(client, key, path, body: bytes | str, **headers):
    return client.post(
        path,
        data=body,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": "hostile-000001",
            **headers,
        },
    )


def redemptions(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Redemption.id)))


# --- 1. a JSON number with a billion digits ---------------------------------------------------


@pytest.mark.parametrize("number", ["1e999999999", "1e1000000", "-1E+999999999", "9" * 5000])
@pytest.mark.parametrize("path", ["/api/v1/quote", "/api/v1/redemptions"])
def test_a_bill_of_a_billion_digits_is_refused_at_once(client, key, card, db, number, path):
    started = time.process_time()
    response = api(client, key, path, f'{{"card": "{card.token}", "bill_fen": {number}}}')
    assert time.process_time() - started < 0.5
    assert response.status_code == 400
    assert response.json["error"] in {"bad_bill", "bad_json"}
    assert redemptions(db) == 0


def test_a_bill_written_as_an_exponent_that_is_whole_still_counts(client, key, card, db):
    response = api(client, key, "/api/v1/quote", f'{{"card": "{card.token}", "bill_fen": 1.88e4}}')
    assert response.status_code == 200 and response.json["pay_fen"] == 15040


# --- 2. open redirects --------------------------------------------------------------------


OFF_SITE = [
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "https://evil.example/",
    "https:evil.example",
    "/%2F/evil.example",
    "%20//evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("switch", ["/lang/en", "/large-type/on"])
def test_a_switch_never_redirects_off_site(client, switch, target):
    response = client.get(f"{switch}?next={target}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/" or location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\\" not in location


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_redirects_off_site(client, merchant_user, target):
    response = client.post(
        f"/login?next={target}",
        data={"login": merchant_user.username, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"] == "/m/"


def test_a_local_next_is_followed(client):
    response = client.get("/lang/en?next=/s/zijinghua%3Fcat%3D1")
    assert response.headers["Location"] == "/s/zijinghua?cat=1"


# --- 6. other 500s ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/quote", "/api/v1/redemptions"])
def test_json_nested_a_thousand_deep_is_refused(client, key, card, db, path):
    body = '{"card": ' + "[" * 1000 + "]" * 1000 + ', "bill_fen": 100}'
    response = api(client, key, path, body)
    assert response.status_code == 400 and response.json["error"] == "json_too_deep"
    assert "嵌套" in response.json["message"]
    assert redemptions(db) == 0


def test_a_json_body_over_64_kb_is_refused_unread(client, key, card, db):
    body = '{"card": "' + "x" * 70_000 + '", "bill_fen": 100}'
    response = api(client, key, "/api/v1/quote", body)
    assert response.status_code == 413 and response.json["error"] == "json_too_large"


@pytest.mark.parametrize("body", ["[]", '"x"', "{", '{"bill_fen": NaN}', "\udcff"])
def test_a_body_that_is_not_a_json_object_is_bad_json(client, key, card, body):
    response = api(client, key, "/api/v1/quote", body.encode("utf-8", "surrogateescape"))
    assert response.status_code == 400 and response.json["error"] == "bad_json"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "١٢٣٤-01-01", "2026-13-01"])
def test_the_api_refuses_a_date_out_of_range(client, key, day):
    response = client.get(
        f"/api/v1/redemptions?date={day}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400 and response.json["error"] == "bad_date"
