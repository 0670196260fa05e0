"""Confirming activities unchanged for a period: several at once from the to-do list (all or
none, each through the same service and edit policy as one) and by sending a spreadsheet row
back unchanged, and how a confirmation shows in the activity's history, which refreshes itself
after a save on the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.activities import service as activities
from app.activities.models import Status, StatusUpdate, UpdateSource
from app.audit.models import AuditEvent
from app.config import Settings
from app.errors import InvalidInput
from app.imports import parsing
from app.imports import service as imports
from app.main import create_app
from app.periods import service as periods
from app.periods.service import PeriodClosed
from tests.factories import (
    UpdateRound,
    create_user,
    csrf_from,
    organisation_activities,
    sign_in,
    update_round,
)
from tests.test_imports import export_records, write_file

Confirmation = activities.Confirmation


def _versions(session: Session, period_id: int, activity_id: int) -> list[StatusUpdate]:
    session.expire_all()
    return list(
        session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.activity_id == activity_id, StatusUpdate.period_id == period_id)
            .order_by(StatusUpdate.version)
        )
    )


def _count_versions(session: Session, period_id: int) -> int:
    session.expire_all()
    return len(
        session.scalars(select(StatusUpdate.id).where(StatusUpdate.period_id == period_id)).all()
    )


@pytest.fixture
def round_(seeded_session: Session) -> UpdateRound:
    return update_round(seeded_session)


# -- the service ----------------------------------------------------------------------------


def test_confirm_many_confirms_each_selected_activity_as_one_confirmation_would(
    seeded_session: Session, round_: UpdateRound
) -> None:
    chosen = round_.activities[:3]
    confirmed = activities.confirm_many(
        seeded_session,
        period_id=round_.period_id,
        confirmations=[Confirmation(activity_id, 1) for activity_id in chosen],
        author=round_.editor,
    )
    seeded_session.commit()
    assert [update.activity_id for update in confirmed] == chosen
    for activity_id in chosen:
        carried, confirmation = _versions(seeded_session, round_.period_id, activity_id)
        assert carried.source == UpdateSource.carried_over
        assert confirmation.source == UpdateSource.entered and confirmation.version == 2
        assert (confirmation.status, confirmation.explanation) == (
            carried.status,
            carried.explanation,
        )
        assert confirmation.author_id == round_.editor.id
    audited = seeded_session.scalars(
        select(AuditEvent.object_id).where(AuditEvent.action == "status.confirm")
    ).all()
    assert sorted(int(object_id) for object_id in audited) == sorted(chosen)
    period = periods.get_period(seeded_session, round_.period_id)
    progress = {
        item.row.id: item.progress
        for item in periods.publication_check(seeded_session, period=period).items
    }
    assert {progress[activity_id] for activity_id in chosen} == {periods.CONFIRMED}
    assert progress[round_.activities[3]] == periods.NOT_UPDATED


def test_confirm_many_refuses_all_when_one_activity_is_not_the_editors(
    seeded_session: Session, round_: UpdateRound
) -> None:
    others = [
        activity_id
        for activity_id in organisation_activities(seeded_session, "OM")
        if activity_id not in round_.activities
    ]
    assert others
    before = _count_versions(seeded_session, round_.period_id)
    with pytest.raises(activities.ConfirmRefused) as refused:
        activities.confirm_many(
            seeded_session,
            period_id=round_.period_id,
            confirmations=[Confirmation(round_.activities[0], 1), Confirmation(others[0], 1)],
            author=round_.editor,
        )
    seeded_session.rollback()
    assert list(refused.value.problems) == [others[0]]
    name = activities.activity_names(seeded_session, [others[0]])[others[0]]
    assert name in refused.value.message and "Nothing was confirmed" not in name
    assert "Alleen redacteuren van de organisaties" in refused.value.problems[others[0]] or (
        "Only editors of the organisations" in refused.value.problems[others[0]]
    )
    assert _count_versions(seeded_session, round_.period_id) == before  # not even the own one


def test_confirm_many_refuses_all_when_someone_saved_one_since_the_list_was_loaded(
    seeded_session: Session, round_: UpdateRound
) -> None:
    first, second = round_.activities[:2]
    activities.record_status(
        seeded_session,
        activity_id=second,
        period_id=round_.period_id,
        status=Status.delayed,
        explanation="Vertraagd: een collega was eerder.",
        author=round_.coordinator,
        based_on_version=1,
    )
    seeded_session.commit()
    with pytest.raises(activities.ConfirmRefused) as refused:
        activities.confirm_many(
            seeded_session,
            period_id=round_.period_id,
            confirmations=[Confirmation(first, 1), Confirmation(second, 1)],
            author=round_.editor,
        )
    seeded_session.rollback()
    assert list(refused.value.problems) == [second]
    assert "2" in refused.value.problems[second]  # the version it is at now
    assert len(_versions(seeded_session, round_.period_id, first)) == 1
    assert _versions(seeded_session, round_.period_id, second)[-1].status == Status.delayed


def test_confirm_many_refuses_an_activity_already_updated_and_an_empty_selection(
    seeded_session: Session, round_: UpdateRound
) -> None:
    done = round_.activities[0]
    activities.confirm_many(
        seeded_session,
        period_id=round_.period_id,
        confirmations=[Confirmation(done, 1)],
        author=round_.editor,
    )
    seeded_session.commit()
    with pytest.raises(activities.ConfirmRefused) as refused:
        activities.confirm_many(
            seeded_session,
            period_id=round_.period_id,
            confirmations=[Confirmation(done, 2)],
            author=round_.editor,
        )
    assert (
        "(version 2)" in refused.value.problems[done]
        or "(versie 2)" in (refused.value.problems[done])
    )
    seeded_session.rollback()
    with pytest.raises(InvalidInput):
        activities.confirm_many(
            seeded_session, period_id=round_.period_id, confirmations=[], author=round_.editor
        )
    assert len(_versions(seeded_session, round_.period_id, done)) == 2


def test_confirm_unchanged_follows_the_period_rules(
    seeded_session: Session, round_: UpdateRound
) -> None:
    periods.move_period(
        seeded_session, period_id=round_.period_id, move="review", actor=round_.coordinator
    )
    seeded_session.commit()
    with pytest.raises(PeriodClosed):
        activities.confirm_unchanged(
            seeded_session,
            activity_id=round_.activities[0],
            period_id=round_.period_id,
            based_on_version=1,
            author=round_.editor,
        )
    # A coordinator still changes during review, confirmations included.
    activities.confirm_unchanged(
        seeded_session,
        activity_id=round_.activities[0],
        period_id=round_.period_id,
        based_on_version=1,
        author=round_.coordinator,
    )


# -- the to-do list -------------------------------------------------------------------------


@pytest.fixture
def web(seeded_settings: Settings, seeded_session: Session) -> Iterator[dict]:  # type: ignore[type-arg]
    """The round, and the app with the police editor, an editor of another organisation
    and a viewer signed in."""
    world = update_round(seeded_session)
    app = create_app(seeded_settings)
    clients = {}
    for role, email in (
        ("editor", world.editor_email),
        ("other", create_user(seeded_session, "editor", ("OM",))),
        ("viewer", create_user(seeded_session, "viewer")),
    ):
        client = TestClient(app)
        sign_in(client, email)
        clients[role] = client
    yield {"round": world, **clients}
    app.state.engine.dispose()


def _todo(client: TestClient, period_id: int, query: str = "") -> BeautifulSoup:
    response = client.get(f"/periods/{period_id}/todo{query}")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def _boxes(page: BeautifulSoup) -> dict[int, bool]:
    return {
        int(box["value"].split(":")[0]): box.has_attr("checked")
        for box in page.select("#confirm-form input[type=checkbox][name=confirm]")
    }


def test_todo_list_offers_a_box_per_activity_still_as_carried_over(web) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    page = _todo(web["editor"], world.period_id)
    boxes = _boxes(page)
    assert sorted(boxes) == world.activities and not any(boxes.values())
    for activity_id in world.activities:
        box = page.select_one(f"#confirm-{activity_id}")
        assert box["value"] == f"{activity_id}:1"
        assert box["aria-label"].startswith("Selecteren: ")
    # "Select all" is a link that works without JavaScript: the same list, every box ticked.
    select_all = page.select_one("#select-links a")
    assert select_all.text == f"Alles selecteren ({len(world.activities)})"
    everything = _todo(web["editor"], world.period_id, "?" + select_all["href"].split("?")[1])
    assert _boxes(everything) == dict.fromkeys(world.activities, True)
    assert _boxes(_todo(web["editor"], world.period_id, "?select=none")) == dict.fromkeys(
        world.activities, False
    )
    # Confirmed ones are done: no box for them.
    first = world.activities[0]
    _confirm(web["editor"], world.period_id, [f"{first}:1"])
    assert first not in _boxes(_todo(web["editor"], world.period_id))


def _confirm(
    client: TestClient, period_id: int, values: list[str], *, htmx: bool = False, token: str = ""
):  # type: ignore[no-untyped-def]
    token = token or csrf_from(client.get(f"/periods/{period_id}/todo").text)
    return client.post(
        f"/periods/{period_id}/todo/confirm",
        data={"csrftoken": token, "confirm": values},
        headers={"HX-Request": "true"} if htmx else {},
        follow_redirects=False,
    )


def test_confirming_the_selection_without_javascript_redirects_to_the_list_with_a_message(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    chosen = world.activities[:2]
    response = _confirm(web["editor"], world.period_id, [f"{a}:1" for a in chosen])
    assert response.status_code == 303
    assert response.headers["location"] == f"/periods/{world.period_id}/todo?confirmed=2"
    page = _todo(web["editor"], world.period_id, "?confirmed=2")
    assert "2 activiteiten zijn ongewijzigd bevestigd" in page.select_one("#todo-done").text
    for activity_id in chosen:
        assert [v.version for v in _versions(seeded_session, world.period_id, activity_id)] == [
            1,
            2,
        ]
        assert page.select_one(f"#item-{activity_id}")["data-progress"] == "confirmed"


def test_confirming_with_htmx_swaps_the_list_and_refreshes_the_counts(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    response = _confirm(web["editor"], world.period_id, [f"{world.activities[0]}:1"], htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "statusChanged"
    assert "<html" not in response.text
    fragment = BeautifulSoup(response.text, "html.parser")
    assert fragment.select_one("#todo-content") is not None
    assert "1 activiteit is ongewijzigd bevestigd" in fragment.select_one("#todo-done").text
    assert world.activities[0] not in _boxes(fragment)


def test_an_activity_of_another_organisation_is_refused_by_name_and_nothing_is_confirmed(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    other = next(
        a for a in organisation_activities(seeded_session, "OM") if a not in world.activities
    )
    before = _count_versions(seeded_session, world.period_id)
    for htmx in (False, True):
        response = _confirm(
            web["editor"], world.period_id, [f"{world.activities[0]}:1", f"{other}:1"], htmx=htmx
        )
        assert response.status_code == 422
        page = BeautifulSoup(response.text, "html.parser")
        refused = page.select_one("#todo-refused")
        name = activities.activity_names(seeded_session, [other])[other]
        assert "Niets is bevestigd" in refused.text and name in refused.text
        assert refused.select_one(f"[data-activity='{other}']") is not None
        # The editor's own selection is kept, to confirm again without the other.
        assert _boxes(page)[world.activities[0]] is True
    assert _count_versions(seeded_session, world.period_id) == before


def test_a_stale_selection_names_the_activity_someone_else_saved(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    first, second = world.activities[:2]
    token = csrf_from(web["editor"].get(f"/periods/{world.period_id}/todo").text)
    activities.record_status(
        seeded_session,
        activity_id=second,
        period_id=world.period_id,
        status=Status.delayed,
        explanation="Intussen gewijzigd.",
        author=world.coordinator,
        based_on_version=1,
    )
    seeded_session.commit()
    response = _confirm(web["editor"], world.period_id, [f"{first}:1", f"{second}:1"], token=token)
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert "nu versie 2" in page.select_one("#todo-refused").text
    assert len(_versions(seeded_session, world.period_id, first)) == 1
    assert _boxes(page) == {a: a == first for a in world.activities if a != second}


def test_confirm_route_needs_csrf_an_editor_and_a_readable_selection(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    shared = set(organisation_activities(seeded_session, "OM"))
    police_only = next(a for a in world.activities if a not in shared)
    value = [f"{police_only}:1"]
    no_token = web["editor"].post(
        f"/periods/{world.period_id}/todo/confirm",
        data={"confirm": value},
        follow_redirects=False,
    )
    assert no_token.status_code == 403
    viewer = web["viewer"]
    token = csrf_from(viewer.get(f"/periods/{world.period_id}").text)
    assert _confirm(viewer, world.period_id, value, token=token).status_code == 403
    # Another organisation's editor has no box for the police's own activities, and a
    # confirmation sent anyway is refused.
    assert police_only not in _boxes(_todo(web["other"], world.period_id))
    assert _confirm(web["other"], world.period_id, value).status_code == 422
    unreadable = _confirm(web["editor"], world.period_id, ["7;1"])
    assert unreadable.status_code == 422 and "kon niet worden gelezen" in unreadable.text
    empty = _confirm(web["editor"], world.period_id, [])
    assert empty.status_code == 422 and "Selecteer ten minste één activiteit" in empty.text
    assert len(_versions(seeded_session, world.period_id, police_only)) == 1


# -- the history ----------------------------------------------------------------------------


def _history(client: TestClient, activity_id: int, period_id: int) -> list[str]:
    page = BeautifulSoup(
        client.get(f"/activities/{activity_id}?period={period_id}").text, "html.parser"
    )
    return [
        " ".join(item.select_one(".history__meta").text.split())
        for item in page.select(f"#activity-{activity_id}-history .history__item")
    ]


def test_a_confirmation_shows_in_the_history_as_a_confirmation(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    confirmed, changed = world.activities[:2]
    _confirm(web["editor"], world.period_id, [f"{confirmed}:1"])
    history = _history(web["editor"], confirmed, world.period_id)
    assert history[0].startswith("Versie 2") and "Ongewijzigd bevestigd" in history[0]
    assert "ingevoerd" not in history[0]
    assert "overgenomen uit de vorige periode" in history[1]
    page = web["editor"].get(f"/activities/{confirmed}?period={world.period_id}&lang=en")
    assert "Confirmed unchanged" in page.text
    # A change is entered, not a confirmation.
    activities.record_status(
        seeded_session,
        activity_id=changed,
        period_id=world.period_id,
        status=Status.delayed,
        explanation="Anders dan vorig jaar.",
        author=world.editor,
        based_on_version=1,
    )
    seeded_session.commit()
    newest = _history(web["editor"], changed, world.period_id)[0]
    assert "bron: ingevoerd" in newest and "Ongewijzigd bevestigd" not in newest


def test_the_history_fragment_refreshes_after_a_save_on_the_page(web) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    activity_id = world.activities[0]
    editor = web["editor"]
    html = editor.get(f"/activities/{activity_id}?period={world.period_id}").text
    page = BeautifulSoup(html, "html.parser")
    section = page.select_one(f"#activity-{activity_id}-history")
    assert section["hx-trigger"] == "statusChanged from:body"
    url = section["hx-get"]
    before = len(section.select(".history__item"))
    assert url == f"/activities/{activity_id}/history?period={world.period_id}"
    save = editor.post(
        f"/activities/{activity_id}/status",
        data={
            "csrftoken": csrf_from(html),
            "period_id": str(world.period_id),
            "status": "delayed",
            "explanation": "Nieuw in deze periode.",
            "based_on_version": "1",
            "context": "page",
        },
        headers={"HX-Request": "true"},
    )
    assert save.status_code == 200 and save.headers["HX-Trigger"] == "statusChanged"
    fragment = editor.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    refreshed = BeautifulSoup(fragment.text, "html.parser")
    items = refreshed.select(f"#activity-{activity_id}-history .history__item")
    assert len(items) == before + 1 and items[0].text.strip().startswith("Versie 2")
    assert items[0].select_one(".status--delayed") is not None
    assert [ins.text for ins in items[0].select("ins")] == ["Nieuw", "periode."]  # marked
    # Without htmx the same address is the activity's page.
    assert "<html" in editor.get(url).text


# -- confirming by import -------------------------------------------------------------------


def _sheet(session: Session, period_id: int, edit=None):  # type: ignore[no-untyped-def]
    """The period's export as a CSV sheet, with `edit(records_by_id)` applied first."""
    records = [dict(record) for record in export_records(session, period_id)]
    if edit:
        edit({record["activity_id"]: record for record in records})
    return parsing.read_sheet(write_file("csv", records), "bijwerken.csv")


