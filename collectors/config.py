"""The YAML configuration of ``ecc collect``, validated with errors that name the line.

Contract (README, "Field collectors")::

    center: {url: "http://127.0.0.1:8000", key_env: ECC_COLLECT_KEY}   # or transport: nats / mqtt
    buffer: ./collect-buffer.sqlite
    devices:
      - name: pm1
        protocol: modbus_tcp
        host: 127.0.0.1
        port: 5020
        unit_id: 1
        poll_s: 1
        points:
          - {meter: PM1-KWH, register: 0, function: holding, type: float32, word_order: big,
             scale: 1.0}

Secrets never sit in the file: ``key_env`` / ``password_env`` name environment variables.
A relative ``buffer`` path is resolved against the folder of the configuration file.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import DomainError

PROTOCOLS = ("modbus_tcp", "modbus_rtu_over_tcp", "dlt645_tcp", "opcua", "mqtt")
TRANSPORTS = ("http", "nats", "mqtt")
REGISTER_TYPES = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "float64": 4,
}
FUNCTIONS = ("holding", "input")
ORDERS = ("big", "little")
DEFAULT_PORTS = {"modbus_tcp": 502, "modbus_rtu_over_tcp": 502, "dlt645_tcp": 8899, "mqtt": 1883}


class ConfigError(DomainError):
    """Every problem found in a configuration file, each with its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("configuration", "; ".join(problems))
        self.problems = problems


# -- YAML with line numbers ---------------------------------------------------------------------


class _LineDict(dict):
    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# -- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Center:
    transport: str = "http"
    url: str = "http://127.0.0.1:8000"
    key_env: str | None = "ECC_COLLECT_KEY"
    subject: str = "ecc.readings.plant"  # nats
    topic: str = "ecc/readings/plant"  # mqtt
    batch: int = 1000  # readings per forward
    timeout_s: float = 10.0
    retry_max_s: float = 30.0  # the back-off between failed forwards doubles up to this
    health_s: float = 30.0  # report health to the center this often, any transport (0: never)

    def key(self) -> str | None:
        return os.environ.get(self.key_env) if self.key_env else None


@dataclass(frozen=True)
class Point:
    meter: str
    line: int
    unit: str | None = None
    scale: float = 1.0
    offset: float = 0.0
    # modbus
    register: int = 0
    function: str = "holding"
    type: str = "float32"
    word_order: str = "big"
    byte_order: str = "big"
    # dlt645
    di: str = ""
    # opcua
    node: str = ""
    deadband: float = 0.0
    # mqtt
    topic: str = ""
    field: str = ""
    ts_field: str = ""

    @property
    def words(self) -> int:
        return REGISTER_TYPES[self.type]


@dataclass(frozen=True)
class Device:
    name: str
    protocol: str
    line: int
    points: tuple[Point, ...]
    host: str = "127.0.0.1"
    port: int = 502
    unit_id: int = 1
    poll_s: float = 1.0
    timeout_s: float = 2.0
    address: str = "AAAAAAAAAAAA"  # dlt645 meter address (12 digits), AA… = broadcast
    url: str = ""  # opcua endpoint
    mode: str = "subscribe"  # opcua: subscribe | poll
    username_env: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class CollectConfig:
    center: Center
    buffer: Path
    devices: tuple[Device, ...]
    buffer_max_rows: int = 5_000_000
    buffer_max_age_s: float = 30 * 86_400.0
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    name: str = field(default_factory=socket.gethostname)  # how the center knows this collector
    source: Path | None = None

    @property
    def points(self) -> int:
        return sum(len(d.points) for d in self.devices)


