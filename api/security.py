"""Per-request plumbing of the API: a request id, security headers, the audit row of a write
that changed no audited record, and the API docs served from the package's own assets."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accounts import audit
from core.settings import Settings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Writes with their own record: readings are in ingest_log; sign-in/out record themselves.
UNAUDITED = ("/api/v1/readings",)
DOCS_ASSETS = "/docs-assets"


def security_headers(settings: Settings, docs: bool) -> dict[str, str]:
    frame = f"frame-ancestors {settings.frame_ancestors}"
    csp = (
        f"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
        f"'unsafe-inline'; img-src 'self' data:; connect-src 'self'; {frame}"
        if docs
        else f"default-src 'none'; {frame}"
    )
    return {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "SAMEORIGIN" if "'self'" in settings.frame_ancestors else "",
        "cross-origin-opener-policy": "same-origin",
    }


class RequestPlumbing:
    """ASGI middleware: request id in and out, security headers, fallback audit row."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.api_headers = security_headers(settings, docs=False)
        self.docs_headers = security_headers(settings, docs=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        method, path = scope["method"], scope["path"]
        ctx = audit.Context(request_id=rid, method=method, path=path)
        scope.setdefault("state", {})["audit"] = ctx
        status = 0
        docs = path.startswith(("/docs", DOCS_ASSETS))
        extra = self.docs_headers if docs else self.api_headers

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = rid
                for k, v in extra.items():
                    if v and k not in headers:
                        headers[k] = v
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if (
            method in WRITES
            and 200 <= status < 300
            and not ctx.recorded
            and ctx.who() is not None
            and not path.startswith(UNAUDITED)
        ):
            await run_in_threadpool(self._record_request, scope, ctx, status)

    def _record_request(self, scope: Scope, ctx: audit.Context, status: int) -> None:
        state = scope["app"].state.ecc
        with state.sessions() as session:
            audit.record(session, ctx, "request", "request", after={"status": status})
            session.commit()


def serve_docs_locally(app: FastAPI) -> None:
    """Swagger UI from the ``swagger-ui-bundle`` package's files, never from a CDN."""
    import swagger_ui_bundle

    app.mount(
        DOCS_ASSETS,
        StaticFiles(directory=Path(swagger_ui_bundle.swagger_ui_path)),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )
