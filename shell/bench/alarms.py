"""``ecc bench alarms``: latency from a reading's 2xx to its alarm, under sustained ingest.

A bench site with 100 gauge meters (1-second data) and 10 rules per meter (1,000 rules): eight
high thresholds at 1,000 … 8,000 kW with a deadband, a low threshold and a rate-of-change rule
over 10 s. The API runs as in production (uvicorn, ``--workers`` processes, rollup worker on)
on a real socket; ``clients`` gateways post pre-encoded columnar batches, paced to ``rate``
readings per second in total. Normal values stay below 100 kW; each meter spikes eight times,
the k-th spike above the k-th threshold (so each of the 800 high rules is first raised by one
known request). A poller reads ``GET /api/v1/alarms?since=…`` every ``poll_s`` and an MQTT
subscriber listens on the real broker; the latency of an alarm is the time from the 2xx of
the request that carried its first crossing to the moment the poller (resp. the subscriber)
first sees it. The bench data (readings, rules, alarms, their history) is purged afterwards.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import orjson
import paho.mqtt.client as mqtt
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from accounts import keys
from alarms import rules
from alarms.config import AlarmConfig
from core.errors import NotFound
from core.settings import Settings
from metering import registry
from shell.bench.server import free_port, start_api
from shell.runtime import open_database

SITE = "BENCH-ALARMS"
N_METERS = 100
LEVELS = 8
LEVEL_KW = 1000.0


def _purge(engine: Engine) -> None:
    """Remove every bench rule with its alarms, history and outbox, and the bench readings."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL ecc.alarm_history_purge = 'on'"))
        rule_ids = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT r.id FROM alarm_rule r JOIN meter m ON m.id = r.meter_id "
                    "JOIN site s ON s.id = m.site_id WHERE s.code = :s"
                ),
                {"s": SITE},
            )
        ]
        if rule_ids:
            p = {"r": rule_ids, "scopes": [f"rule:{r}" for r in rule_ids]}
            conn.execute(
                text(
                    "DELETE FROM alarm_notification WHERE rule_id = ANY(:r) OR "
                    "event_id IN (SELECT e.id FROM alarm_event e JOIN alarm a "
                    "ON a.id = e.alarm_id WHERE a.rule_id = ANY(:r))"
                ),
                p,
            )
            conn.execute(
                text(
                    "DELETE FROM alarm_event WHERE alarm_id IN "
                    "(SELECT id FROM alarm WHERE rule_id = ANY(:r))"
                ),
                p,
            )
            conn.execute(text("DELETE FROM alarm WHERE rule_id = ANY(:r)"), p)
            conn.execute(text("DELETE FROM alarm_rule_log WHERE rule_id = ANY(:r)"), p)
            conn.execute(text("DELETE FROM alarm_rule WHERE id = ANY(:r)"), p)
            conn.execute(text("DELETE FROM alarm_rate WHERE scope = ANY(:scopes)"), p)
        ids = [
            r[0]
            for r in conn.execute(
                text("SELECT m.id FROM meter m JOIN site s ON s.id = m.site_id WHERE s.code = :s"),
                {"s": SITE},
            )
        ]
        conn.execute(text("DELETE FROM reading WHERE meter_id = ANY(:m)"), {"m": ids})
        if conn.execute(text("SELECT to_regclass('rollup_pending')")).scalar() is not None:
            conn.execute(text("DELETE FROM rollup_pending WHERE meter_id = ANY(:m)"), {"m": ids})
            for level in ("15m", "1h"):
                conn.execute(
                    text(f"DELETE FROM rollup_{level} WHERE meter_id = ANY(:m)"), {"m": ids}
                )


def _setup(engine: Engine) -> tuple[list[str], dict[tuple[int, int], int]]:
    """Meters and 1,000 rules; returns meter codes and (meter index, level) → alarm id."""
    codes = [f"{SITE}-{i:03d}" for i in range(N_METERS)]
    config = AlarmConfig()
    with Session(engine) as s:
        try:
            registry.get_site(s, SITE)
        except NotFound:
            registry.create_site(s, registry.SiteIn(code=SITE, name="alarm benchmark"))
        have = registry.meter_infos(s, codes)
        for code in codes:
            if code not in have:
                registry.create_meter(
                    s,
                    registry.MeterIn(
                        code=code,
                        name=code,
                        site=SITE,
                        carrier="electricity",
                        unit="kW",
                        kind="gauge",
                        interval_s=1,
                    ),
                )
        alarm_of = {}
        priorities = ["low", "medium", "high", "critical"]
        for i, code in enumerate(codes):
            for k in range(LEVELS):
                rule, _ = rules.create_rule(
                    s,
                    rules.RuleIn(
                        name=f"bench {code} L{k}",
                        type="threshold",
                        meter=code,
                        high=LEVEL_KW * (k + 1),
                        deadband=50.0,
                        priority=priorities[k % 4],
                        message=f"load above {LEVEL_KW * (k + 1):g} kW",
                    ),
                    "bench",
                    config,
                )
                alarm_of[(i, k)] = rule.id
            rules.create_rule(
                s,
                rules.RuleIn(name=f"bench {code} low", type="threshold", meter=code, low=-1000.0),
                "bench",
                config,
            )
            rules.create_rule(
                s,
                rules.RuleIn(
                    name=f"bench {code} rate", type="rate", meter=code, high=1e6, window_s=10
                ),
                "bench",
                config,
            )
        s.commit()
        rows = dict(
            s.execute(
                text("SELECT rule_id, id FROM alarm WHERE rule_id = ANY(:r)"),
                {"r": list(alarm_of.values())},
            ).all()
        )
    return codes, {key: rows[rid] for key, rid in alarm_of.items()}


