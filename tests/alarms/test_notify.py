"""Notification on the real Mosquitto broker and to a real local HTTP receiver: delivery,
retries with backoff, permanent failures, flood protection with its summary."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from core.settings import Settings
from tests.support.alarms import API, BASE, alarms_of, meter, minutes, post, rule, settle, wait_for

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


class Receiver:
    """A webhook endpoint on a real socket; ``script[path]`` lists the statuses to answer
    (the last one repeats)."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, dict]] = []
        self.script: dict[str, list[int]] = {}
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with lock:
                    seen = sum(1 for _, p, _ in outer.requests if p == self.path)
                    outer.requests.append((time.monotonic(), self.path, body))
                    plan = outer.script.get(self.path, [200])
                status = plan[min(seen, len(plan) - 1)]
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def at(self, path: str) -> list[tuple[float, dict]]:
        return [(t, b) for t, p, b in self.requests if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Subscriber:
    def __init__(self, topic: str) -> None:
        self.messages: list[tuple[float, str, dict]] = []
        ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *_: c.subscribe(f"{topic}/#", qos=1)
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.on_message = lambda c, u, m: self.messages.append(
            (time.monotonic(), m.topic, json.loads(m.payload))
        )
        self.client.connect(MQTT_HOST, MQTT_PORT)
        self.client.loop_start()
        assert ready.wait(10), "could not subscribe on the MQTT broker"

    def of(self, alarm_id: int) -> list[dict]:
        return [p for _, _, p in self.messages if p.get("alarm_id") == alarm_id]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def topic() -> str:
    return f"ecc-test-{uuid.uuid4().hex[:8]}/alarms"


@pytest.fixture(scope="module")
def fast(settings: Settings, topic: str) -> Iterator[TestClient]:
    """An API process with short retry delays and a small per-rule flood limit."""
    tuned = settings.model_copy(
        update={
            "alarm_mqtt_topic": topic,
            "alarm_retry_base_s": 0.2,
            "alarm_retry_max_attempts": 5,
            "alarm_rule_burst": 3,
            "alarm_global_per_min": 10_000,
            "alarm_summary_interval_s": 0.3,
        }
    )
    with TestClient(create_app(tuned)) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def subscriber(topic: str) -> Iterator[Subscriber]:
    s = Subscriber(topic)
    yield s
    s.close()


def test_transitions_reach_the_broker_and_annunciations_the_webhook(
    fast, admin_headers, receiver, subscriber, topic, engine, uid
) -> None:  # noqa: ANN001
    code = meter(fast, admin_headers, f"MQ-{uid}")
    r = rule(
        fast,
        admin_headers,
        name=f"mq {uid}",
        meter=code,
        type="threshold",
        high=100,
        priority="critical",
        message="Transformer T1 overload",
        webhook_url=f"{receiver.url}/hook",
    )
    post(fast, admin_headers, code, minutes([50, 150]))
    settle(fast)
    aid = alarms_of(fast, admin_headers, r["id"])["high"]["id"]
    msg = wait_for(lambda: subscriber.of(aid))[0]
    assert (
        msg["action"],
        msg["state"],
        msg["value"],
        msg["priority"],
        msg["message"],
        msg["meter"],
        msg["limit"],
    ) == (
        "activate",
        "active_unacknowledged",
        150.0,
        "critical",
        "Transformer T1 overload",
        code,
        100.0,
    )
    assert any(t == f"{topic}/{code}-SITE/{code}/{aid}" for _, t, _ in subscriber.messages)
    hook = wait_for(lambda: receiver.at("/hook"))
    assert hook[0][1]["alarm_id"] == aid and hook[0][1]["action"] == "activate"
    fast.post(f"{API}/alarms/{aid}/ack", json={"comment": "on it"}, headers=admin_headers)
    acked = wait_for(lambda: [m for m in subscriber.of(aid) if m["action"] == "ack"])[0]
    assert acked["comment"] == "on it" and acked["state"] == "active_acknowledged"

    def hooks_pending() -> int:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT count(*) FROM alarm_notification "
                    "WHERE rule_id = :r AND channel = 'webhook' AND status = 'pending'"
                ),
                {"r": r["id"]},
            ).scalar_one()

    # A negative check needs a point after which a page would have arrived: the ack's outbox
    # rows (a webhook one, were acks paged) were committed with the ack, and the webhook thread
    # marks a row sent only after the receiver answered. So once nothing of this rule's webhook
    # outbox is pending, the receiver has had every page it will get, however slow the machine.
    wait_for(lambda: hooks_pending() == 0, timeout_s=20)
    assert len(receiver.at("/hook")) == 1  # acknowledgements are not paged


def test_webhook_retries_with_backoff_and_gives_up_on_a_client_error(
    fast, admin_headers, receiver, engine, uid
) -> None:  # noqa: ANN001
    receiver.script = {"/flaky": [503, 503, 200], "/gone": [404]}
    code = meter(fast, admin_headers, f"WH-{uid}")
    flaky = rule(
        fast,
        admin_headers,
        name=f"flaky {uid}",
        meter=code,
        type="threshold",
        high=100,
        webhook_url=f"{receiver.url}/flaky",
    )
    gone = rule(
        fast,
        admin_headers,
        name=f"gone {uid}",
        meter=code,
        type="threshold",
        high=120,
        webhook_url=f"{receiver.url}/gone",
    )
    post(fast, admin_headers, code, minutes([150]))
    settle(fast)

    def rows(rid: int) -> list:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT status, attempts, last_error FROM alarm_notification "
                    "WHERE rule_id = :r AND channel = 'webhook'"
                ),
                {"r": rid},
            ).all()

    wait_for(lambda: rows(flaky["id"])[0][0] == "sent", timeout_s=20)
    assert tuple(rows(flaky["id"])[0]) == ("sent", 3, None)
    times = [t for t, _ in receiver.at("/flaky")]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.4  # 0.2 s, then doubled
    wait_for(lambda: rows(gone["id"])[0][0] == "failed")
    assert tuple(rows(gone["id"])[0]) == ("failed", 1, "HTTP 404")
    assert len(receiver.at("/gone")) == 1


def test_flood_protection_holds_back_and_summarises(
    fast, admin_headers, subscriber, topic, engine, uid
) -> None:  # noqa: ANN001
    code = meter(fast, admin_headers, f"FLD-{uid}")
    r = rule(fast, admin_headers, name=f"flood {uid}", meter=code, type="threshold", high=100)
    chatter = [150.0 if i % 2 == 0 else 50.0 for i in range(40)]  # 20 alarms, 20 returns
    post(fast, admin_headers, code, minutes(chatter, BASE + timedelta(hours=1), step_s=1))
    settle(fast)
    aid = alarms_of(fast, admin_headers, r["id"])["high"]["id"]
    summary = wait_for(
        lambda: [
            p for _, t, p in subscriber.messages if t == f"{topic}/summary" and p["rule"] == r["id"]
        ]
    )
    assert summary[0]["suppressed"] == 37 and summary[0]["action"] == "flood_summary"
    assert len(subscriber.of(aid)) == 3  # the burst allowed per rule
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                text(
                    "SELECT status, count(*) FROM alarm_notification WHERE rule_id = :r AND "
                    "event_id IS NOT NULL GROUP BY status"
                ),
                {"r": r["id"]},
            ).all()
        )
    assert counts == {"sent": 3, "suppressed": 37}
    # every transition is still in the history: flood protection only holds messages back
    hist = fast.get(f"{API}/alarms/{aid}/history", headers=admin_headers).json()
    assert len(hist) == 40
