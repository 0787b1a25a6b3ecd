"""The benchmarking page's shaping and Sankey builder on a hand-made API answer."""

from __future__ import annotations

from dashboard import benchmarking as bm
from dashboard.figures.benchmarking import balance_sankey, evidence_figure, trend_figure

BENCH = {
    "processes": [
        {
            "process": "KILN",
            "product": "clinker",
            "output": 1000.0,
            "unit": "t",
            "unit_consumption_kgce": 105.2,
            "unit_consumption_unit": "kgce/t",
            "levels": {
                "level_1": 100,
                "level_2": 107,
                "level_3": 117,
                "benchmark": None,
                "baseline": None,
            },
            "rating": "level_2",
            "light": "amber",
            "rank": {"position": 1, "of": 2},
            "standard": "GB 16780-2021",
            "source": "adgo07",
            "verification": "single_source",
            "single_source": True,
        },
    ]
}
BALANCE = {
    "site": "P",
    "unit": "kWh",
    "inputs": {"purchased": 460, "generated": 100, "export": 15, "stored": 0},
    "consumption": 545,
    "end_use_total": 269,
    "metered_losses": 20,
    "unmetered_remainder": 256,
    "metered_share": 269 / 545,
    "closes": True,
    "end_uses_by_site": {"LA": 126, "WB": 143},
}


def test_rating_rows_flag_single_source_in_both_languages() -> None:
    (en,) = bm.rating_rows(BENCH, "en")
    assert en["light"] == "warn" and en["rating"] == "level 2" and en["rank"] == "1/2"
    assert "single source" in en["source"] and "100 / 107 / 117" in en["levels"]
    (zh,) = bm.rating_rows(BENCH, "zh")
    assert zh["rating"] == "2级" and "单一来源" in zh["source"]


def test_balance_rows_and_sankey_close() -> None:
    rows = dict(bm.balance_rows(BALANCE, "en"))
    assert rows["Balance closes"] == "✓"
    links = bm.sankey_links(BALANCE, "en")
    out_of_site = sum(v for s, v in zip(links["source"], links["value"], strict=True) if s == 2)
    into_site = sum(v for d, v in zip(links["target"], links["value"], strict=True) if d == 2)
    assert into_site == 560 and out_of_site == 126 + 143 + 20 + 256 + 15
    fig = balance_sankey(links)
    assert fig.data[0].type == "sankey" and list(fig.data[0].node.label)[2] == "P"


def test_evidence_figure_draws_the_reference() -> None:
    fig = evidence_figure(["2026-01-01T00:00", "2026-01-01T01:00"], [10.0, 12.0], "t", 8.0)
    assert [tr.name for tr in fig.data] == ["kW", "8 kW"]
    assert list(fig.data[1].y) == [8.0, 8.0]


def test_trend_figure_with_target() -> None:
    trend = {
        "unit_consumption_unit": "kgce/t",
        "target": {"target_kgce": 95.0},
        "points": [
            {"period": "2026-01-01", "unit_consumption_kgce": 100.0},
            {"period": "2026-01-02", "unit_consumption_kgce": None},
            {"period": "2026-01-03", "unit_consumption_kgce": 96.0},
        ],
    }
    fig = trend_figure(trend, "target")
    assert list(fig.data[0].x) == ["2026-01-01", "2026-01-03"]
    assert fig.data[1].name == "target 95.0 kgce/t"
