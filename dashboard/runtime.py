"""What the app factory hands to callbacks: the API client and the settings.

Set once by :func:`dashboard.app.create_app`; nothing is built at import time.
"""

from __future__ import annotations

from core.settings import Settings
from dashboard.client import ApiClient

_api: ApiClient | None = None
_settings: Settings | None = None


def install(api: ApiClient, settings: Settings) -> None:
    global _api, _settings
    _api, _settings = api, settings


def api() -> ApiClient:
    if _api is None:
        raise RuntimeError("the dashboard is not set up: build it with dashboard.app.create_app")
    return _api


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("the dashboard is not set up: build it with dashboard.app.create_app")
    return _settings
