"""Notification of written readings (alarms evaluate on the ingest stream).

Two kinds of listeners:

* **Subscribers** get every committed batch after the commit: the validated columns (meter
  ids, µs timestamps, canonical values). They must return quickly (hand work to a queue); an
  exception in one is logged and never fails the ingest request.
* **Transaction hooks** (:class:`TransactionHook`) run inside the ingest transaction, after
  the readings are written and before the commit, each in its own savepoint, so what they
  write commits atomically with the readings (an alarm raised by a reading is visible as
  soon as the reading's 2xx is sent, and is never lost to a crash in between). A hook that
  fails (an error, a lock timeout) is rolled back to its savepoint and handed the batch again
  after the commit through :meth:`TransactionHook.deferred`: the ingest request never fails
  because of it.

Duplicates inside the batch are already removed; readings that were stored before (retries)
may be included, so listeners must be idempotent per (meter, ts).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Connection

from ingest.validate import ValidBatch

log = logging.getLogger(__name__)
Subscriber = Callable[[ValidBatch], None]
AfterCommit = Callable[[], None]


class TransactionHook(Protocol):
    def in_transaction(self, conn: Connection, batch: ValidBatch) -> AfterCommit | None:
        """Work inside the ingest transaction; returns what to do once it has committed."""

    def deferred(self, batch: ValidBatch) -> None:
        """The committed batch, when :meth:`in_transaction` failed (must return quickly)."""


class ReadingBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._hooks: list[TransactionHook] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def add_hook(self, hook: TransactionHook) -> None:
        with self._lock:
            self._hooks.append(hook)

    @property
    def has_hooks(self) -> bool:
        return bool(self._hooks)

    def run_hooks(self, conn: Connection, raw: Any, batch: ValidBatch) -> list[AfterCommit]:
        """Run every hook in a savepoint of the open transaction on ``raw`` (the psycopg
        connection under ``conn``); returns the work to do after the commit."""
        after: list[AfterCommit] = []
        if not len(batch):
            return after
        for hook in list(self._hooks):
            try:
                with raw.transaction():  # a savepoint: a failing hook undoes only its own work
                    done = hook.in_transaction(conn, batch)
            except Exception:  # noqa: BLE001 - a hook must never fail an ingest request
                log.warning(
                    "transaction hook %r failed; deferred after commit", hook, exc_info=True
                )
                after.append(partial(hook.deferred, batch))
            else:
                if done is not None:
                    after.append(done)
        return after

    def publish(self, batch: ValidBatch) -> None:
        if not len(batch):
            return
        for callback in list(self._subscribers):
            try:
                callback(batch)
            except Exception:  # noqa: BLE001 - a subscriber must never fail an ingest request
                log.exception("reading subscriber %r failed", callback)


def run_after_commit(actions: list[AfterCommit]) -> None:
    for action in actions:
        try:
            action()
        except Exception:  # noqa: BLE001 - the readings are committed: never fail the request
            log.exception("after-commit action %r failed", action)
