"""Health of the field side: per device and point, and the automatic collection rate.

Per device: online (its last poll or session succeeded), poll duration, error counts by kind.
Per point: last good read and its value, reads and errors by kind. Error kinds:

- ``timeout``: the device did not answer in time (or the connection failed);
- ``exception``: the device answered with a protocol exception (Modbus exception code, DL/T 645
  error frame, OPC UA bad status);
- ``bad_value``: an answer that is not a finite number (NaN or infinite float, bad BCD, a JSON
  field that is missing or not a number).

None of these is ever queued as a reading. The automatic collection rate is
points reporting / points configured, a point reporting when its last good read is younger than
``max(3 × poll period, 10 s)``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from collectors.config import CollectConfig

ERROR_KINDS = ("timeout", "exception", "bad_value")


@dataclass
class PointHealth:
    reads: int = 0
    errors: Counter = field(default_factory=Counter)
    last_good: float | None = None  # unix seconds
    last_value: float | None = None


@dataclass
class DeviceHealth:
    protocol: str
    poll_s: float
    online: bool = False
    polls: int = 0
    poll_duration_s: float = 0.0
    errors: Counter = field(default_factory=Counter)
    last_error: str = ""


class Health:
    def __init__(self, config: CollectConfig) -> None:
        self._lock = threading.Lock()
        self.devices = {
            d.name: DeviceHealth(protocol=d.protocol, poll_s=d.poll_s) for d in config.devices
        }
        self.points = {(d.name, p.meter): PointHealth() for d in config.devices for p in d.points}
        self.forward_errors: Counter = Counter()
        self.forward_batches = 0
        self.last_forward: float | None = None
        self.center_online = False

    def good(self, device: str, meter: str, value: float, now: float) -> None:
        with self._lock:
            p = self.points[(device, meter)]
            p.reads += 1
            p.last_good, p.last_value = now, value

    def bad(self, device: str, meter: str | None, kind: str, detail: str = "") -> None:
        with self._lock:
            d = self.devices[device]
            d.errors[kind] += 1
            d.last_error = f"{kind}: {detail}" if detail else kind
            if meter is not None:
                self.points[(device, meter)].errors[kind] += 1

    def polled(self, device: str, online: bool, duration_s: float) -> None:
        with self._lock:
            d = self.devices[device]
            d.online = online
            d.polls += 1
            d.poll_duration_s = duration_s

    def set_online(self, device: str, online: bool) -> None:
        with self._lock:
            self.devices[device].online = online

    def forwarded(self, ok: bool, kind: str = "") -> None:
        with self._lock:
            self.center_online = ok
            if ok:
                self.forward_batches += 1
                self.last_forward = time.time()
            else:
                self.forward_errors[kind or "error"] += 1

    def collection_rate(self, now: float | None = None) -> tuple[int, int]:
        """(points reporting, points configured)."""
        now = time.time() if now is None else now
        reporting = 0
        with self._lock:
            for (dev, _), p in self.points.items():
                window = max(3 * self.devices[dev].poll_s, 10.0)
                if p.last_good is not None and now - p.last_good <= window:
                    reporting += 1
            return reporting, len(self.points)

    def snapshot(self, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        reporting, configured = self.collection_rate(now)
        with self._lock:
            return {
                "collection_rate": (reporting / configured) if configured else None,
                "points_reporting": reporting,
                "points_configured": configured,
                "center_online": self.center_online,
                "devices": {
                    name: {
                        "protocol": d.protocol,
                        "online": d.online,
                        "polls": d.polls,
                        "poll_duration_s": round(d.poll_duration_s, 6),
                        "errors": {k: d.errors[k] for k in ERROR_KINDS},
                        "last_error": d.last_error,
                    }
                    for name, d in self.devices.items()
                },
                "points": {
                    f"{dev}/{meter}": {
                        "reads": p.reads,
                        "last_good": p.last_good,
                        "last_value": p.last_value,
                        "errors": {k: p.errors[k] for k in ERROR_KINDS},
                    }
                    for (dev, meter), p in self.points.items()
                },
            }

    def report(self, config: CollectConfig, buffer_counters: dict[str, int]) -> dict:
        """The body of ``POST /api/v1/collectors/health``."""
        with self._lock:
            devices = []
            for d in config.devices:
                h = self.devices[d.name]
                points = []
                for p in d.points:
                    ph = self.points[(d.name, p.meter)]
                    points.append(
                        {
                            "meter": p.meter,
                            "last_good": ph.last_good,
                            "reads": ph.reads,
                            "errors": {k: ph.errors[k] for k in ERROR_KINDS},
                        }
                    )
                devices.append(
                    {
                        "name": d.name,
                        "protocol": d.protocol,
                        "online": h.online,
                        "poll_s": d.poll_s,
                        "points": points,
                    }
                )
        return {
            "collector": config.name,
            "report_every_s": config.center.health_s,
            "devices": devices,
            "buffer": buffer_counters,
        }

    def prometheus(self, buffer_counters: dict[str, int], oldest_age_s: float) -> str:
        """The collector's ``/metrics`` page (Prometheus text format 0.0.4)."""
        snap = self.snapshot()
        out: list[str] = []

        def metric(name: str, kind: str, help_: str, rows: list[tuple[dict, float | str]]) -> None:
            out.append(f"# HELP {name} {help_}")
            out.append(f"# TYPE {name} {kind}")
            for labels, value in rows:
                lab = ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items())
                out.append(f"{name}{{{lab}}} {value}" if lab else f"{name} {value}")

        devs = snap["devices"]
        metric(
            "ecc_collect_device_online",
            "gauge",
            "1 when the device answered its last poll.",
            [({"device": n}, int(d["online"])) for n, d in devs.items()],
        )
        metric(
            "ecc_collect_poll_duration_seconds",
            "gauge",
            "Duration of the device's last poll.",
            [({"device": n}, d["poll_duration_s"]) for n, d in devs.items()],
        )
        metric(
            "ecc_collect_device_errors_total",
            "counter",
            "Failed reads by kind (timeout, exception, bad_value).",
            [
                ({"device": n, "kind": k}, d["errors"][k])
                for n, d in devs.items()
                for k in ERROR_KINDS
            ],
        )
        pts = snap["points"]
        metric(
            "ecc_collect_point_reads_total",
            "counter",
            "Good reads of the point.",
            [(_pl(key), p["reads"]) for key, p in pts.items()],
        )
        metric(
            "ecc_collect_point_errors_total",
            "counter",
            "Failed reads of the point by kind.",
            [
                (_pl(key) | {"kind": k}, p["errors"][k])
                for key, p in pts.items()
                for k in ERROR_KINDS
            ],
        )
        metric(
            "ecc_collect_point_last_good_timestamp_seconds",
            "gauge",
            "Unix time of the point's last good read.",
            [(_pl(key), p["last_good"]) for key, p in pts.items() if p["last_good"] is not None],
        )
        metric(
            "ecc_collect_points_configured",
            "gauge",
            "Points in the configuration.",
            [({}, snap["points_configured"])],
        )
        metric(
            "ecc_collect_points_reporting",
            "gauge",
            "Points with a recent good read.",
            [({}, snap["points_reporting"])],
        )
        metric(
            "ecc_collect_collection_rate",
            "gauge",
            "Automatic collection rate: points reporting / points configured.",
            [({}, snap["collection_rate"] if snap["collection_rate"] is not None else "NaN")],
        )
        for name in ("acquired", "forwarded", "duplicates", "rejected", "dropped"):
            metric(
                f"ecc_collect_readings_{name}_total",
                "counter",
                f"Readings {name} (kept across restarts in the buffer file).",
                [({}, buffer_counters.get(name, 0))],
            )
        metric(
            "ecc_collect_buffer_readings",
            "gauge",
            "Readings waiting in the buffer.",
            [({}, buffer_counters.get("queued", 0))],
        )
        metric(
            "ecc_collect_buffer_oldest_age_seconds",
            "gauge",
            "Age of the oldest queued reading.",
            [({}, round(oldest_age_s, 3))],
        )
        metric(
            "ecc_collect_center_online",
            "gauge",
            "1 when the last forward succeeded.",
            [({}, int(snap["center_online"]))],
        )
        return "\n".join(out) + "\n"


def _pl(key: str) -> dict:
    device, _, meter = key.partition("/")
    return {"device": device, "meter": meter}


def _esc(v: object) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
