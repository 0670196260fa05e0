"""Changing an activity's status: who may, validation, append-only history, conflicts, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app.activities.models import StatusUpdate
from app.audit.models import AuditEvent
from app.programmes.models import Activity, ActivityOrganisation, Organisation
from tests.factories import create_programme, create_user, csrf_from, sign_in


@pytest.fixture
def world(settings, session: Session) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """A small programme: ORG-A leads the odd activities, ORG-B the even ones."""
    from app.main import create_app

    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=4)
    ids = {
        code: session.scalars(
            select(Activity.id)
            .join(ActivityOrganisation, ActivityOrganisation.activity_id == Activity.id)
            .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
            .where(Organisation.code == code)
            .order_by(Activity.id)
        ).first()
        for code in ("ORG-A", "ORG-B")
    }
    app = create_app(settings)
    yield {"app": app, "ids": ids, "period": 1}
    app.state.engine.dispose()


def _client(world, session: Session, role: str, organisations=()) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(world["app"])
    sign_in(client, create_user(session, role, organisations))
    return client


def _save(
    client: TestClient,
    activity_id: int,
    *,
    status="delayed",
    explanation="Vertraagd door X.",
    version="1",
    htmx=True,
    context="page",
    lang=None,
):  # type: ignore[no-untyped-def]
    page = client.get(f"/activities/{activity_id}")
    headers = {"HX-Request": "true"} if htmx else {}
    data = {
        "csrftoken": csrf_from(page.text),
        "period_id": "1",
        "status": status,
        "explanation": explanation,
        "based_on_version": version,
        "context": context,
    }
    url = f"/activities/{activity_id}/status" + (f"?lang={lang}" if lang else "")
    return client.post(url, data=data, headers=headers, follow_redirects=False)


def _versions(session: Session, activity_id: int) -> list[tuple[int, str, str]]:
    session.expire_all()
    return [
        (u.version, u.status, u.explanation)
        for u in session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.activity_id == activity_id)
            .order_by(StatusUpdate.version)
        )
    ]


def test_editor_changes_own_organisations_activity_in_place(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "editor", ("ORG-A",))
    activity = world["ids"]["ORG-A"]
    form = client.get(
        f"/activities/{activity}/edit?context=page&period=1", headers={"HX-Request": "true"}
    )
    assert form.status_code == 200 and "<html" not in form.text and "<form" in form.text
    response = _save(client, activity)
    assert response.status_code == 200
    assert response.headers["hx-trigger"] == "statusChanged"
    page = BeautifulSoup(response.text, "html.parser")
    assert (
        "In uitvoering maar met vertraging" in page.select_one(f"#activity-{activity}-status").text
    )
    assert [v[0] for v in _versions(session, activity)] == [1, 2]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "status.update")).one()
    assert event.object_id == str(activity)
    assert event.details["explanation"]["to"] == "Vertraagd door X."
    assert event.address


def test_without_javascript_the_form_posts_and_redirects(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "editor", ("ORG-A",))
    activity = world["ids"]["ORG-A"]
    full = client.get(f"/activities/{activity}/edit?context=page&period=1")
    assert "<html" in full.text and 'name="explanation"' in full.text
    response = _save(client, activity, htmx=False)
    assert response.status_code == 303 and response.headers["location"] == f"/activities/{activity}"
    assert len(_versions(session, activity)) == 2


@pytest.mark.parametrize(
    ("role", "organisations", "allowed"),
    [
        ("viewer", (), False),
        ("editor", ("ORG-B",), False),
        ("editor", ("ORG-A",), True),
        ("coordinator", (), True),
        ("admin", (), True),
    ],
)
def test_who_may_change_an_activity(world, session: Session, role, organisations, allowed) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, role, organisations)
    activity = world["ids"]["ORG-A"]
    response = _save(client, activity)
    assert (response.status_code == 200) == allowed, response.status_code
    if not allowed:
        assert response.status_code == 403
        assert len(_versions(session, activity)) == 1
    page = client.get("/programmes/test-programme/activities")
    assert (f'hx-target="#activity-{activity}"' in page.text) == allowed


def test_validation_answers_with_the_form_and_messages(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "coordinator")
    activity = world["ids"]["ORG-A"]
    response = _save(client, activity, status="", explanation="   ")
    assert response.status_code == 422
    form = BeautifulSoup(response.text, "html.parser")
    assert "Kies een stand van zaken." in form.select_one(f"#status-error-{activity}").text
    assert "Schrijf een toelichting." in form.select_one(f"#explanation-error-{activity}").text
    assert form.select_one(f"#status-{activity}")["aria-invalid"] == "true"
    english = _save(client, activity, status="bogus", explanation="x" * 5001, lang="en")
    assert "Choose a status from the legend." in english.text
    assert "5001 characters long" in english.text
    assert len(_versions(session, activity)) == 1


def test_conflict_is_refused_and_shows_both_texts(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    alice = _client(world, session, "editor", ("ORG-A",))
    bob = _client(world, session, "coordinator")
    activity = world["ids"]["ORG-A"]
    assert _save(alice, activity, explanation="Tekst van Alice.").status_code == 200
    # Bob still had version 1 open.
    response = _save(bob, activity, status="completed", explanation="Tekst van Bob.", version="1")
    assert response.status_code == 409
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one(".conflict__theirs").text == "Tekst van Alice."
    assert page.select_one(".conflict__yours").text == "Tekst van Bob."
    assert page.select_one("input[name=based_on_version]")["value"] == "2"
    assert [v[2] for v in _versions(session, activity)] == [
        "Toelichting bij activiteit 1.1.",
        "Tekst van Alice.",
    ]
    # Saving the merged text on top of Alice's version is a deliberate choice and works.
    merged = _save(bob, activity, status="completed", explanation="Alice en Bob.", version="2")
    assert merged.status_code == 200
    assert [v[2] for v in _versions(session, activity)][-1] == "Alice en Bob."


def test_history_is_appended_and_differences_are_marked(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "coordinator")
    activity = world["ids"]["ORG-A"]
    _save(client, activity, explanation="De training is gestart in januari.", version="1")
    _save(client, activity, explanation="De training is afgerond in maart.", version="2")
    assert [v[0] for v in _versions(session, activity)] == [1, 2, 3]
    page = BeautifulSoup(client.get(f"/activities/{activity}").text, "html.parser")
    newest = page.select(".history__item")[0]
    assert [d.text.strip() for d in newest.select("del")] == ["gestart", "januari."]
    assert [i.text.strip() for i in newest.select("ins")] == ["afgerond", "maart."]
    assert len(page.select(".history__item")) == 3


def test_explanation_with_markup_is_stored_and_shown_as_text(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "coordinator")
    activity = world["ids"]["ORG-A"]
    evil = '<script>alert("x")</script><b>vet</b>'
    assert _save(client, activity, explanation=evil).status_code == 200
    page = client.get(f"/activities/{activity}").text
    assert "<script>alert" not in page and "<b>vet</b>" not in page
    assert "&lt;script&gt;" in page
    assert _versions(session, activity)[-1][2] == evil


def test_unchanged_save_confirms_a_starting_point_once_then_is_refused_politely(
    world, session: Session
) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "coordinator")
    activity = world["ids"]["ORG-A"]
    current = _versions(session, activity)[-1]
    # The derived status is the period's starting point: saving it unchanged confirms it.
    confirmed = _save(client, activity, status=current[1], explanation=current[2])
    assert confirmed.status_code == 200
    assert _versions(session, activity)[-1] == (2, current[1], current[2])
    again = _save(client, activity, status=current[1], explanation=current[2], version="2")
    assert again.status_code == 422 and "niets gewijzigd" in again.text
    assert len(_versions(session, activity)) == 2


def test_counts_fragment_reflects_the_change(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = _client(world, session, "coordinator")
    activity = world["ids"]["ORG-A"]  # starts "completed"
    before = client.get(
        "/programmes/test-programme/summary?period=1", headers={"HX-Request": "true"}
    )
    _save(client, activity, status="delayed")
    after = client.get(
        "/programmes/test-programme/summary?period=1", headers={"HX-Request": "true"}
    )
    count = lambda html, status: int(  # noqa: E731
        BeautifulSoup(html, "html.parser")
        .select_one(f".status--{status}")
        .find_parent("li")
        .strong.text
    )
    assert count(after.text, "delayed") == count(before.text, "delayed") + 1


def test_api_update_with_token_follows_the_same_rules(world, session: Session) -> None:  # type: ignore[no-untyped-def]
    from app.accounts.service import create_api_token, get_user_by_email

    editor = get_user_by_email(session, create_user(session, "editor", ("ORG-A",)))
    token, secret = create_api_token(session, editor, name="integratie")
    session.commit()
    api = TestClient(world["app"])
    auth = {"Authorization": f"Bearer {secret}"}
    own, other = world["ids"]["ORG-A"], world["ids"]["ORG-B"]
    body = {"status": "on_schedule", "explanation": "Via de API.", "based_on_version": 1}
    ok = api.patch(f"/api/v1/activities/{own}/status", json=body, headers=auth)
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["status"]["code"] == "on_schedule"
    conflict = api.patch(f"/api/v1/activities/{own}/status", json=body, headers=auth)
    assert conflict.status_code == 409
    assert conflict.json()["current_version"] == 2
    forbidden = api.patch(f"/api/v1/activities/{other}/status", json=body, headers=auth)
    assert forbidden.status_code == 403
    invalid = api.patch(
        f"/api/v1/activities/{own}/status",
        headers=auth,
        json={**body, "status": "klaar", "based_on_version": 2},
    )
    assert invalid.status_code == 422
    assert [problem["loc"] for problem in invalid.json()["detail"]] == [["body", "status"]]
    from app.accounts.service import revoke_api_token

    revoke_api_token(session, editor, token.id)
    session.commit()
    revoked = api.patch(f"/api/v1/activities/{own}/status", json=body, headers=auth)
    assert revoked.status_code == 401
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "status.update")).all()
    assert len(audit) == 1 and audit[0].details["explanation"]["to"] == "Via de API."


def test_a_change_through_one_process_shows_in_another_at_once(
    world, settings, session: Session
) -> None:  # type: ignore[no-untyped-def]
    """Lists are cached per data revision, never beyond it: a second app on the same
    database (another process) sees a change on its next request."""
    from app.main import create_app

    other_app = create_app(settings)
    reader = TestClient(other_app)
    sign_in(reader, create_user(session, "viewer"))
    activity = world["ids"]["ORG-A"]
    before = reader.get("/programmes/test-programme/activities", params={"status": "delayed"}).text
    assert f'id="activity-{activity}"' not in before
    reader.get("/programmes/test-programme")  # fills the board cache too
    writer = _client(world, session, "coordinator")
    assert _save(writer, activity, status="delayed").status_code == 200
    after = reader.get("/programmes/test-programme/activities", params={"status": "delayed"}).text
    assert f'id="activity-{activity}"' in after
    board = BeautifulSoup(reader.get("/programmes/test-programme").text, "html.parser")
    delayed = (
        board.select_one("#board-totals .status-counts .status--delayed")
        .find_parent("li")
        .strong.text
    )
    assert int(delayed) == 2  # one of the four was delayed already; now two
    other_app.state.engine.dispose()
