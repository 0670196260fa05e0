"""Control characters (issue 14, point 6): a NUL in an explanation gave 500 on PostgreSQL.

Text with a control character other than tab and line breaks is refused wherever it comes in
(API, forms, query strings, imports, the command line, the seed file) with the field or the
cell it is in, and nothing is stored; tabs and line breaks still go through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts.service import create_api_token, get_user_by_email
from app.activities.models import StatusUpdate
from app.main import create_app
from app.text import FILLED_TEXT_PATTERN, TEXT_PATTERN
from tests.factories import create_programme, create_user

# One of each kind: C0 (NUL, the PostgreSQL 500), vertical tab and form feed (Word's line and
# page breaks), unit separator, DEL, a C1 control.
CONTROL_CHARACTERS = ["\x00", "\x0b", "\x0c", "\x1f", "\x7f", "\x85"]
SLUG = "test-programme"


@pytest.fixture
def programme(settings, session: Session) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A small programme and an editor of ORG-A with an API token."""
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=2)
    app = create_app(settings)
    editor = get_user_by_email(session, create_user(session, "editor", ("ORG-A",)))
    _, secret = create_api_token(session, editor, name="integratie")
    session.commit()
    api = TestClient(app)
    api.headers["Authorization"] = f"Bearer {secret}"
    listing = api.get(f"/api/v1/programmes/{SLUG}/activities").json()
    own = next(
        activity
        for activity in listing["activities"]
        if activity["organisations"][0]["code"] == "ORG-A"
    )
    yield {"app": app, "api": api, "activity": own}
    app.state.engine.dispose()


def _versions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(StatusUpdate)) or 0


# -- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize("field", ["explanation", "status"])
def test_api_refuses_a_control_character_naming_the_field(
    programme: dict[str, Any], session: Session, field: str, character: str
) -> None:
    """The status is one of the legend's codes (an enum in the schema), so it is refused as
    any other text that is not a code; the explanation says which character."""
    activity = programme["activity"]
    before = _versions(session)
    body = {
        "status": "delayed",
        "explanation": "Vertraagd.",
        "based_on_version": activity["version"],
    }
    body[field] = f"a{character}b"
    response = programme["api"].patch(f"/api/v1/activities/{activity['id']}/status", json=body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    if field == "explanation":
        assert problem["type"] == "control_character"
        assert f"U+{ord(character):04X}" in problem["msg"] and "positie 2" in problem["msg"]
    else:
        assert problem["type"] == "enum"
    assert _versions(session) == before


def test_api_takes_tabs_and_line_breaks(programme: dict[str, Any], session: Session) -> None:
    activity = programme["activity"]
    response = programme["api"].patch(
        f"/api/v1/activities/{activity['id']}/status",
        json={
            "status": "delayed",
            "explanation": "Eerste regel\r\n\tTweede regel\nDerde",
            "based_on_version": activity["version"],
        },
    )
    assert response.status_code == 200, response.text
    # Stored with its line breaks as LF, as the form stores them.
    assert response.json()["explanation"] == "Eerste regel\n\tTweede regel\nDerde"


@pytest.mark.parametrize(
    ("path", "params", "place"),
    [
        (f"/api/v1/programmes/{SLUG}/activities", {"q": "a\x00b"}, ["query", "q"]),
        (
            f"/api/v1/programmes/{SLUG}/activities",
            {"organisation": "\x00"},
            ["query", "organisation"],
        ),
        ("/api/v1/programmes/a%00b/activities", {}, ["path", "programme"]),
        ("/api/v1/programmes/a%00b/compare", {}, ["path", "programme"]),
    ],
)
def test_api_refuses_control_characters_in_the_url(
    programme: dict[str, Any], path: str, params: dict[str, str], place: list[str]
) -> None:
    response = programme["api"].get(path, params=params)
    assert response.status_code == 422, response.text
    assert [problem["loc"] for problem in response.json()["detail"]] == [place]


def test_the_openapi_schema_shows_the_rule(programme: dict[str, Any]) -> None:
    """Schema-based testers (schemathesis) generate only what the schema allows."""
    schema = programme["api"].get("/api/openapi.json").json()
    change = schema["components"]["schemas"]["StatusChangeIn"]["properties"]
    assert change["explanation"]["pattern"] == FILLED_TEXT_PATTERN
    assert schema["components"]["schemas"]["Status"]["enum"]
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in schema["paths"]["/api/v1/programmes/{programme}/activities"]["get"][
            "parameters"
        ]
    }
    assert parameters["programme"]["pattern"] == TEXT_PATTERN
    assert parameters["q"]["anyOf"][0]["pattern"] == TEXT_PATTERN
    assert parameters["q"]["anyOf"][0]["maxLength"] == 200
