"""The dashboard's only way to data: the HTTP API, with the signed-in person's session token
(``for_token``), or, for the wall, the dashboard's own display token.

Callbacks never open a database session. Errors come back as three kinds so the pages can
say the right thing instead of breaking:

* :class:`Unreachable` — the API is down, restarting or too slow (the wall shows
  "reconnecting" and recovers by itself on the next tick);
* :class:`NotAvailable` — the endpoint does not exist in this deployment (carbon, forecasts
  or alarms not installed yet): the tile shows "—" with a small "not available" note;
* :class:`Rejected` — the API refused the request (403, 404 naming a field, 409, 422): the
  page shows the API's message, e.g. a rule editor's validation error.

Which optional endpoints exist is read from the running API's OpenAPI document (cached for a
minute, so endpoints that land while the wall runs appear by themselves).
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

API = "/api/v1"
OPENAPI_TTL_S = 60.0
#: The person's site list is taken as it is for this long (the calls of one page load share
#: one answer), then asked again with its ETag: a 304 without a body while it is unchanged,
#: the new list on the next page load once a site is created or the person's access changes.
SITES_FRESH_S = 1.0


class ApiError(Exception):
    def __init__(self, path: str, status: int | None, detail: str) -> None:
        super().__init__(f"{path}: {status} {detail}")
        self.path, self.status, self.detail = path, status, detail


class Unreachable(ApiError):
    """No answer, a timeout or a 5xx: try again later."""


class NotAvailable(ApiError):
    """The endpoint is not part of this deployment."""


class Rejected(ApiError):
    """A 4xx with the API's own message."""


def _iso(value: datetime | date) -> str:
    return value.isoformat()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors: name the field
        parts = []
        for item in detail:
            loc = [str(x) for x in item.get("loc", []) if x not in ("body", "query", "path")]
            parts.append(f"{'.'.join(loc)}: {item.get('msg', '')}".strip(": "))
        return "; ".join(parts)
    return str(detail)


class _Entry:
    __slots__ = ("at", "value", "refreshing", "etag")

    def __init__(self, at: float, value: Any, etag: str | None = None) -> None:
        self.at, self.value, self.refreshing, self.etag = at, value, False, etag


