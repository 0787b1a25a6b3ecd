"""Cost derivations: the inputs, formulas and results behind a cost figure, addressed by the
sha256 of their canonical JSON (the same rule as ``carbon.derivation``: sorted keys, separators
',' ':', UTF-8, instants in UTC, decimals as strings), so anyone can recompute both."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.errors import NotFound
from models.cost import CostDerivation


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.astimezone(UTC).isoformat() if o.tzinfo else o.isoformat()
    if isinstance(o, date):
        return o.isoformat()
    if isinstance(o, Decimal):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def canonical_json(obj: Any) -> str:
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_default,
        allow_nan=False,
    )


def content_hash(inputs: dict, formulas: dict) -> str:
    blob = canonical_json({"formulas": formulas, "inputs": inputs})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


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
