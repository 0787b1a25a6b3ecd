"""In-process notification of committed readings (alarms evaluate on the ingest stream).

The writer's caller publishes every committed batch after the commit; subscribers get the
validated columns (meter ids, µs timestamps, canonical values). Duplicates inside the batch
are already removed; readings that were stored before (retries) may be included, so
subscribers must be idempotent per (meter, ts). Subscribers must return quickly (hand work
to a queue); an exception in one subscriber is logged and never fails the ingest request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ingest.validate import ValidBatch

log = logging.getLogger(__name__)
Subscriber = Callable[[ValidBatch], None]


class ReadingBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.remove(callback)

    def publish(self, batch: ValidBatch) -> None:
        if not len(batch):
            return
        for callback in list(self._subscribers):
            try:
                callback(batch)
            except Exception:  # noqa: BLE001 - a subscriber must never fail an ingest request
                log.exception("reading subscriber %r failed", callback)
