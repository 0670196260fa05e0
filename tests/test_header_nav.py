"""The header's navigation: every signed-in role reaches the board and the reporting periods
from any page (the admin from the admin pages too); the route rules decide which links show."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.main import create_app
from tests.factories import create_programme, create_user, sign_in

BOARD = "/programmes/test-programme"
PERIODS = "/programmes/test-programme/periods"


def _header_links(client: TestClient, path: str) -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    header = BeautifulSoup(response.text, "html.parser").select_one("header")
    assert header is not None
    return {link["href"]: link.get_text(strip=True) for link in header.select("nav.main-nav a")}  # type: ignore[misc]


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        ("admin", ["/admin/users", "/admin/audit", "/admin/organisations", "/account"]),
        ("coordinator", [BOARD, "/account"]),
        ("editor", ["/account"]),
        ("viewer", ["/account"]),
    ],
)
def test_every_signed_in_role_reaches_the_board_and_the_periods_from_the_header(
    settings, session: Session, role: str, pages: list[str]
) -> None:
    create_programme(session)
    app = create_app(settings)
    client = TestClient(app)
    organisations = ("ORG-A",) if role == "editor" else ()
    sign_in(client, create_user(session, role, organisations))
    try:
        for page in pages:
            links = _header_links(client, page)
            assert (
                links.get(BOARD) == "Overzichtsbord" and links.get(PERIODS) == "Rapportageperiodes"
            ), (
                page,
                links,
            )
            # The admin's own pages stay the admin's.
            assert ("/admin/users" in links) == (role == "admin")
        assert client.get(PERIODS).status_code == 200
    finally:
        app.state.engine.dispose()


def test_the_header_links_to_the_programme_list_when_there_are_several(
    settings, session: Session
) -> None:
    create_programme(session)
    create_programme(session, slug="tweede-programma")
    app = create_app(settings)
    client = TestClient(app)
    sign_in(client, create_user(session, "admin"))
    try:
        links = _header_links(client, "/admin/users")
        assert links.get("/") == "Programma's" and BOARD not in links
    finally:
        app.state.engine.dispose()


def test_the_signed_out_header_has_no_navigation(anonymous_client: TestClient) -> None:
    page = BeautifulSoup(anonymous_client.get("/sign-in").text, "html.parser")
    assert page.select_one("header .account-menu") is None
    assert page.select_one("header .main-nav") is None
