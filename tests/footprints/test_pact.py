"""The vendored PACT v2 schema on a supplier's document shaped like the specification's
example (our own values), and on documents that break one rule each."""

from __future__ import annotations

import copy

import pytest

from footprints import pact
from tests.support.pact import PACT_SUPPLIER_DOC

SUPPLIER_DOC = PACT_SUPPLIER_DOC


def test_a_supplier_document_is_valid() -> None:
    assert pact.validation_errors(SUPPLIER_DOC) == []


def _set(path: str, value: object) -> dict:
    doc = copy.deepcopy(SUPPLIER_DOC)
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[p]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("id", "not-a-uuid", "id"),
        ("specVersion", "3.0.0", "specVersion"),
        ("status", "Draft", "status"),
        ("companyIds", ["no-urn"], "companyIds/0"),
        ("pcf.declaredUnit", "piece", "pcf/declaredUnit"),
        ("pcf.unitaryProductAmount", "0", "pcf/unitaryProductAmount"),
        ("pcf.pCfExcludingBiogenic", "-1.0", "pcf/pCfExcludingBiogenic"),
        ("pcf.pCfExcludingBiogenic", 1.85, "pcf/pCfExcludingBiogenic"),
        ("pcf.exemptedEmissionsPercent", 7, "pcf/exemptedEmissionsPercent"),
        ("pcf.referencePeriodEnd", "2024-01-01", "pcf/referencePeriodEnd"),
        ("pcf.dqi.temporalDQR", 4, "pcf/dqi/temporalDQR"),
        ("pcf.geographyRegionOrSubregion", "Asia", "pcf"),
        ("pcf.packagingEmissionsIncluded", KeyError, "pcf"),
    ],
)
def test_one_broken_rule_is_named(path: str, value: object, where: str) -> None:
    errors = pact.validation_errors(_set(path, value))
    assert errors and any(e.startswith(f"{where}:") for e in errors), errors


def test_primary_data_share_or_dqi_is_required() -> None:
    doc = copy.deepcopy(SUPPLIER_DOC)
    del doc["pcf"]["primaryDataShare"]
    assert pact.validation_errors(doc) == []
    del doc["pcf"]["dqi"]
    assert pact.validation_errors(doc)
