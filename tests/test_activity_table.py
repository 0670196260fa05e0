"""The activity table's markup, pinned: every cell labelled for the stacked cards, the
organisations with the lead marked, and the change link (with its htmx attributes and its
text for screen readers) on exactly the rows the user may change, in both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.config import Settings
from app.programmes.models import Activity, ActivityOrganisation, Organisation
from tests.factories import create_programme, create_user, sign_in

LIST = "/programmes/test-programme/activities"
LABELS = {
    "nl": ["Resultaat", "Nr.", "Activiteit", "Stand van zaken", "Toelichting"],
    "en": ["Result", "No.", "Activity", "Status", "Explanation"],
}
WORDS = {
    "nl": {"lead": "(trekker)", "change": "Wijzigen", "status_of": "stand van zaken van"},
    "en": {"lead": "(lead)", "change": "Change", "status_of": "status of"},
}


@pytest.fixture
def world(settings: Settings, session: Session) -> Iterator[dict]:  # type: ignore[type-arg]
    """Four activities in an open period; ORG-A leads half of them, ORG-B the others."""
    from app.main import create_app

    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=4)
    links = session.execute(
        select(Activity.id, Organisation.code, ActivityOrganisation.role)
        .join(ActivityOrganisation, ActivityOrganisation.activity_id == Activity.id)
        .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
    ).all()
    organisations: dict[int, dict[str, str]] = {}
    for activity_id, code, role in links:
        organisations.setdefault(activity_id, {})[code] = role
    app = create_app(settings)
    yield {"app": app, "organisations": organisations}
    app.state.engine.dispose()


def _rows(world: dict, session: Session, language: str, role: str, orgs=()):  # type: ignore[no-untyped-def,type-arg]
    client = TestClient(world["app"])
    sign_in(client, create_user(session, role, orgs))
    client.cookies.set("lang", language)
    response = client.get(LIST)
    assert response.status_code == 200
    soup = BeautifulSoup(response.text, "html.parser")
    headers = [th.get_text(strip=True) for th in soup.select("table.activity-table thead th")]
    assert headers == LABELS[language]
    return soup.select("table.activity-table tbody tr")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(
    ("role", "orgs"),
    [("viewer", ()), ("editor", ("ORG-A",)), ("coordinator", ()), ("admin", ())],
)
def test_rows_have_labelled_cells_organisations_and_change_links_for_whom_may(
    world: dict,  # type: ignore[type-arg]
    session: Session,
    language: str,
    role: str,
    orgs: tuple[str, ...],
) -> None:
    rows = _rows(world, session, language, role, orgs)
    assert len(rows) == len(world["organisations"]) == 4
    changeable = 0
    for row in rows:
        activity_id = int(row["id"].removeprefix("activity-"))
        cells = row.find_all("td", recursive=False)
        assert [cell["data-label"] for cell in cells] == LABELS[language]
        assert cells[0].get_text(strip=True).startswith("1. ")
        title = cells[2].find("a", class_="nl-link")
        assert title["href"] == f"/activities/{activity_id}"
        names = {abbr.get_text(): abbr["title"] for abbr in cells[2].select(".organisations abbr")}
        expected = world["organisations"][activity_id]
        assert set(names) == set(expected) and all(names.values())
        lead_marks = cells[2].select(".organisations__role")
        assert [mark.get_text() for mark in lead_marks] == [WORDS[language]["lead"]] * sum(
            1 for value in expected.values() if value == "lead"
        )
        status = cells[3]
        assert status["id"] == f"activity-{activity_id}-status"
        assert status.select_one(".status") is not None
        link = status.select_one("a.edit-link")
        may = role in ("coordinator", "admin") or (role == "editor" and "ORG-A" in expected)
        assert (link is not None) is may, (role, expected)
        if link is None:
            continue
        changeable += 1
        edit = f"/activities/{activity_id}/edit"
        assert (
            link["href"]
            == f"{edit}?context=page&period=1&next=%2Fprogrammes%2Ftest-programme%2Factivities"
        )
        assert link["hx-get"] == f"{edit}?context=row&period=1"
        assert link["hx-target"] == f"#activity-{activity_id}"
        assert link["hx-swap"] == "outerHTML"
        hidden = link.select_one(".visually-hidden").get_text()
        words = WORDS[language]
        assert link.get_text().startswith(words["change"])
        assert hidden == f" {words['status_of']} {title.get_text()}"
    assert changeable == {"viewer": 0, "editor": 2, "coordinator": 4, "admin": 4}[role]
