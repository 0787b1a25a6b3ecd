"""The per-process credential cache holds only valid credentials, bounded; failed attempts
are limited per client address."""

from __future__ import annotations

from datetime import UTC, datetime

from accounts.credentials import CredentialCache, FailureLimiter
from accounts.keys import Principal, Role

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
P = Principal("k", frozenset({Role.VIEWER}))


def test_entries_live_ttl_seconds_only() -> None:
    c = CredentialCache(ttl_s=1.0, size=10)
    c.put("a", 100.0, P)
    assert c.get("a", 100.9, NOW) is P
    assert c.get("a", 101.0, NOW) is None
    assert len(c) == 0


def test_cache_is_bounded_lru() -> None:
    c = CredentialCache(ttl_s=60.0, size=3)
    for i in range(3):
        c.put(str(i), 0.0, P)
    assert c.get("0", 1.0, NOW) is P  # 0 becomes the most recent
    c.put("3", 1.0, P)
    assert len(c) == 3 and c.get("1", 1.0, NOW) is None and c.get("0", 1.0, NOW) is P


def test_an_expired_credential_leaves_the_cache_at_its_expiry() -> None:
    c = CredentialCache(ttl_s=60.0, size=3)
    c.put("a", 0.0, Principal("k", frozenset({Role.VIEWER}), expires_at=NOW))
    assert c.get("a", 0.1, NOW) is None


def test_failure_limit_per_address_with_retry_after() -> None:
    lim = FailureLimiter(limit=3, window_s=60.0)
    for t in (0.0, 1.0, 2.0):
        assert lim.retry_after("10.0.0.1", t) is None
        lim.fail("10.0.0.1", t)
    assert lim.retry_after("10.0.0.1", 3.0) == 58
    assert lim.retry_after("10.0.0.2", 3.0) is None  # another address is not punished
    assert lim.retry_after("10.0.0.1", 60.5) is None  # the oldest failure left the window


def test_failure_table_is_bounded() -> None:
    lim = FailureLimiter(limit=1, window_s=60.0, max_clients=100)
    for i in range(1000):
        lim.fail(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(lim._d) == 100
