"""The audit trail: every change through the API, for admins and auditors; JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from accounts import audit
from api.deps import AuditReader, DbSession

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_kind: str
    actor_login: str | None
    action: str
    entity: str
    entity_id: str | None
    site_id: int | None
    before: dict | list | None
    after: dict | list | None
    request_id: str | None
    method: str | None
    path: str | None


@router.get(
    "/audit",
    response_model=list[AuditOut],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def list_audit(
    session: DbSession,
    who: AuditReader,
    entity: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = Query(default=None, description="display name or login"),
    limit: int = Query(default=1000, ge=1, le=100_000),
    format: Literal["json", "csv"] = "json",
) -> list[dict] | Response:
    """Newest first. ``entity`` is a table name (site, meter, alarm, alarm_rule, app_user,
    api_key, carbon_factor …, or ``request`` for writes that changed no audited record)."""
    rows = audit.query(
        session,
        entity=entity,
        entity_id=entity_id,
        since=since,
        until=until,
        actor=actor,
        sites=who.sites,
        limit=limit,
    )
    if format == "csv":
        return Response(
            audit.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return rows
