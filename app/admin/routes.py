"""Administration: user accounts, organisations, the programme structure, the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import readmodel
from app.admin import service
from app.audit import presentation as audit_presentation
from app.audit import service as audit
from app.audit.models import AuditSource
from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput
from app.i18n import gettext
from app.permissions import CurrentUserDep, client_address
from app.programmes import service as structure
from app.text import TEXT, Text
from app.web import render

router = APIRouter(prefix="/admin")


def _users_page(request: Request, session: Session, **extra: Any) -> Response:
    return render(
        request,
        "admin/users.html",
        {
            "users": service.users_with_organisations(session),
            "organisations": service.organisation_choices(session),
            "form": extra.pop("form", {}),
            **extra,
        },
        status_code=extra.pop("status_code", 200),
    )


@router.get("/users", name="admin_users", include_in_schema=False)
def admin_users(request: Request, session: SessionDep) -> Response:
    return _users_page(request, session)


@router.post("/users", name="admin_create_user", include_in_schema=False)
def admin_create_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    admin: CurrentUserDep,
    email: Annotated[str, Form(max_length=254), TEXT] = "",
    name: Annotated[str, Form(max_length=200), TEXT] = "",
    role: Annotated[Text, Form()] = "viewer",
    organisations: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    form = {"email": email, "name": name, "role": role, "organisations": organisations or []}
    try:
        user, mail_error = service.create_user(
            session,
            settings=settings,
            admin=admin,
            email=email,
            name=name,
            role=role,
            organisation_codes=organisations or [],
            address=client_address(request),
        )
    except InvalidInput as error:
        session.rollback()
        return _users_page(request, session, error=error.message, form=form, status_code=422)
    return _users_page(
        request,
        session,
        created=user,
        invited=user,
        mail_error=mail_error,
        invitation_days=settings.invitation_days,
    )


@router.post("/users/{user_id}/invitation", name="admin_invite_user", include_in_schema=False)
def admin_invite_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    admin: CurrentUserDep,
    user_id: int,
) -> Response:
    try:
        user, mail_error = service.invite_again(
            session,
            settings=settings,
            admin=admin,
            user_id=user_id,
            address=client_address(request),
        )
    except InvalidInput as error:
        session.rollback()
        return _users_page(request, session, error=error.message, status_code=422)
    return _users_page(
        request,
        session,
        invited=user,
        mail_error=mail_error,
        invitation_days=settings.invitation_days,
    )


@router.post("/users/{user_id}", name="admin_update_user", include_in_schema=False)
def admin_update_user(
    request: Request,
    session: SessionDep,
    admin: CurrentUserDep,
    user_id: int,
    role: Annotated[Text, Form()],
    organisations: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    try:
        service.change_role(
            session,
            admin=admin,
            user_id=user_id,
            role=role,
            organisation_codes=organisations or [],
            address=client_address(request),
        )
    except InvalidInput as error:
        session.rollback()
        return _users_page(request, session, error=error.message, status_code=422)
    return RedirectResponse(request.url_for("admin_users").path, status_code=303)


@router.post("/users/{user_id}/deactivate", name="admin_deactivate_user", include_in_schema=False)
def admin_deactivate_user(
    request: Request, session: SessionDep, admin: CurrentUserDep, user_id: int
) -> Response:
    try:
        service.deactivate_user(
            session, admin=admin, user_id=user_id, address=client_address(request)
        )
    except InvalidInput as error:
        return _users_page(request, session, error=error.message, status_code=422)
    return RedirectResponse(request.url_for("admin_users").path, status_code=303)


# The source filter's choices: each source, and "unknown" for events from before sources.
SOURCE_CHOICES = [*(source.value for source in AuditSource), audit.UNKNOWN_SOURCE]


def _audit_filters(request: Request) -> audit.AuditFilters:
    def day(name: str) -> date | None:
        raw = request.query_params.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(
                gettext("%(field)s must be a date (YYYY-MM-DD), not %(value)s")
                % {"field": name, "value": repr(raw)}
            ) from None

    source = request.query_params.get("source", "").strip()
    if source and source not in SOURCE_CHOICES:
        raise InvalidInput(
            gettext("%(field)s must be one of %(choices)s, not %(value)s")
            % {"field": "source", "choices": ", ".join(SOURCE_CHOICES), "value": repr(source)}
        )
    return audit.AuditFilters(
        action=request.query_params.get("action", "").strip(),
        source=source,
        actor=request.query_params.get("actor", "").strip()[:200],
        since=day("since"),
        until=day("until"),
    )


@router.get("/audit", name="admin_audit", include_in_schema=False)
def admin_audit(request: Request, session: SessionDep) -> Response:
    filters = _audit_filters(request)
    events = audit.list_events(session, filters)
    names = audit.subject_names(session, events)
    return render(
        request,
        "admin/audit.html",
        {
            "events": [audit_presentation.shown_event(event, names) for event in events],
            "filters": filters,
            "actions": [
                (action, audit_presentation.action_label(action))
                for action in audit.list_actions(session)
            ],
            "sources": [(source, audit_presentation.source_label(source)) for source in AuditSource]
            + [(audit.UNKNOWN_SOURCE, audit_presentation.source_label(None))],
            "query": request.url.query,
        },
        block="events",
    )


@router.get("/audit.csv", name="admin_audit_csv", include_in_schema=False)
def admin_audit_csv(request: Request, session: SessionDep) -> Response:
    events = audit.list_events(session, _audit_filters(request), limit=None)
    return Response(
        audit.events_as_csv(events),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="voortgang-audit.csv"'},
    )


# -- programme structure ---------------------------------------------------------------------


def _structure_page(request: Request, session: Session, slug: str, **extra: Any) -> Response:
    programme = readmodel.get_programme(session, slug)
    return render(
        request,
        "admin/structure.html",
        {
            "programme": programme,
            "tree": structure.structure_tree(session, programme.id),
            "organisations": service.organisation_choices(session),
            **extra,
        },
        status_code=extra.pop("status_code", 200),
    )


@router.get("/programmes/{slug}/structure", name="admin_structure", include_in_schema=False)
def admin_structure(request: Request, session: SessionDep, slug: str) -> Response:
    return _structure_page(request, session, slug)


def _back(request: Request, slug: str, anchor: str = "") -> Response:
    url = request.url_for("admin_structure", slug=slug).path + (f"#{anchor}" if anchor else "")
    return RedirectResponse(url, status_code=303)


@router.post(
    "/programmes/{slug}/structure/{kind}/{item_id}",
    name="admin_structure_change",
    include_in_schema=False,
)
def admin_structure_change(
    request: Request,
    session: SessionDep,
    admin: CurrentUserDep,
    slug: str,
    kind: str,
    item_id: int,
    action: Annotated[Text, Form()],
    title: Annotated[str, Form(max_length=2000), TEXT] = "",
) -> Response:
    """One endpoint for the per-item buttons: rename, up, down, retire, restore."""
    address = client_address(request)
    try:
        if action == "rename":
            structure.rename(
                session, actor=admin, kind=kind, item_id=item_id, title=title, address=address
            )
        elif action in ("up", "down"):
            structure.move(
                session, actor=admin, kind=kind, item_id=item_id, direction=action, address=address
            )
        elif action in ("retire", "restore"):
            structure.set_retired(
                session,
                actor=admin,
                kind=kind,
                item_id=item_id,
                retired=action == "retire",
                address=address,
            )
        else:
            raise InvalidInput(gettext("Unknown action"))
    except InvalidInput as error:
        session.rollback()
        return _structure_page(request, session, slug, error=error.message, status_code=422)
    return _back(request, slug, f"{kind}-{item_id}")


@router.post("/programmes/{slug}/structure", name="admin_structure_add", include_in_schema=False)
def admin_structure_add(
    request: Request,
    session: SessionDep,
    admin: CurrentUserDep,
    slug: str,
    kind: Annotated[Text, Form()],
    title: Annotated[str, Form(max_length=2000), TEXT] = "",
    parent_id: Annotated[Text, Form()] = "",
    number: Annotated[str, Form(max_length=20), TEXT] = "",
    lead: Annotated[str, Form(max_length=50), TEXT] = "",
) -> Response:
    programme = readmodel.get_programme(session, slug)
    try:
        item = structure.add(
            session,
            actor=admin,
            programme=programme,
            kind=kind,
            parent_id=int(parent_id) if parent_id.strip().isdigit() else None,
            title=title,
            number=number,
            lead=lead,
            address=client_address(request),
        )
    except InvalidInput as error:
        session.rollback()
        return _structure_page(request, session, slug, error=error.message, status_code=422)
    return _back(request, slug, f"{kind}-{item.id}")


# -- organisations ---------------------------------------------------------------------------


def _organisations_page(request: Request, session: Session, **extra: Any) -> Response:
    return render(
        request,
        "admin/organisations.html",
        {
            "organisations": service.list_organisations(session),
            **extra,
        },
        status_code=extra.pop("status_code", 200),
    )


@router.get("/organisations", name="admin_organisations", include_in_schema=False)
def admin_organisations(request: Request, session: SessionDep) -> Response:
    return _organisations_page(request, session)


@router.post("/organisations", name="admin_create_organisation", include_in_schema=False)
def admin_create_organisation(
    request: Request,
    session: SessionDep,
    admin: CurrentUserDep,
    code: Annotated[str, Form(max_length=100), TEXT] = "",
    name: Annotated[str, Form(max_length=400), TEXT] = "",
) -> Response:
    try:
        structure.create_organisation(
            session, actor=admin, code=code, name=name, address=client_address(request)
        )
    except InvalidInput as error:
        session.rollback()
        return _organisations_page(request, session, error=error.message, status_code=422)
    return RedirectResponse(request.url_for("admin_organisations").path, status_code=303)


@router.post(
    "/organisations/{organisation_id}", name="admin_rename_organisation", include_in_schema=False
)
def admin_rename_organisation(
    request: Request,
    session: SessionDep,
    admin: CurrentUserDep,
    organisation_id: int,
    name: Annotated[str, Form(max_length=400), TEXT] = "",
) -> Response:
    try:
        structure.rename_organisation(
            session,
            actor=admin,
            organisation_id=organisation_id,
            name=name,
            address=client_address(request),
        )
    except InvalidInput as error:
        session.rollback()
        return _organisations_page(request, session, error=error.message, status_code=422)
    return RedirectResponse(request.url_for("admin_organisations").path, status_code=303)
