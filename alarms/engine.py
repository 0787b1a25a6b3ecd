"""The alarm runtime of one API process: evaluates the batches of the reading bus and
delivers the outbox.

* Inline (the default, ``ECC_ALARM_INLINE``): the engine is a transaction hook of the bus
  (:mod:`ingest.events`): stream rules are evaluated inside the ingest transaction, in a
  savepoint with a short lock timeout, so an alarm commits together with the reading that
  raised it, is visible when the 2xx is sent and cannot be lost to a crash in between. If
  the evaluation fails (an error, a lock held by a slow operator action) the savepoint is
  rolled back, the readings still commit, and the batch goes to the evaluator thread.
* Deferred (``ECC_ALARM_INLINE=false``, or an inline evaluation that failed): the bus
  callback only queues the batch's (meter, ts) columns; one evaluator thread takes
  everything queued so far, merges it (sorted by meter and time, repeats dropped) and
  evaluates it in one transaction (:func:`alarms.evaluate.evaluate_readings`), retried on a
  deadlock or serialisation failure.
* Two delivery threads (MQTT, webhooks) are woken after every commit that wrote outbox rows
  and sweep due rows at least once a second (retries of any process's rows). The MQTT thread
  also expires shelving and emits flood summaries once a second.

All state that matters lives in the database, so any number of processes can run this.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from psycopg import errors as pg_errors
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from alarms import evaluate, notify
from alarms.config import AlarmConfig
from core.settings import Settings
from ingest.events import ReadingBus
from ingest.validate import ValidBatch

log = logging.getLogger(__name__)
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
HOUSEKEEPING_S = 1.0
INLINE_LOCK_TIMEOUT = "500ms"  # longer waits for an alarm lock go to the evaluator thread


def run_retrying(engine: Engine, work, attempts: int = 5):  # noqa: ANN001, ANN201
    """``work(conn)`` in a transaction, again on a deadlock or serialisation failure."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if not isinstance(exc.orig, RETRYABLE) or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    return None  # pragma: no cover


