"""The products page's pure parts: the stage waterfall and the hotspot rows."""

from __future__ import annotations

import pytest

from dashboard import footprints
from dashboard.figures.products import hotspots, stage_waterfall, waterfall_rows

FP = {
    "declared_unit": "kg",
    "by_stage": {
        "raw_materials": 1.9,
        "transport": 0.009,
        "energy": 0.5777,
        "process": 0.02,
        "packaging": 0.06,
    },
    "by_material": [
        {"material": "steel", "supplier": "SUP", "kgco2e_per_unit": 1.6},
        {"material": "resin", "supplier": None, "kgco2e_per_unit": 0.3},
    ],
}


def test_waterfall_floats_each_stage_on_the_running_total() -> None:
    rows = waterfall_rows(FP["by_stage"])
    assert [r[0] for r in rows] == [
        "raw_materials",
        "transport",
        "energy",
        "process",
        "packaging",
        "total",
    ]
    assert rows[2][1] == pytest.approx(1.909)  # energy starts where transport ended
    assert rows[-1] == ("total", 0.0, pytest.approx(2.5667))


def test_waterfall_figure_labels_in_chinese() -> None:
    fig = stage_waterfall(FP, lang="zh")
    bar = fig.data[0]
    assert list(bar.x)[0] == "原材料" and list(bar.x)[-1] == "合计"
    assert list(bar.base)[-1] == 0.0
    assert fig.layout.yaxis.title.text == "kgCO₂e/kg"


def test_hotspots_put_the_largest_on_top() -> None:
    rows = footprints.material_rows(FP)
    assert rows[0]["label"] == "steel (SUP)"
    fig = hotspots(rows, "kg", "label", "kgCO₂e")
    assert list(fig.data[0].y)[-1] == "steel (SUP)"  # plotly draws the last bar on top
    assert hotspots([], "kg", "label", "kgCO₂e").data == ()
