"""Who may use which route. Every route has an explicit rule here; a route without one is
refused (and the permission test fails), so nothing is open by accident.

Rules are about roles and routes; whether this user may change a particular subject (an
activity's status) in a period now is the edit policy's answer (app/policy.py), which the
services and pages ask.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.routing import BaseRoute

from app.accounts.models import Role
from app.accounts.service import CurrentUser, hash_token, session_user, user_for_api_token
from app.cache import RevisionCache, current_revisions
from app.clock import utc_now
from app.deps import SessionDep
from app.errors import DomainError, Forbidden
from app.i18n import gettext

SESSION_COOKIE = "voortgang_session"


class Rule(StrEnum):
    public = "public"  # anyone, signed in or not
    signed_in = "signed_in"  # any active account (viewer and up)
    editor = "editor"  # editors, coordinators, admins
    coordinator = "coordinator"
    admin = "admin"

    @property
    def minimum_role(self) -> Role | None:
        return {
            Rule.signed_in: Role.viewer,
            Rule.editor: Role.editor,
            Rule.coordinator: Role.coordinator,
            Rule.admin: Role.admin,
        }.get(self)


# Route name → rule. Keep in step with the routers; tests/test_permissions.py checks both ways.
ROUTE_RULES: dict[str, Rule] = {
    # public
    "static": Rule.public,
    "status_css": Rule.public,
    "set_language": Rule.public,
    "sign_in_form": Rule.public,
    "sign_in": Rule.public,
    "sign_out": Rule.public,
    # a forgotten password: the same answer for any address; a link with a secret token
    "forgot_password_form": Rule.public,
    "forgot_password": Rule.public,
    "set_password_form": Rule.public,
    "set_password": Rule.public,
    # the public site: published reports only (app/public)
    "public_index": Rule.public,
    "public_accessibility": Rule.public,
    "public_search": Rule.public,
    "public_programme": Rule.public,
    "public_summary": Rule.public,
    "public_table": Rule.public,
    "public_action_line": Rule.public,
    "public_data": Rule.public,
    "public_data_csv": Rule.public,
    "public_data_json": Rule.public,
    "public_data_schema": Rule.public,
    "public_table_pdf": Rule.public,
    "public_summary_pdf": Rule.public,
    # the public site of the recommendations: published follow-up only
    # (app/public/recommendations.py)
    "public_recommendations": Rule.public,
    "public_recommendations_csv": Rule.public,
    "public_recommendations_csv_metadata": Rule.public,
    "public_recommendations_json": Rule.public,
    "public_recommendations_schema": Rule.public,
    # the public site of the monitor: published editions only (app/public/monitor.py)
    "public_monitor_index": Rule.public,
    "public_monitor_edition": Rule.public,
    "public_monitor_data": Rule.public,
    "public_monitor_data_csv": Rule.public,
    "public_monitor_csv_metadata": Rule.public,
    "public_monitor_data_json": Rule.public,
    "public_monitor_schema": Rule.public,
    # reading: any signed-in account
    "home": Rule.signed_in,
    "programme_board": Rule.signed_in,
    "status_summary": Rule.signed_in,
    "action_line": Rule.signed_in,
    "result": Rule.signed_in,
    "activity_list": Rule.signed_in,
    "activity": Rule.signed_in,
    "activity_history": Rule.signed_in,
    "account": Rule.signed_in,
    "change_password": Rule.signed_in,
    "create_token": Rule.signed_in,
    "revoke_token": Rule.signed_in,
    "api_programmes": Rule.signed_in,
    "api_activities": Rule.signed_in,
    "openapi": Rule.signed_in,
    "api_docs": Rule.signed_in,
    # changing statuses
    "activity_row": Rule.signed_in,
    "edit_status_form": Rule.editor,
    "save_status": Rule.editor,
    "api_update_status": Rule.editor,
    # reporting periods, update rounds and review
    "periods": Rule.signed_in,
    "period": Rule.signed_in,
    "period_progress": Rule.signed_in,
    "my_todo": Rule.editor,
    "todo_confirm": Rule.editor,
    "period_compare": Rule.signed_in,
    "api_period_compare": Rule.signed_in,
    "create_period": Rule.coordinator,
    "period_move": Rule.coordinator,
    "publish_confirm": Rule.coordinator,
    "period_publish": Rule.coordinator,
    "period_deadline": Rule.coordinator,
    "plan_reminder": Rule.coordinator,
    "unplan_reminder": Rule.coordinator,
    "send_reminders": Rule.coordinator,
    "review": Rule.coordinator,
    "review_decide": Rule.coordinator,
    "review_approve_many": Rule.coordinator,
    "review_decide_figure": Rule.coordinator,
    "review_decide_follow_up": Rule.coordinator,
    "review_reply": Rule.editor,
    # the monitor of key figures: reading for any account; entering a figure for editors
    # (the edit policy decides which: the indicator's supplier, while the edition is open);
    # making an edition and moving it for coordinators
    "monitor_editions": Rule.signed_in,
    "monitor_edition": Rule.signed_in,
    "monitor_indicator": Rule.signed_in,
    "monitor_figure_form": Rule.editor,
    "monitor_figure_save": Rule.editor,
    "monitor_create_edition": Rule.coordinator,
    "monitor_add_figure": Rule.coordinator,
    "monitor_edition_move": Rule.coordinator,
    # defining the indicators and linking them to results (app/monitor/indicator_forms.py)
    "monitor_indicator_new": Rule.coordinator,
    "monitor_indicator_create": Rule.coordinator,
    "monitor_indicator_edit": Rule.coordinator,
    "monitor_indicator_update": Rule.coordinator,
    # the Rapporteur's recommendations: reading for any account; registering reports and
    # recommendations, responses, assessments, deadlines and links for coordinators
    "recommendations": Rule.signed_in,
    "recommendation": Rule.signed_in,
    "recommendation_report_form": Rule.coordinator,
    "recommendation_report_create": Rule.coordinator,
    "recommendation_new_form": Rule.coordinator,
    "recommendation_create": Rule.coordinator,
    "recommendation_edit_form": Rule.coordinator,
    "recommendation_update": Rule.coordinator,
    "recommendation_add_statement": Rule.coordinator,
    "recommendation_reschedule": Rule.coordinator,
    "recommendation_add_link": Rule.coordinator,
    "recommendation_confirm_link": Rule.coordinator,
    "recommendation_remove_link": Rule.coordinator,
    # a recommendation's follow-up in a round (app/recommendations/follow_up_routes.py): the
    # edit policy decides whose it is (lead organisations of linked activities, addressees)
    "recommendation_follow_up_form": Rule.editor,
    "recommendation_follow_up_save": Rule.editor,
    # the four-eyes review of a figure version (app/review: never its own author's approval)
    "monitor_figure_review": Rule.coordinator,
    # long work: its progress page and files (the service checks whose they are)
    "job": Rule.signed_in,
    "stored_file": Rule.signed_in,
    # exports (reading) and bulk updates by spreadsheet (the editing rules, per row)
    "create_export": Rule.signed_in,
    "export_schema": Rule.signed_in,
    "import_form": Rule.editor,
    "import_upload": Rule.editor,
    "import_apply": Rule.editor,
    # a monitor edition's exports (reading, drafts marked as such) and its figure sheet
    # (filling it in: the edit policy decides per figure, app/monitor/figuresheet.py)
    "monitor_export": Rule.signed_in,
    "monitor_figure_sheet": Rule.editor,
    "monitor_sheet_form": Rule.editor,
    "monitor_sheet_upload": Rule.editor,
    "monitor_sheet_apply": Rule.editor,
    # administration
    "admin_users": Rule.admin,
    "admin_create_user": Rule.admin,
    "admin_invite_user": Rule.admin,
    "admin_update_user": Rule.admin,
    "admin_deactivate_user": Rule.admin,
    "admin_structure": Rule.admin,
    "admin_structure_change": Rule.admin,
    "admin_structure_add": Rule.admin,
    "admin_organisations": Rule.admin,
    "admin_create_organisation": Rule.admin,
    "admin_rename_organisation": Rule.admin,
    "admin_audit": Rule.admin,
    "admin_audit_csv": Rule.admin,
}


def may_visit(user: CurrentUser | None, route_name: str) -> bool:
    """Does the route's rule let this user in (for links to it)?"""
    minimum = ROUTE_RULES[route_name].minimum_role
    return minimum is None or (user is not None and user.at_least(minimum))


