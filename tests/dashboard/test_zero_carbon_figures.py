"""The zero-carbon page's shaping and waterfall, on hand-made API answers."""

from __future__ import annotations

import pytest

from dashboard.figures.zero_carbon import net_waterfall
from dashboard.zero_carbon import scorecard_rows, waterfall_steps

OFFSETS = {
    "gross_tco2": 100.0,
    "reductions_tco2": "10.000000",
    "residual_tco2": 90.0,
    "offsets_tco2": 30,
    "net_tco2": 60.0,
}


def test_waterfall_floats_the_steps_on_their_base() -> None:
    steps = waterfall_steps(OFFSETS, "en")
    assert [s[1] for s in steps] == [100.0, -10.0, 90.0, -30.0, 60.0]
    fig = net_waterfall(steps)
    base, bars = fig.data
    assert list(base.y) == [0.0, 90.0, 0.0, 60.0, 0.0]
    assert list(bars.y) == [100.0, 10.0, 90.0, 30.0, 60.0]
    assert [s[0] for s in waterfall_steps(OFFSETS, "zh")] == [
        "总排放",
        "自主减排",
        "剩余排放",
        "碳抵消",
        "净排放",
    ]


@pytest.mark.parametrize(
    ("status", "light", "zh"),
    [("met", "good", "达标"), ("not met", "bad", "未达标"), ("not measured", "muted", "未计量")],
)
def test_scorecard_rows_translate_and_light(status: str, light: str, zh: str) -> None:
    card = {
        "indicators": [
            {
                "code": "co2_per_tce",
                "name": "CO₂ per unit of energy",
                "name_zh": "单位能耗碳排放",
                "value": None if status == "not measured" else 0.18,
                "unit": "tCO2/tce",
                "threshold": {
                    "comparison": "<=",
                    "value": 0.2,
                    "source": "910号",
                    "verification": "single",
                },
                "status": status,
            }
        ]
    }
    (row,) = scorecard_rows(card, "zh")
    assert row["indicator"] == "单位能耗碳排放" and row["status"] == zh and row["light"] == light
    assert row["threshold"] == "≤ 0.200 tCO₂/tce"
    assert row["value"] == ("—" if status == "not measured" else "0.180 tCO₂/tce")
