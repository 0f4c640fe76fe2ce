"""Hostile values in every field: forms and query strings from `app.url_map`, JSON from OpenAPI.

Hypothesis sends what an attacker would: exponents with a billion digits, numbers of 5,000
digits, unicode digits (², ٣, １), control characters, JSON nested a thousand deep, dates
before year 1 and after 9999, off-site redirect targets. Every answer must be below 500,
must take under a second of the worker's CPU, and a refused request must leave every table
(but the attempt log, which records refusals) as it was.
"""

import gc
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api.openapi import document
from app.extensions import db as _db

from . import test_access_matrix as matrix
from .conftest import login
from .test_access_matrix import MATRIX, OK, url_for_rule
from .test_forms_fuzz import FIELDS, ROLE_ORDER, SKIPPED, counts

world = matrix.world

CPU_BUDGET = 1.0  # seconds of this thread's CPU for one request (the test client runs the app)

HOSTILE_TEXT = [
    "1e999999999",
    "-1E+999999999",
    "9" * 5000,
    "0." + "0" * 5000 + "1",
    "²",
    "٣٤",
    "１２３",
    "2147483648",
    "99999999999999999999",
    "-0",
    "NaN",
    "Infinity",
    "0001-01-01",
    "9999-12-31",
    "٢٠٢٦-٠٥-١٢",
    "2026-02-30",
    "\x01abc\x1f",
    "名\x03字\x7f\x85",
    "a\r\nb\x0b\x0c",
    "\t",
    "[" * 1000,
    "/%09/evil.example",
    "//evil.example",
    "/\\evil.example",
    "汉" * 5000,
]
hostile = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30))

# Every name a view reads from a query string.
QUERY_NAMES = [
    "date",
    "from",
    "to",
    "community",
    "campaign",
    "merchant",
    "batch",
    "card",
    "code",
    "status",
    "q",
    "sort",
    "page",
    "per",
    "export",
    "next",
    "ref",
    "serial",
    "pin",
    "first",
    "last",
    "new",
    "cat",
    "object_id",
    "object_type",
    "actor",
    "area",
    "table",
    "kind",
    "text",
    "bill",
]

TABLES = [t.name for t in _db.metadata.sorted_tables if t.name != "attempt_log"]  # as counts()
AUDITED_GETS = {"admin.batch_print", "admin.card_print"}  # printing cards is audited, by design

SETTINGS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def written(db):
    """Row counts of what people write: not the daily summaries a figures page keeps."""
    return tuple(
        n
        for n, table in zip(counts(db), TABLES, strict=True)
        if not table.startswith("redemption_day")
    )


def timed(call):
    """Return the response and this thread's CPU for it.

    A request over the budget is sent once more after a garbage collection, and the second
    time counts: an input that is costly to handle costs the same again, while a collection of
    the suite's large heap or a first template compile that fell inside the request does not
    repeat (they made this check flaky in a full parallel run).
    """
    started = time.thread_time()
    response = call()
    spent = time.thread_time() - started
    if spent >= CPU_BUDGET:
        gc.collect()
        started = time.thread_time()
        response = call()
        spent = time.thread_time() - started
    return response, spent


def first_role(endpoint, method):
    expectations = MATRIX[(endpoint, method)]
    return next((r for r in ROLE_ORDER if expectations.get(r) == OK), None)


def endpoints(method: str) -> list[str]:
    return sorted(
        endpoint
        for (endpoint, m) in MATRIX
        if m == method
        and endpoint not in SKIPPED
        and not endpoint.startswith("api.")
        and first_role(endpoint, method)
    )


_WARMED: set[tuple[int, str]] = set()


def warm_up(app, client, url: str) -> None:
    """Open a page once, untimed, before its hostile queries are timed: the first request of
    an app compiles the page's templates, a cost no query string can cause or repeat."""
    if (id(app), url) not in _WARMED:
        _WARMED.add((id(app), url))
        client.get(url)


def client_for(app, users, role):
    return app.test_client() if role == "anonymous" else login(app, users[role])


