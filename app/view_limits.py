"""Rate limits that a view checks itself, for the page where Flask-Limiter's decorator costs
more than the page.

The card page answers in about a millisecond of CPU. Flask-Limiter's two decorators on it took
0.6 ms more: resolving which limits apply to the endpoint, exemption scopes, reading the
configured string, the X-RateLimit headers, all for two counter operations. A `ViewLimit` does
those two operations with the strategy and the store that Flask-Limiter set up
(`limiter.limiter`: Redis when REDIS_URL is set, else memory), keyed by the client's address and
the app's RATELIMIT_KEY_PREFIX as Flask-Limiter keys them, so workers share the counts.

A store that does not answer does not take the page down: the counts are kept in this process's
memory, as Flask-Limiter's own fallback does, and the store is tried again RETRY_SECONDS later.
"""

import logging
import time
from collections.abc import Callable
from functools import lru_cache

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter

from .extensions import limiter

log = logging.getLogger(__name__)

RETRY_SECONDS = 30


@lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    """The limits of a config string such as "20 per minute;200 per day", shortest first."""
    return tuple(sorted(parse_many(text)))


class _Counter:
    """Runs counter operations on the shared store, or in memory while it is away."""

    def __init__(self):
        self.store = None  # the store the state below is about
        self.away_until = 0.0
        self.fallback: RateLimiter | None = None

    def run(self, operation: Callable[[RateLimiter], bool]) -> bool:
        strategy = limiter.limiter
        if strategy.storage is not self.store:  # another app, or Flask-Limiter's own fallback
            self.store, self.away_until, self.fallback = strategy.storage, 0.0, None
        if time.monotonic() >= self.away_until:
            try:
                return operation(strategy)
            except Exception:  # noqa: BLE001 - whatever the store raises, the page must answer
                log.warning(
                    "Rate limit storage unreachable - counting card pages in memory for %d s",
                    RETRY_SECONDS,
                )
                self.away_until = time.monotonic() + RETRY_SECONDS
        if self.fallback is None:
            self.fallback = type(strategy)(MemoryStorage())
        return operation(self.fallback)


_counter = _Counter()


class ViewLimit:
    """A limit read from the app's config key `config_key`, counted per client address.

    `scope` keeps its counts apart from other limits' counts of the same address.
    """

    def __init__(self, config_key: str, scope: str):
        self.config_key = config_key
        self.scope = scope

    def _identifiers(self) -> tuple[str, ...]:
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
        address = get_remote_address()
        return (prefix, address, self.scope) if prefix else (address, self.scope)

    def _apply(self, method: str) -> bool:
        if not limiter.enabled:  # RATELIMIT_ENABLED = False
            return True
        items = _parsed(current_app.config[self.config_key])
        identifiers = self._identifiers()
        return _counter.run(
            lambda strategy: all(
                getattr(strategy, method)(item, *identifiers) for item in items
            )  # stops at the first limit reached, as Flask-Limiter does
        )

    def hit(self) -> bool:
        """Count one request; return False when it goes over a limit."""
        return self._apply("hit")

    def allows(self) -> bool:
        """Return whether one more hit would be within every limit, without counting one."""
        return self._apply("test")
