"""The dashboard's sign-in rules that need no browser: where a sign-in may send you back to,
which callbacks may run without a person, which POSTs count as cross-site, which links the top
bar shows to whom."""

from __future__ import annotations

import json

import flask
import pytest

from accounts import keys
from core.settings import Settings
from dashboard import app, auth

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
        (_callback(["_pages_content", "_pages_store"], "/"), True),  # the home page is the wall
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


def test_the_nav_asks_only_for_what_the_api_reports() -> None:
    """Every link's need is a name ``/auth/me`` lists in ``may`` (the API's role sets)."""
    needs = {need for _, links in app.NAV for _, _, need in links} - {None}
    assert needs == {"estate", "audit"}
    assert needs <= {*keys.ABILITIES, keys.ESTATE}


@pytest.mark.parametrize(
    ("roles", "sites", "admin_links"),
    [
        ({keys.Role.ADMIN}, None, ["/sites", "/people", "/audit"]),
        ({keys.Role.ADMIN}, frozenset({1}), ["/sites", "/audit"]),  # an admin of one site
        ({keys.Role.AUDITOR}, None, ["/sites", "/audit"]),
        ({keys.Role.ENGINEER}, None, ["/sites"]),
        ({keys.Role.MANAGER}, None, ["/sites"]),
        ({keys.Role.VIEWER}, None, ["/sites"]),
    ],
)
def test_each_role_is_shown_the_admin_links_it_may_open(
    roles: set, sites: frozenset | None, admin_links: list[str]
) -> None:
    may = keys.Principal("P", frozenset(roles), kind=keys.SESSION, sites=sites).abilities()
    groups = dict(app.nav_groups({"may": may}))
    assert list(groups) == ["nav_operate", "nav_manage", "nav_admin"]
    assert [href for href, _ in groups["nav_admin"]] == admin_links
    assert len(groups["nav_operate"]) == 4 and len(groups["nav_manage"]) == 6


def test_a_group_none_of_whose_links_may_be_opened_has_no_heading() -> None:
    nav = (
        ("nav_operate", (("/wall", "nav_wall", None),)),
        ("nav_admin", (("/people", "nav_people", "estate"), ("/audit", "nav_audit", "audit"))),
    )
    read = {"may": ["read", "configure"]}
    assert app.nav_groups(read, nav) == [("nav_operate", [("/wall", "nav_wall")])]
    auditor = {"may": ["read", "audit"]}
    assert app.nav_groups(auditor, nav)[1] == ("nav_admin", [("/audit", "nav_audit")])
    assert app.nav_groups(None, nav) == [("nav_operate", [("/wall", "nav_wall")])]


READER = {"login": "r", "kind": "session", "may": ["read", "configure"]}
AUDITOR = {"login": "a", "kind": "session", "may": ["read", "audit"]}


@pytest.mark.parametrize(
    ("person", "path", "need", "opens"),
    [
        (None, "/wall", None, True),
        (None, "/", None, True),  # the home page is the wall
        (None, "/login", None, True),
        (None, "/engineer", None, False),
        (None, "/sites", None, False),
        (None, "/audit", "audit", False),
        (READER, "/engineer", None, True),
        (READER, "/audit", "audit", False),
        (AUDITOR, "/audit", "audit", True),
        (AUDITOR, "/wall", "audit", True),  # a public page asks nothing of anybody
    ],
)
def test_who_may_open_a_page(person: dict | None, path: str, need: str | None, opens: bool) -> None:
    assert auth.may_open(person, path, need) is opens


def test_signed_out_the_nav_shows_only_the_public_pages() -> None:
    """A wall screen nobody is signed in to is offered the wall, not links that only lead to
    the sign-in form (the top bar adds Sign in itself)."""
    assert app.nav_groups(None) == [("nav_operate", [("/wall", "nav_wall")])]


def test_signed_out_the_nav_shows_a_link_exactly_when_the_gate_serves_its_page() -> None:
    """The top bar and the gate ask one rule: signed out, every page the nav hides sends the
    browser to the sign-in form and every page it shows is served."""
    server = flask.Flask(__name__)
    auth.install(server, Settings(), api=None)  # type: ignore[arg-type]  (never asked: no session)
    shown = {href for _, links in app.nav_groups(None) for href, _ in links}
    client = server.test_client()
    for _, links in app.NAV:
        for href, _, _ in links:
            answer = client.get(href)
            to_sign_in = answer.status_code == 302 and answer.location.startswith("/login")
            assert to_sign_in is (href not in shown), href


@pytest.mark.parametrize(
    ("roles", "sites", "editable"),
    [
        ({keys.Role.ENGINEER}, None, True),
        ({keys.Role.ADMIN}, None, True),
        ({keys.Role.ADMIN}, frozenset({1}), True),  # an admin of one site
        ({keys.Role.VIEWER}, None, False),
        ({keys.Role.MANAGER}, None, False),
        ({keys.Role.AUDITOR}, None, False),
        ({keys.Role.INGEST}, None, False),
        ({keys.Role.VIEWER, keys.Role.ENGINEER}, None, True),
    ],
)
def test_the_site_settings_are_editable_for_whoever_may_configure(
    roles: set, sites: frozenset | None, editable: bool
) -> None:
    """``/auth/me``'s ``may`` decides the Sites page's form, as the API's own role set does."""
    may = keys.Principal("P", frozenset(roles), kind=keys.SESSION, sites=sites).abilities()
    assert auth.CONFIGURE in keys.ABILITIES
    assert auth.may_configure({"login": "p", "kind": "session", "may": may}) is editable
    assert editable is bool(roles & keys.CONFIGURE_ROLES)


@pytest.mark.parametrize("person", [None, {}, {"may": None}, {"may": []}, {"may": ["read"]}])
def test_nobody_or_a_reader_may_not_configure(person: dict | None) -> None:
    assert auth.may_configure(person) is False
    assert auth.may({"may": ["read", "audit"]}, "audit") and not auth.may(None, "read")