def test_the_dry_run_reports_rows_sent_back_unchanged_as_confirmations(
    seeded_session: Session, round_: UpdateRound
) -> None:
    confirmed_before, changed, carried = round_.activities[:3]
    activities.confirm_many(
        seeded_session,
        period_id=round_.period_id,
        confirmations=[Confirmation(confirmed_before, 1)],
        author=round_.editor,
    )
    seeded_session.commit()

    def edit(by_id):  # type: ignore[no-untyped-def]
        by_id[changed]["explanation"] = "Nieuw voor deze periode."

    sheet = _sheet(seeded_session, round_.period_id, edit)
    checked = imports.preview(
        seeded_session, period_id=round_.period_id, rows=sheet.rows, user=round_.editor
    )
    outcome = {line.activity_id: line for line in checked.lines}
    assert outcome[carried].outcome == "confirm" and outcome[carried].based_on_version == 1
    assert "de rij bevestigt dat voor deze periode" in outcome[carried].note
    # Confirmed already in this period: sent back unchanged, it is simply unchanged.
    assert outcome[confirmed_before].outcome == "unchanged"
    assert outcome[changed].outcome == "change"
    # Another organisation's activity sent back as it is: not this editor's to confirm.
    others = [a for a in outcome if a not in round_.activities]
    assert others and {outcome[a].outcome for a in others} == {"unchanged"}
    confirmable = len(round_.activities) - 2
    assert checked.counts() == {
        "change": 1,
        "confirm": confirmable,
        "unchanged": len(checked.lines) - 1 - confirmable,
        "refused": 0,
    }
    assert f"bevestigd ongewijzigd: {confirmable};" in checked.summary()
    assert _count_versions(seeded_session, round_.period_id) == len(checked.lines) + 1  # a dry run


