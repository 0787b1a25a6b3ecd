"""Units table and the counter rule (numpy and SQL must agree)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core import units
from core.errors import Invalid
from ingest.counters import counter_delta


@pytest.mark.parametrize(
    ("src", "dst", "value", "expected"),
    [
        ("MWh", "kWh", 1.5, 1500.0),
        ("GJ", "kWh", 1.0, 277.7777777777778),
        ("MJ", "GJ", 3600.0, 3.6),
        ("degF", "degC", 212.0, 100.0),
        ("K", "degC", 273.15, 0.0),
        ("%", "1", 95.0, 0.95),
        ("kg", "t", 1500.0, 1.5),
        ("L", "m3", 1000.0, 1.0),
    ],
)
def test_conversions(src: str, dst: str, value: float, expected: float) -> None:
    factor, offset = units.conversion(src, dst)
    assert value * factor + offset == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_incompatible_units_name_the_field() -> None:
    with pytest.raises(Invalid) as err:
        units.conversion("m3", "kWh", "unit")
    assert err.value.field == "unit"
    assert "volume" in err.value.reason and "energy" in err.value.reason


def test_canonical_units_per_carrier() -> None:
    assert units.canonical_unit(units.Carrier.ELECTRICITY, "MWh") == "kWh"
    assert units.canonical_unit(units.Carrier.STEAM, "MJ") == "GJ"
    assert units.canonical_unit(units.Carrier.STEAM, "kg") == "t"
    assert units.canonical_unit(units.Carrier.NATURAL_GAS, "Nm3") == "m3"


def test_counter_rule_examples() -> None:
    prev = np.array([np.nan, 10.0, 990.0, 500.0, 100.0])
    cur = np.array([5.0, 12.0, 20.0, 3.0, 100.0])
    assert np.allclose(
        counter_delta(prev, cur, 1000.0), [np.nan, 2.0, 30.0, 3.0, 0.0], equal_nan=True
    )
    assert counter_delta(np.array([990.0]), np.array([20.0]), None).tolist() == [20.0]


@given(
    st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)), min_size=1, max_size=50),
    st.one_of(st.none(), st.floats(1, 1e6)),
)
@settings(max_examples=50, deadline=None)
def test_numpy_and_sql_counter_rules_agree(engine, pairs, rollover) -> None:  # noqa: ANN001
    prev = np.array([p for p, _ in pairs])
    cur = np.array([c for _, c in pairs])
    with engine.connect() as conn:
        sql = (
            conn.execute(
                text(
                    "SELECT ecc_counter_delta(p, c, CAST(:r AS double precision)) "
                    "FROM unnest(CAST(:p AS float8[]), CAST(:c AS float8[])) "
                    "WITH ORDINALITY AS t(p, c, i) "
                    "ORDER BY i"
                ),
                {"p": prev.tolist(), "c": cur.tolist(), "r": rollover},
            )
            .scalars()
            .all()
        )
    assert counter_delta(prev, cur, rollover).tolist() == sql


def test_reactive_energy_is_a_carrier_in_kvarh() -> None:
    carrier = units.Carrier("reactive_energy")
    assert units.canonical_unit(carrier, "Mvarh") == "kvarh"
    assert units.conversion("varh", "kvarh")[0] == pytest.approx(1e-3)
    assert units.is_quantity_unit("kvarh")