class AlarmEngine:
    def __init__(self, engine: Engine, config: AlarmConfig, inline: bool = True) -> None:
        self.engine = engine
        self.config = config
        self.inline = inline
        self.cache = evaluate.RuleCache()
        self.mqtt = notify.MqttPublisher(config.mqtt_host, config.mqtt_port)
        self.webhooks = notify.WebhookSender(config.webhook_timeout_s)
        self._queue: queue.Queue[tuple[np.ndarray, np.ndarray]] = queue.Queue()
        self._stop = threading.Event()
        self._kicks = {"mqtt": threading.Event(), "webhook": threading.Event()}
        self._progress = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._threads: list[threading.Thread] = []
        self.last_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> AlarmEngine:
        self.mqtt.start()
        for name, target in (
            ("alarm-evaluator", self._evaluator),
            ("alarm-mqtt", self._mqtt_loop),
            ("alarm-webhook", self._webhook_loop),
        ):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, drain_s: float = 5.0) -> None:
        self.flush(drain_s)

        self._stop.set()
        for ev in self._kicks.values():
            ev.set()
        for t in self._threads:
            t.join(10)
        self.mqtt.stop()
        self.webhooks.close()

    def attach(self, bus: ReadingBus) -> AlarmEngine:
        if self.inline:
            bus.add_hook(self)
        else:
            bus.subscribe(self.on_batch)
        return self

    def in_transaction(self, conn: Connection, batch: ValidBatch) -> Callable[[], None] | None:
        """Transaction hook: evaluate the batch's stream rules before the ingest commit."""
        conn.execute(text(f"SET LOCAL lock_timeout = '{INLINE_LOCK_TIMEOUT}'"))
        ids = evaluate.evaluate_readings(conn, batch.meter_id, batch.ts_us, self.config, self.cache)
        return self.kick if ids else None

    def deferred(self, batch: ValidBatch) -> None:
        """The inline evaluation failed: evaluate the committed batch in the thread."""
        self.on_batch(batch)

    # -- input ---------------------------------------------------------------------------------

    def on_batch(self, batch: ValidBatch) -> None:
        """Reading-bus subscriber: queue the committed (meter, ts) pairs and return."""
        with self._progress:
            self._submitted += 1
        self._queue.put((batch.meter_id, batch.ts_us))

    def kick(self) -> None:
        """Deliver new outbox rows now (called after a commit that wrote some)."""
        for ev in self._kicks.values():
            ev.set()

    def flush(self, timeout_s: float = 10.0, deliver: bool = True) -> bool:
        """Wait until every batch queued so far is evaluated (and, with ``deliver``, sweep the
        due outbox in this thread). True if everything was done in time."""
        deadline = time.monotonic() + timeout_s
        with self._progress:
            target = self._submitted
            while self._done < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._threads:
                    return False
                self._progress.wait(left)
        if deliver:
            self.deliver_now()
        return True

    def deliver_now(self) -> None:
        notify.deliver_all(self.engine, "mqtt", self.mqtt.send, self.config)
        notify.deliver_all(self.engine, "webhook", self.webhooks.send, self.config)

    # -- threads -----------------------------------------------------------------------------

    def _take(self) -> tuple[int, np.ndarray, np.ndarray] | None:
        try:
            first = self._queue.get(timeout=0.5)
        except queue.Empty:
            return None
        items = [first]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if len(items) == 1:
            return 1, first[0], first[1]
        mid = np.concatenate([i[0] for i in items])
        ts = np.concatenate([i[1] for i in items])
        order = np.lexsort((ts, mid))
        mid, ts = mid[order], ts[order]
        keep = np.ones(len(mid), bool)
        keep[1:] = (mid[1:] != mid[:-1]) | (ts[1:] != ts[:-1])
        return len(items), mid[keep], ts[keep]

    def _evaluator(self) -> None:
        while not self._stop.is_set():
            taken = self._take()
            if taken is None:
                continue
            n, mid, ts = taken
            try:
                ids = run_retrying(
                    self.engine,
                    partial(
                        evaluate.evaluate_readings,
                        meter_id=mid,
                        ts_us=ts,
                        config=self.config,
                        cache=self.cache,
                    ),
                )
                if ids:
                    self.kick()
            except SQLAlchemyError as exc:
                self.last_error = repr(exc)
                log.exception("alarm evaluation of %d readings failed", len(mid))
            except Exception as exc:  # noqa: BLE001 - the evaluator thread must survive a bug
                self.last_error = repr(exc)
                log.exception("alarm evaluation of %d readings failed", len(mid))
            with self._progress:
                self._done += n
                self._progress.notify_all()

    def _sweep_loop(self, channel: str, send: notify.Sender, housekeeping: bool) -> None:
        kick = self._kicks[channel]
        last_house = 0.0
        while not self._stop.is_set():
            kick.wait(HOUSEKEEPING_S)
            kick.clear()
            if self._stop.is_set():
                break
            try:
                if housekeeping and time.monotonic() - last_house >= HOUSEKEEPING_S:
                    last_house = time.monotonic()
                    if run_retrying(self.engine, self._housekeeping):
                        self._kicks["webhook"].set()
                notify.deliver_all(self.engine, channel, send, self.config)
            except SQLAlchemyError as exc:
                self.last_error = repr(exc)
                log.exception("alarm %s delivery failed", channel)
            except Exception as exc:  # noqa: BLE001 - the delivery thread must survive a bug
                self.last_error = repr(exc)
                log.exception("alarm %s delivery failed", channel)

    def _housekeeping(self, conn) -> list[int]:  # noqa: ANN001
        return evaluate.expire_shelves(conn, self.config) + evaluate.flood_summaries(
            conn, self.config
        )

    def _mqtt_loop(self) -> None:
        self._sweep_loop("mqtt", self.mqtt.send, housekeeping=True)

    def _webhook_loop(self) -> None:
        self._sweep_loop("webhook", self.webhooks.send, housekeeping=False)


def start_for_app(settings: Settings, engine: Engine, bus: ReadingBus) -> AlarmEngine | None:
    """The API lifespan's alarm runtime, subscribed to the bus (None if ECC_ALARM_ENGINE is
    false)."""
    if not settings.alarm_engine:
        return None
    return (
        AlarmEngine(engine, AlarmConfig.from_settings(settings), inline=settings.alarm_inline)
        .start()
        .attach(bus)
    )
