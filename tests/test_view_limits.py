"""The card page's own rate limits: per address, shared through Redis, kept without Redis."""

import logging
import secrets

import pytest

from app import view_limits
from app.extensions import limiter

from . import factories
from .test_rate_limit_storage import REDIS_URL, needs_redis


@pytest.fixture
def token(db, community):
    campaign = factories.campaign(community)
    return factories.cards(campaign, 1)[0].token


def statuses(client, paths, address="10.0.0.1"):
    return [client.get(path, environ_base={"REMOTE_ADDR": address}).status_code for path in paths]


def test_a_flood_of_card_pages_from_one_address_is_refused_with_a_chinese_429(make_app, token):
    app = make_app(CARD_RATE_LIMIT="3 per minute")
    client = app.test_client()
    assert statuses(client, [f"/c/{token}"] * 4) == [200, 200, 200, 429]
    refused = client.get(f"/c/{token}", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert "尝试次数过多" in refused.text
    assert refused.headers["Cache-Control"] == "no-store"
    assert statuses(client, [f"/c/{token}"], address="10.0.0.2") == [200]


def test_unknown_tokens_count_against_the_guessing_limit_and_known_ones_do_not(make_app, token):
    app = make_app(CARD_MISS_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert statuses(client, [f"/c/{token}"] * 5) == [200] * 5
    assert statuses(client, ["/c/GUESS1", "/c/GUESS2", "/c/GUESS3"]) == [404, 404, 429]
    assert statuses(client, [f"/c/{token}"]) == [429]  # a guesser is stopped altogether
    assert statuses(client, [f"/c/{token}"], address="10.0.0.2") == [200]


def test_limits_are_off_when_flask_limiter_is_off(make_app, token, monkeypatch):
    app = make_app(CARD_RATE_LIMIT="1 per minute")
    monkeypatch.setattr(limiter, "enabled", False)  # as RATELIMIT_ENABLED = False does
    assert statuses(app.test_client(), [f"/c/{token}"] * 3) == [200] * 3


@needs_redis
def test_two_workers_sharing_redis_share_the_guessing_count(make_app, token):
    import redis

    prefix = f"linli-test-{secrets.token_hex(4)}"
    config = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "CARD_MISS_RATE_LIMIT": "3 per minute",
    }
    first, second = make_app(**config), make_app(**config)  # as two gunicorn workers
    try:
        assert statuses(first.test_client(), ["/c/GUESS1", "/c/GUESS2"]) == [404, 404]
        assert statuses(second.test_client(), ["/c/GUESS3", "/c/GUESS4"]) == [404, 429]
        store = redis.Redis.from_url(REDIS_URL)
        assert list(store.scan_iter(f"*{prefix}*card-miss*")), "the count is kept in Redis"
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)


def test_without_redis_card_pages_answer_and_are_still_limited_in_memory(
    make_app, token, caplog, monkeypatch
):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", CARD_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="app.view_limits"):
        assert statuses(client, [f"/c/{token}"] * 4) == [200, 200, 200, 429]
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1, "said once"
    # after the pause the store is tried again (and, still away, counting stays in memory)
    monkeypatch.setattr(view_limits, "RETRY_SECONDS", 0)
    view_limits._counter.away_until = 0.0
    assert statuses(client, [f"/c/{token}"], address="10.0.0.3") == [200]
