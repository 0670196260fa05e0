"""Sign-in, sign-out and the account page (API tokens)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts import service
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.deps import SessionDep, SettingsDep
from app.permissions import SESSION_COOKIE, CurrentUserDep, client_address, current_user
from app.web import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only local paths: never send anyone to another site after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\\\" not in target:
        return target
    return "/"


@router.get("/sign-in", name="sign_in_form", include_in_schema=False)
def sign_in_form(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/sign_in.html", {"next": safe_next(next), "email": ""})


@router.post("/sign-in", name="sign_in", include_in_schema=False)
def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    address = client_address(request)
    try:
        user = service.authenticate(session, email=email, password=password, address=address)
    except (service.SignInFailed, service.SignInThrottled) as error:
        # Answered with a page, not raised: the request's transaction commits, and with it the
        # failed attempt the throttle counts.
        return render(
            request,
            "accounts/sign_in.html",
            {"next": safe_next(next), "email": email, "error": error.message},
            status_code=error.status_code,
        )
    token = service.start_session(
        session,
        user,
        lifetime=timedelta(hours=settings.session_hours),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    audit.record(
        session,
        actor=None,
        actor_label=f"{user.name} <{user.email}>",
        action="user.sign_in",
        object_type="user",
        object_id=user.id,
        address=address,
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies or request.url.scheme == "https",
    )
    return response


@router.post("/sign-out", name="sign_out", include_in_schema=False)
def sign_out(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    user = current_user(request)
    if token:
        service.end_session(session, token)
    if user:
        audit.record(
            session,
            actor=user,
            action="user.sign_out",
            object_type="user",
            object_id=user.id,
            address=client_address(request),
        )
    response = RedirectResponse(request.url_for("sign_in_form").path, status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _account_page(request: Request, session: Session, user: CurrentUser, **extra: Any) -> Response:
    return render(
        request,
        "accounts/account.html",
        {
            "tokens": service.list_api_tokens(session, user.id),
            "organisations": service.user_organisation_codes(session, user.id),
            **extra,
        },
        status_code=extra.pop("status_code", 200),
    )


@router.get("/account", name="account", include_in_schema=False)
def account(request: Request, session: SessionDep, user: CurrentUserDep) -> Response:
    return _account_page(request, session, user)


@router.post("/account/tokens", name="create_token", include_in_schema=False)
def create_token(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        token, secret = service.create_api_token(session, user, name=name)
    except service.InvalidInput as error:
        return _account_page(request, session, user, error=error.message, status_code=422)
    audit.record(
        session,
        actor=user,
        action="token.create",
        object_type="api_token",
        object_id=token.id,
        summary=token.name,
        address=client_address(request),
    )
    # The secret is shown once, on this response only.
    return _account_page(request, session, user, new_secret=secret, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", name="revoke_token", include_in_schema=False)
def revoke_token(
    request: Request, session: SessionDep, user: CurrentUserDep, token_id: int
) -> Response:
    token = service.revoke_api_token(session, user, token_id)
    audit.record(
        session,
        actor=user,
        action="token.revoke",
        object_type="api_token",
        object_id=token.id,
        summary=token.name,
        address=client_address(request),
    )
    return RedirectResponse(request.url_for("account").path, status_code=303)
