"""The YAML contract of ``ecc collect``: the issue's example parses; errors name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.config import ConfigError, parse_config

CONTRACT = """\
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
      - {meter: PM1-KWH, register: 0, function: holding, type: float32, word_order: big, scale: 1.0}
"""


def test_the_issue_contract_parses() -> None:
    cfg = parse_config(CONTRACT, source=Path("/etc/ecc/collect.yaml"))
    assert cfg.center.transport == "http" and cfg.center.url == "http://127.0.0.1:8000"
    assert cfg.center.key_env == "ECC_COLLECT_KEY"
    assert cfg.buffer == Path("/etc/ecc/collect-buffer.sqlite")  # relative to the file
    (dev,) = cfg.devices
    assert (dev.name, dev.protocol, dev.host, dev.port, dev.unit_id, dev.poll_s) == (
        "pm1",
        "modbus_tcp",
        "127.0.0.1",
        5020,
        1,
        1.0,
    )
    (p,) = dev.points
    assert (p.meter, p.register, p.function, p.type, p.word_order, p.scale) == (
        "PM1-KWH",
        0,
        "holding",
        "float32",
        "big",
        1.0,
    )


def test_every_protocol_template_parses() -> None:
    text = """\
center: {transport: nats, url: "nats://127.0.0.1:4222", subject: ecc.readings.plant1}
buffer: /var/lib/ecc/buffer.sqlite
devices:
  - {name: rtu, protocol: modbus_rtu_over_tcp, host: 10.0.0.5, port: 4001, unit_id: 3,
     points: [{meter: A, register: 100, function: input, type: int32, word_order: little,
               byte_order: big, scale: 0.01}]}
  - {name: m645, protocol: dlt645_tcp, host: 10.0.0.6, port: 8899, address: "000000001234",
     points: [{meter: B, di: "00000000"}]}
  - {name: plc, protocol: opcua, url: "opc.tcp://10.0.0.7:4840", mode: subscribe,
     points: [{meter: C, node: "ns=2;s=kwh", deadband: 0.5}]}
  - {name: dtu, protocol: mqtt, host: 10.0.0.8, port: 1883,
     points: [{meter: D, topic: "dtu/+/data", field: data.kwh, ts_field: time}]}
"""
    cfg = parse_config(text)
    assert [d.protocol for d in cfg.devices] == [
        "modbus_rtu_over_tcp",
        "dlt645_tcp",
        "opcua",
        "mqtt",
    ]
    assert cfg.center.transport == "nats" and cfg.center.key_env is None
    assert cfg.devices[1].points[0].di == "00000000"


@pytest.mark.parametrize(
    ("needle", "replacement", "message"),
    [
        (
            "type: float32",
            "type: float16",
            "line 11: devices[0] (pm1).points[0].type: 'float16' is not one of",
        ),
        ("port: 5020", "port: fast", "line 7: devices[0] (pm1).port: expected an integer"),
        (
            "register: 0,",
            "register: 70000,",
            "line 11: devices[0] (pm1).points[0].register: must be at most 65535",
        ),
        ("protocol: modbus_tcp", "protocol: bacnet", "line 5: devices[0] (pm1).protocol: 'bacnet'"),
        (
            "    unit_id: 1\n",
            "    unit_id: 1\n    colour: red\n",
            "line 9: devices[0] (pm1): unknown key 'colour'",
        ),
        (
            'url: "http://127.0.0.1:8000"',
            'url: "127.0.0.1:8000"',
            "line 1: center.url: must start with",
        ),
        ("{meter: PM1-KWH, ", "{", "line 11: devices[0] (pm1).points[0]: 'meter' is required"),
    ],
)
def test_errors_name_the_line(needle: str, replacement: str, message: str) -> None:
    assert needle in CONTRACT
    with pytest.raises(ConfigError) as err:
        parse_config(CONTRACT.replace(needle, replacement))
    assert any(p.startswith(message) for p in err.value.problems), err.value.problems


def test_all_problems_are_reported_and_yaml_errors_have_lines() -> None:
    text = CONTRACT.replace("port: 5020", "port: -1").replace("poll_s: 1", "poll_s: 0")
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert len(err.value.problems) == 2
    with pytest.raises(ConfigError, match="line 4: not valid YAML"):
        parse_config("center: {}\nbuffer: x\ndevices: [\n  - {a: 1\n")


def test_duplicate_meters_and_devices_are_refused() -> None:
    text = (
        CONTRACT
        + """\
  - name: pm1
    protocol: modbus_tcp
    points:
      - {meter: PM1-KWH, register: 2}
"""
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    problems = " | ".join(err.value.problems)
    assert "line 12: devices[1].name: 'pm1' already used on line 4" in problems
    assert "meter already read on line 11" in problems
