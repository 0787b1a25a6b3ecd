"""Reference values of the standards, worked by hand, and the rules of certificate allocation.

No database: the formulas (``carbon.formulas``), factor units (``carbon.quantities``), the
shipped library (``carbon/data``) and factor resolution (``carbon.factors.resolve``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon import factors, formulas, library, quantities


def _row(key: str) -> dict:
    return next(r for r in library.factor_rows() if r["key"] == key)


def test_natural_gas_100000_nm3_by_hand() -> None:
    """GB/T 32151.x default for natural gas: NCV 389.31 GJ/10⁴Nm³, carbon content 15.3 tC/TJ,
    oxidation rate 99 %."""
    ncv_gj_per_10k_nm3, cc_tc_per_tj, oxidation = 389.31, 15.3, 0.99
    # by hand: 389.31 GJ × 15.3 tC/TJ = 5956.443 GJ·tC/TJ = 5.956443 tC per 10⁴ Nm³
    carbon_t_per_10k = 389.31 * 15.3 / 1000  # 5.956443
    co2_t_per_10k = carbon_t_per_10k * 0.99 * 44 / 12  # 21.6218881 tCO2 per 10⁴ Nm³
    expected_t = 10 * co2_t_per_10k  # 100,000 Nm³ = 10 × 10⁴ Nm³
    assert expected_t == pytest.approx(216.218881, abs=1e-6)

    row = _row("fuel/natural_gas")
    assert row["params"]["ncv"] == ncv_gj_per_10k_nm3
    assert row["params"]["carbon_content_tc_per_tj"] == cc_tc_per_tj
    assert row["params"]["oxidation_rate"] == oxidation
    assert formulas.fuel_emission_factor(389.31, 15.3, 0.99) == pytest.approx(
        co2_t_per_10k, rel=1e-12
    )
    coef = quantities.coefficient(row["value"], row["unit"], "m3")  # per Nm³ (canonical m3)
    assert 100_000 * coef == pytest.approx(expected_t, rel=1e-9)
    assert row["params"]["published_ef"] == pytest.approx(21.6219, abs=1e-4)


@pytest.mark.parametrize(
    "key", [r["key"] for r in library.factor_rows() if r["key"].startswith("fuel/")]
)
def test_every_fuel_factor_is_its_parameters(key: str) -> None:
    r = _row(key)
    p = r["params"]
    value = formulas.fuel_emission_factor(
        p["ncv"], p["carbon_content_tc_per_tj"], p["oxidation_rate"]
    )
    assert r["value"] == pytest.approx(value, rel=1e-9)
    assert r["value"] == pytest.approx(p["published_ef"], abs=1.5e-4)  # the printed rounding


def test_purchased_electricity_times_the_grid_factor_of_that_year() -> None:
    # 1,234,567 kWh in Jiangsu, 2023 data (MEE/NBS 公告2025年第47号): 0.5827 tCO2/MWh
    row = _row("grid/average/江苏/2023")
    assert (row["value"], row["unit"]) == (0.5827, "tCO2/MWh")
    assert "公告2025年第47号" in row["source_document"]
    assert 1_234_567 * quantities.coefficient(row["value"], row["unit"], "kWh") == pytest.approx(
        1234.567 * 0.5827, rel=1e-12
    )  # = 719.382 tCO2
    assert _row("grid/average/national/2022")["value"] == 0.5366
    assert _row("grid/residual/national/2023")["value"] == 0.6096


def test_standard_coal_by_hand() -> None:
    """GB/T 2589: 1 kgce = 7000 kcal; electricity 当量值 860 kcal/kWh → 0.1229 kgce/kWh."""
    elec = _row("tce/electricity/equivalent")
    assert elec["value"] == pytest.approx(860 / 7000, abs=5e-5)
    assert 1_000_000 * quantities.coefficient(elec["value"], elec["unit"], "kWh") == pytest.approx(
        122.9
    )  # tce
    gas = _row("tce/natural_gas/equivalent")
    assert 100_000 * quantities.coefficient(gas["value"], gas["unit"], "m3") == pytest.approx(
        133.0
    )  # 1.3300 kgce/m³ (9310 kcal / 7000)
    heat = _row("tce/heat/equivalent")
    assert 1000 * quantities.coefficient(heat["value"], heat["unit"], "GJ") == pytest.approx(
        34.12
    )  # 0.03412 kgce/MJ = 34.12 kgce/GJ
    steam = _row("tce/steam/equivalent")
    assert 50 * quantities.coefficient(steam["value"], steam["unit"], "t") == pytest.approx(6.43)
    assert formulas.GJ_PER_TCE == 29.3076  # 7000 kcal × 4.1868 kJ/kcal
    # the equal-value coefficient is set yearly and was not verified: not shipped
    assert not [r for r in library.factor_rows() if r["variant"] == "equal_value"]


@pytest.mark.parametrize(
    ("ar", "sf6", "ch4", "n2o"),
    [("AR4", 22800, 25, 298), ("AR5", 23500, 28, 265), ("AR6", 25200, 27.9, 273)],
)
def test_gwp_sets(ar: str, sf6: float, ch4: float, n2o: float) -> None:
    assert _row(f"gwp/{ar}/SF6")["value"] == sf6
    assert _row(f"gwp/{ar}/CH4")["value"] == ch4
    assert _row(f"gwp/{ar}/N2O")["value"] == n2o
    # 10 kg SF6 top-up: 0.010 t × GWP tCO2e
    assert 0.010 * _row(f"gwp/{ar}/SF6")["value"] == pytest.approx(sf6 / 100)


def test_library_rows_name_their_sources() -> None:
    rows = library.factor_rows()
    assert len({r["key"] for r in rows}) == len(rows)
    for r in rows:
        assert r["source_document"], r["key"]
        quantities.parse(r["unit"])  # every unit is understood
    assert library.manifest()["version"] == library.library_version()
    assert {r["region"] for r in rows if r["key"].startswith("grid/average/")} >= {
        "national",
        "华东",
        "江苏",
        "内蒙古",
    }


def test_region_chain() -> None:
    assert library.region_chain("江苏") == ["江苏", "华东", "national"]
    assert library.region_chain("jiangsu") == ["江苏", "华东", "national"]
    assert library.region_chain("蒙东") == ["内蒙古", "东北", "national"]
    assert library.region_chain(None) == ["national"]
    assert library.region_chain("PLANT-X") == ["PLANT-X", "national"]


def _f(i: int, value: float, lo: date | None, hi: date | None) -> SimpleNamespace:
    return SimpleNamespace(id=i, value=value, valid_from=lo, valid_to=hi)


def test_resolution_uses_the_latest_published_year_and_says_so() -> None:
    y21, y22, y23 = (
        _f(1, 0.5568, date(2021, 1, 1), date(2022, 1, 1)),
        _f(2, 0.5366, date(2022, 1, 1), date(2023, 1, 1)),
        _f(3, 0.5306, date(2023, 1, 1), date(2024, 1, 1)),
    )
    national = [y21, y22, y23]
    assert factors.resolve([national], date(2022, 7, 1)).factor is y22
    assert factors.resolve([national], date(2022, 7, 1)).note is None
    late = factors.resolve([national], date(2025, 3, 1))
    assert late.factor is y23 and "latest published" in late.note
    early = factors.resolve([national], date(2019, 3, 1))
    assert early.factor is y21 and "predates" in early.note
    site = [_f(9, 0.459, date(2018, 1, 1), None)]  # site-specific, open-ended
    assert factors.resolve([site, national], date(2018, 5, 1)).factor.id == 9
    before = factors.resolve([site, national], date(2017, 5, 1))  # nothing valid or past:
    assert before.factor.id == 9 and "predates" in before.note  # the most specific, said so
    later_site = [_f(11, 0.40, date(2022, 1, 1), None)]
    assert factors.resolve([later_site, national], date(2021, 6, 1)).factor is y21  # next level
    newer = _f(10, 0.470, date(2018, 1, 1), None)  # a newer version of the site factor
    assert factors.resolve([[*site, newer], national], date(2020, 1, 1)).factor is newer
    pieces = factors.piecewise([national])
    assert [(p[0], p[1], p[2].factor.id) for p in pieces] == [
        (None, date(2021, 1, 1), 1),
        (date(2021, 1, 1), date(2022, 1, 1), 1),
        (date(2022, 1, 1), date(2023, 1, 1), 2),
        (date(2023, 1, 1), date(2024, 1, 1), 3),
        (date(2024, 1, 1), None, 3),
    ]
    assert [p[2].note is None for p in pieces] == [False, True, True, True, False]


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _segs(n: int) -> list[tuple[datetime, datetime]]:
    return [(T0 + timedelta(days=30 * i), T0 + timedelta(days=30 * (i + 1))) for i in range(n)]


def test_certificates_capped_at_consumption_and_used_once() -> None:
    segs = _segs(2)
    grid = {segs[0]: 50.0, segs[1]: 10.0}
    a = formulas.Certificate("GEC-A", 40.0, *segs[0])
    b = formulas.Certificate("GEC-B", 40.0, *segs[0])  # same month: only 10 MWh left
    c = formulas.Certificate("GEC-C", 25.0, segs[0][0], segs[1][1])  # both months
    claims = formulas.allocate_certificates([b, a, c], grid)
    by = {s: sum(cl.mwh for cl in claims if cl.serial == s) for s in ("GEC-A", "GEC-B", "GEC-C")}
    assert by == pytest.approx({"GEC-A": 40.0, "GEC-B": 10.0, "GEC-C": 10.0})
    for seg, mwh in grid.items():
        assert sum(cl.mwh for cl in claims if cl.segment == seg) <= mwh + 1e-9
    with pytest.raises(ValueError, match="listed twice"):
        formulas.allocate_certificates([a, a], grid)
    assert formulas.market_scope2_t(30.48, 50.0, 80.0) == 0.0  # over-claimed: zero, not < 0
    assert formulas.market_scope2_t(30.48, 50.0, 20.0) == pytest.approx(30.48 * 30 / 50)


@settings(max_examples=200, deadline=None)
@given(
    consumption=st.lists(st.floats(0, 1e4), min_size=1, max_size=6),
    certs=st.lists(
        st.tuples(st.integers(0, 5), st.integers(1, 6), st.floats(0.001, 1e4)), max_size=8
    ),
    split=st.integers(0, 5),
)
def test_allocation_never_exceeds_and_does_not_depend_on_cuts(consumption, certs, split) -> None:  # noqa: ANN001
    segs = _segs(len(consumption))
    grid = dict(zip(segs, consumption, strict=True))
    cs = [
        formulas.Certificate(
            f"S{i}",
            mwh,
            segs[min(a, len(segs) - 1)][0],
            segs[min(max(a + n - 1, a), len(segs) - 1)][1],
        )
        for i, (a, n, mwh) in enumerate(certs)
    ]
    claims = formulas.allocate_certificates(cs, grid)
    for c in cs:  # never beyond the certificate
        assert sum(cl.mwh for cl in claims if cl.serial == c.serial) <= c.mwh * (1 + 1e-9)
    for seg, mwh in grid.items():  # never beyond consumption
        assert sum(cl.mwh for cl in claims if cl.segment == seg) <= mwh * (1 + 1e-9) + 1e-9
    # cutting one segment in two halves (consumption split 30/70) gives the same claims
    k = split % len(segs)
    lo, hi = segs[k]
    mid = lo + (hi - lo) * 0.3
    finer = {s: v for s, v in grid.items() if s != segs[k]}
    finer[(lo, mid)], finer[(mid, hi)] = grid[segs[k]] * 0.3, grid[segs[k]] * 0.7
    fine = formulas.allocate_certificates(cs, finer)
    for c in cs:
        coarse_total = sum(cl.mwh for cl in claims if cl.serial == c.serial)
        fine_total = sum(cl.mwh for cl in fine if cl.serial == c.serial)
        assert fine_total == pytest.approx(coarse_total, rel=1e-9, abs=1e-9)


def test_factor_units() -> None:
    assert quantities.coefficient(0.5306, "tCO2/MWh", "kWh") == pytest.approx(0.0005306)
    assert quantities.coefficient(530.6, "kgCO2/MWh", "MWh") == pytest.approx(0.5306)
    assert quantities.coefficient(21.62, "tCO2/10^4 Nm3", "m3") == pytest.approx(0.002162)
    assert quantities.coefficient(0.1229, "kgce/kWh", "kWh") == pytest.approx(0.0001229)
    assert quantities.parse("tCO2e/t").measure == "co2e"
    from core.errors import Invalid

    with pytest.raises(Invalid, match="numerator"):
        quantities.parse("furlong/MWh")
    with pytest.raises(Invalid):
        quantities.parse("tCO2")
