"""The coordinator's forms for the recommendations, used as a coordinator does: register a
report, add and edit a recommendation (a change made meanwhile by someone else is refused),
record a response and an assessment, reschedule the deadline (a reason when it moves), confirm,
make and remove links. A refusal names what is wrong beside the field and stores nothing;
every change is audited; editors and viewers are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.audit.models import AuditEvent
from app.main import create_app
from app.programmes.models import Organisation
from app.recommendations.models import (
    Addressee,
    DeadlineChange,
    Entry,
    Recommendation,
    RecommendationActivity,
    SourceReport,
)
from app.revision import DataRevision
from tests.factories import create_user, csrf_from
from tests.test_board import SLUG
from tests.test_recommendations_pages import World, load_everything

LIST = f"/programmes/{SLUG}/recommendations"


@pytest.fixture
def world(seeded_settings) -> Iterator[World]:  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        load_everything(session)
        emails = {
            "viewer": create_user(session, "viewer"),
            "editor": create_user(session, "editor", ("OM",)),
            "coordinator": create_user(session, "coordinator", name="Carla Coördinator"),
            "other": create_user(session, "coordinator", name="Otto Ander"),
        }
    yield World(app, emails)
    app.state.engine.dispose()


def _snapshot(world: World) -> tuple[int, ...]:
    with Session(world.app.state.engine) as session:
        revisions = tuple(session.scalars(select(DataRevision.revision)))
        counts = tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (AuditEvent, Entry, DeadlineChange, Recommendation, Addressee)
        )
        return revisions + counts


def _post(client: TestClient, page: str, action: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).text)
    return client.post(action, data={**data, "csrftoken": token}, follow_redirects=False)


def _error(html: str, field_id: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one(f"#{field_id}-error")
    assert found is not None, f"no message beside {field_id}"
    control = BeautifulSoup(html, "html.parser").select_one(f"#{field_id}")
    assert control is not None and f"{field_id}-error" in (control.get("aria-describedby") or "")
    return " ".join(found.get_text(" ").split())


def _actions(world: World) -> list[str]:
    with Session(world.app.state.engine) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(col(AuditEvent.id))))


def test_a_coordinator_registers_a_report_and_adds_a_recommendation_to_it(world: World) -> None:
    with Session(world.app.state.engine) as session:
        rapporteur = session.scalar(select(Organisation.id).where(col(Organisation.code) == "NRM"))
        om = session.scalar(select(Organisation.id).where(col(Organisation.code) == "OM"))
    with world.client("coordinator") as client:
        page = f"{LIST}/reports/new"
        assert "Rapport registreren" in client.get(page).text
        before = _snapshot(world)
        refused = _post(
            client,
            page,
            f"{LIST}/reports",
            {"title": "Monitor 2024", "publisher_id": rapporteur, "covers_from": "2020"},
        )
        assert refused.status_code == 422
        assert "eerste en het laatste" in _error(refused.text, "report-to")
        assert 'value="Monitor 2024"' in refused.text  # what was typed stays
        assert _snapshot(world) == before
        made = _post(
            client,
            page,
            f"{LIST}/reports",
            {
                "title": "Monitor 2024",
                "publisher_id": rapporteur,
                "year": "2024",
                "covers_from": "2019",
                "covers_to": "2023",
                "reference": "Kamerstuk 28638, nr. 999",
            },
        )
        assert made.status_code == 303, made.text
        form = made.headers["location"]
        assert form.startswith(f"{LIST}/new?report=")
        report_id = form.split("=")[1]
        refused = _post(
            client,
            form,
            f"{LIST}/new",
            {"report_id": report_id, "number": "", "title": "Meet beter"},
        )
        assert refused.status_code == 422
        assert "nummer" in _error(refused.text, "recommendation-number")
        made = _post(
            client,
            form,
            f"{LIST}/new",
            {
                "report_id": report_id,
                "number": "1",
                "title": "Meet beter",
                "text": "De Nationaal Rapporteur beveelt aan…",
                "priority": "yes",
                "addressee_name": ["de minister van Justitie en Veiligheid", ""],
                "addressee_organisation": ["", str(om)],
            },
        )
        assert made.status_code == 303, made.text
        detail = client.get(made.headers["location"])
        assert "Meet beter" in detail.text and "De aanbeveling is toegevoegd." in detail.text
        addressees = BeautifulSoup(detail.text, "html.parser").select_one("#addressees")
        assert addressees is not None
        shown = addressees.get_text(" ")
        assert "de minister van Justitie en Veiligheid" in shown and "Openbaar Ministerie" in shown
        listing = client.get(LIST + "?priority=yes")
        assert "Meet beter" in listing.text
    assert _actions(world)[-2:] == ["recommendation.report_create", "recommendation.create"]


def test_editing_keeps_the_form_and_refuses_what_someone_saved_meanwhile(world: World) -> None:
    target = world.recommendation("slachtoffermonitor-2014-2018", "2")
    edit = f"/recommendations/{target.id}/edit"
    with world.client("coordinator") as mine, world.client("other") as theirs:
        form = mine.get(edit)
        soup = BeautifulSoup(form.text, "html.parser")
        fields = {
            tag["name"]: tag.get("value", "")
            for tag in soup.select("#recommendation-form input[type=hidden]")
        }
        names = [tag.get("value", "") for tag in soup.select("input[name=addressee_name]")]
        organisations = [
            (select_.select_one("option[selected]") or {"value": ""}).get("value", "")  # type: ignore[union-attr]
            for select_ in soup.select("select[name=addressee_organisation]")
        ]
        common = {
            "report_id": str(target.report_id),
            "number": "2",
            "text": target.text,
            "addressee_name": names,
            "addressee_organisation": organisations,
        }
        saved = _post(theirs, edit, edit, {**common, "title": "Hun titel"} | _seen(theirs, edit))
        assert saved.status_code == 303
        before = _snapshot(world)
        stale = mine.post(
            edit,
            data={**common, "title": "Mijn titel", "seen": fields["seen"], "csrftoken": fields["csrftoken"]},
            follow_redirects=False,
        )  # fmt: skip
        assert stale.status_code == 409
        assert "Iemand anders" in stale.text and "Hun titel" in stale.text
        assert _snapshot(world) == before
        # The form now carries their version: saving again goes through.
        again = BeautifulSoup(stale.text, "html.parser").select_one("input[name=seen]")
        assert again is not None
        redone = mine.post(
            edit,
            data={**common, "title": "Mijn titel", "seen": again["value"], "csrftoken": fields["csrftoken"]},
            follow_redirects=False,
        )  # fmt: skip
        assert redone.status_code == 303
    with Session(world.app.state.engine) as session:
        found = session.get(Recommendation, target.id)
        assert found is not None and found.title == "Mijn titel"
        kept = session.scalars(
            select(Addressee.name).where(col(Addressee.recommendation_id) == target.id)
        ).all()
        assert [name for name in names if name] == list(kept)
    assert _actions(world)[-2:] == ["recommendation.update", "recommendation.update"]


def _seen(client: TestClient, edit: str) -> dict[str, str]:
    tag = BeautifulSoup(client.get(edit).text, "html.parser").select_one("input[name=seen]")
    assert tag is not None
    return {"seen": str(tag["value"])}


def test_a_response_and_an_assessment_join_the_dialogue(world: World) -> None:
    target = world.recommendation("slachtoffermonitor-2014-2018", "1")
    page = f"/recommendations/{target.id}"
    with world.client("coordinator") as client:
        before = _snapshot(world)
        refused = _post(
            client,
            page,
            f"{page}/statements",
            {"kind": "response", "entry_date": "2020-06-01", "text": "Het kabinet neemt over."},
        )
        assert refused.status_code == 422
        assert "Zeg hoe" in _error(refused.text, "response-verdict")
        assert "Het kabinet neemt over." in refused.text
        assert _snapshot(world) == before
        refused = _post(
            client,
            page,
            f"{page}/statements",
            {"kind": "response", "verdict": "accepted", "entry_date": "1-6-2020", "text": "x"},
        )
        assert "is geen datum" in _error(refused.text, "response-date")
        done = _post(
            client,
            page,
            f"{page}/statements",
            {
                "kind": "response",
                "verdict": "partly_accepted",
                "entry_date": "2020-06-01",
                "document_reference": "Kamerstuk 28638, nr. 180",
                "text": "Het kabinet neemt de aanbeveling deels over.",
            },
        )
        assert done.status_code == 303
        done = _post(
            client,
            page,
            f"{page}/statements",
            {"kind": "assessment", "entry_date": "2021-01-15", "text": "Onvoldoende."},
        )
        assert done.status_code == 303
        shown = client.get(page)
        dialogue = BeautifulSoup(shown.text, "html.parser").select_one("#dialogue")
        assert dialogue is not None
        text = " ".join(dialogue.get_text(" ").split())
        assert (
            "Beleidsreactie: gedeeltelijk overgenomen" in text
            and "Kamerstuk 28638, nr. 180" in text
        )
        assert "Beoordeling" in text and "Onvoldoende." in text
    assert _actions(world)[-2:] == ["recommendation.entry", "recommendation.entry"]


def test_moving_the_deadline_needs_a_reason(world: World) -> None:
    target = world.recommendation("slachtoffermonitor-2014-2018", "3")
    page = f"/recommendations/{target.id}"
    with world.client("coordinator") as client:
        assert (
            _post(client, page, f"{page}/deadline", {"deadline": "2025-12-31"}).status_code == 303
        )
        before = _snapshot(world)
        refused = _post(client, page, f"{page}/deadline", {"deadline": "2026-06-30"})
        assert refused.status_code == 422
        assert "waarom" in _error(refused.text, "deadline-reason")
        assert 'value="2026-06-30"' in refused.text
        assert _snapshot(world) == before
        refused = _post(client, page, f"{page}/deadline", {"deadline": ""})
        assert "waarom" in _error(refused.text, "deadline-reason")
        moved = _post(
            client,
            page,
            f"{page}/deadline",
            {"deadline": "2026-06-30", "reason": "Wetgeving later"},
        )
        assert moved.status_code == 303
        history = BeautifulSoup(client.get(page).text, "html.parser").select_one(
            ".deadline-history"
        )
        assert history is not None and "Wetgeving later" in history.get_text()
    assert _actions(world)[-2:] == ["recommendation.deadline", "recommendation.deadline"]


def test_links_are_confirmed_made_and_removed(world: World) -> None:
    target = world.recommendation("slachtoffermonitor-2014-2018", "1")
    page = f"/recommendations/{target.id}"
    with Session(world.app.state.engine) as session:
        proposed = session.scalars(
            select(RecommendationActivity).where(
                col(RecommendationActivity.recommendation_id) == target.id
            )
        ).all()
        assert proposed and not any(link.confirmed for link in proposed)
        first = proposed[0].activity_id
    with world.client("coordinator") as client:
        confirmed = _post(client, page, f"{page}/links/activity/{first}/confirm", {})
        assert confirmed.status_code == 303
        shown = client.get(page).text
        assert "bevestigd door Carla Coördinator" in shown
        again = _post(client, page, f"{page}/links/activity/{first}/confirm", {})
        assert again.status_code == 422 and "al bevestigd" in again.text
        choice = BeautifulSoup(shown, "html.parser").select_one(
            "#link-target option[value^='result:']"
        )
        assert choice is not None
        made = _post(client, page, f"{page}/links", {"target": choice["value"]})
        assert made.status_code == 303
        twice = _post(client, page, f"{page}/links", {"target": choice["value"]})
        assert twice.status_code == 422  # no longer offered, and refused if sent
        refused = _post(client, page, f"{page}/links", {"target": "activity:999999"})
        assert "Kies een activiteit" in _error(refused.text, "link-target")
        removed = _post(client, page, f"{page}/links/activity/{first}/remove", {})
        assert removed.status_code == 303
        assert _post(client, page, f"{page}/links/activity/{first}/remove", {}).status_code == 404
    with Session(world.app.state.engine) as session:
        left = session.scalars(
            select(RecommendationActivity.activity_id).where(
                col(RecommendationActivity.recommendation_id) == target.id
            )
        ).all()
        assert first not in left
    assert _actions(world)[-3:] == [
        "recommendation.link_confirm",
        "recommendation.link_add",
        "recommendation.link_remove",
    ]


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_editors_and_viewers_see_no_forms_and_are_refused(world: World, who: str) -> None:
    target = world.recommendation("slachtoffermonitor-2014-2018", "1")
    page = f"/recommendations/{target.id}"
    with world.client(who) as client:
        shown = client.get(page).text
        assert "deadline-form" not in shown and "link-form" not in shown
        assert "edit-link" not in shown
        assert "coordinator-links" not in client.get(LIST).text
        before = _snapshot(world)
        token = csrf_from(shown) if "csrftoken" in shown else ""
        for action, data in (
            (f"{page}/deadline", {"deadline": "2030-01-01"}),
            (f"{page}/statements", {"kind": "assessment", "entry_date": "2021-01-01"}),
            (f"{page}/links", {"target": "result:1"}),
            (f"{LIST}/new", {"number": "9", "title": "x"}),
        ):
            response = client.post(
                action, data={**data, "csrftoken": token}, follow_redirects=False
            )
            assert response.status_code == 403, action
        assert client.get(f"{page}/edit").status_code == 403
        assert _snapshot(world) == before


def test_reports_list_stays_in_the_programme(world: World) -> None:
    """A report of the programme only: another programme's id is refused beside the field."""
    with Session(world.app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(SourceReport)) == 2
    with world.client("coordinator") as client:
        refused = _post(
            client, f"{LIST}/new", f"{LIST}/new", {"report_id": "999", "number": "1", "title": "x"}
        )
        assert refused.status_code == 422
        assert "rapport" in _error(refused.text, "recommendation-report")
