"""The summary in words: every number from the data, and sentences a civil servant would write,
also at the edges (no previous report, everything completed, an empty action line, nothing
delayed, a single activity, long lists).

Expected texts are written out by hand for hand-made programmes whose numbers can be checked at
a glance; for the seed they are counted from the seed file (tests/test_public.py)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlmodel import Session

from app.activities.models import Status, UpdateSource
from app.compare.service import Comparison, StatusChange, StatusMatrix
from app.config import Settings
from app.main import create_app
from app.programmes import service as structure
from app.public import narrative
from app.readmodel import ActivityRow, PeriodRow, StatusCounts
from tests.factories import coordinator, create_programme, create_user, open_round, programme_data
from tests.test_public import (
    SMALL,
    Y2030,
    Y2031,
    activity_ids,
    approved_change,
    period_id,
    publish,
    seed_period_id,
    seed_rows,
    small_scenario,
    two_published_periods,
)

S = Status


def row(number: int, status: Status | None, title: str | None = None, line: int = 1) -> ActivityRow:
    return ActivityRow(
        id=number,
        action_line_number=line,
        action_line_title=f"Actielijn {line}",
        theme_id=line,
        theme_title="Thema",
        result_number=line,
        result_title="Resultaat",
        result_note="",
        label=str(number),
        title=title or f"Activiteit {number}",
        status=status,
        explanation="",
        version=1,
        source=UpdateSource.entered,
        updated_at=None,
    )


def rows(*statuses: Status) -> list[ActivityRow]:
    return [row(number, status) for number, status in enumerate(statuses, start=1)]


def counts(**numbers: int) -> StatusCounts:
    return StatusCounts({Status(key): value for key, value in numbers.items()})


def plain(markup: Markup) -> str:
    return " ".join(BeautifulSoup(str(markup), "html.parser").get_text().split())


def comparison(changes: Iterable[tuple[ActivityRow, Status, Status]], **extra) -> Comparison:  # type: ignore[no-untyped-def]
    earlier = PeriodRow(1, Y2030, date(2030, 1, 1))
    later = PeriodRow(2, Y2031, date(2031, 1, 1))
    changed = [StatusChange(r, before, after) for r, before, after in changes]
    return Comparison(
        earlier=earlier,
        later=later,
        swapped=False,
        changed=changed,
        matrix=StatusMatrix(),
        action_lines=[],
        added=extra.get("added", []),
        retired=extra.get("retired", []),
        explanations=[],
    )


# -- the state of affairs --------------------------------------------------------------------


def test_mixed_report_in_dutch_and_english() -> None:
    report = rows(S.completed, S.completed, S.ongoing, S.on_schedule, S.delayed, S.not_started)
    assert plain(narrative.state(report, "nl")) == (
        "Van de 6 activiteiten in deze rapportage zijn er 2 voltooid, liggen er 2 op koers "
        "(doorlopend of volgens planning) en loopt er één vertraging op. "
        "Vertraging is er bij ‘Activiteit 5’. "
        "Eén activiteit is nog niet in uitvoering: ‘Activiteit 6’."
    )
    assert plain(narrative.state(report, "en")) == (
        "Of the 6 activities in this report, 2 have been completed, 2 are on track (ongoing or "
        "on schedule) and one is delayed. The delayed activity is ‘Activiteit 5’. "
        "One activity has not started yet: ‘Activiteit 6’."
    )


def test_nothing_delayed_is_said_in_words_not_as_a_zero() -> None:
    report = rows(S.completed, S.on_schedule, S.on_schedule)
    text = plain(narrative.state(report, "nl"))
    assert text == (
        "Van de 3 activiteiten in deze rapportage is er één voltooid en liggen er 2 op koers "
        "(doorlopend of volgens planning). Geen enkele activiteit is vertraagd."
    )
    assert plain(narrative.state(report, "en")).endswith("None of the activities is delayed.")


def test_everything_completed() -> None:
    assert plain(narrative.state(rows(*[S.completed] * 4), "nl")) == (
        "Alle 4 activiteiten in deze rapportage zijn voltooid."
    )
    assert plain(narrative.state(rows(*[S.completed] * 4), "en")) == (
        "All 4 activities in this report have been completed."
    )
    assert plain(narrative.action_line(counts(completed=2), "nl")) == (
        "Alle 2 activiteiten in deze actielijn zijn voltooid."
    )


def test_a_single_activity_and_an_empty_report() -> None:
    assert plain(narrative.state([row(1, S.delayed, "Webcrawler")], "nl")) == (
        "Deze rapportage omvat één activiteit, ‘Webcrawler’, met de status "
        "‘In uitvoering maar met vertraging’."
    )
    assert plain(narrative.state([], "nl")) == "Deze rapportage bevat geen activiteiten."
    assert plain(narrative.state([], "en")) == "This report contains no activities."


def test_an_empty_action_line() -> None:
    assert plain(narrative.action_line(StatusCounts(), "nl")) == (
        "Deze actielijn bevat in deze rapportage geen activiteiten."
    )
    assert plain(narrative.action_line(StatusCounts(), "en")) == (
        "This action line has no activities in this report."
    )
    assert plain(narrative.action_line(counts(on_schedule=1), "nl")) == (
        "Deze actielijn omvat één activiteit, met de status ‘In uitvoering en volgens planning’."
    )


def test_action_line_names_every_group_with_its_own_verb() -> None:
    line = counts(
        completed=1,
        ongoing=2,
        on_schedule=1,
        delayed=2,
        not_started=1,
        in_consultation=1,
        not_applicable=3,
    )
    assert plain(narrative.action_line(line, "nl")) == (
        "Van de 11 activiteiten in deze actielijn is er één voltooid, liggen er 3 op koers, "
        "lopen er 2 vertraging op, is er één nog niet in uitvoering, is er één in (formele) "
        "consultatie en zijn er 3 niet van toepassing."
    )
    assert plain(narrative.action_line(line, "en")) == (
        "Of the 11 activities in this action line, one has been completed, 3 are on track, "
        "2 are delayed, one has not started yet, one is in (formal) consultation and 3 are "
        "not applicable."
    )


def test_only_work_that_has_not_started() -> None:
    report = rows(S.not_started, S.not_started, S.not_applicable)
    assert plain(narrative.state(report, "nl")) == (
        "Deze rapportage omvat 3 activiteiten. Geen enkele activiteit is vertraagd. "
        "Nog niet in uitvoering zijn 2 activiteiten: ‘Activiteit 1’ en ‘Activiteit 2’. "
        "Voor één activiteit is de status ‘niet van toepassing’."
    )


def test_a_long_list_names_three_and_counts_the_rest() -> None:
    report = rows(*[S.delayed] * 8, S.completed)
    assert plain(narrative.state(report, "nl")).startswith(
        "Van de 9 activiteiten in deze rapportage is er één voltooid en lopen er 8 vertraging "
        "op. Vertraging is er bij ‘Activiteit 1’, ‘Activiteit 2’, ‘Activiteit 3’ en 5 andere."
    )
    assert "and 5 others." in plain(narrative.state(report, "en"))
    five = rows(*[S.delayed] * 5, S.completed)
    assert "‘Activiteit 4’ en ‘Activiteit 5’." in plain(narrative.state(five, "nl"))


def test_long_titles_are_shortened_and_titles_are_escaped() -> None:
    long_title = "Een uitzonderlijk lange titel " * 6 + "<script>"
    text = narrative.state([row(1, S.delayed, long_title), row(2, S.completed)], "nl")
    assert "<script>" not in str(text)
    quoted = re.search(r"‘([^’]*)’", plain(text))
    assert quoted is not None
    assert quoted.group(1).endswith("…") and len(quoted.group(1)) <= narrative.TITLE_LIMIT + 1


def test_english_text_marks_dutch_titles_and_links_them() -> None:
    text = narrative.state(
        [row(1, S.delayed, "Webcrawler"), row(2, S.completed)],
        "en",
        link=lambda r: f"/table#activity-{r.id}",
    )
    assert (
        '<a class="nl-link" href="/table#activity-1">‘<span lang="nl">Webcrawler</span>’</a>'
        in (str(text))
    )
    dutch = narrative.state([row(1, S.delayed, "Webcrawler"), row(2, S.completed)], "nl")
    assert "lang=" not in str(dutch)


# -- changes since the previous report ---------------------------------------------------------


def test_no_previous_report() -> None:
    assert plain(narrative.changes(None, "nl")) == (
        "Dit is de eerste gepubliceerde rapportage van het programma; een vergelijking met een "
        "eerdere rapportage is daarom niet mogelijk."
    )


def test_changes_singular_plural_and_none() -> None:
    a, b, c = row(1, S.completed), row(2, S.completed), row(3, S.delayed)
    several = comparison(
        [
            (a, S.ongoing, S.completed),
            (b, S.on_schedule, S.completed),
            (c, S.on_schedule, S.delayed),
        ]
    )
    assert plain(narrative.changes(several, "nl")) == (
        f"Sinds {Y2030} is de status van 3 activiteiten veranderd. "
        "Sindsdien zijn 2 activiteiten voltooid: ‘Activiteit 1’ en ‘Activiteit 2’. "
        "Bij één activiteit is vertraging ontstaan: ‘Activiteit 3’."
    )
    only_progress = comparison([(row(4, S.on_schedule), S.not_started, S.on_schedule)])
    assert plain(narrative.changes(only_progress, "nl")) == (
        f"Sinds {Y2030} is de status van één activiteit veranderd. "
        "Sindsdien is geen activiteit voltooid. Er is geen nieuwe vertraging ontstaan."
    )
    assert plain(narrative.changes(only_progress, "en")) == (
        f"Since {Y2030}, the status of one activity has changed. "
        "No activity has been completed since then. No new delays have arisen."
    )
    nothing = comparison(
        [], added=[row(5, S.on_schedule)], retired=[row(6, S.ongoing), row(7, S.ongoing)]
    )
    assert plain(narrative.changes(nothing, "nl")) == (
        f"Sinds {Y2030} is de status van geen enkele activiteit veranderd. "
        "Deze rapportage bevat één nieuwe activiteit. "
        f"Van de activiteiten uit {Y2030} maken er 2 geen deel meer uit van het programma."
    )


def test_no_sentence_says_zero() -> None:
    """Whatever the mix, no number 0 is written out and no sentence is empty."""
    mixes = [
        rows(S.completed),
        rows(S.delayed, S.delayed),
        rows(S.not_applicable, S.not_applicable),
        rows(S.in_consultation, S.completed),
        rows(S.ongoing, S.on_schedule, S.not_started),
        [],
    ]
    for mix in mixes:
        for language in ("nl", "en"):
            text = plain(narrative.state(mix, language))
            assert not re.search(r"\b0\b", text), text
            assert ".." not in text and " ." not in text and text.endswith("."), text
    for line in (counts(), counts(delayed=1), counts(completed=1, delayed=1), counts(ongoing=3)):
        for language in ("nl", "en"):
            assert not re.search(r"\b0\b", plain(narrative.action_line(line, language)))


# -- on pages of hand-made programmes ------------------------------------------------------------


def _narrative(client: TestClient, path: str, language: str = "nl") -> list[str]:
    soup = BeautifulSoup(client.get(path, params={"lang": language}).text, "html.parser")
    return [" ".join(p.get_text().split()) for p in soup.select("#narrative p")]


def _line_texts(client: TestClient, path: str) -> dict[str, str]:
    soup = BeautifulSoup(client.get(path).text, "html.parser")
    return {
        section["id"]: " ".join(section.select_one(".line-narrative").get_text().split())
        for section in soup.select(".action-line-section")
    }


def test_first_report_of_a_small_programme(settings: Settings, session: Session) -> None:
    create_programme(
        session, programme_data(action_lines=2, results_per_line=1, activities_per_result=3)
    )
    period = open_round(session, SMALL, name=Y2031, reference_date="2031-01-01")
    app = create_app(settings)
    with TestClient(app) as client:
        first = period_id(session, Y2030)
        assert _narrative(client, f"/public/{SMALL}/{first}") == [
            "Van de 6 activiteiten in deze rapportage is er één voltooid, liggen er 2 op koers "
            "(doorlopend of volgens planning) en loopt er één vertraging op. "
            "Vertraging is er bij ‘Activiteit 2.1’. "
            "Eén activiteit is nog niet in uitvoering: ‘Activiteit 2.2’. "
            "Daarnaast is één activiteit in (formele) consultatie.",
            "Dit is de eerste gepubliceerde rapportage van het programma; een vergelijking met "
            "een eerdere rapportage is daarom niet mogelijk.",
        ]
        assert _line_texts(client, f"/public/{SMALL}/{first}") == {
            "action-line-1": "Van de 3 activiteiten in deze actielijn is er één voltooid en "
            "liggen er 2 op koers. Geen daarvan loopt vertraging op.",
            "action-line-2": "Van de 3 activiteiten in deze actielijn loopt er één vertraging "
            "op, is er één nog niet in uitvoering en is er één in (formele) consultatie.",
        }
        # The open round is not public.
        assert client.get(f"/public/{SMALL}/{period}").status_code == 404
    app.state.engine.dispose()


def test_completed_since_and_newly_delayed(settings: Settings, session: Session) -> None:
    scenario = small_scenario(session)
    app = create_app(settings)
    with TestClient(app) as client:
        assert _narrative(client, f"/public/{SMALL}/{scenario.later}")[1] == (
            f"Sinds {Y2030} is de status van 3 activiteiten veranderd. "
            "Sindsdien is één activiteit voltooid: ‘Activiteit 1.2’. "
            "Bij één activiteit is vertraging ontstaan: ‘Activiteit 1.3’."
        )
    app.state.engine.dispose()


def test_everything_completed_on_the_page(settings: Settings, session: Session) -> None:
    """2031: every activity completed (a whole action line completed since 2030)."""
    scenario = two_published_periods(
        session,
        {key: S.completed for key in ("1.2", "1.3", "2.1", "2.2", "2.3")},
    )
    app = create_app(settings)
    with TestClient(app) as client:
        path = f"/public/{SMALL}/{scenario.later}"
        state, changes = _narrative(client, path)
        assert state == "Alle 6 activiteiten in deze rapportage zijn voltooid."
        assert changes == (
            f"Sinds {Y2030} is de status van 5 activiteiten veranderd. "
            "Sindsdien zijn 5 activiteiten voltooid: ‘Activiteit 1.2’, ‘Activiteit 1.3’, "
            "‘Activiteit 2.1’, ‘Activiteit 2.2’ en ‘Activiteit 2.3’. "
            "Er is geen nieuwe vertraging ontstaan."
        )
        assert set(_line_texts(client, path).values()) == {
            "Alle 3 activiteiten in deze actielijn zijn voltooid."
        }
        assert _narrative(client, path, "en")[0] == (
            "All 6 activities in this report have been completed."
        )
    app.state.engine.dispose()


def test_an_action_line_without_activities_is_left_out(
    settings: Settings, session: Session
) -> None:
    """Every activity of action line 2 retired before the 2031 round: the published 2031
    report has no activities there, and neither its figures nor its text pretend otherwise."""
    create_programme(
        session, programme_data(action_lines=2, results_per_line=1, activities_per_result=3)
    )
    ids = activity_ids(session, SMALL)
    admin = coordinator(session, create_user(session, "admin"))
    for key in ("2.1", "2.2", "2.3"):
        structure.set_retired(session, actor=admin, kind="activity", item_id=ids[key], retired=True)
    session.commit()
    later = open_round(session, SMALL, name=Y2031, reference_date="2031-01-01")
    approved_change(session, ids["1.3"], later, S.completed, "Afgerond.")
    publish(session, later)
    app = create_app(settings)
    with TestClient(app) as client:
        path = f"/public/{SMALL}/{later}"
        assert list(_line_texts(client, path)) == ["action-line-1"]
        state, changes = _narrative(client, path)
        assert state == (
            "Van de 3 activiteiten in deze rapportage zijn er 2 voltooid en ligt er één op koers "
            "(doorlopend of volgens planning). Geen enkele activiteit is vertraagd."
        )
        assert changes == (
            f"Sinds {Y2030} is de status van één activiteit veranderd. "
            "Sindsdien is één activiteit voltooid: ‘Activiteit 1.3’. "
            "Er is geen nieuwe vertraging ontstaan. "
            f"Van de activiteiten uit {Y2030} maken er 3 geen deel meer uit van het programma."
        )
        soup = BeautifulSoup(client.get(path).text, "html.parser")
        assert [row["id"] for row in soup.select("#lines-table tbody tr")] == ["lines-table-1"]
    app.state.engine.dispose()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_number_in_the_seed_narrative_is_a_count(
    seeded_settings: Settings, language: str
) -> None:
    """Each number in the seed report's narrative is one of the counts of the data."""
    rows_ = seed_rows()
    found = Counter(row["status"] for row in rows_)
    counts_ = {
        len(rows_),
        found["completed"],
        found["ongoing"] + found["on_schedule"],
        found["delayed"],
        found["not_started"],
        found["not_applicable"],
        found["delayed"] - 3,  # the delayed activities not named in the list
    }
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        path = f"/public/samen-tegen-mensenhandel/{seed_period_id(client)}"
        soup = BeautifulSoup(client.get(path, params={"lang": language}).text, "html.parser")
    app.state.engine.dispose()
    paragraphs = soup.select("#narrative p")
    assert paragraphs, "no narrative on the page"
    numbers = []
    for paragraph in paragraphs:
        without_titles = re.sub(r"‘[^’]*’", "", paragraph.get_text())
        for number in re.findall(r"\d+", without_titles):
            assert int(number) in counts_, (number, without_titles)
            numbers.append(int(number))
    # At least the total is there (a number that large is written in figures, not in words).
    assert len(rows_) in numbers, (numbers, [p.get_text() for p in paragraphs])
