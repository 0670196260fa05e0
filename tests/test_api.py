"""JSON API v1: the board's read-model with the board's filters, documented by OpenAPI."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.service import create_api_token, get_user_by_email
from tests.factories import create_user, sign_in
from tests.test_board import SLUG, _seed_statuses


@pytest.fixture
def coordinator_api(seeded_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API as a coordinator's integration sees it: a real token in every request."""
    with Session(seeded_app.state.engine) as session:
        user = get_user_by_email(session, create_user(session, "coordinator"))
        _, secret = create_api_token(session, user, name="integration")
        session.commit()
    with TestClient(seeded_app, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield client


def test_programmes_lists_programme_and_periods(seeded_client: TestClient) -> None:
    body = seeded_client.get("/api/v1/programmes").json()
    assert [p["slug"] for p in body] == [SLUG]
    assert body[0]["periods"][0]["name"] == "Voortgangsrapportage 2021"


def test_activities_have_the_documented_fields(seeded_client: TestClient) -> None:
    body = seeded_client.get(f"/api/v1/programmes/{SLUG}/activities").json()
    assert body["total"] == len(body["activities"]) == 128
    first = body["activities"][0]
    assert first["action_line"] == {
        "number": 1,
        "title": "Doorontwikkeling basis aanpak mensenhandel",
    }
    assert first["theme"] == "Signalering"
    assert first["result"] == {"number": 1, "title": "Verbeterde signalering bij professionals"}
    assert first["label"] == "1"
    assert first["title"] == "Training politiemedewerkers"
    assert first["status"]["code"] in {
        "completed",
        "ongoing",
        "on_schedule",
        "delayed",
        "not_started",
        "in_consultation",
        "not_applicable",
    }
    assert first["status"]["label"] and first["status"]["symbol"]
    assert first["explanation"].startswith("Alle eerstelijns politiemedewerkers")
    assert first["source"] == "derived"
    assert first["organisations"][0]["role"] == "lead"
    assert first["period"]["name"] == "Voortgangsrapportage 2021"


def test_activity_filters_match_the_board(seeded_client: TestClient) -> None:
    expected = _seed_statuses()
    body = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/activities",
        params=[("status", "delayed"), ("status", "completed"), ("action_line", "1")],
    ).json()
    assert Counter(a["status"]["code"] for a in body["activities"]) == Counter(
        {s: n for s, n in expected[1].items() if s in ("delayed", "completed")}
    )
    assert {a["action_line"]["number"] for a in body["activities"]} == {1}

    by_org = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/activities", params={"organisation": "IND"}
    ).json()
    assert by_org["total"] > 0
    assert all(any(o["code"] == "IND" for o in a["organisations"]) for a in by_org["activities"])

    search = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/activities", params={"q": "webcrawler"}
    ).json()
    assert [a["title"] for a in search["activities"]] == ["Webcrawler"]


def test_bad_parameters_are_422_with_the_place(seeded_client: TestClient) -> None:
    response = seeded_client.get(f"/api/v1/programmes/{SLUG}/activities", params={"status": "nope"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "status", 0]
    assert seeded_client.get("/api/v1/programmes/unknown/activities").status_code == 404
    missing_period = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/activities", params={"period": 999}
    )
    assert missing_period.status_code == 404
    assert "999" in missing_period.json()["detail"]


def test_language_of_labels_follows_the_request(seeded_client: TestClient) -> None:
    dutch = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/activities", params={"status": "completed"}
    )
    english = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/activities", params={"status": "completed", "lang": "en"}
    )
    assert dutch.json()["activities"][0]["status"]["label"] == "Voltooid"
    assert english.json()["activities"][0]["status"]["label"] == "Completed"


