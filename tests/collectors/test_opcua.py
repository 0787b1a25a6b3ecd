"""OPC UA against an asyncua server: polling, subscription with an absolute deadband, bad node."""

from __future__ import annotations

import asyncio
import contextlib
import math

import pytest

from collectors.acquire import Result
from collectors.config import Device, Point
from collectors.opcua import OpcUaSource
from tests.support.field import OpcUaSim, wait_for


def _device(url: str, points: list[Point], mode: str = "poll", poll_s: float = 0.1) -> Device:
    return Device(
        name="plc",
        protocol="opcua",
        line=1,
        points=tuple(points),
        url=url,
        mode=mode,
        poll_s=poll_s,
        timeout_s=2.0,
    )


@pytest.fixture(scope="module")
def sim():  # noqa: ANN201
    with OpcUaSim(["kwh", "nan", "p"]) as server:  # starting a server takes seconds: share it
        yield server


def test_poll_reads_values_with_source_time_and_counts_bad_ones(sim: OpcUaSim) -> None:
    sim.set("kwh", 4321.5)
    sim.set("nan", math.nan)
    points = [
        Point(meter="KWH", line=1, node="ns=2;s=kwh", scale=0.001),
        Point(meter="NAN", line=2, node="ns=2;s=nan"),
        Point(meter="GONE", line=3, node="ns=2;s=gone"),
    ]

    async def go() -> list[Result]:
        src = OpcUaSource(_device(sim.url, points))
        try:
            return await src.read()
        finally:
            await src.close()

    by = {r.point.meter: r for r in asyncio.run(go())}
    assert by["KWH"].value == pytest.approx(4.3215)
    assert by["KWH"].ts > 1.7e9  # the server's SourceTimestamp
    assert by["NAN"].error == "bad_value"
    assert by["GONE"].error == "exception"  # BadNodeIdUnknown


def test_subscription_honours_the_deadband(sim: OpcUaSim) -> None:
    sim.set("p", 10.0)
    got: list[Result] = []
    device = _device(
        sim.url,
        [Point(meter="P", line=1, node="ns=2;s=p", deadband=1.0)],
        mode="subscribe",
        poll_s=0.05,
    )

    async def go() -> None:
        src = OpcUaSource(device)
        task = asyncio.ensure_future(src.run_subscription(got.extend, lambda ok: None))
        # polled in a worker thread: the subscription runs on this event loop
        await asyncio.to_thread(wait_for, lambda: bool(got), 20, "the initial value")
        for v in (10.2, 10.5, 10.9, 12.0, 12.3, 14.0):  # changes below 1.0 are filtered
            await asyncio.to_thread(sim.set, "p", v)
            await asyncio.sleep(0.3)
        # the last change must have arrived before the subscription is cancelled; anything
        # wrongly let through before it was published earlier and has arrived too
        await asyncio.to_thread(
            wait_for, lambda: any(r.ok and r.value == 14.0 for r in got), 20, "the last change"
        )
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await src.close()

    asyncio.run(go())
    values = [r.value for r in got if r.ok]
    assert values == [10.0, 12.0, 14.0], values
