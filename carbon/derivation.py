"""Derivations: the inputs, formulas and results behind a figure, addressed by the sha256 of
their canonical JSON, so a verifier can recompute both the figure and the hash.

A derivation is content-addressed: reading a figure never stores anything. ``build`` makes the
body and its hash; ``carbon.recompute`` finds a stored body (stored by a write, or by earlier
versions of the service) or recomputes it from the figure's parameters and checks the hash."""

from __future__ import annotations

import json

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.canonical import canonical_json, content_hash
from core.errors import NotFound
from models.carbon import CarbonDerivation

HASH_RULE = (
    "sha256 of canonical JSON (sorted keys, separators ',' ':', UTF-8) of "
    '{"formulas": formulas, "inputs": inputs}'
)


def build(kind: str, inputs: dict, formulas: dict, results: dict) -> tuple[str, dict]:
    """The derivation body (as JSON would return it) and its hash; stores nothing."""
    digest = content_hash(inputs, formulas)
    body = json.loads(
        canonical_json(
            {
                "kind": kind,
                "hash": digest,
                "hash_rule": HASH_RULE,
                "inputs": inputs,
                "formulas": formulas,
                "results": results,
            }
        )
    )
    return digest, body


def record(session: Session, kind: str, inputs: dict, formulas: dict, results: dict) -> str:
    """Store a derivation (idempotent) and return its hash: for writes that keep one."""
    digest, body = build(kind, inputs, formulas, results)
    session.execute(
        insert(CarbonDerivation)
        .values(hash=digest, kind=kind, body=body)
        .on_conflict_do_nothing(index_elements=["hash"])
    )
    return digest


def find(session: Session, digest: str) -> dict | None:
    row = session.get(CarbonDerivation, digest)
    return None if row is None else row.body


def get(session: Session, digest: str) -> dict:
    body = find(session, digest)
    if body is None:
        raise NotFound("hash", f"no derivation {digest!r}")
    return body
