"""Sign-in for the dashboard: every page but the wall needs a signed-in person.

* ``/login`` (inputs ``login`` and ``password``) asks the API for a session and keeps its token
  in an HttpOnly, SameSite=Lax cookie (Secure when served over HTTPS); ``/logout`` ends it.
* Callbacks call the API with *that person's* token (``runtime.api()``); without a session a
  callback may only feed the wall, which reads with the dashboard's display token (read-only,
  one site): the API refuses anything else.
* Cross-site requests: every POST must come from this origin (``Origin``/``Sec-Fetch-Site``),
  the sign-in and sign-out forms carry a double-submit token, callbacks are JSON only.
* Security headers on every answer (CSP with frame-ancestors from ECC_FRAME_ANCESTORS).
"""

from __future__ import annotations

import contextlib
import hmac
import html
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

import flask

from core.settings import Settings
from dashboard.client import ApiClient, ApiError, Rejected, Unreachable
from dashboard.i18n import current, t

SESSION_COOKIE = "ecc_session"
CSRF_COOKIE = "ecc_csrf"
PUBLIC_PAGES = ("/wall", "/login", "/logout")
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon", "/_reload-hash")
WALL_ID_PREFIX = "wall"
PAGE_ROUTER = {"_pages_content", "_pages_store"}


def token() -> str | None:
    """The signed-in person's API session token, if this request carries one."""
    if not flask.has_request_context():
        return None
    return flask.request.cookies.get(SESSION_COOKIE) or None


# What ``/auth/me`` lists in ``may`` for whoever may change a site's settings (the API's own
# role set by name; no role is named here).
CONFIGURE = "configure"


def may(person: Mapping | None, ability: str) -> bool:
    """Whether a person (as ``/auth/me`` has them) holds ``ability``; nobody signed in holds
    none."""
    return person is not None and ability in (person.get("may") or ())


def is_public(path: str) -> bool:
    """Whether the page at ``path`` opens without signing in (the wall, the home page that
    shows it, sign-in and sign-out)."""
    return path == "/" or path in PUBLIC_PAGES


def may_open(person: Mapping | None, path: str, need: str | None = None) -> bool:
    """Whether a person (as ``/auth/me`` has them, None when nobody is signed in) may open the
    page at ``path``: a public page anybody, any other page a signed-in person who, when the
    page names a ``need`` (one of the names ``/auth/me`` lists in ``may``), holds it. The one
    rule of who may open which page: the gate asks it before serving a page, the top bar before
    showing a link."""
    if is_public(path):
        return True
    return person is not None and (need is None or may(person, need))


def may_configure(person: Mapping | None) -> bool:
    """Whether a person may change settings (a site's contract and wall tiles): the editable
    form for them, the read-only one for the rest (the API refuses their save anyway)."""
    return may(person, CONFIGURE)


def browser() -> str | None:
    """The browser's address (forwarded to the API for its per-client limits)."""
    return flask.request.remote_addr if flask.has_request_context() else None


def _secure() -> bool:
    req = flask.request
    return req.is_secure or req.headers.get("X-Forwarded-Proto", "") == "https"


def _same_origin() -> bool:
    req = flask.request
    if req.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return False
    origin = req.headers.get("Origin") or req.headers.get("Referer")
    if not origin:
        return True  # not a browser's cross-site request (those always say where from)
    return urlsplit(origin).netloc == req.host


def _outputs_only_wall() -> bool:
    """A Dash callback that only updates wall components (allowed without a session)."""
    try:
        body = json.loads(flask.request.get_data(cache=True) or b"{}")
    except ValueError:
        return False
    outputs = body.get("outputs", [])
    outputs = outputs if isinstance(outputs, list) else [outputs]
    ids = [o.get("id") for o in outputs if isinstance(o, dict)]
    if ids and all(isinstance(i, str) and i.startswith(WALL_ID_PREFIX) for i in ids):
        return True
    if set(ids) <= PAGE_ROUTER and ids:  # Dash pages renders the layout of a path
        inputs = body.get("inputs", [])
        paths = [
            i.get("value")
            for i in inputs
            if isinstance(i, dict)
            and i.get("id") == "_pages_location"
            and i.get("property") == "pathname"
        ]
        return bool(paths) and all(isinstance(p, str) and may_open(None, p) for p in paths)
    return False