class ApiClient:
    """A pooled HTTP client of the API; thread-safe (callbacks run in server threads).

    ``cached(key, ttl_s, fetch)`` keeps slow, slowly changing answers (carbon figures, the
    meter registry): a fresh entry is returned as is, an expired one is returned at once
    while one background thread fetches its successor (stale-while-revalidate), so a wall
    refresh never waits on a slow figure it already has.
    """

    def __init__(
        self,
        base_url: str,
        key: str | None,
        *,
        timeout_s: float = 5.0,
        workers: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        limits = httpx.Limits(max_connections=2 * workers, max_keepalive_connections=workers)
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout_s,
            limits=limits,
            transport=transport,
        )
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ecc-dash")
        self._cache: dict[Any, _Entry] = {}
        self._lock = threading.Lock()
        self._auth: dict[str, str] = {}  # a person's bearer (empty: the client's own key)
        # each person's answers are cached apart (a scoped person sees only their plant)
        self._caches: dict[str, dict[Any, _Entry]] = {}
        self.token_digest: str | None = None

    def for_token(self, token: str | None, client: str | None = None) -> ApiClient:
        """The same pool and connections, calling the API as the person who holds ``token``
        (``None``: the dashboard's own key) from the browser at ``client`` (forwarded, so the
        API limits failed attempts per browser, not per dashboard)."""
        digest = hashlib.sha256((token or "").encode()).hexdigest()
        bound = copy.copy(self)
        bound._auth = {"Authorization": f"Bearer {token}"} if token else {}
        if client:
            bound._auth["X-Forwarded-For"] = client
        bound.token_digest = digest
        with self._lock:
            bound._cache = self._caches.pop(digest, None) or {}
            self._caches[digest] = bound._cache  # most recent last
            while len(self._caches) > 256:
                self._caches.pop(next(iter(self._caches)))
        return bound

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self._http.request(method, path, headers=self._auth or None, **kw)
        except httpx.HTTPError as exc:
            raise Unreachable(path, None, type(exc).__name__) from exc
        return self._answer(path, r)

    def _answer(self, path: str, r: httpx.Response) -> Any:
        if r.status_code >= 500:
            raise Unreachable(path, r.status_code, _detail(r))
        if r.status_code == 404 and _detail(r) == "Not Found":  # no such route
            raise NotAvailable(path, 404, "Not Found")
        if r.status_code == 405:
            raise NotAvailable(path, 405, _detail(r))
        if r.status_code >= 400:
            raise Rejected(path, r.status_code, _detail(r))
        return r.json() if r.content else None

    def get(self, path: str, **params: Any) -> Any:
        clean = {
            k: (_iso(v) if isinstance(v, date | datetime) else v)
            for k, v in params.items()
            if v is not None
        }
        return self._send("GET", path, params=clean)

    def get_bytes(self, path: str, **params: Any) -> bytes:
        """A download (report files): the body as bytes, errors as for :meth:`get`."""
        clean = {k: (_iso(v) if isinstance(v, date | datetime) else v) for k, v in params.items()}
        try:
            r = self._http.request("GET", path, params=clean, headers=self._auth or None)
        except httpx.HTTPError as exc:
            raise Unreachable(path, None, type(exc).__name__) from exc
        if r.status_code >= 400:
            raise (Unreachable if r.status_code >= 500 else Rejected)(
                path, r.status_code, _detail(r)
            )
        return r.content

    def post(self, path: str, body: dict | None = None) -> Any:
        return self._send("POST", path, json=body) if body is not None else self._send("POST", path)

    def patch(self, path: str, body: dict) -> Any:
        return self._send("PATCH", path, json=body)

    def cached(self, key: Any, ttl_s: float, fetch: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and now - entry.at < ttl_s:
                return entry.value
            stale = entry is not None and not entry.refreshing
            if stale:
                entry.refreshing = True
        if stale:
            self.pool.submit(self._revalidate, key, fetch)
            return entry.value
        if entry is not None:  # expired and already being refreshed
            return entry.value
        value = fetch()
        with self._lock:
            self._cache[key] = _Entry(time.monotonic(), value)
            if len(self._cache) > 512:  # old keys (yesterday's windows) age out
                for k, _ in sorted(self._cache.items(), key=lambda kv: kv[1].at)[:128]:
                    self._cache.pop(k, None)
        return value

    def _revalidate(self, key: Any, fetch: Callable[[], Any]) -> None:
        try:
            value = fetch()
        except ApiError:
            with self._lock:
                if key in self._cache:
                    self._cache[key].refreshing = False
            return
        with self._lock:
            self._cache[key] = _Entry(time.monotonic(), value)

    def revalidated(self, key: Any, fresh_s: float, path: str) -> Any:
        """``GET path``, kept ``fresh_s`` seconds, then asked again with the ETag it came with
        (``If-None-Match``): a 304 keeps the value held, anything else replaces it. The API
        away: the value held, if any."""
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and time.monotonic() - entry.at < fresh_s:
                return entry.value
        headers = dict(self._auth)
        if entry is not None and entry.etag:
            headers["If-None-Match"] = entry.etag
        try:
            r = self._http.request("GET", path, headers=headers or None)
            held = entry is not None and r.status_code == 304
            value = entry.value if held else self._answer(path, r)
            etag = r.headers.get("etag")
        except Unreachable:
            if entry is None:
                raise
            value, etag = entry.value, entry.etag  # the API away: held, asked after fresh_s
        except httpx.HTTPError as exc:
            if entry is None:
                raise Unreachable(path, None, type(exc).__name__) from exc
            value, etag = entry.value, entry.etag
        with self._lock:
            self._cache[key] = _Entry(time.monotonic(), value, etag)
        return value

    def submit(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Future:
        return self.pool.submit(fn, *args, **kw)

    # -- what exists -----------------------------------------------------------------------

    def openapi(self) -> dict:
        """The running API's OpenAPI document ({} if it publishes none)."""

        def fetch() -> dict:
            try:
                return self.get("/openapi.json")
            except NotAvailable:
                return {}

        return self.cached(("openapi",), OPENAPI_TTL_S, fetch)

    def _paths(self) -> dict[str, dict]:
        """OpenAPI paths with every ``{param}`` written ``{}``."""
        return {
            re.sub(r"\{[^}]*\}", "{}", p): ops for p, ops in self.openapi().get("paths", {}).items()
        }

    def has(self, path: str, method: str = "get") -> bool:
        """Whether the running API serves ``METHOD /api/v1{path}`` (``{}`` for a parameter)."""
        return method in self._paths().get(API + path, {})

    def body_fields(self, path: str) -> set[str]:
        """Property names of the JSON body of ``POST /api/v1{path}`` (empty if none)."""
        spec = self.openapi()
        op = self._paths().get(API + path, {}).get("post", {})
        schema = (
            op.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        ref = schema.get("$ref") or next(
            (s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None
        )
        if ref:
            schema = spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
        return set(schema.get("properties", {}))

    # -- people -------------------------------------------------------------------------

    def login(self, login: str, password: str) -> dict:
        """(Call it on ``for_token(None, browser_address)``.)"""
        """``{"token", "expires_at", "user"}``; :class:`Rejected` (401/429) when refused."""
        return self._send("POST", f"{API}/auth/login", json={"login": login, "password": password})

    def logout(self) -> None:
        self._send("POST", f"{API}/auth/logout")

    def audit(self, **params: Any) -> list[dict]:
        return self.get(f"{API}/audit", **params)

    def audit_csv(self, **params: Any) -> str:
        clean = {k: v for k, v in params.items() if v}
        try:
            r = self._http.get(
                f"{API}/audit", params={**clean, "format": "csv"}, headers=self._auth or None
            )
        except httpx.HTTPError as exc:
            raise Unreachable(f"{API}/audit", None, type(exc).__name__) from exc
        if r.status_code >= 400:
            raise Rejected(f"{API}/audit", r.status_code, _detail(r))
        return r.text

    def users(self) -> list[dict]:
        return self.get(f"{API}/users")

    def create_user(self, body: dict) -> dict:
        return self.post(f"{API}/users", body)

    def set_user_enabled(self, login: str, enabled: bool) -> dict:
        return self._send("PATCH", f"{API}/users/{login}", json={"enabled": enabled})

    def me(self) -> dict:
        """Who this client's token is (``kind``: session, key or display)."""
        return self.cached(("me",), 1.0, lambda: self.get(f"{API}/auth/me"))

    # -- metering (always there) -----------------------------------------------------------

    def sites(self) -> list[dict]:
        """The sites the person may see: a site created a moment ago, by any process, is
        there on the next page load (see :data:`SITES_FRESH_S`)."""
        return self.revalidated(("sites",), SITES_FRESH_S, f"{API}/sites")

    def meters(self, fresh: bool = False) -> list[dict]:
        """The meter registry (cached a minute; ``fresh``: asked now, e.g. for an editor
        where a meter created a moment ago must be choosable)."""
        if fresh:
            return self.get(f"{API}/meters")
        return self.cached(("meters",), 60.0, lambda: self.get(f"{API}/meters"))

    def update_site(self, code: str, body: dict) -> dict:
        """A site's own settings (``contracted_demand_kw``, ``wall_tiles``); the cached site
        list is dropped so every page sees the change."""
        out = self.patch(f"{API}/sites/{code}", body)
        with self._lock:
            self._cache.pop(("sites",), None)
        return out

    def meter(self, code: str) -> dict:
        return self.get(f"{API}/meters/{code}")

    def series(self, code: str, start: datetime, end: datetime, resolution: str) -> dict:
        return self.get(f"{API}/meters/{code}/series", start=start, end=end, resolution=resolution)

    def totals(self, site: str, start: datetime, end: datetime) -> dict:
        return self.get(f"{API}/sites/{site}/totals", start=start, end=end)

    def load(self, site: str, start: datetime, end: datetime, resolution: str = "15m") -> dict:
        """The site balance and load as the API computes them (``/sites/{code}/load``)."""
        return self.get(f"{API}/sites/{site}/load", start=start, end=end, resolution=resolution)

    # -- optional domains (check ``has`` first) --------------------------------------------

    def emissions(self, site: str, start: datetime, end: datetime) -> dict:
        return self.get(f"{API}/carbon/emissions", site=site, start=start, end=end)

    def carbon_series(self, site: str, start: datetime, end: datetime, resolution: str) -> dict:
        return self.get(
            f"{API}/carbon/series", site=site, start=start, end=end, resolution=resolution
        )

    def intensity(self, site: str, period: str, day: date, as_of: datetime | None = None) -> dict:
        """Intensity KPIs; ``as_of`` cuts a period in progress (default: the API's now)."""
        return self.get(f"{API}/kpis/intensity", site=site, period=period, date=day, as_of=as_of)

    def forecasts(self, site: str, target: str, start: datetime, end: datetime) -> Any:
        return self.get(f"{API}/forecasts", site=site, target=target, start=start, end=end)

    def forecast(self, subject: dict, horizon: str, target: str = "load") -> dict:
        """The newest forecast of ``{"site": …}`` or ``{"meter": …}`` over ``horizon``."""
        return self.get(f"{API}/forecasts", target=target, horizon=horizon, **subject)

    def forecast_accuracy(self, subject: dict, days: int, target: str = "load") -> dict:
        return self.get(f"{API}/forecasts/accuracy", target=target, days=days, **subject)

    def past_forecasts(self, subject: dict, horizon: str, days: int, target: str = "load") -> dict:
        return self.get(
            f"{API}/forecasts/past", target=target, horizon=horizon, days=days, **subject
        )

    def scorecard(self, site: str, year: int) -> dict:
        return self.get(f"{API}/zero-carbon/scorecard", site=site, year=year)

    def offsets(self, site: str, year: int) -> dict:
        return self.get(f"{API}/offsets", site=site, year=year)

    def collector_devices(self, site: str) -> list[dict]:
        return self.get(f"{API}/collectors/devices", site=site)

    def collection_rate(self, site: str, start: datetime, end: datetime) -> dict:
        return self.get(f"{API}/collection-rate", site=site, start=start, end=end)

    def carbon_assets(self, site: str) -> list[dict]:
        return self.get(f"{API}/carbon-assets", site=site)

    def benchmarking(self, site: str, start: datetime, end: datetime) -> dict:
        return self.get(f"{API}/benchmarking", site=site, start=start, end=end)

    def balance(self, site: str, start: datetime, end: datetime, carrier: str) -> dict:
        return self.get(f"{API}/sites/{site}/balance", start=start, end=end, carrier=carrier)

    def process_trend(self, code: str, start: datetime, end: datetime) -> dict:
        return self.get(f"{API}/processes/{code}/trend", start=start, end=end, resolution="day")

    def recommendations(self, site: str) -> list[dict]:
        return self.get(f"{API}/recommendations", site=site)

    def set_recommendation_status(self, rec_id: int, status: str, reason: str | None) -> Any:
        body = {"status": status, **({"reason": reason} if reason else {})}
        return self._send("PATCH", f"{API}/recommendations/{rec_id}", json=body)

    def alarms(self, state: str = "active") -> Any:
        return self.get(f"{API}/alarms", state=state)

    def costs(self, site: str, start: datetime, end: datetime) -> dict:
        return self.get(f"{API}/costs", site=site, start=start, end=end)

    def budget_status(self, site: str, quantity: str, period: str) -> dict:
        return self.get(f"{API}/budgets/status", site=site, quantity=quantity, period=period)

    def budgets(self, site: str | None = None) -> list[dict]:
        return self.get(f"{API}/budgets", **({"site": site} if site else {}))

    def alarm_action(
        self, alarm_id: str, action: str, comment: str | None = None, shelve_s: float | None = None
    ) -> Any:
        """``ack``, ``shelve``, ``unshelve``, ``comment``, ``out-of-service``, … with only
        the body fields the alarm service declares (it owns their names): the comment, and
        for shelving the first of duration / until / minutes it accepts."""
        fields = self.body_fields(f"/alarms/{{}}/{action}")
        body: dict[str, Any] = {}
        if comment and "comment" in fields:
            body["comment"] = comment
        if shelve_s is not None:
            until = (datetime.now(UTC) + timedelta(seconds=shelve_s)).isoformat()
            for name, value in (
                ("duration_s", shelve_s),
                ("until", until),
                ("minutes", shelve_s / 60),
                ("expires_at", until),
                ("shelved_until", until),
            ):
                if name in fields:
                    body[name] = value
                    break
        return self.post(f"{API}/alarms/{alarm_id}/{action}", body or None)

    def alarm_rules(self) -> Any:
        return self.get(f"{API}/alarm-rules")

    def create_rule(self, body: dict) -> Any:
        return self.post(f"{API}/alarm-rules", body)

    def alarm_rule(self, rule_id: int) -> dict:
        return self.get(f"{API}/alarm-rules/{rule_id}")

    def update_rule(self, rule_id: int, body: dict) -> Any:
        return self._send("PATCH", f"{API}/alarm-rules/{rule_id}", json=body)

    def delete_rule(self, rule_id: int) -> None:
        self._send("DELETE", f"{API}/alarm-rules/{rule_id}")

    def rule_types(self) -> dict:
        """The rule-type catalog (each type's fields, units, help in both languages)."""
        return self.cached(("rule-types",), 300.0, lambda: self.get(f"{API}/alarm-rules/types"))

    def try_rule(self, body: dict, days: float = 7.0) -> dict:
        """How many alarms the (unsaved) rule would have raised over the last ``days``."""
        return self._send("POST", f"{API}/alarm-rules/try", json=body, params={"days": days})

    def alarm(self, alarm_id: int | str) -> dict:
        return self.get(f"{API}/alarms/{alarm_id}")

    def alarm_history(self, alarm_id: int | str) -> list[dict]:
        return self.get(f"{API}/alarms/{alarm_id}/history")

    def alarm_events(self, start: datetime, end: datetime, limit: int = 1000) -> list[dict]:
        """The newest ``limit`` events of (start, end]."""
        return self.get(f"{API}/alarms/events", start=start, end=end, limit=limit)

    def alarm_metrics(
        self, start: datetime, end: datetime, operators: int = 1, site: str | None = None
    ) -> dict:
        """The alarm KPIs of ``site``'s subtree or, without it, of every site the caller sees."""
        return self.get(
            f"{API}/alarms/metrics", start=start, end=end, operators=operators, site=site
        )
