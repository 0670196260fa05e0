"""The four-eyes review of monitor figure versions, on the review notes of status updates
(app/review): a coordinator other than the author approves or sends back; a sent-back figure
is its editor's to change during review, no other; an edition is published only when every
current figure version counts; seeded versions count without review."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlmodel import Session, col

from app.errors import Forbidden, InvalidInput
from app.ids import id_of
from app.main import create_app
from app.monitor import service
from app.monitor.models import Edition, FigureVersion
from app.monitor.values import parse_value
from app.periods import service as periods
from app.periods.models import PeriodKind, PeriodState, ReportingPeriod
from app.policy import Reason
from app.review import figures as figure_review
from app.review import service as review
from app.review.models import ReviewKind, ReviewNote
from tests.factories import (
    EditionFigure,
    coordinator,
    create_user,
    csrf_from,
    current_user,
    open_edition,
    open_round,
    sign_in,
)
from tests.test_monitor import _entries, _open_edition


def _in_review(session: Session) -> tuple[int, dict, object, object, list[FigureVersion]]:
    """The open edition of tests/test_monitor with its three figures entered by NRM's editor,
    moved to review."""
    edition_id, figures, actor, _ = _open_edition(session)
    editor = current_user(session, create_user(session, "editor", ("NRM",)))
    written = service.record_figures(
        session, edition_id=edition_id, entries=_entries(figures, "10", "6", "4"), author=editor
    )
    service.move_edition(session, edition_id=edition_id, move="review", actor=actor)
    session.commit()
    return edition_id, figures, actor, editor, written


def test_a_coordinator_approves_and_publication_waits_for_every_figure(
    seeded_session: Session,
) -> None:
    edition_id, _, actor, _, written = _in_review(seeded_session)
    with pytest.raises(InvalidInput, match="3 cijferversies zijn niet goedgekeurd"):
        service.move_edition(seeded_session, edition_id=edition_id, move="publish", actor=actor)
    for version in written[:2]:
        review.decide_figure(
            seeded_session, figure_version_id=version.id or 0, decision="approve", reviewer=actor
        )
    with pytest.raises(InvalidInput, match="1 cijferversie is niet goedgekeurd"):
        service.move_edition(seeded_session, edition_id=edition_id, move="publish", actor=actor)
    with pytest.raises(InvalidInput, match="al goedgekeurd"):
        review.decide_figure(
            seeded_session, figure_version_id=written[0].id or 0, decision="approve",
            reviewer=actor,
        )  # fmt: skip
    review.decide_figure(
        seeded_session, figure_version_id=written[2].id or 0, decision="approve", reviewer=actor
    )
    period = service.move_edition(
        seeded_session, edition_id=edition_id, move="publish", actor=actor
    )
    assert period.state == PeriodState.published
    notes = seeded_session.scalars(
        select(ReviewNote).where(col(ReviewNote.figure_version_id).is_not(None))
    ).all()
    assert [(n.kind, n.status_update_id) for n in notes] == [(ReviewKind.approve, None)] * 3


def test_a_coordinator_may_not_approve_their_own_figure(seeded_session: Session) -> None:
    edition_id, figures, actor, _ = _open_edition(seeded_session)
    written = service.record_figures(
        seeded_session, edition_id=edition_id, entries=_entries(figures, "10", "6", "4"),
        author=actor,
    )  # fmt: skip
    with pytest.raises(Forbidden, match="Vier ogen"):
        review.decide_figure(
            seeded_session, figure_version_id=written[0].id or 0, decision="approve",
            reviewer=actor,
        )  # fmt: skip
    proposals = review.figure_proposals(
        seeded_session, period_id=service.get_edition(seeded_session, edition_id).period_id,
        reviewer=actor,
    )  # fmt: skip
    assert len(proposals) == 3 and not any(p.may_approve for p in proposals)
    other = coordinator(seeded_session)
    review.decide_figure(
        seeded_session, figure_version_id=written[0].id or 0, decision="approve", reviewer=other
    )


def test_a_sent_back_figure_is_its_editors_to_change_during_review_and_no_other(
    seeded_session: Session,
) -> None:
    edition_id, figures, actor, editor, written = _in_review(seeded_session)
    # In review: the editor may change nothing.
    assert service.may_change(seeded_session, editor, figures["overig"]).reason == (
        Reason.in_review
    )
    with pytest.raises(InvalidInput, match="opmerking"):
        review.decide_figure(
            seeded_session, figure_version_id=written[2].id or 0, decision="send_back",
            reviewer=actor,
        )  # fmt: skip
    review.decide_figure(
        seeded_session, figure_version_id=written[2].id or 0, decision="send_back",
        reviewer=actor, comment="Klopt 4?",
    )  # fmt: skip
    assert figure_review.sent_back(seeded_session, written[2])
    seeded_session.commit()
    assert service.may_change(seeded_session, editor, figures["overig"]).allowed
    assert not service.may_change(seeded_session, editor, figures["vergund"]).allowed
    state = {
        p.version.id: p.state
        for p in review.figure_proposals(
            seeded_session, period_id=service.get_edition(seeded_session, edition_id).period_id,
            reviewer=actor,
        )
    }  # fmt: skip
    assert state[written[2].id] == "sent_back" and state[written[1].id] == "waiting"
    with pytest.raises(periods.PeriodClosed):
        service.record_figures(
            seeded_session, edition_id=edition_id,
            entries=[service.FigureEntry(figures["vergund"].id or 0, parse_value("6"), 1)],
            author=editor,
        )  # fmt: skip
    seeded_session.rollback()
    changed = service.record_figures(
        seeded_session, edition_id=edition_id,
        entries=[service.FigureEntry(figures["overig"].id or 0, parse_value("4"), 1)],
        author=editor,
    )  # fmt: skip
    # The new version waits for review again; the editor's turn is over.
    assert changed[0].version == 2
    assert not service.may_change(seeded_session, editor, figures["overig"]).allowed
    with pytest.raises(review.ReviewConflict):
        review.decide_figure(
            seeded_session, figure_version_id=written[2].id or 0, decision="approve",
            reviewer=actor,
        )  # fmt: skip


def test_seeded_versions_count_without_review(seeded_session: Session) -> None:
    _open_edition(seeded_session)  # loads the monitor seed
    for period in seeded_session.scalars(
        select(ReportingPeriod).where(
            col(ReportingPeriod.kind) == PeriodKind.monitor.value,
            col(ReportingPeriod.state) == PeriodState.published.value,
        )
    ):
        assert figure_review.current_of_period(seeded_session, period.id or 0)
        assert figure_review.unapproved_of_period(seeded_session, period.id or 0) == []


def test_a_review_note_has_exactly_one_subject(seeded_session: Session) -> None:
    with pytest.raises(IntegrityError):
        seeded_session.execute(
            text("INSERT INTO review_note (kind, comment, author, created_at) "
                 "VALUES ('approve', '', 'x', CURRENT_TIMESTAMP)")
        )  # fmt: skip
    seeded_session.rollback()


def test_the_edition_page_reviews_figures_and_only_coordinators_decide(
    seeded_settings,  # type: ignore[no-untyped-def]
) -> None:
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            edition_id, _, _, _, written = _in_review(session)
            reviewer = create_user(session, "coordinator")
            editor = create_user(session, "editor", ("NRM",))
            session.commit()
        url = f"/monitor/editions/{edition_id}"
        target = f"/monitor/figure-versions/{written[0].id}/review"
        with TestClient(app) as client:
            sign_in(client, editor)
            page = client.get(url)
            assert "figure-review" in page.text and 'name="decision"' not in page.text
            refused = client.post(
                target, data={"csrftoken": csrf_from(page.text), "decision": "approve"}
            )
            assert refused.status_code == 403
        with TestClient(app) as client:
            sign_in(client, reviewer)
            page = client.get(url)
            soup = BeautifulSoup(page.text, "html.parser")
            assert len(soup.select("#figure-review li")) == 3
            token = csrf_from(page.text)
            empty = client.post(target, data={"csrftoken": token, "decision": "send_back"})
            assert empty.status_code == 422 and "edition-error" in empty.text
            done = client.post(
                target, data={"csrftoken": token, "decision": "approve"}, follow_redirects=False
            )
            assert done.status_code == 303
            after = client.get(done.headers["location"])
            assert len(BeautifulSoup(after.text, "html.parser").select("#figure-review li")) == 2
            publish = client.post(f"{url}/move", data={"csrftoken": token, "move": "publish"})
            assert publish.status_code == 422 and "2 cijferversies" in publish.text
        with Session(app.state.engine) as session:
            assert session.scalar(
                select(func.count()).select_from(ReviewNote).where(
                    col(ReviewNote.figure_version_id) == written[0].id
                )
            ) == 1  # fmt: skip
            edition = session.get(Edition, edition_id)
            assert edition is not None
            assert periods.get_period(session, edition.period_id).state == PeriodState.in_review
    finally:
        app.state.engine.dispose()


def test_the_review_page_lists_an_editions_figures_with_the_same_decisions(
    seeded_settings,  # type: ignore[no-untyped-def]
) -> None:
    """The coordinator's review page of an edition's period lists its figure versions
    waiting for review: send one back, approve several at once (all or nothing, never one's
    own); editors may not decide; no decision without the CSRF token."""
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            edition_id, figures, _, _, written = _in_review(session)
            period_id = service.get_edition(session, edition_id).period_id
            reviewer = create_user(session, "coordinator")
            # The reviewer enters one figure again during review: that version is theirs.
            mine = service.record_figures(
                session, edition_id=edition_id, author=current_user(session, reviewer),
                entries=[service.FigureEntry(figures["overig"].id or 0, parse_value("4,0"), 1)],
            )[0]  # fmt: skip
            session.commit()
            editor = create_user(session, "editor", ("NRM",))
        url = f"/periods/{period_id}/review"
        decide = f"/review/figure-versions/{written[0].id}"
        with TestClient(app) as client:
            sign_in(client, editor)
            assert client.get(url).status_code == 403
            token = csrf_from(client.get(f"/monitor/editions/{edition_id}").text)
            assert (
                client.post(decide, data={"csrftoken": token, "decision": "approve"}).status_code
                == 403
            )
        with TestClient(app) as client:
            sign_in(client, reviewer)
            page = client.get(url)
            assert page.status_code == 200
            soup = BeautifulSoup(page.text, "html.parser")
            assert [li["id"] for li in soup.select("#figures-waiting > li")] == [
                f"figure-review-{written[0].id}",
                f"figure-review-{written[1].id}",
                f"figure-review-{mine.id}",
            ]
            boxes = soup.select('input[name="figure_version"][form="bulk-approve"]')
            assert [box["value"] for box in boxes] == [str(written[0].id), str(written[1].id)]
            own = soup.select_one(f"#figure-review-{mine.id} .own-proposal")
            assert own is not None and "Vier ogen" in own.text
            token = csrf_from(page.text)
            assert client.post(decide, data={"decision": "approve"}).status_code == 403
            done = client.post(
                decide,
                data={"csrftoken": token, "decision": "send_back", "comment": "Bron?"},
                follow_redirects=False,
            )
            assert done.status_code == 303 and done.headers["location"].startswith(url)
            after = BeautifulSoup(client.get(done.headers["location"]).text, "html.parser")
            assert after.select_one("#review-done") is not None
            assert [li["id"] for li in after.select("#figures-sent-back > li")] == [
                f"figure-review-{written[0].id}"
            ]
            # Bulk, all or nothing: one's own version refuses the lot, named.
            ids = [str(written[1].id), str(mine.id)]
            bulk = client.post(f"{url}/approve", data={"csrftoken": token, "figure_version": ids})
            assert bulk.status_code == 422
            error = BeautifulSoup(bulk.text, "html.parser").select_one("#review-error")
            assert error is not None and "controles.overig v2" in error.text
            bulk = client.post(
                f"{url}/approve",
                data={"csrftoken": token, "figure_version": [str(written[1].id)]},
                follow_redirects=False,
            )
            assert bulk.status_code == 303
            after = BeautifulSoup(client.get(bulk.headers["location"]).text, "html.parser")
            assert [li["id"] for li in after.select("#figures-waiting > li")] == [
                f"figure-review-{mine.id}"
            ]
        with Session(app.state.engine) as session:
            kinds = [
                (note.figure_version_id, note.kind)
                for note in session.scalars(
                    select(ReviewNote)
                    .where(col(ReviewNote.figure_version_id).is_not(None))
                    .order_by(col(ReviewNote.id))
                )
            ]
        assert kinds == [(written[0].id, ReviewKind.send_back), (written[1].id, ReviewKind.approve)]
    finally:
        app.state.engine.dispose()


def test_the_database_refuses_a_review_note_on_a_published_editions_figure(
    seeded_session: Session,
) -> None:
    """Whatever writes it: a decision on a figure version of a published edition is refused
    by a trigger (on a correction it is taken)."""
    edition_id, _, actor, _, written = _in_review(seeded_session)
    for version in written:
        review.decide_figure(
            seeded_session, figure_version_id=version.id or 0, decision="approve", reviewer=actor
        )
    service.move_edition(seeded_session, edition_id=edition_id, move="publish", actor=actor)
    seeded_session.commit()
    insert = text(
        "INSERT INTO review_note (figure_version_id, kind, comment, author, created_at) "
        "VALUES (:version, 'send_back', 'later', 'sql prompt', CURRENT_TIMESTAMP)"
    )
    with pytest.raises(DatabaseError, match="the monitor edition is published"):
        seeded_session.execute(insert, {"version": written[0].id})
    seeded_session.rollback()
    service.move_edition(
        seeded_session, edition_id=edition_id, move="correct", actor=actor, reason="Typo"
    )
    seeded_session.execute(insert, {"version": written[0].id})
    seeded_session.commit()


def test_the_factories_open_and_publish_editions_beside_progress_rounds(
    seeded_session: Session,
) -> None:
    """tests.factories: `open_edition` publishes the edition open before it (its waiting
    figures approved by another coordinator, four eyes), and `open_round` leaves an open
    edition alone (one round at a time holds per kind)."""
    session = seeded_session
    first = open_edition(
        session, title="Monitor 2022", years=(2022, 2022), area="NL",
        figures=[EditionFigure("meldingen", "meldingen-mensenhandel")],
    )  # fmt: skip
    written = service.record_figures(
        session, edition_id=first.edition_id, author=first.coordinator,
        entries=[service.FigureEntry(id_of(first.figures["meldingen"]), parse_value("12"), 0)],
    )  # fmt: skip
    session.commit()
    progress = open_round(session)
    assert periods.get_period(session, first.period_id).state == PeriodState.open
    assert periods.get_period(session, progress).state == PeriodState.open
    second = open_edition(session, title="Monitor 2023", years=(2023, 2023), area="NL")
    assert periods.get_period(session, first.period_id).state == PeriodState.published
    assert periods.get_period(session, second.period_id).state == PeriodState.open
    notes = session.scalars(
        select(ReviewNote).where(col(ReviewNote.figure_version_id) == written[0].id)
    ).all()
    assert [note.kind for note in notes] == [ReviewKind.approve]
    assert notes[0].author_id not in (None, first.coordinator.id)


def test_the_edition_page_says_why_it_cannot_be_published_yet_and_offers_no_failing_button(
    seeded_settings,  # type: ignore[no-untyped-def]
) -> None:
    """While figures wait for review the publish step is shown disabled, with the reason
    the service gives (the one move_period refuses with) as text beside it and a way to the
    review; once every figure counts, the button publishes."""
    app = create_app(seeded_settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            edition_id, _, _, _, written = _in_review(session)
            reviewer = create_user(session, "coordinator")
            session.commit()
        url = f"/monitor/editions/{edition_id}"
        with TestClient(app) as client:
            sign_in(client, reviewer)
            for language, reason in (
                ("en", "3 figure versions were not approved. Review them before publishing."),
                ("nl", "3 cijferversies zijn niet goedgekeurd"),
            ):
                client.get(f"/language/{language}?next={url}")
                soup = BeautifulSoup(client.get(url).text, "html.parser")
                button = soup.select_one("#move-publish button")
                assert button is not None and button.has_attr("disabled")
                described = soup.select_one(f"#{button['aria-describedby']}")
                assert described is not None and reason in described.get_text(" ")
                assert described.select_one("a[href$='/review']") is not None
                assert soup.select_one("#move-reopen-round button:not([disabled])") is not None
            token = csrf_from(client.get(url).text)
            for version in written:
                client.post(
                    f"/monitor/figure-versions/{version.id}/review",
                    data={"csrftoken": token, "decision": "approve"},
                )
            soup = BeautifulSoup(client.get(url).text, "html.parser")
            button = soup.select_one("#move-publish button")
            assert button is not None and not button.has_attr("disabled")
            assert soup.select_one(".publish-blocked") is None
            published = client.post(
                f"{url}/move", data={"csrftoken": token, "move": "publish"}, follow_redirects=False
            )
            assert published.status_code == 303
    finally:
        app.state.engine.dispose()
