"""Sign-in, sign-out, choosing a password through a link (a reset or an invitation) and the
account page (changing one's password, API tokens)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.accounts import password_mail, service
from app.accounts.models import TokenPurpose
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.deps import SessionDep, SettingsDep
from app.i18n import N_, get_language, gettext
from app.permissions import SESSION_COOKIE, CurrentUserDep, client_address, current_user
from app.text import TEXT, Text
from app.web import render

router = APIRouter()

# Messages shown after a redirect (?done=...): fixed texts, never echoed from the URL.
SIGN_IN_DONE = {"password": N_("Your password is set. Sign in with it.")}
ACCOUNT_DONE = {
    "password": N_(
        "Your password is changed. Everywhere else you were signed in, you are signed out now."
    )
}


def _done(request: Request, messages: dict[str, str]) -> str:
    message = messages.get(request.query_params.get("done", ""))
    return gettext(message) if message else ""


def safe_next(target: str | None) -> str:
    """Only local paths: never send anyone to another site after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\\\" not in target:
        return target
    return "/"


@router.get("/sign-in", name="sign_in_form", include_in_schema=False)
def sign_in_form(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "accounts/sign_in.html",
        {"next": safe_next(next), "email": "", "done": _done(request, SIGN_IN_DONE)},
    )


@router.post("/sign-in", name="sign_in", include_in_schema=False)
def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254), TEXT] = "",
    password: Annotated[str, Form(max_length=1000), TEXT] = "",
    next: Annotated[Text, Form()] = "/",
) -> Response:
    address = client_address(request)
    try:
        user = service.authenticate(session, email=email, password=password, address=address)
    except (service.SignInFailed, service.SignInThrottled) as error:
        # Answered with a page, not raised: the failed attempt (or the removal of an attempt
        # the throttle refused) is committed already, and the page renders with no
        # transaction open (on SQLite: without the write lock).
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
        action=AuditAction.user_sign_in,
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
            action=AuditAction.user_sign_out,
            object_type="user",
            object_id=user.id,
            address=client_address(request),
        )
    response = RedirectResponse(request.url_for("sign_in_form").path, status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _no_store(response: Response) -> Response:
    """A page reached with a secret link: kept out of caches, and the link out of Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _forgot_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    return _no_store(
        render(
            request,
            "accounts/forgot_password.html",
            {"email": "", "sent": False, **context},
            status_code=status_code,
        )
    )


@router.get("/password/forgot", name="forgot_password_form", include_in_schema=False)
def forgot_password_form(request: Request) -> Response:
    return _forgot_page(request)


@router.post("/password/forgot", name="forgot_password", include_in_schema=False)
def forgot_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=254), TEXT] = "",
) -> Response:
    """The same answer for every e-mail address, with or without an account: the request is
    counted (and throttled) alike, and the account is only looked up after the answer has
    gone out."""
    email = email.strip()
    if not email:
        return _forgot_page(
            request, 422, error=gettext("Fill in the e-mail address you sign in with.")
        )
    address = client_address(request)
    try:
        service.note_reset_request(session, email=email, address=address)
    except service.ResetThrottled as error:
        return _forgot_page(request, error.status_code, email=email, error=error.message)
    background.add_task(
        password_mail.send_reset_link_after_response,
        request.app.state.engine,
        settings,
        email=email,
        address=address,
        language=get_language(),
    )
    return _forgot_page(request, email=email, sent=True, minutes=settings.password_reset_minutes)


def _link_error_page(request: Request, error: service.InvalidLink) -> Response:
    return _no_store(
        render(
            request,
            "accounts/set_password.html",
            {"link_error": error.message},
            status_code=error.status_code,
        )
    )


def _set_password_page(
    request: Request, session: Session, token: str, status_code: int = 200, **context: Any
) -> Response:
    """The form to choose a password, for the account of a working link; else why the link
    does not work."""
    try:
        account_token, user = service.account_token_holder(session, token)
    except service.InvalidLink as error:
        return _link_error_page(request, error)
    return _no_store(
        render(
            request,
            "accounts/set_password.html",
            {
                "token": token,
                "invitation": account_token.purpose == TokenPurpose.invitation,
                "account": user,
                "min_length": service.MIN_PASSWORD_LENGTH,
                **context,
            },
            status_code=status_code,
        )
    )


@router.get(password_mail.SET_PASSWORD_PATH, name="set_password_form", include_in_schema=False)
def set_password_form(request: Request, session: SessionDep, token: str = "") -> Response:
    return _set_password_page(request, session, token)


@router.post(password_mail.SET_PASSWORD_PATH, name="set_password", include_in_schema=False)
def set_password(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200), TEXT] = "",
    password: Annotated[str, Form(max_length=1000), TEXT] = "",
    password_again: Annotated[str, Form(max_length=1000), TEXT] = "",
) -> Response:
    try:
        account_token, user = service.use_account_token(
            session, secret=token, password=password, password_again=password_again
        )
    except service.InvalidInput as error:
        return _set_password_page(request, session, token, 422, error=error.message)
    except service.InvalidLink as error:
        return _link_error_page(request, error)
    invitation = account_token.purpose == TokenPurpose.invitation
    audit.record(
        session,
        actor=None,
        actor_label=f"{user.name} <{user.email}>",
        action=AuditAction.user_invitation_accepted
        if invitation
        else AuditAction.user_password_reset,
        object_type="user",
        object_id=user.id,
        summary=user.email,
        address=client_address(request),
    )
    response = RedirectResponse(
        request.url_for("sign_in_form").path + "?done=password", status_code=303
    )
    # Every session of the account has ended; one of this browser's would no longer work.
    response.delete_cookie(SESSION_COOKIE)
    return response


def _account_page(request: Request, session: Session, user: CurrentUser, **extra: Any) -> Response:
    return render(
        request,
        "accounts/account.html",
        {
            "tokens": service.list_api_tokens(session, user.id),
            "organisations": service.user_organisation_codes(session, user.id),
            "done": _done(request, ACCOUNT_DONE),
            "min_length": service.MIN_PASSWORD_LENGTH,
            **extra,
        },
        status_code=extra.pop("status_code", 200),
    )


@router.get("/account", name="account", include_in_schema=False)
def account(request: Request, session: SessionDep, user: CurrentUserDep) -> Response:
    return _account_page(request, session, user)


@router.post("/account/password", name="change_password", include_in_schema=False)
def change_password(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    current_password: Annotated[str, Form(max_length=1000), TEXT] = "",
    new_password: Annotated[str, Form(max_length=1000), TEXT] = "",
    new_password_again: Annotated[str, Form(max_length=1000), TEXT] = "",
) -> Response:
    try:
        service.change_password(
            session,
            user_id=user.id,
            current_password=current_password,
            new_password=new_password,
            new_password_again=new_password_again,
            keep_session=request.cookies.get(SESSION_COOKIE),
        )
    except (service.WrongPassword, service.SignInThrottled, service.InvalidInput) as error:
        # Answered with a page, not raised: a wrong current password is committed already
        # (and counted by the throttle); the request's transaction commits the rest.
        return _account_page(
            request,
            session,
            user,
            password_error=error.message,
            wrong_current=isinstance(error, service.WrongPassword | service.SignInThrottled),
            status_code=error.status_code,
        )
    audit.record(
        session,
        actor=user,
        action=AuditAction.user_change_password,
        object_type="user",
        object_id=user.id,
        summary=user.email,
        address=client_address(request),
    )
    return RedirectResponse(request.url_for("account").path + "?done=password", status_code=303)


@router.post("/account/tokens", name="create_token", include_in_schema=False)
def create_token(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    name: Annotated[str, Form(max_length=200), TEXT] = "",
) -> Response:
    try:
        token, secret = service.create_api_token(session, user, name=name)
    except service.InvalidInput as error:
        return _account_page(request, session, user, error=error.message, status_code=422)
    audit.record(
        session,
        actor=user,
        action=AuditAction.token_create,
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
        action=AuditAction.token_revoke,
        object_type="api_token",
        object_id=token.id,
        summary=token.name,
        address=client_address(request),
    )
    return RedirectResponse(request.url_for("account").path, status_code=303)
