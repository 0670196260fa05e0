"""Every route has an explicit permission rule, and every role gets exactly what its rule says."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session
from starlette.routing import Mount

from app.accounts.models import Role, User
from app.accounts.service import create_api_token, start_session
from app.permissions import ROUTE_RULES, SESSION_COOKIE, Rule, iter_routes
from app.programmes.models import Activity, ActivityOrganisation, Organisation
from tests.factories import create_user
from tests.test_board import SLUG

ROLES = [None, *Role]


def _routes(app) -> list:  # type: ignore[no-untyped-def]
    return [route for route in iter_routes(app.routes) if isinstance(route, APIRoute | Mount)]


def test_every_route_has_a_rule_and_every_rule_a_route(seeded_app) -> None:  # type: ignore[no-untyped-def]
    names = {route.name for route in _routes(seeded_app)}
    assert names - set(ROUTE_RULES) == set(), "routes without a permission rule"
    assert set(ROUTE_RULES) - names == set(), "rules for routes that do not exist"


def _allowed(rule: Rule, role: Role | None) -> bool:
    if rule == Rule.public:
        return True
    return role is not None and role.at_least(rule.minimum_role)  # type: ignore[arg-type]


@pytest.fixture
def world(seeded_app):  # type: ignore[no-untyped-def]
    """Accounts of every role (the editor for the police), signed-in session cookies, and the
    ids that fill the routes' path parameters."""
    with Session(seeded_app.state.engine) as session:
        emails = {
            role: create_user(session, role.value, ("Politie",) if role == Role.editor else ())
            for role in Role
        }
        target = create_user(session, "viewer")
        users = {u.email: u for u in session.scalars(select(User))}
        cookies = {
            role: start_session(session, users[email], lifetime=timedelta(hours=1))
            for role, email in emails.items()
        }
        token, _ = create_api_token(session, users[emails[Role.viewer]], name="probe")
        police_activity = session.scalar(
            select(Activity.id)
            .join(ActivityOrganisation, ActivityOrganisation.activity_id == Activity.id)
            .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
            .where(Organisation.code == "Politie")
        )
        session.commit()
        params = {
            "slug": SLUG,
            "programme": SLUG,
            "number": "1",
            "activity_id": str(police_activity),
            "user_id": str(users[target].id),
            "token_id": str(token.id),
            "language": "en",
            "path": "app.css",
            "kind": "activity",
            "item_id": str(police_activity),
            "organisation_id": "1",
            "period_id": "1",
            "status_update_id": "1",
            "job_id": "1",
            "file_id": "1",
            "edition_id": "1",
            "fmt": "pdf",
            "indicator_id": "1",
            "figure_id": "1",
            "figure_version_id": "1",
            "recommendation_id": "1",
            "entry_id": "1",
        }
    return cookies, params


def _request(client: TestClient, method: str, path: str, cookie: str | None):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    csrf = client.get("/sign-in").cookies.get("csrftoken") or client.cookies.get("csrftoken")
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    headers = {"x-csrftoken": csrf or ""}
    if method == "PATCH":
        return client.request(method, path, json={}, headers=headers, follow_redirects=False)
    return client.request(method, path, headers=headers, follow_redirects=False)


def test_each_route_against_each_role(seeded_app, world) -> None:  # type: ignore[no-untyped-def]
    cookies, params = world
    problems = []
    with TestClient(seeded_app) as client:
        for route in _routes(seeded_app):
            rule = ROUTE_RULES[route.name]
            path = route.path.format(**params) if isinstance(route, APIRoute) else "/static/app.css"
            methods = sorted(route.methods - {"HEAD"}) if isinstance(route, APIRoute) else ["GET"]
            for method in methods:
                if route.name == "sign_out":
                    continue  # checked below: it ends the session the other checks use
                for role in ROLES:
                    response = _request(client, method, path, cookies.get(role) if role else None)
                    denied = response.status_code in (401, 403) or (
                        response.status_code == 303
                        and "/sign-in" in response.headers["location"]
                        and route.name not in ("sign_in", "sign_in_form")
                    )
                    if denied == _allowed(rule, role):
                        problems.append((method, path, role, rule.value, response.status_code))
    assert not problems


def test_sign_out_is_open_to_everyone(seeded_app, world) -> None:  # type: ignore[no-untyped-def]
    cookies, _ = world
    with TestClient(seeded_app) as client:
        for role in ROLES:
            response = _request(client, "POST", "/sign-out", cookies.get(role) if role else None)
            assert response.status_code == 303


def test_signed_out_visitor_sees_only_the_sign_in_page(seeded_app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(seeded_app) as client:
        for path in ("/", f"/programmes/{SLUG}", "/activities/1", "/admin/users"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/sign-in?next=")
        api = client.get("/api/v1/programmes")
        assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
        assert client.get("/sign-in").status_code == 200


def test_rules_follow_the_site_policy(seeded_app) -> None:  # type: ignore[no-untyped-def]
    """Independent of the table: administration is for admins only, changing statuses is
    never for viewers, and nothing but signing in (and choosing a forgotten password), the
    language switch, assets and the public site is public."""
    public = (
        {"static", "status_css", "set_language", "sign_in_form", "sign_in", "sign_out"}
        | {
            # a forgotten password: asking for a link, and choosing a password with one
            "forgot_password_form",
            "forgot_password",
            "set_password_form",
            "set_password",
        }
        | {
            # the public site: published reports only (tests/test_public.py proves nothing else)
            "public_index",
            "public_accessibility",
            "public_programme",
            "public_summary",
            "public_table",
            "public_action_line",
            "public_search",
            "public_data",
            "public_data_csv",
            "public_data_json",
            "public_data_schema",
            "public_table_pdf",
            "public_summary_pdf",
            # the monitor's public pages: published editions only (tests/test_public_monitor.py)
            "public_monitor_index",
            "public_monitor_edition",
            "public_monitor_data",
            "public_monitor_data_csv",
            "public_monitor_csv_metadata",
            "public_monitor_data_json",
            "public_monitor_schema",
            # the recommendations' public pages: published follow-up only
            # (tests/test_public_recommendations.py)
            "public_recommendations",
            "public_recommendations_csv",
            "public_recommendations_csv_metadata",
            "public_recommendations_json",
            "public_recommendations_schema",
        }
    )
    checked: Counter[str] = Counter()
    for route in _routes(seeded_app):
        rule = ROUTE_RULES[route.name]
        path = getattr(route, "path", "")
        if path.startswith("/admin"):
            assert rule == Rule.admin, route.name
            checked["admin"] += 1
        if rule == Rule.public:
            assert route.name in public, route.name
            checked["public"] += 1
        methods = getattr(route, "methods", set())
        if {"POST", "PATCH"} & methods and "status" in path:
            assert rule in (Rule.editor, Rule.coordinator, Rule.admin), route.name
            checked["status change"] += 1
    # Each rule was checked against routes that exist (a renamed path would skip it).
    assert set(checked) == {"admin", "public", "status change"}, checked
    assert checked["public"] == len(public), checked