class NotSignedIn(DomainError):
    status_code = 401


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def resolve_user(request: Request, session: Session) -> CurrentUser | None:
    """The user of this request: a bearer token (API) or the session cookie (browser).

    A session's user comes from the revision cache, keyed by both revisions: signing in or
    out (and deactivating an account or resetting its password, which end its sessions)
    raises the session revision; changing a role, organisations or deactivating raises the
    data revision. So the answer is never older than the database's, in any process. Expiry
    is checked on every request."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        return user_for_api_token(session, authorization.removeprefix("Bearer ").strip())
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    cache: RevisionCache = request.app.state.cache
    found = cache.get_or_build(
        request.state.revision,
        ("session", request.state.session_revision, hash_token(token)),
        lambda: session_user(session, token),
    )
    if found is None:
        return None
    user, expires_at = found
    return user if expires_at > utc_now() else None


def enforce_route_rule(request: Request, session: SessionDep) -> None:
    """App-wide dependency: apply the matched route's rule. It shares the request's
    database session with the route (FastAPI caches the dependency per request)."""
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    rule = ROUTE_RULES.get(name or "")
    if rule is None:
        raise Forbidden(f"No permission rule for route {name!r}")
    revisions = current_revisions(session)
    request.state.revision = revisions.data
    request.state.session_revision = revisions.sessions
    user = resolve_user(request, session)
    request.state.user = user
    if may_visit(user, name or ""):
        return
    if user is None:
        raise NotSignedIn(gettext("Sign in to see this page."))
    raise Forbidden(gettext("Your account may not do this."))


def current_user(request: Request) -> CurrentUser | None:
    return getattr(request.state, "user", None)


async def require_user(request: Request) -> CurrentUser:
    # Async: the user was found by the route rule; a sync dependency costs a thread trip.
    user = current_user(request)
    if user is None:
        raise NotSignedIn(gettext("Sign in to see this page."))
    return user


CurrentUserDep = Annotated[CurrentUser, Depends(require_user)]


def iter_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route of the app, with included routers flattened (FastAPI keeps those as
    lazily-built wrappers). Our routers carry their prefix themselves, so paths are whole."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from iter_routes(original.routes)
        else:
            yield route
