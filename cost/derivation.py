"""Cost derivations: the inputs, formulas and results behind a cost figure, addressed by the
sha256 of their canonical JSON (the same rule as ``carbon.derivation``: sorted keys, separators
',' ':', UTF-8, instants in UTC, decimals as strings), so anyone can recompute both."""

from __future__ import annotations

import json

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.canonical import canonical_json, content_hash
from core.errors import NotFound
from models.cost import CostDerivation


def record(session: Session, kind: str, inputs: dict, formulas: dict, results: dict) -> str:
    """Store a derivation (idempotent) and return its hash."""
    digest = content_hash(inputs, formulas)
    body = json.loads(
        canonical_json(
            {
                "kind": kind,
                "hash": digest,
                "hash_rule": "sha256 of canonical JSON (sorted keys, separators ',' ':', UTF-8) "
                'of {"formulas": formulas, "inputs": inputs}',
                "inputs": inputs,
                "formulas": formulas,
                "results": results,
            }
        )
    )
    session.execute(
        insert(CostDerivation)
        .values(hash=digest, kind=kind, body=body)
        .on_conflict_do_nothing(index_elements=["hash"])
    )
    return digest


def get(session: Session, digest: str) -> dict:
    row = session.get(CostDerivation, digest)
    if row is None:
        raise NotFound("hash", f"no cost derivation {digest!r}")
    return row.body
