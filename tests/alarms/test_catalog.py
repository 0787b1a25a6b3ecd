"""The rule-type catalog is the one home of each type's fields: validation agrees with it."""

from __future__ import annotations

from dataclasses import fields

import pytest
from sqlalchemy.orm import Session

from alarms import catalog, rules
from alarms.rules import RuleIn
from core.errors import Invalid
from models.alarms import RuleType


def test_rules_take_their_type_specific_fields_from_the_catalog() -> None:
    assert catalog.params_by_field() == rules.PARAMS
    assert set(catalog.TYPES) == set(RuleType)
    assert {
        RuleType.DEMAND,
        RuleType.FORECAST_DEVIATION,
        RuleType.BUDGET,
        RuleType.NODE_LOSS,
        RuleType.ETS_DEADLINE,
    } == rules.SITE_TYPES
    assert rules.STREAM_TYPES == (RuleType.THRESHOLD, RuleType.RATE, RuleType.IDLE)
    assert set(rules.TIMED_TYPES) == set(RuleType) - set(rules.STREAM_TYPES)
    assert rules.BUDGET_QUANTITIES == ("electricity_kwh", "energy_tce", "co2_t", "cost_cny")
    # every RuleIn field is a field of some type or a common one, and vice versa
    known = {f.name for s in catalog.TYPES.values() for f in s.fields}
    known |= {f.name for f in catalog.COMMON} | {"type"}
    assert {f.name for f in fields(RuleIn)} - {"extra"} == known


@pytest.mark.parametrize("rtype", list(RuleType))
def test_a_field_the_catalog_does_not_list_is_refused(engine, rtype: RuleType) -> None:  # noqa: ANN001
    """For each type, every type-specific field and limit it does not take is refused by
    validation, naming that field (before the database is asked about meters)."""
    spec = catalog.spec(rtype)
    not_taken = [
        n for n in (*catalog.LIMIT_NAMES, *catalog.params_by_field()) if n not in spec.names()
    ]
    values = {"window_s": 60.0, "intervals": 3.0, "block_s": 900}
    with Session(engine) as session:
        for name in not_taken:
            data = RuleIn(name="x", type=rtype.value)
            if rtype is not RuleType.STALE:
                data.high = 10.0  # otherwise valid limits: only ``name`` is wrong
            limit = {"high_high": 20.0, "low": 1.0, "low_low": 0.5}.get(name, 1.0)
            setattr(data, name, limit if name in catalog.LIMIT_NAMES else values.get(name, "x"))
            with pytest.raises(Invalid) as err:
                rules._check_limits(data, rtype)
                rules._params(session, data, rtype, None, None)
            assert err.value.field == name, (rtype, name, err.value)
