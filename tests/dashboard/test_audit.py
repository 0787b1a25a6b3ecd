"""The audit page's one read of the trail (``pages.audit.read_trail``), asked by its layout and
its filter: the table, or why not in the person's language, the filters hidden when refused.
The API client is a stand-in (no HTTP); the page is built by the real app factory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import html

from core.settings import Settings
from dashboard import ids
from dashboard.client import ApiError, Rejected, Unreachable

ROW = {
    "at": "2026-12-04T09:30:00+00:00",
    "actor": "Admin Zhao",
    "actor_kind": "session",
    "action": "update",
    "entity": "site",
    "entity_id": "P1",
    "before": {"name": "Plant"},
    "after": {"name": "Plant 1"},
    "request_id": "r-1",
}


class Trail:
    """An API client whose ``audit`` answers ``rows`` or raises ``error``; it notes each ask."""

    def __init__(self) -> None:
        self.rows: list[dict] = [ROW]
        self.error: ApiError | None = None
        self.asked: list[dict] = []

    def audit(self, entity: str | None = None, limit: int = 200) -> list[dict]:
        self.asked.append({"entity": entity, "limit": limit})
        if self.error is not None:
            raise self.error
        return self.rows


@pytest.fixture(scope="module")
def trail() -> Iterator[Trail]:
    from dashboard import app

    api = Trail()
    app.create_app(Settings(), api=api)  # type: ignore[arg-type]  (only ``audit`` is asked)
    yield api


@pytest.fixture
def audit(trail: Trail):  # noqa: ANN201  (the page module, imported once the app has pages)
    from dashboard.pages import audit

    trail.rows, trail.error, trail.asked = [ROW], None, []
    return audit


def _ids(component: object) -> set[str]:
    found = set()
    if getattr(component, "id", None):
        found.add(component.id)  # type: ignore[attr-defined]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found |= _ids(child)
    return found


def _text(component: object) -> str:
    children = getattr(component, "children", component)
    if isinstance(children, str):
        return children
    if isinstance(children, list):
        return " ".join(_text(c) for c in children)
    return "" if children is None else _text(children)


def test_the_trail_is_read_once_as_a_table(audit, trail: Trail) -> None:  # noqa: ANN001
    shown = audit.read_trail("", "en")
    assert not shown.refused and isinstance(shown.shown, html.Table)
    assert "Admin Zhao (session)" in _text(shown.shown)
    assert trail.asked == [{"entity": None, "limit": audit.SHOWN}]  # no entity: the whole trail


@pytest.mark.parametrize(
    ("error", "lang", "why"),
    [
        (Rejected("/audit", 403, "may not do this"), "en", "not permitted for your role or site"),
        (Rejected("/audit", 403, "may not do this"), "zh", "您的角色或站点无此权限"),
        (Unreachable("/audit", None, "connect"), "en", "API unreachable — reconnecting…"),
    ],
)
def test_a_refusal_says_why_in_the_persons_language(
    audit,  # noqa: ANN001
    trail: Trail,
    error: ApiError,
    lang: str,
    why: str,
) -> None:
    trail.error = error
    shown = audit.read_trail("site", lang)
    assert shown.refused
    assert shown.shown.className == "note msg-error" and _text(shown.shown) == why


def test_layout_and_filter_ask_the_same_read(audit, trail: Trail) -> None:  # noqa: ANN001
    page = audit.layout(entity="site")
    assert {ids.AUDIT_ENTITY, ids.AUDIT_CSV, ids.AUDIT_TABLE} <= _ids(page)
    assert _text(audit.filter_entity("site")) == _text(audit.read_trail("site", "en").shown)
    assert trail.asked == [{"entity": "site", "limit": audit.SHOWN}] * 3

    trail.error = Rejected("/audit", 403, "may not do this")
    refused = audit.layout(entity="site")
    assert not {ids.AUDIT_ENTITY, ids.AUDIT_CSV, ids.AUDIT_TABLE} & _ids(refused)
    assert "not permitted for your role or site" in _text(refused)
    assert _text(audit.filter_entity("meter")) == "not permitted for your role or site"