def test_a_row_of_another_version_is_not_taken_as_a_confirmation(
    seeded_session: Session, round_: UpdateRound
) -> None:
    activity_id = round_.activities[0]

    def edit(by_id):  # type: ignore[no-untyped-def]
        by_id[activity_id]["version"] = 7

    sheet = _sheet(seeded_session, round_.period_id, edit)
    checked = imports.preview(
        seeded_session, period_id=round_.period_id, rows=sheet.rows, user=round_.editor
    )
    line = next(line for line in checked.lines if line.activity_id == activity_id)
    assert line.outcome == "unchanged" and "bestand heeft versie 7" in line.note


def test_applying_confirms_through_the_same_service_all_or_nothing(
    seeded_session: Session, round_: UpdateRound
) -> None:
    first, second, bad = round_.activities[:3]

    def with_bad_row(by_id):  # type: ignore[no-untyped-def]
        by_id[bad]["status"] = "bijna klaar"

    refused = imports.apply(
        seeded_session,
        period_id=round_.period_id,
        rows=_sheet(seeded_session, round_.period_id, with_bad_row).rows,
        user=round_.editor,
        address="203.0.113.9",
    )
    seeded_session.commit()
    assert refused.applied == [] and refused.preview.count("confirm") > 0
    assert len(_versions(seeded_session, round_.period_id, first)) == 1  # nothing at all

    # The changes only, if the editor chooses so.
    only_changes = imports.apply(
        seeded_session,
        period_id=round_.period_id,
        rows=_sheet(seeded_session, round_.period_id).rows,
        user=round_.editor,
        address="203.0.113.9",
        confirm=False,
    )
    assert only_changes.applied == [] and only_changes.preview.count("confirm") == 0

    applied = imports.apply(
        seeded_session,
        period_id=round_.period_id,
        rows=_sheet(seeded_session, round_.period_id).rows,
        user=round_.editor,
        address="203.0.113.9",
        filename="terug.csv",
    )
    seeded_session.commit()
    assert len(applied.applied) == len(round_.activities)
    for activity_id in (first, second, bad):
        carried, confirmation = _versions(seeded_session, round_.period_id, activity_id)
        assert confirmation.source == UpdateSource.imported
        assert (confirmation.status, confirmation.explanation) == (
            carried.status,
            carried.explanation,
        )
    audit = seeded_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status.import")
    ).one()
    assert audit.details["changed"] == []
    assert len(audit.details["confirmed"]) == len(round_.activities)
    assert seeded_session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "status.confirm")
    ) == len(round_.activities)


