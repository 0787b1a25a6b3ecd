"""The dashboard's sign-in rules that need no browser: where a sign-in may send you back to,
which callbacks may run without a person, which POSTs count as cross-site."""

from __future__ import annotations

import json

import flask
import pytest

from core.settings import Settings
from dashboard import auth

APP = flask.Flask(__name__)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/manager?site=P1", "/manager?site=P1"),
        ("//evil.example/x", "/engineer"),
        ("https://evil.example/", "/engineer"),
        ("javascript:alert(1)", "/engineer"),
        ("engineer", "/engineer"),
    ],
)
def test_sign_in_returns_only_to_a_page_of_this_site(given: str, expected: str) -> None:
    assert auth._safe_next(given) == expected


def _callback(outputs: list[str], pathname: str | None = None) -> dict:
    body: dict = {"outputs": [{"id": o, "property": "children"} for o in outputs]}
    if pathname is not None:
        body["inputs"] = [{"id": "_pages_location", "property": "pathname", "value": pathname}]
    return body


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        (_callback(["wall-kpis", "wall-alarms"]), True),
        (_callback(["wall-kpis", "eng-action-message"]), False),
        (_callback(["eng-action-message"]), False),
        (_callback(["_pages_content", "_pages_store"], "/wall"), True),
        (_callback(["_pages_content", "_pages_store"], "/engineer"), False),
        ({"outputs": []}, False),
    ],
)
def test_without_a_person_only_the_wall_is_fed(body: dict, allowed: bool) -> None:
    with APP.test_request_context("/_dash-update-component", method="POST", data=json.dumps(body)):
        assert auth._outputs_only_wall() is allowed


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        ({"Origin": "http://dash.local:8050"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Referer": "http://evil.example/page"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({}, True),  # not a browser's cross-site request
    ],
)
def test_cross_site_posts_are_recognised(headers: dict, same: bool) -> None:
    with APP.test_request_context(
        "/logout", method="POST", base_url="http://dash.local:8050", headers=headers
    ):
        assert auth._same_origin() is same


def test_content_security_policy_names_the_wall_hosts() -> None:
    h = auth.headers(Settings(frame_ancestors="'self' https://wall.example"))
    assert "frame-ancestors 'self' https://wall.example" in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