@pytest.mark.parametrize("endpoint", endpoints("POST"))
@SETTINGS
@given(data=st.dictionaries(st.sampled_from(FIELDS), hostile, max_size=8))
def test_hostile_values_in_any_form_field(app, db, world, endpoint, data, tally):
    users, args = world
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    client = client_for(app, users, first_role(endpoint, "POST"))
    before = counts(db)
    response, cpu = timed(lambda: client.post(url_for_rule(rule, args), data=data))
    assert response.status_code < 500, (endpoint, data, response.text[:300])
    assert cpu < CPU_BUDGET, (endpoint, data, cpu)
    tally["hostile values: form posts"] += 1
    if response.status_code >= 400:
        assert counts(db) == before, f"{endpoint} refused {data!r} but changed data"


@pytest.mark.parametrize("endpoint", endpoints("GET"))
@SETTINGS
@given(query=st.dictionaries(st.sampled_from(QUERY_NAMES), hostile, min_size=1, max_size=5))
def test_hostile_values_in_any_query_string(app, db, world, endpoint, query, tally):
    users, args = world
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    client = client_for(app, users, first_role(endpoint, "GET"))
    warm_up(app, client, url_for_rule(rule, args))
    before = written(db)
    response, cpu = timed(lambda: client.get(url_for_rule(rule, args), query_string=query))
    assert response.status_code < 500, (endpoint, query, response.text[:300])
    assert cpu < CPU_BUDGET, (endpoint, query, cpu)
    if "Location" in response.headers:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), location
        assert "evil" not in location
    if endpoint not in AUDITED_GETS:
        assert written(db) == before, f"GET {endpoint} with {query!r} changed data"
    tally["hostile values: pages with query strings"] += 1


# --- the API, from its OpenAPI document -----------------------------------------------------

# JSON text as a till (or an attacker) could write it, including what json.dumps never would.
HOSTILE_JSON = [
    "1e999999999",
    "-1E+999999999",
    "1" + "0" * 5000,
    "1." + "0" * 5000 + "1",
    "7287.0",
    "1.88e4",
    "NaN",
    "Infinity",
    "true",
    "null",
    "{}",
    "[" * 1000 + "]" * 1000,
    '"\\u0000"',
    '"\\ud800"',
    '"\\u0001abc\\u001f"',
    '"²"',
    '"١٢٣"',
    '"9999-12-31"',
    '"' + "汉" * 5000 + '"',
]


def operations() -> list[tuple[str, str, list[str]]]:
    """(method, path, JSON body properties) for every operation the document describes."""
    found = []
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            properties = list(body.get("schema", {}).get("properties", {}))
            found.append((method.upper(), path, properties))
    return found


@pytest.fixture
def till(db, community, shop, merchant_user):
    from app.services import apikeys
    from app.services.redemptions import TillRequest, redeem

    from . import factories

    campaign = factories.campaign(community, rule="8折")
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 3)[0]
    made = redeem(db.session, shop, merchant_user, TillRequest(card.token, 10000, "fuzz-000001"))
    _row, key = apikeys.create_key(db.session, merchant_user, "fuzz")
    db.session.commit()
    return key, card, made.id


@pytest.mark.parametrize(("method", "path", "properties"), operations())
@SETTINGS
@given(data=st.data())
def test_hostile_values_in_any_api_field(app, db, till, method, path, properties, data, tally):
    key, card, redemption_id = till
    client = app.test_client()
    url = "/api/v1" + path.replace(
        "{id}", data.draw(st.sampled_from([str(redemption_id), "9" * 30, "0"]), label="id")
    )
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Idempotency-Key": data.draw(st.sampled_from(["fuzz-000002", "x" * 65, "\x01" * 8])),
    }
    before = counts(db)
    if method == "GET":
        query = {"date": data.draw(st.sampled_from(HOSTILE_TEXT), label="date")}
        response, cpu = timed(lambda: client.get(url, query_string=query, headers=headers))
    else:
        usual = {"card": json.dumps(card.token), "pin": "null", "bill_fen": "100", "reason": '"x"'}
        fields = {name: usual.get(name, '"x"') for name in properties}
        for name in data.draw(st.lists(st.sampled_from(properties or ["x"]), max_size=3)):
            fields[name] = data.draw(st.sampled_from(HOSTILE_JSON), label=name)
        body = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"
        response, cpu = timed(lambda: client.post(url, data=body.encode(), headers=headers))
    assert response.status_code < 500, (method, url, response.text[:300])
    assert cpu < CPU_BUDGET, (method, url, cpu)
    assert response.is_json and "error" in response.json or response.status_code < 300
    tally["hostile values: API requests"] += 1
    if response.status_code >= 400:
        assert counts(db) == before, f"{method} {url} was refused but changed data"
