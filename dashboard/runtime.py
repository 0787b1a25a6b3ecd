"""What the app factory hands to callbacks: the API client and the settings.

``api()`` is the signed-in person's client when the request carries a session (so the API
applies *their* roles and scope and records *their* name); otherwise the dashboard's own
client, whose key is the wall's read-only display token.

Set once by :func:`dashboard.app.create_app`; nothing is built at import time.
"""

from __future__ import annotations

from core.settings import Settings
from dashboard import auth
from dashboard.client import ApiClient, ApiError

_api: ApiClient | None = None
_settings: Settings | None = None


def install(api: ApiClient, settings: Settings) -> None:
    global _api, _settings
    _api, _settings = api, settings


def api() -> ApiClient:
    if _api is None:
        raise RuntimeError("the dashboard is not set up: build it with dashboard.app.create_app")
    token = auth.token()
    return _api if token is None else _api.for_token(token, auth.browser())


def shared_api() -> ApiClient:
    """The dashboard's own client (the wall's display token), whoever is asking."""
    if _api is None:
        raise RuntimeError("the dashboard is not set up: build it with dashboard.app.create_app")
    return _api


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("the dashboard is not set up: build it with dashboard.app.create_app")
    return _settings


def person() -> dict | None:
    """The signed-in person as the API's ``/auth/me`` has them (``may``: what their roles
    allow), or None."""
    if auth.token() is None:
        return None
    try:
        who = api().me()
    except ApiError:
        return None
    return who if who.get("kind") == "session" else None
