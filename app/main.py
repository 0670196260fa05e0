"""The application factory. Nothing here touches the database at import time."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.config import PROJECT_ROOT, Settings, get_settings
from app.db import engine_for
from app.errors import DomainError
from app.i18n import gettext, negotiate_language, set_language

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Voortgang",
        summary="Progress tracker for government programmes",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine_for(settings)

    @app.middleware("http")
    async def language_and_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        language = negotiate_language(request.query_params.get("lang"), request.cookies.get("lang"))
        set_language(language)
        request.state.language = language
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if "text/html" in response.headers.get("content-type", ""):
            response.headers.setdefault("Content-Language", language)
        return response

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        return _error_response(request, error.status_code, error.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": error.errors()}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
            for item in error.errors()
        )
        return _error_response(request, 422, gettext("Invalid input") + f" ({problems})")

    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")

    from app.api.routes import router as api_router
    from app.board.routes import router as board_router

    app.include_router(board_router)
    app.include_router(api_router)
    return app


def _error_response(request: Request, status_code: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status_code)
    from app.web import render

    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        block="error",
        status_code=status_code,
    )
