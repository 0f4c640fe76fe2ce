"""Rate limits in Redis are shared by every worker; without Redis the site keeps serving."""

import logging
import secrets

import pytest
import redis

from . import factories

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_answers(), reason="Redis at 127.0.0.1:6379")


def wrong_logins(client, count, name="zjh-staff"):
    return [
        client.post("/login", data={"login": name, "password": "wrong"}).status_code
        for _ in range(count)
    ]


@needs_redis
def test_two_workers_sharing_redis_share_the_login_limit(make_app, staff_user):
    prefix = f"linli-test-{secrets.token_hex(4)}"
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = make_app(**config), make_app(**config)  # as two gunicorn workers
    try:
        # one account from one address: 5 wrong passwords a minute, counted across workers
        assert wrong_logins(first.test_client(), 3) == [200] * 3
        assert wrong_logins(second.test_client(), 3) == [200] * 2 + [429]
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)


def test_without_redis_the_site_keeps_serving_and_says_so(make_app, staff_user, caplog):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")  # nothing listens there
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        assert client.get("/login").status_code == 200
        statuses = wrong_logins(client, 11)
    assert 500 not in statuses and statuses[0] == 200
    assert statuses[-1] == 429, "the in-memory fallback still limits"
    assert any("storage" in r.getMessage().lower() for r in caplog.records)
    response = client.post("/login", data={"login": "other", "password": factories.PASSWORD})
    assert response.status_code in (200, 429)
