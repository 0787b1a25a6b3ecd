"""Per-process credential checking: a short-lived bounded cache of *valid* credentials and a
per-client-address limit on failed attempts.

Every API process asks the database about a credential at most once per ``ttl_s`` (1 s by
default); revoking a key, ending a session or disabling a person in the database is therefore
refused by every process on its next request at most ``ttl_s`` later. Unknown, wrong, revoked
or expired credentials are never cached (they cost a lookup and count as a failure).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from accounts import keys, users
from accounts.keys import Principal, hash_secret


class CredentialCache:
    """LRU of secret hash → (checked at, principal), bounded, entries live ``ttl_s``."""

    def __init__(self, ttl_s: float, size: int) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._d: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, mono: float, now: datetime) -> Principal | None:
        with self._lock:
            hit = self._d.get(digest)
            if hit is None:
                return None
            if mono - hit[0] >= self.ttl_s or (
                hit[1].expires_at is not None and hit[1].expires_at <= now
            ):
                del self._d[digest]
                return None
            self._d.move_to_end(digest)
            return hit[1]

    def put(self, digest: str, mono: float, principal: Principal) -> None:
        with self._lock:
            self._d[digest] = (mono, principal)
            self._d.move_to_end(digest)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def drop(self, digest: str) -> None:
        with self._lock:
            self._d.pop(digest, None)

    def __len__(self) -> int:
        return len(self._d)


class FailureLimiter:
    """At most ``limit`` failed authentications per client address per ``window_s``."""

    def __init__(self, limit: int, window_s: float, max_clients: int = 10_000) -> None:
        self.limit, self.window_s, self.max_clients = limit, window_s, max_clients
        self._d: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str, mono: float) -> int | None:
        """Seconds to wait when the client is over its limit, else None."""
        with self._lock:
            q = self._d.get(client)
            if q is None:
                return None
            while q and mono - q[0] >= self.window_s:
                q.popleft()
            if len(q) < self.limit:
                return None
            return max(1, int(self.window_s - (mono - q[0])) + 1)

    def fail(self, client: str, mono: float) -> None:
        with self._lock:
            q = self._d.setdefault(client, deque())
            self._d.move_to_end(client)
            q.append(mono)
            while len(q) > self.limit:
                q.popleft()
            while len(self._d) > self.max_clients:
                self._d.popitem(last=False)


class Credentials:
    """Who a bearer secret is: a session (``ecs_…``), a key or a display token."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        *,
        ttl_s: float,
        size: int,
        idle_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.idle_s, self.clock = sessions, idle_s, clock
        self.cache = CredentialCache(ttl_s, size)

    def principal(self, secret: str) -> Principal | None:
        digest, mono, now = hash_secret(secret), time.monotonic(), self.clock()
        found = self.cache.get(digest, mono, now)
        if found is not None:
            return found
        with self.sessions() as session:
            if secret.startswith("ecs_"):
                found = users.session_principal(session, secret, now, self.idle_s)
            else:
                found = keys.verify(session, secret, now)
        if found is not None:
            self.cache.put(digest, mono, found)
        return found

    def forget(self, secret: str) -> None:
        self.cache.drop(hash_secret(secret))