def test_openapi_documents_the_read_endpoints(seeded_client: TestClient) -> None:
    schema = seeded_client.get("/api/openapi.json").json()
    assert "/api/v1/programmes" in schema["paths"]
    activities = schema["paths"]["/api/v1/programmes/{programme}/activities"]["get"]
    names = {p["name"] for p in activities["parameters"]}
    assert {"status", "action_line", "organisation", "period", "q"} <= names
    assert "ActivityOut" in schema["components"]["schemas"]
    # Only the API is in the schema; HTML pages are not.
    assert all(path.startswith("/api/") for path in schema["paths"])


def test_openapi_documents_every_refusal_with_its_body(coordinator_api: TestClient) -> None:
    """What schemathesis found (tests/test_api_schema.py), asked directly: the 404 for an
    unknown activity is in the schema, with the body it has."""
    schema = coordinator_api.get("/api/openapi.json").json()
    update = schema["paths"]["/api/v1/activities/{activity_id}/status"]["patch"]
    assert {"400", "401", "403", "404", "409", "422", "503"} <= set(update["responses"])
    assert "Retry-After" in update["responses"]["503"]["headers"]
    missing = coordinator_api.patch(
        "/api/v1/activities/999999/status",
        json={"status": "completed", "explanation": "Klaar.", "based_on_version": None},
    )
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}
    assert update["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert schema["security"] == [{"token": []}, {"session": []}]


def test_the_schema_refuses_what_the_api_refuses(coordinator_api: TestClient) -> None:
    schema = coordinator_api.get("/api/openapi.json").json()
    change = schema["components"]["schemas"]["StatusChangeIn"]["properties"]
    assert change["status"] == {
        "$ref": "#/components/schemas/Status",
        "description": "One of the legend's codes",
    }
    assert change["explanation"]["minLength"] == 1
    assert change["explanation"]["maxLength"] == 5000
    activity_id = coordinator_api.get(f"/api/v1/programmes/{SLUG}/activities").json()["activities"][
        0
    ]["id"]
    for explanation in ("", "   \n"):
        refused = coordinator_api.patch(
            f"/api/v1/activities/{activity_id}/status",
            json={"status": "", "explanation": explanation, "based_on_version": 1},
        )
        assert refused.status_code == 422
        assert {tuple(problem["loc"]) for problem in refused.json()["detail"]} == {
            ("body", "status"),
            ("body", "explanation"),
        }


def test_moments_carry_their_offset(seeded_client: TestClient) -> None:
    activity = seeded_client.get(f"/api/v1/programmes/{SLUG}/activities").json()["activities"][0]
    assert activity["updated_at"].endswith("Z") or activity["updated_at"].endswith("+00:00")


def test_a_cookie_signed_in_change_without_csrf_token_gets_the_documented_json_error(
    seeded_app,  # type: ignore[no-untyped-def]
) -> None:
    """The API answers every refusal as ErrorOut, the CSRF check of a cookie-signed-in
    request too (what the API documentation's "Try it out" sends), in the user's language."""
    with Session(seeded_app.state.engine) as session:
        email = create_user(session, "coordinator")
    with TestClient(seeded_app) as client:
        sign_in(client, email)
        body = {"status": "completed", "explanation": "Klaar.", "based_on_version": None}
        refused = client.patch("/api/v1/activities/1/status", json=body)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/json"
        assert set(refused.json()) == {"detail"}
        assert "x-csrftoken" in refused.json()["detail"]
        assert "CSRF-token" in refused.json()["detail"]  # Dutch, the default language
        client.cookies.set("lang", "en")
        english = client.patch("/api/v1/activities/1/status", json=body)
        assert english.json()["detail"].startswith("This request has no valid CSRF token")
        # With the token of the cookie in the header it is an ordinary request.
        token = client.cookies["csrftoken"]
        allowed = client.patch(
            "/api/v1/activities/1/status", json=body, headers={"x-csrftoken": token}
        )
        assert allowed.status_code in (200, 409), allowed.text
        # A form still gets the page's text.
        form = client.post("/sign-out")
        assert form.status_code == 403 and form.headers["content-type"].startswith("text/plain")