def headers(settings: Settings) -> dict[str, str]:
    csp = (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        f"frame-ancestors {settings.frame_ancestors}"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def install(server: flask.Flask, settings: Settings, api: ApiClient) -> None:
    extra = headers(settings)

    def signed_in() -> dict | None:
        tok = token()
        if tok is None:
            return None
        try:
            me = api.for_token(tok, browser()).me()
        except Rejected:
            return None
        except Unreachable:
            return {"name": "?", "login": None, "kind": "session"}  # the API will decide
        return me if me.get("kind") == "session" else None

    @server.before_request
    def gate():  # noqa: ANN202  (a Flask hook)
        req = flask.request
        path = req.path
        if req.method == "POST" and not _same_origin():
            return flask.Response("cross-site request refused", status=403)
        if path.startswith(PUBLIC_PREFIXES) or is_public(path):
            return None
        if path == "/_dash-update-component":
            if "json" not in req.headers.get("Content-Type", ""):
                return flask.Response("callbacks are JSON", status=415)
            if token() is None and not _outputs_only_wall():
                return flask.Response("sign in first", status=401)
            return None
        if path.startswith("/_dash-"):  # layout, dependencies: the shell itself
            return None
        if not may_open(signed_in(), path):  # a role a page needs: the API refuses, it says
            nxt = req.full_path.rstrip("?")
            resp = flask.redirect(f"/login?next={flask.request.script_root}{nxt}")
            if token() is not None:  # an ended or revoked session: forget it
                resp.delete_cookie(SESSION_COOKIE, path="/")
            return resp
        return None

    @server.after_request
    def secure_headers(resp: flask.Response) -> flask.Response:
        for k, v in extra.items():
            resp.headers.setdefault(k, v)
        resp.headers.pop("Server", None)
        return resp

    @server.get("/login")
    def login_form():  # noqa: ANN202
        return _form(flask.request.args.get("next", "/engineer"), error=None)

    @server.post("/login")
    def login_submit():  # noqa: ANN202
        form = flask.request.form
        nxt = _safe_next(form.get("next", "/engineer"))
        if not _csrf_ok(form.get("csrf")):
            return flask.Response("cross-site request refused", status=403)
        lang = current()
        try:
            answer = api.for_token(None, browser()).login(
                form.get("login", ""), form.get("password", "")
            )
        except Rejected as exc:
            key = "sign_in_locked" if exc.status == 429 else "sign_in_failed"
            return _form(nxt, error=t(key, lang), status=exc.status)
        except ApiError:
            return _form(nxt, error=t("reconnecting", lang), status=503)
        resp = flask.redirect(nxt)
        expires = datetime.fromisoformat(answer["expires_at"])
        resp.set_cookie(
            SESSION_COOKIE,
            answer["token"],
            expires=expires,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=_secure(),
        )
        return resp

    @server.post("/logout")
    def logout():  # noqa: ANN202
        if not _csrf_ok(flask.request.form.get("csrf")):
            return flask.Response("cross-site request refused", status=403)
        tok = token()
        if tok is not None:
            with contextlib.suppress(ApiError):  # already ended or the API is away
                api.for_token(tok, browser()).logout()
        resp = flask.redirect("/login")
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp


def csrf_token() -> str:
    """This browser's double-submit token (set as a cookie by ``_form``/the shell)."""
    existing = flask.request.cookies.get(CSRF_COOKIE) if flask.has_request_context() else None
    if existing:
        return existing
    fresh = secrets.token_urlsafe(24)
    if flask.has_request_context():

        @flask.after_this_request
        def _set(resp: flask.Response) -> flask.Response:
            resp.set_cookie(
                CSRF_COOKIE, fresh, path="/", httponly=True, samesite="Strict", secure=_secure()
            )
            return resp

    return fresh


def _csrf_ok(given: str | None) -> bool:
    expected = flask.request.cookies.get(CSRF_COOKIE)
    return bool(given and expected and hmac.compare_digest(given, expected))


def _safe_next(nxt: str) -> str:
    """Only a path of this site (no open redirect)."""
    parts = urlsplit(nxt)
    if parts.scheme or parts.netloc or not nxt.startswith("/") or nxt.startswith("//"):
        return "/engineer"
    return nxt


def _form(nxt: str, error: str | None, status: int = 200) -> flask.Response:
    lang = current()
    esc = html.escape
    err = f'<p class="note msg-error" id="login-error">{esc(error)}</p>' if error else ""
    body = f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{esc(t("sign_in", lang))} — ECC</title>
<link rel="stylesheet" href="/assets/ecc.css"></head>
<body class="login-page"><main class="login-box">
<h1>{esc(t("app_title", lang))}</h1>
<form method="post" action="/login" id="login-form">
<input type="hidden" name="csrf" value="{esc(csrf_token())}">
<input type="hidden" name="next" value="{esc(_safe_next(nxt))}">
<label>{esc(t("login_name", lang))}<input name="login" id="login" autocomplete="username"
 required autofocus></label>
<label>{esc(t("password", lang))}<input name="password" id="password" type="password"
 autocomplete="current-password" required></label>
<button type="submit" class="btn" id="login-submit">{esc(t("sign_in", lang))}</button>
{err}</form>
<p><a href="/wall">{esc(t("nav_wall", lang))}</a></p>
</main></body></html>"""
    resp = flask.make_response(body, status)
    resp.headers["Cache-Control"] = "no-store"
    return resp