def test_an_imported_confirmation_shows_in_the_history_as_such(
    web, seeded_session: Session
) -> None:  # type: ignore[no-untyped-def]
    world: UpdateRound = web["round"]
    imports.apply(
        seeded_session,
        period_id=world.period_id,
        rows=_sheet(seeded_session, world.period_id).rows,
        user=world.editor,
        address="203.0.113.9",
    )
    seeded_session.commit()
    newest = _history(web["editor"], world.activities[0], world.period_id)[0]
    assert "Ongewijzigd bevestigd (geïmporteerd)" in newest


def test_the_review_page_marks_a_confirmation_as_such(
    seeded_settings: Settings, seeded_session: Session, round_: UpdateRound
) -> None:
    confirmed, changed = round_.activities[:2]
    activities.confirm_many(
        seeded_session,
        period_id=round_.period_id,
        confirmations=[Confirmation(confirmed, 1)],
        author=round_.editor,
    )
    activities.record_status(
        seeded_session,
        activity_id=changed,
        period_id=round_.period_id,
        status=Status.delayed,
        explanation="Anders.",
        author=round_.editor,
        based_on_version=1,
    )
    seeded_session.commit()
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        sign_in(client, round_.coordinator_email)
        page = BeautifulSoup(client.get(f"/periods/{round_.period_id}/review").text, "html.parser")
    app.state.engine.dispose()
    marks = {
        article["id"]: article.select_one(".proposal__confirms") is not None
        for article in page.select("article.proposal")
    }
    versions = {
        activity_id: _versions(seeded_session, round_.period_id, activity_id)[-1].id
        for activity_id in (confirmed, changed)
    }
    assert len(marks) >= 2 and marks[f"proposal-{versions[confirmed]}"] is True
    assert marks[f"proposal-{versions[changed]}"] is False