def _plan(n_steps: int, seed: int = 5) -> np.ndarray:
    """spike[i, k]: the step at which meter i rises above level k (increasing in k)."""
    rng = np.random.default_rng(seed)
    base = (np.arange(LEVELS) + 0.5) / LEVELS
    jitter = rng.uniform(-0.3, 0.3, (N_METERS, LEVELS)) / LEVELS
    return np.clip(((base + jitter) * n_steps).astype(int), 1, n_steps - 2)


def _bodies(
    codes: list[str], n_steps: int, start_s: int, batch: int, clients: int, spikes: np.ndarray
) -> list[list[tuple[bytes, int, list[tuple[int, int]]]]]:
    """Per client: (body, readings, [(meter, level) first raised by it]) in send order."""
    rng = np.random.default_rng(1)
    values = rng.uniform(0.0, 100.0, (N_METERS, n_steps)).round(2)
    for i in range(N_METERS):
        for k in range(LEVELS):
            values[i, spikes[i, k]] = LEVEL_KW * (k + 1) + 500.0
    iso = [datetime.fromtimestamp(start_s + j, UTC).isoformat() for j in range(n_steps)]
    out = []
    for c in range(clients):
        mine = list(range(c, N_METERS, clients))
        per = max(1, batch // len(mine))
        reqs = []
        for lo in range(0, n_steps, per):
            hi = min(lo + per, n_steps)
            doc = {
                "series": [
                    {"meter": codes[i], "ts": iso[lo:hi], "value": values[i, lo:hi].tolist()}
                    for i in mine
                ]
            }
            raised = [(i, k) for i in mine for k in range(LEVELS) if lo <= spikes[i, k] < hi]
            reqs.append((orjson.dumps(doc), len(mine) * (hi - lo), raised))
        out.append(reqs)
    return out


def _start_api(
    url: str, port: int, workers: int, topic: str, env_extra: dict[str, str]
) -> subprocess.Popen:
    return start_api(
        url,
        port,
        workers,
        {
            "ECC_WRITE_WAIT_S": "60",
            "ECC_ALARM_MQTT_TOPIC": topic,
            "ECC_ALARM_GLOBAL_PER_MIN": "1000000",
            "ECC_ALARM_RULE_BURST": "100",
            "ECC_LOG_LEVEL": "warning",
            **env_extra,
        },
    )


class _Watcher:
    """The poller (API) and the MQTT subscriber, each noting when it first sees an alarm."""

    def __init__(
        self, base_url: str, key: str, topic: str, settings: Settings, poll_s: float
    ) -> None:
        self.api: dict[int, float] = {}
        self.mqtt: dict[int, float] = {}
        self.polls = 0
        self.poll_s: list[float] = []
        self._stop = threading.Event()
        self._base, self._key, self._poll_s = base_url, key, poll_s
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        ready = threading.Event()
        self._client.on_connect = lambda c, *_: c.subscribe(f"{topic}/#", qos=1)
        self._client.on_subscribe = lambda *_: ready.set()
        self._client.on_message = self._on_message
        self._client.connect(settings.mqtt_host, settings.mqtt_port)
        self._client.loop_start()
        if not ready.wait(10):
            raise RuntimeError("could not subscribe on the MQTT broker")
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        now = time.monotonic()
        body = json.loads(msg.payload)
        if body.get("action") == "activate":
            self.mqtt.setdefault(body["alarm_id"], now)

    def _poll(self) -> None:
        since = None
        with httpx.Client(
            base_url=self._base, timeout=30, headers={"Authorization": f"Bearer {self._key}"}
        ) as c:
            while not self._stop.is_set():
                params = {"state": "all", "site": SITE, "limit": 10_000}
                if since is not None:
                    params["since"] = since
                sent = time.monotonic()
                r = c.get("/api/v1/alarms", params=params)
                now = time.monotonic()
                self.polls += 1
                self.poll_s.append(now - sent)
                r.raise_for_status()
                latest = since
                for a in r.json():
                    if a["activation_count"] > 0:
                        self.api.setdefault(a["id"], now)
                    latest = max(latest or a["updated_at"], a["updated_at"])
                if latest is not None:  # overlap: a transaction may commit after a later one
                    since = (datetime.fromisoformat(latest) - timedelta(seconds=2)).isoformat()
                time.sleep(self._poll_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._client.disconnect()
        self._client.loop_stop()


def _pct(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    a = np.asarray(values) * 1000.0
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "p99_ms": round(float(np.percentile(a, 99)), 1),
        "max_ms": round(float(a.max()), 1),
    }


def run_alarm_bench(
    settings: Settings,
    *,
    rate: int,
    seconds: float,
    clients: int,
    batch: int,
    workers: int,
    poll_s: float,
    rollup_worker: bool,
    console: Console,
) -> dict:
    url, engine = open_database(settings, upgrade=True)
    _purge(engine)
    console.print("creating 100 meters and 1,000 rules …")
    codes, alarm_of = _setup(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE alarm_rule, alarm, meter, site"))
    n_steps = max(int(rate * seconds) // N_METERS, 2 * LEVELS)
    start_s = int(time.time()) - n_steps - 120
    spikes = _plan(n_steps)
    per_client = _bodies(codes, n_steps, start_s, batch, clients, spikes)
    with Session(engine) as s:
        ingest_key = keys.create_key(s, "ingest", f"bench-alarms-{uuid.uuid4().hex[:8]}")
        viewer_key = keys.create_key(s, "viewer", f"bench-alarms-{uuid.uuid4().hex[:8]}")
        s.commit()
    topic = f"ecc-bench-{uuid.uuid4().hex[:8]}/alarms"
    port = free_port()
    n_requests = sum(len(r) for r in per_client)
    console.print(
        f"API: {workers} workers; {clients} clients, {n_requests} requests of "
        f"~{batch:,} readings paced to {rate:,}/s for {seconds:g} s …"
    )
    proc = _start_api(
        url, port, workers, topic, {"ECC_ROLLUP_WORKER": "true" if rollup_worker else "false"}
    )
    watcher = _Watcher(f"http://127.0.0.1:{port}", viewer_key, topic, settings, poll_s)
    answered: dict[tuple[int, int], float] = {}  # (meter, level) → 2xx time
    request_s: list[float] = []
    lock = threading.Lock()
    sent = 0
    try:
        t0 = time.monotonic()

        def client_loop(reqs: list[tuple[bytes, int, list[tuple[int, int]]]]) -> None:
            nonlocal sent
            due = t0
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=120,
                headers={
                    "Authorization": f"Bearer {ingest_key}",
                    "content-type": "application/json",
                },
            ) as c:
                for body, n, raised in reqs:
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    t_send = time.monotonic()
                    r = c.post("/api/v1/readings", content=body)
                    t_done = time.monotonic()
                    r.raise_for_status()
                    if r.json()["accepted"] != n:
                        raise RuntimeError(f"accepted {r.json()['accepted']} of {n}")
                    with lock:
                        sent += n
                        request_s.append(t_done - t_send)
                        for key in raised:
                            answered[key] = t_done
                    due += n / (rate / clients)

        with ThreadPoolExecutor(clients) as pool:
            for f in [pool.submit(client_loop, reqs) for reqs in per_client]:
                f.result()
        load_s = time.monotonic() - t0
        expected = {alarm_of[key]: t for key, t in answered.items()}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (
            set(expected) <= set(watcher.api) and set(expected) <= set(watcher.mqtt)
        ):
            time.sleep(0.1)
    finally:
        watcher.stop()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    api_lat = [watcher.api[a] - t for a, t in expected.items() if a in watcher.api]
    mqtt_lat = [watcher.mqtt[a] - t for a, t in expected.items() if a in watcher.mqtt]
    with engine.connect() as conn:
        path = conn.execute(text("SELECT value FROM ecc_meta WHERE key='timeseries_path'")).scalar()
        n_rules = conn.execute(
            text(
                "SELECT count(*) FROM alarm_rule r JOIN meter m ON m.id = r.meter_id JOIN site s "
                "ON s.id = m.site_id WHERE s.code = :s AND r.deleted_at IS NULL"
            ),
            {"s": SITE},
        ).scalar()
    _purge(engine)
    api_stats, mqtt_stats = _pct(api_lat), _pct(mqtt_lat)
    return {
        "rules": n_rules,
        "readings": sent,
        "target_rate_per_s": rate,
        "ingest_rate_per_s": round(sent / load_s),
        "load_s": round(load_s, 2),
        "alarms_expected": len(expected),
        "api_latency": api_stats,
        "mqtt_latency": mqtt_stats,
        "api_missing": len(set(expected) - set(watcher.api)),
        "mqtt_missing": len(set(expected) - set(watcher.mqtt)),
        "p95_api_s": api_stats.get("p95_ms", float("nan")) / 1000,
        "p95_mqtt_s": mqtt_stats.get("p95_ms", float("nan")) / 1000,
        "ingest_request": _pct(request_s),
        "poll_request": _pct(watcher.poll_s),
        "poll_every_s": poll_s,
        "polls": watcher.polls,
        "clients": clients,
        "batch": batch,
        "api_workers": workers,
        "rollup_worker": rollup_worker,
        "path": path,
    }