# -- validation ---------------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def err(self, line: int, where: str, message: str) -> None:
        self.problems.append(f"line {line}: {where}: {message}")

    def mapping(self, raw: Any, where: str, line: int) -> _LineDict | None:
        if not isinstance(raw, dict):
            self.err(line, where, f"expected a mapping, got {type(raw).__name__}")
            return None
        return raw  # type: ignore[return-value]

    def take(
        self,
        raw: _LineDict,
        where: str,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        choices: tuple[str, ...] | None = None,
        minimum: float | None = None,
    ) -> Any:
        line = raw.key_lines.get(key, raw.line)
        if key not in raw:
            if default is ...:
                self.err(raw.line, where, f"{key!r} is required")
                return None
            return default
        value = raw[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and kind is not bool:
            self.err(line, f"{where}.{key}", f"expected {_name(kind)}, got a boolean")
            return default if default is not ... else None
        if not isinstance(value, kind):
            self.err(line, f"{where}.{key}", f"expected {_name(kind)}, got {value!r}")
            return default if default is not ... else None
        if choices is not None and value not in choices:
            self.err(line, f"{where}.{key}", f"{value!r} is not one of {', '.join(choices)}")
            return default if default is not ... else None
        if minimum is not None and isinstance(value, int | float) and value < minimum:
            self.err(line, f"{where}.{key}", f"must be at least {minimum}, got {value}")
            return default if default is not ... else None
        return value

    def unknown(self, raw: _LineDict, where: str, known: set[str]) -> None:
        for key in raw:
            if key not in known:
                self.err(raw.key_lines.get(key, raw.line), where, f"unknown key {key!r}")


def _name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return {"str": "a string", "int": "an integer", "float": "a number"}.get(
        kind.__name__, kind.__name__
    )


_CENTER_KEYS = {"transport", "url", "key_env", "subject", "topic", "batch", "timeout_s"}
_CENTER_KEYS |= {"retry_max_s", "health_s"}
_TOP_KEYS = {"center", "buffer", "devices", "buffer_max_rows", "buffer_max_age_s"}
_TOP_KEYS |= {"metrics_port", "metrics_host", "name"}
_DEVICE_KEYS = {"name", "protocol", "host", "port", "unit_id", "poll_s", "timeout_s", "points"}
_DEVICE_KEYS |= {"address", "url", "mode", "username_env", "password_env"}
_POINT_COMMON = {"meter", "unit", "scale", "offset"}
_POINT_KEYS = {
    "modbus": _POINT_COMMON | {"register", "function", "type", "word_order", "byte_order"},
    "dlt645_tcp": _POINT_COMMON | {"di"},
    "opcua": _POINT_COMMON | {"node", "deadband"},
    "mqtt": _POINT_COMMON | {"topic", "field", "ts_field"},
}


def _center(c: _Checker, raw: Any, line: int) -> Center:
    d = c.mapping(raw, "center", line)
    if d is None:
        return Center()
    c.unknown(d, "center", _CENTER_KEYS)
    transport = c.take(d, "center", "transport", str, "http", TRANSPORTS)
    default_url = {"http": "http://127.0.0.1:8000", "nats": "nats://127.0.0.1:4222"}.get(
        transport, "mqtt://127.0.0.1:1883"
    )
    url = c.take(d, "center", "url", str, default_url)
    if transport == "http" and not url.startswith(("http://", "https://")):
        c.err(d.key_lines.get("url", d.line), "center.url", "must start with http:// or https://")
    return Center(
        transport=transport,
        url=url,
        key_env=c.take(
            d, "center", "key_env", str, "ECC_COLLECT_KEY" if transport == "http" else None
        ),
        subject=c.take(d, "center", "subject", str, "ecc.readings.plant"),
        topic=c.take(d, "center", "topic", str, "ecc/readings/plant"),
        batch=c.take(d, "center", "batch", int, 1000, minimum=1),
        timeout_s=c.take(d, "center", "timeout_s", float, 10.0, minimum=0.1),
        retry_max_s=c.take(d, "center", "retry_max_s", float, 30.0, minimum=0.1),
        health_s=c.take(d, "center", "health_s", float, 30.0, minimum=0.0),
    )


def _point(c: _Checker, raw: Any, where: str, line: int, protocol: str) -> Point | None:
    d = c.mapping(raw, where, line)
    if d is None:
        return None
    family = "modbus" if protocol.startswith("modbus") else protocol
    c.unknown(d, where, _POINT_KEYS[family])
    meter = c.take(d, where, "meter", str)
    unit = c.take(d, where, "unit", str, None)
    scale = c.take(d, where, "scale", float, 1.0)
    offset = c.take(d, where, "offset", float, 0.0)
    kw: dict[str, Any] = {}
    if family == "modbus":
        kw["register"] = c.take(d, where, "register", int, minimum=0)
        if kw["register"] is not None and kw["register"] > 65535:
            c.err(d.key_lines["register"], f"{where}.register", "must be at most 65535")
        kw["function"] = c.take(d, where, "function", str, "holding", FUNCTIONS)
        kw["type"] = c.take(d, where, "type", str, "uint16", tuple(REGISTER_TYPES))
        kw["word_order"] = c.take(d, where, "word_order", str, "big", ORDERS)
        kw["byte_order"] = c.take(d, where, "byte_order", str, "big", ORDERS)
    elif family == "dlt645_tcp":
        di = c.take(d, where, "di", (str, int))
        if isinstance(di, int):
            di = f"{di:08d}"
        if di is not None:
            di = di.replace(" ", "")
            if len(di) != 8 or any(ch not in "0123456789abcdefABCDEF" for ch in di):
                c.err(d.key_lines.get("di", d.line), f"{where}.di", "must be 8 hex digits")
        kw["di"] = (di or "").upper()
    elif family == "opcua":
        kw["node"] = c.take(d, where, "node", str)
        kw["deadband"] = c.take(d, where, "deadband", float, 0.0, minimum=0.0)
    else:
        kw["topic"] = c.take(d, where, "topic", str)
        kw["field"] = c.take(d, where, "field", str)
        kw["ts_field"] = c.take(d, where, "ts_field", str, "")
    if meter is None or any(v is None for v in kw.values()):
        return None
    return Point(meter=meter, line=d.line, unit=unit, scale=scale, offset=offset, **kw)


def _device(c: _Checker, raw: Any, where: str, line: int) -> Device | None:
    d = c.mapping(raw, where, line)
    if d is None:
        return None
    name = c.take(d, where, "name", str)
    if name:
        where = f"{where} ({name})"
    c.unknown(d, where, _DEVICE_KEYS)
    protocol = c.take(d, where, "protocol", str, choices=PROTOCOLS)
    if protocol is None:
        return None
    kw: dict[str, Any] = {
        "host": c.take(d, where, "host", str, "127.0.0.1"),
        "port": c.take(d, where, "port", int, DEFAULT_PORTS.get(protocol, 0), minimum=1),
        "unit_id": c.take(d, where, "unit_id", int, 1, minimum=0),
        "poll_s": c.take(d, where, "poll_s", float, 1.0, minimum=0.01),
        "timeout_s": c.take(d, where, "timeout_s", float, 2.0, minimum=0.01),
        "mode": c.take(d, where, "mode", str, "subscribe", ("subscribe", "poll")),
        "username_env": c.take(d, where, "username_env", str, None),
        "password_env": c.take(d, where, "password_env", str, None),
    }
    if protocol == "dlt645_tcp":
        address = str(c.take(d, where, "address", (str, int), "AAAAAAAAAAAA"))
        if len(address) != 12 or not all(ch in "0123456789Aa" for ch in address):
            c.err(d.key_lines.get("address", d.line), f"{where}.address", "must be 12 digits")
        kw["address"] = address.upper()
    if protocol == "opcua":
        kw["url"] = c.take(d, where, "url", str)
        if kw["url"] is not None and not kw["url"].startswith("opc.tcp://"):
            c.err(d.key_lines["url"], f"{where}.url", "must start with opc.tcp://")
    raw_points = c.take(d, where, "points", list)
    points = []
    for i, p in enumerate(raw_points or []):
        point = _point(c, p, f"{where}.points[{i}]", d.key_lines.get("points", d.line), protocol)
        if point is not None:
            points.append(point)
    if raw_points is not None and not raw_points:
        c.err(d.key_lines.get("points", d.line), f"{where}.points", "needs at least one point")
    optional = {"username_env", "password_env"}
    if name is None or any(v is None for k, v in kw.items() if k not in optional):
        return None
    return Device(name=name, protocol=protocol, line=d.line, points=tuple(points), **kw)


def parse_config(text: str, source: Path | None = None) -> CollectConfig:
    """Validate a configuration; raise :class:`ConfigError` listing every problem by line."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(
            [f"line {line}: not valid YAML: {getattr(exc, 'problem', exc)}"]
        ) from None
    c = _Checker()
    top = c.mapping(raw, "configuration", 1)
    if top is None:
        raise ConfigError(c.problems)
    c.unknown(top, "configuration", _TOP_KEYS)
    center = _center(c, top.get("center", _empty(top.line)), top.key_lines.get("center", 1))
    buffer = c.take(top, "configuration", "buffer", str, "./collect-buffer.sqlite")
    path = Path(buffer)
    if not path.is_absolute() and source is not None:
        path = source.parent / path
    devices = []
    names: dict[str, int] = {}
    meters: dict[str, int] = {}
    raw_devices = c.take(top, "configuration", "devices", list) or []
    for i, raw_dev in enumerate(raw_devices):
        dev = _device(c, raw_dev, f"devices[{i}]", top.key_lines.get("devices", 1))
        if dev is None:
            continue
        if dev.name in names:
            c.err(
                dev.line,
                f"devices[{i}].name",
                f"{dev.name!r} already used on line {names[dev.name]}",
            )
        names[dev.name] = dev.line
        for p in dev.points:
            if p.meter in meters and dev.protocol != "mqtt":
                c.err(
                    p.line,
                    f"devices[{i}] point {p.meter}",
                    f"meter already read on line {meters[p.meter]}",
                )
            meters[p.meter] = p.line
        devices.append(dev)
    if "devices" in top and not raw_devices:
        c.err(top.key_lines["devices"], "devices", "needs at least one device")
    metrics_port = c.take(top, "configuration", "metrics_port", int, None, minimum=0)
    config = CollectConfig(
        center=center,
        buffer=path,
        devices=tuple(devices),
        buffer_max_rows=c.take(top, "configuration", "buffer_max_rows", int, 5_000_000, minimum=1),
        buffer_max_age_s=c.take(
            top, "configuration", "buffer_max_age_s", float, 30 * 86_400.0, minimum=1.0
        ),
        metrics_port=metrics_port,
        metrics_host=c.take(top, "configuration", "metrics_host", str, "127.0.0.1"),
        name=c.take(top, "configuration", "name", str, socket.gethostname()),
        source=source,
    )
    if c.problems:
        raise ConfigError(c.problems)
    return config


def _empty(line: int) -> _LineDict:
    out = _LineDict()
    out.line, out.key_lines = line, {}
    return out


def load_config(path: Path) -> CollectConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: {exc.strerror}"]) from None
    return parse_config(text, source=path.resolve())
