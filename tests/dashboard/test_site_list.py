"""The dashboard's site list against the real API (uvicorn): a site created by another
process is in the list on the next page load, and an unchanged list costs a 304 without a
body, not a new list a minute."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from dashboard import client as client_module
from dashboard.client import ApiClient
from tests.support.db import make_key
from tests.support.live_server import API, LiveServer


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(db_url, tmp_path_factory.mktemp("site-list")) as srv:
        yield srv


class Recording(httpx.HTTPTransport):
    """The statuses of the site-list requests the dashboard's client sends."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == f"{API}/sites":
            self.statuses.append(response.status_code)
        return response


def test_a_site_created_elsewhere_is_listed_on_the_next_load(
    server: LiveServer,
    engine,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire = Recording()
    api = ApiClient(server.url, make_key(engine, "engineer"), transport=wire)
    try:
        monkeypatch.setattr(client_module, "SITES_FRESH_S", 0.0)  # every call a new page load
        before = api.sites()
        assert api.sites() == before and wire.statuses == [200, 304]  # unchanged: no body
        code = f"NEW-{uuid.uuid4().hex[:8]}"
        with server.client(make_key(engine, "admin")) as admin:  # another process's create
            r = admin.post(f"{API}/sites", json={"code": code, "name": "new", "region": "江苏"})
            assert r.status_code == 201, r.text
        assert code in [s["code"] for s in api.sites()]
        assert wire.statuses == [200, 304, 200]
        # within one page load's window the list held is used, nothing asked
        monkeypatch.setattr(client_module, "SITES_FRESH_S", 3600.0)
        assert code in [s["code"] for s in api.sites()] and len(wire.statuses) == 3
    finally:
        api.close()
