"""The application factory. Nothing here touches the database at import time."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, quote

from asgi_csrf import Errors, asgi_csrf
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Every table on the metadata before the first flush resolves foreign keys.
from app import models  # noqa: F401
from app.accounts.routes import router as accounts_router
from app.activities.routes import router as activities_router
from app.admin.routes import router as admin_router
from app.api.openapi import api_schema
from app.api.routes import router as api_router
from app.audit import service as audit
from app.audit.models import AuditSource
from app.board.routes import router as board_router
from app.cache import RevisionCache
from app.compare.routes import router as compare_router
from app.config import PROJECT_ROOT, Settings, get_settings
from app.csrf_masking import mask_token, unmask_token
from app.db import DatabaseBusy, RequestTurns, engine_for, is_database_busy
from app.deps import refuse_control_characters_in_url
from app.errors import DomainError
from app.exports.routes import router as exports_router
from app.i18n import gettext, negotiate_language, set_language, translations_for
from app.imports.routes import router as imports_router
from app.jobs.routes import router as jobs_router
from app.jobs.service import Sweeper
from app.monitor.indicator_forms import router as monitor_indicator_forms_router
from app.monitor.routes import router as monitor_router
from app.monitor.sheets import router as monitor_sheets_router
from app.periods.routes import router as periods_router
from app.permissions import NotSignedIn, enforce_route_rule
from app.public.monitor import router as public_monitor_router
from app.public.recommendations import router as public_recommendations_router
from app.public.routes import router as public_router
from app.recommendations.follow_up_routes import router as follow_up_router
from app.recommendations.forms import router as recommendation_forms_router
from app.recommendations.routes import router as recommendations_router
from app.reminders.routes import router as reminders_router
from app.revalidation import install_revalidation, revalidate
from app.review.routes import router as review_router
from app.web import is_htmx, load_header_programmes, render

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# uvicorn's own logger, so at the level `uvicorn --log-level` sets (INFO shows this one).
server_log = logging.getLogger("uvicorn.error")

# How long a client is asked to wait when the database is busy.
RETRY_AFTER_SECONDS = 2


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production_ready()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Without a `voortgang worker` (JOBS_IN_WEB), every web process also takes up the
        # jobs that a stopped process left, at its start and then regularly.
        sweeper = Sweeper(app.state.engine, settings) if settings.jobs_in_web else None
        if sweeper:
            sweeper.start()
        try:
            yield
        finally:
            if sweeper:
                await asyncio.to_thread(sweeper.stop)
            # The revision cache's hits and misses in this process (bench/run.py adds up the
            # workers' lines for the hit rate; no route shows them).
            server_log.info(
                "Revision cache counts (process %d): %s",
                os.getpid(),
                json.dumps(app.state.cache.counts()),
            )

    app = FastAPI(
        lifespan=lifespan,
        title="Voortgang",
        summary="Progress tracker for government programmes",
        version="0.1.0",
        # The schema and the interactive docs are served by routes of our own (with their
        # permission rules); FastAPI's would load Swagger UI from a CDN, which the CSP forbids.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI checks on every request whether an OpenTelemetry provider was configured
        # (OPENTELEMETRY): None keeps its defaults, the rest turns every kind off.
        telemetry=None
        if settings.opentelemetry
        else {"tracing": False, "metrics": False, "logs": False},
        dependencies=[
            Depends(refuse_control_characters_in_url),
            Depends(enforce_route_rule),
            Depends(revalidate),
            Depends(load_header_programmes),
        ],
    )
    app.state.settings = settings
    app.state.engine = engine_for(settings)
    app.state.database_turns = RequestTurns(settings.database_pool_size, settings.database_timeout)
    app.state.cache = RevisionCache(max_entries=settings.cache_size)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, error: NotSignedIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": error.message},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = request.url_for("sign_in_form").path + "?next=" + quote(target, safe="")
        if request.headers.get("HX-Request") == "true":
            # htmx follows HX-Redirect with a full page load.
            return Response(status_code=401, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        return _error_response(request, error.status_code, error.message)

    @app.exception_handler(DatabaseBusy)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, error: Exception) -> Response:
        if not is_database_busy(error):
            raise error
        response = _error_response(
            request, 503, gettext("The database is busy. Try again in a moment.")
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
            for item in error.errors()
        )
        response = _error_response(request, 422, gettext("Invalid input") + f" ({problems})")
        if is_htmx(request):
            # Above the page, not in place of the form: what was typed stays to be corrected.
            response.headers["HX-Retarget"] = "#htmx-error"
            response.headers["HX-Reswap"] = "innerHTML"
        return response

    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")

    app.include_router(accounts_router)
    app.include_router(board_router)
    app.include_router(activities_router)
    app.include_router(admin_router)
    app.include_router(api_router)
    app.include_router(periods_router)
    app.include_router(review_router)
    app.include_router(monitor_indicator_forms_router)
    app.include_router(monitor_router)
    app.include_router(recommendations_router)
    app.include_router(recommendation_forms_router)
    app.include_router(follow_up_router)
    app.include_router(compare_router)
    app.include_router(reminders_router)
    app.include_router(jobs_router)
    app.include_router(exports_router)
    app.include_router(imports_router)
    app.include_router(monitor_sheets_router)
    # Before the progress report's routes: /public/monitor/ is no programme's address.
    app.include_router(public_monitor_router)
    app.include_router(public_recommendations_router)
    app.include_router(public_router)

    @app.get("/api/openapi.json", include_in_schema=False, name="openapi")
    def openapi() -> JSONResponse:
        return JSONResponse(api_schema(app))

    # Swagger UI from static/vendor (the CSP allows no script from elsewhere, nor inline).
    @app.get("/api-docs", include_in_schema=False, name="api_docs")
    def api_docs(request: Request) -> Response:
        return render(request, "api/docs.html", {})

    app.add_middleware(
        CSRFMiddleware,
        signing_secret=settings.secret_key,
        cookie_secure=settings.secure_cookies,
        # Forms sent without a session cookie must be protected too (login CSRF): signing
        # in, asking for a reset link, choosing a password with a link.
        always_protect={"/sign-in", "/password/forgot", "/password/set"},
        send_csrf_failed=_csrf_failed,
    )
    install_revalidation(app, settings.secret_key)
    # Outermost, so that every response (a refused form too) gets the headers.
    app.add_middleware(LanguageAndHeadersMiddleware, https_only=settings.secure_cookies)
    return app


# Production runs behind HTTPS: browsers are told to use nothing else for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


class LanguageAndHeadersMiddleware:
    """Pure ASGI (Starlette's BaseHTTPMiddleware costs a task per request): picks the
    language for the request, says where its audited changes come from, and adds the security
    headers to every response, an error the app did not handle too: Starlette answers that
    outside every middleware, so this sends the 500 itself (and lets the error go on to be
    logged)."""

    def __init__(self, app: ASGIApp, *, https_only: bool = False) -> None:
        self.app = app
        self.https_only = https_only
        # Added to every response that does not set them itself.
        self.headers = [
            *(
                [(b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode())]
                if https_only
                else []
            ),
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query_string = scope.get("query_string", b"")
        query = (
            parse_qs(query_string.decode("latin-1")).get("lang", [None])[0]
            if b"lang=" in query_string
            else None
        )
        language = negotiate_language(query, _cookie(scope, "lang"))
        set_language(language)
        scope.setdefault("state", {})["language"] = language
        # Changes made by this request are audited as coming from the API or the web (an
        # import's as an import): the context is the request's own.
        audit.set_source(AuditSource.api if scope["path"].startswith("/api/") else AuditSource.web)

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # The headers a response has not set itself, added as they are (each
                # MutableHeaders.setdefault would look through them all again).
                raw = MutableHeaders(scope=message).raw
                present = {name.lower(): value for name, value in raw}
                raw += [item for item in self.headers if item[0] not in present]
                if b"content-language" not in present and b"text/html" in present.get(
                    b"content-type", b""
                ):
                    raw.append((b"content-language", language.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await _server_error(scope, send_with_headers, language)
            raise


# The largest multipart form body read to find its CSRF token (uploads are smaller: see
# app/imports/parsing.py); a larger one is refused before the app sees it.
MAX_MULTIPART_BYTES = 20 * 1024 * 1024
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MULTIPART_STAND_IN = b"application/x-voortgang-multipart"


class CSRFMiddleware:
    """asgi-csrf (a signed double-submit cookie) as a Starlette middleware: every POST,
    PUT, PATCH and DELETE must carry the token in the form field `csrftoken` or the header
    `x-csrftoken`; requests with a bearer token (the API) need none.

    Pages print the token masked afresh for every response (app/csrf_masking.py, against
    BREACH); what a request sends is unmasked here, before asgi-csrf compares it with the
    cookie: the header in place, a form's field handed to asgi-csrf as the header.

    asgi-csrf reads urlencoded forms itself, but its multipart reading no longer works with
    current python-multipart. So for a multipart form (a file upload) this reads the body once
    with Starlette's parser and hands asgi-csrf the token as the header (the header the request
    sent, else the form's field), under a stand-in content type so that asgi-csrf never parses
    the body itself; the app then gets the original request back. asgi-csrf still decides."""

    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.app = asgi_csrf(_RestoreContentType(app), **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not headers.get(b"cookie") or headers.get(b"authorization", b"").startswith(b"Bearer "):
            # asgi-csrf checks nothing without cookies (nothing to forge) or with a bearer
            # token (the API), so the body is left for the app to read under its own limits.
            await self.app(scope, receive, send)
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        multipart = content_type.startswith("multipart/form-data")
        sent = headers.get(b"x-csrftoken")
        if sent is not None and not multipart:
            await self.app(_with_token(scope, sent.decode("latin-1")), receive, send)
            return
        if not multipart and not content_type.startswith("application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_MULTIPART_BYTES:
                await _plain_response(send, 413, "Request body too large.")
                return
            if not message.get("more_body", False):
                break
        content = bytes(body)

        def replay() -> Receive:
            sent = False

            async def receive_again() -> Message:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": content, "more_body": False}

            return receive_again

        if not multipart:
            fields = parse_qs(content.decode("utf-8", "replace"))
            token = fields.get("csrftoken", [""])[0]
            await self.app(_with_token(scope, token), replay(), send)
            return
        token = (sent or b"").decode("latin-1")
        if not token:
            try:
                form = await Request(scope, replay()).form()
                token = str(form.get("csrftoken") or "")
                await form.close()
            except Exception:  # noqa: BLE001 - a malformed body has no token: refused below
                token = ""
        checked = {
            **_with_token(scope, token),
            "voortgang.content_type": headers[b"content-type"],
        }
        checked["headers"] = [
            *(item for item in checked["headers"] if item[0] != b"content-type"),
            (b"content-type", MULTIPART_STAND_IN),
        ]
        await self.app(checked, replay(), send)


def _with_token(scope: Scope, token: str) -> Scope:
    """The request with the token it sent, unmasked, as the header asgi-csrf checks first."""
    headers = [(name, value) for name, value in scope["headers"] if name != b"x-csrftoken"]
    headers.append((b"x-csrftoken", unmask_token(token).encode("latin-1", "replace")))
    return {**scope, "headers": headers}


class _RestoreContentType:
    """Inside asgi-csrf: give the app the multipart request's own content type back, and
    pages the token masked (each time it is asked for: see app/csrf_masking.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        original = scope.get("voortgang.content_type")
        if original is not None:
            headers = [(n, v) for n, v in scope["headers"] if n != b"content-type"]
            scope = {**scope, "headers": [*headers, (b"content-type", original)]}
        token = scope.get("csrftoken")
        if token is not None:
            scope = {**scope, "csrftoken": lambda: mask_token(token())}
        await self.app(scope, receive, send)


async def _plain_response(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _server_error(scope: Scope, send: Send, language: str) -> None:
    text = translations_for(language).gettext("Something went wrong")
    if scope["path"].startswith("/api/"):
        body, content_type = JSONResponse({"detail": text}).body, b"application/json"
    else:
        body, content_type = text.encode(), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": bytes(body)})


async def _csrf_failed(scope: Scope, send: Send, message_id: Errors) -> None:
    language = negotiate_language(None, _cookie(scope, "lang"))
    set_language(language)
    translations = translations_for(language)
    if str(scope.get("path", "")).startswith("/api/"):
        # A request of the API signed in with the session cookie (the API documentation's
        # "Try it out"): the documented JSON error (ErrorOut).
        text = translations.gettext(
            "This request has no valid CSRF token: send the value of the csrftoken cookie in "
            "the x-csrftoken header, or use an API token."
        )
        body = json.dumps({"detail": text}, ensure_ascii=False).encode()
        content_type = b"application/json"
    else:
        text = translations.gettext(
            "This form has expired or did not come from this site. Reload the page and try again."
        )
        body = text.encode()
        content_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _cookie(scope: Scope, name: str) -> str | None:
    """A cookie's value, read as Starlette's Request.cookies reads it (http.cookies'
    SimpleCookie costs more than the rest of a 304: every request asks for the language)."""
    wanted = name.encode("latin-1") + b"="
    for key, value in scope.get("headers", []):
        if key == b"cookie" and wanted in value:
            found = cookie_parser(value.decode("latin-1")).get(name)
            if found is not None:
                return found
    return None


def _error_response(request: Request, status_code: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status_code)
    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        block="error",
        status_code=status_code,
    )
