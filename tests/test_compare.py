"""Comparing two reporting periods: status changes, the from × to matrix (in total and per
action line), activities added and no longer in the programme, and changed explanations;
as a page and as JSON. Expectations are worked out by hand from the seed file and from the
changes each test makes, never from the code under test."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
import yaml
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlmodel import Session

from app import readmodel
from app.activities import service as activities
from app.activities.models import Status
from app.cli import DEFAULT_SEED
from app.compare.service import compare_periods
from app.config import Settings
from app.errors import InvalidInput
from app.periods import service as periods_service
from app.programmes import service as structure
from app.programmes.models import Activity, Programme, Result
from app.review import service as review
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import (
    PASSWORD,
    coordinator,
    create_programme,
    create_user,
    open_round,
    programme_data,
    publish,
)

SLUG = "samen-tegen-mensenhandel"
SMALL = "test-programme"

S = Status
# Rows and columns of the matrix on the page and in the JSON: the legend, then "no status".
LEGEND = [status.value for status in Status] + ["none"]


# -- building the scenarios through the services -----------------------------------------------


def _activity_id(session: Session, slug: str, result_number: int, label: str | None) -> int:
    activity_id = session.scalar(
        select(Activity.id)
        .join(Result, Result.id == Activity.result_id)
        .join(Programme, Programme.id == Result.programme_id)
        .where(Programme.slug == slug, Result.number == result_number, Activity.label == label)
    )
    assert activity_id is not None, (result_number, label)
    return activity_id


def _result_id(session: Session, slug: str, result_number: int) -> int:
    result_id = session.scalar(
        select(Result.id)
        .join(Programme, Programme.id == Result.programme_id)
        .where(Programme.slug == slug, Result.number == result_number)
    )
    assert result_id is not None
    return result_id


def _retire(session: Session, activity_id: int) -> None:
    admin = coordinator(session, create_user(session, "admin"))
    structure.set_retired(session, actor=admin, kind="activity", item_id=activity_id, retired=True)
    session.commit()


def _add_activity(session: Session, slug: str, result_number: int, label: str, title: str) -> int:
    admin = coordinator(session, create_user(session, "admin"))
    programme = session.scalar(select(Programme).where(Programme.slug == slug))
    item = structure.add(
        session,
        actor=admin,
        programme=programme,
        kind="activity",
        parent_id=_result_id(session, slug, result_number),
        title=title,
        number=label,
    )
    session.commit()
    return int(item.id)


def _explanation(session: Session, activity_id: int, period_id: int) -> str:
    update = activities.latest_update(session, activity_id=activity_id, period_id=period_id)
    assert update is not None
    return update.explanation


def _change(
    session: Session,
    author,  # type: ignore[no-untyped-def]
    activity_id: int,
    period_id: int,
    status: Status,
    explanation: str | None = None,
    based_on_version: int | None = 1,
) -> int:
    """A new status (and, if given, explanation) on top of the carried-over version 1."""
    if explanation is None:
        explanation = _explanation(session, activity_id, period_id)
    update = activities.record_status(
        session,
        activity_id=activity_id,
        period_id=period_id,
        status=status,
        explanation=explanation,
        author=author,
        based_on_version=based_on_version,
    )
    session.commit()
    return int(update.id)  # type: ignore[arg-type]


def _periods(session: Session, slug: str) -> tuple[int, dict[str, readmodel.PeriodRow]]:
    programme = readmodel.get_programme(session, slug)
    return programme.id, {p.name: p for p in readmodel.list_periods(session, programme.id)}


def _compare(session: Session, slug: str, earlier: str, later: str):  # type: ignore[no-untyped-def]
    programme_id, periods = _periods(session, slug)
    return compare_periods(
        session, programme_id=programme_id, earlier=periods[earlier], later=periods[later]
    )


def _key(status: Status | None) -> str:
    return status.value if status else "none"


def _cells(matrix) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    return {(_key(b), _key(a)): n for b, a, n in matrix.nonzero()}


# -- a small hand-made programme: every number can be checked at a glance -------------------------

# programme_data(action_lines=2, results_per_line=1, activities_per_result=3) gives six
# activities whose statuses follow the legend: result 1 (action line 1): 1 completed,
# 2 ongoing, 3 on_schedule; result 2 (action line 2): 1 delayed, 2 not_started,
# 3 in_consultation. Explanations: "Toelichting bij activiteit <result>.<label>."
SMALL_2031 = "Voortgangsrapportage 2031"


@dataclass
class SmallScenario:
    period_id: int
    ids: dict[str, int]  # "<result>.<label>" -> activity id


def _small_scenario(session: Session) -> SmallScenario:
    """2030 (published) → 2031 (open): 2.3 retired before the round, 1.4 added after it;
    1.2 ongoing → completed with a new first word, 2.1 delayed → on_schedule and
    2.2 not_started → on_schedule."""
    create_programme(
        session,
        programme_data(action_lines=2, results_per_line=1, activities_per_result=3),
    )
    ids = {
        f"{result}.{label}": _activity_id(session, SMALL, result, str(label))
        for result in (1, 2)
        for label in (1, 2, 3)
    }
    _retire(session, ids["2.3"])
    period_id = open_round(session, SMALL, name=SMALL_2031, reference_date="2031-01-01")
    ids["1.4"] = _add_activity(session, SMALL, 1, "4", "Nieuwe activiteit")
    author = coordinator(session)
    _change(
        session,
        author,
        ids["1.2"],
        period_id,
        S.completed,
        "Aanvulling bij activiteit 1.2.",
    )
    _change(session, author, ids["2.1"], period_id, S.on_schedule)
    _change(session, author, ids["2.2"], period_id, S.on_schedule)
    return SmallScenario(period_id, ids)


def test_small_programme_comparison_has_the_hand_counted_numbers(session: Session) -> None:
    scenario = _small_scenario(session)
    ids = scenario.ids
    comparison = _compare(session, SMALL, "Voortgangsrapportage 2030", SMALL_2031)

    assert comparison.earlier.name == "Voortgangsrapportage 2030"
    assert comparison.later.name == SMALL_2031
    assert not comparison.swapped
    assert [(c.row.id, c.before, c.after) for c in comparison.changed] == [
        (ids["1.2"], S.ongoing, S.completed),
        (ids["2.1"], S.delayed, S.on_schedule),
        (ids["2.2"], S.not_started, S.on_schedule),
    ]
    assert _cells(comparison.matrix) == {
        ("completed", "completed"): 1,
        ("ongoing", "completed"): 1,
        ("on_schedule", "on_schedule"): 1,
        ("delayed", "on_schedule"): 1,
        ("not_started", "on_schedule"): 1,
    }
    assert comparison.in_both == comparison.matrix.total == 5
    assert comparison.matrix.changed == 3
    assert comparison.matrix.row_total(S.ongoing) == 1
    assert comparison.matrix.column_total(S.on_schedule) == 3

    # Added in 2031 (no status yet: the period is open), retired before it with its status.
    assert [(row.id, row.status) for row in comparison.added] == [(ids["1.4"], None)]
    assert [(row.id, row.status) for row in comparison.retired] == [(ids["2.3"], S.in_consultation)]

    lines = {
        line.number: (line.title, line.in_both, line.changed, line.added, line.retired)
        for line in comparison.action_lines
    }
    assert list(lines) == [1, 2]
    assert lines == {1: ("Actielijn 1", 3, 1, 1, 0), 2: ("Actielijn 2", 2, 2, 0, 1)}
    assert _cells(comparison.action_lines[1].matrix) == {
        ("delayed", "on_schedule"): 1,
        ("not_started", "on_schedule"): 1,
    }

    [explanation] = comparison.explanations
    assert explanation.row.id == ids["1.2"]
    assert explanation.before == "Toelichting bij activiteit 1.2."
    assert explanation.after == "Aanvulling bij activiteit 1.2."
    assert str(explanation.diff) == (
        "<del>Toelichting</del><ins>Aanvulling</ins> bij activiteit 1.2."
    )


def test_no_status_is_a_value_in_the_matrix(session: Session) -> None:
    """An activity added during the 2031 round and still without a status in the 2032 draft
    moves from "no status" to "no status"; the others from their status to "no status"."""
    scenario = _small_scenario(session)
    programme_id, periods = _periods(session, SMALL)
    actor = coordinator(session)
    periods_service.create_period(
        session,
        programme_id=programme_id,
        name="Voortgangsrapportage 2032",
        reference_date=periods[SMALL_2031].reference_date.replace(year=2032),
        deadline=None,
        actor=actor,
    )
    session.commit()
    # A draft shows every current activity, none with a status yet.
    comparison = _compare(session, SMALL, SMALL_2031, "Voortgangsrapportage 2032")
    assert _cells(comparison.matrix) == {
        ("completed", "none"): 2,
        ("on_schedule", "none"): 3,
        ("none", "none"): 1,
    }
    assert [c.row.id for c in comparison.changed] == [
        scenario.ids[key] for key in ("1.1", "1.2", "1.3", "2.1", "2.2")
    ]
    assert comparison.added == comparison.retired == []
    # Every explanation went from its text to nothing.
    assert len(comparison.explanations) == 5
    assert all(
        "<del>" in str(e.diff) and "<ins>" not in str(e.diff) for e in comparison.explanations
    )


def test_comparing_a_period_with_itself_is_refused(session: Session) -> None:
    create_programme(session)
    programme_id, periods = _periods(session, SMALL)
    period = periods["Voortgangsrapportage 2030"]
    with pytest.raises(InvalidInput, match="twee verschillende perioden"):
        compare_periods(session, programme_id=programme_id, earlier=period, later=period)


def test_periods_asked_for_the_wrong_way_round_are_swapped(session: Session) -> None:
    scenario = _small_scenario(session)
    comparison = _compare(session, SMALL, SMALL_2031, "Voortgangsrapportage 2030")
    assert comparison.swapped
    assert (comparison.earlier.name, comparison.later.name) == (
        "Voortgangsrapportage 2030",
        SMALL_2031,
    )
    assert [row.id for row in comparison.added] == [scenario.ids["1.4"]]


def test_a_comparison_runs_the_same_few_queries_whatever_the_size(
    session: Session, seeded_session: Session
) -> None:
    def statements(db: Session, slug: str, earlier: str, later: str) -> int:
        _, periods = _periods(db, slug)  # outside the count
        programme_id = readmodel.get_programme(db, slug).id
        executed: list[str] = []
        engine = db.get_bind()
        listener = lambda *args: executed.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            compare_periods(
                db, programme_id=programme_id, earlier=periods[earlier], later=periods[later]
            )
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(executed)

    _small_scenario(session)
    open_round(seeded_session)
    small = statements(session, SMALL, "Voortgangsrapportage 2030", SMALL_2031)
    seeded = statements(
        seeded_session, SLUG, "Voortgangsrapportage 2021", "Voortgangsrapportage 2022"
    )
    # Two read-model queries per period (the whole table and its organisations), for 7
    # activities as for 128.
    assert small == seeded == 4


# -- the real programme: 2021 (published) against the 2022 round ---------------------------------

Y2021 = "Voortgangsrapportage 2021"
Y2022 = "Voortgangsrapportage 2022"
APPENDED = " Afgerond in het voorjaar van 2022."


def _seed_status_counts() -> Counter[str]:
    """Status counts of the 2021 report, read from the seed file itself."""
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    return Counter(
        activity["status"]
        for line in data["action_lines"]
        for theme in line["themes"]
        for result in theme["results"]
        for activity in result["activities"]
    )


@dataclass
class SeededScenario:
    period_id: int
    ids: dict[str, int]
    proposals: dict[str, int]  # status update ids of the 2022 changes


def _seeded_scenario(session: Session) -> SeededScenario:
    """Before the 2022 round, 33.7 "Ontvangen internationale delegaties" (delayed) is retired.
    In the round: 1.1 and 1.2 on_schedule → completed (1.1 with a sentence added to its
    explanation), 1.7 delayed → on_schedule, 30.2 not_started → on_schedule, and a new
    activity 34.5 gets not_started."""
    ids = {
        "1.1": _activity_id(session, SLUG, 1, "1"),
        "1.2": _activity_id(session, SLUG, 1, "2"),
        "1.7": _activity_id(session, SLUG, 1, "7"),
        "30.2": _activity_id(session, SLUG, 30, "2"),
        "33.7": _activity_id(session, SLUG, 33, "7"),
    }
    _retire(session, ids["33.7"])
    period_id = open_round(session)
    ids["34.5"] = _add_activity(session, SLUG, 34, "5", "Monitor arbeidsuitbuiting")
    author = coordinator(session)
    proposals = {
        "1.1": _change(
            session,
            author,
            ids["1.1"],
            period_id,
            S.completed,
            _explanation(session, ids["1.1"], period_id) + APPENDED,
        ),
        "1.2": _change(session, author, ids["1.2"], period_id, S.completed),
        "1.7": _change(session, author, ids["1.7"], period_id, S.on_schedule),
        "30.2": _change(session, author, ids["30.2"], period_id, S.on_schedule),
        "34.5": _change(
            session,
            author,
            ids["34.5"],
            period_id,
            S.not_started,
            "Nieuw in 2022.",
            based_on_version=None,
        ),
    }
    return SeededScenario(period_id, ids, proposals)


def _expected_round_matrix() -> dict[tuple[str, str], int]:
    """2021 → 2022 in progress, by hand: the 2021 counts of the seed file on the diagonal,
    less the retired activity (delayed) and the four that changed."""
    seed = _seed_status_counts()
    assert seed == {
        "on_schedule": 44,
        "completed": 36,
        "ongoing": 28,
        "delayed": 10,
        "not_applicable": 9,
        "not_started": 1,
    }
    return {
        ("completed", "completed"): 36,
        ("ongoing", "ongoing"): 28,
        ("on_schedule", "on_schedule"): 44 - 2,
        ("on_schedule", "completed"): 2,
        ("delayed", "delayed"): 10 - 1 - 1,
        ("delayed", "on_schedule"): 1,
        ("not_started", "on_schedule"): 1,
        ("not_applicable", "not_applicable"): 9,
    }


def test_real_programme_round_against_the_2021_report(seeded_session: Session) -> None:
    scenario = _seeded_scenario(seeded_session)
    ids = scenario.ids
    comparison = _compare(seeded_session, SLUG, Y2021, Y2022)

    assert [(c.row.id, c.before, c.after) for c in comparison.changed] == [
        (ids["1.1"], S.on_schedule, S.completed),
        (ids["1.2"], S.on_schedule, S.completed),
        (ids["1.7"], S.delayed, S.on_schedule),
        (ids["30.2"], S.not_started, S.on_schedule),
    ]
    assert _cells(comparison.matrix) == _expected_round_matrix()
    # The matrix holds every activity shown in both periods: 128 in 2021 less the retired one.
    assert comparison.matrix.total == comparison.in_both == 127
    programme_id = readmodel.get_programme(seeded_session, SLUG).id
    rows_2021 = readmodel.list_activities(seeded_session, programme_id, comparison.earlier).rows
    assert len(rows_2021) == 128
    assert comparison.matrix.total == len(rows_2021) - len(comparison.retired)

    assert [(row.id, row.status) for row in comparison.added] == [(ids["34.5"], S.not_started)]
    assert [(row.id, row.title, row.status) for row in comparison.retired] == [
        (ids["33.7"], "Ontvangen internationale delegaties", S.delayed)
    ]
    lines = {
        line.number: (line.in_both, line.changed, line.added, line.retired)
        for line in comparison.action_lines
    }
    assert lines == {
        1: (58, 3, 0, 0),
        2: (13, 0, 0, 0),
        3: (31, 0, 0, 0),
        4: (7, 0, 0, 0),
        5: (18, 1, 1, 1),
    }
    assert _cells(comparison.action_lines[4].matrix) == {
        ("completed", "completed"): 7,
        ("ongoing", "ongoing"): 7,
        ("delayed", "delayed"): 3,
        ("not_started", "on_schedule"): 1,
    }

    [explanation] = comparison.explanations
    assert explanation.row.id == ids["1.1"]
    assert explanation.after == explanation.before + APPENDED
    assert "<ins> Afgerond in het voorjaar van 2022.</ins>" in str(explanation.diff)
    assert "<del>" not in str(explanation.diff)


def test_published_round_counts_only_approved_changes(seeded_session: Session) -> None:
    """Once 2022 is published it shows what counted for its report: the change of 1.7 was
    never approved, so 1.7 is still delayed there."""
    scenario = _seeded_scenario(seeded_session)
    reviewer = coordinator(seeded_session)
    for key in ("1.1", "1.2", "30.2", "34.5"):
        review.approve(seeded_session, status_update_id=scenario.proposals[key], reviewer=reviewer)
    periods_service.move_period(
        seeded_session, period_id=scenario.period_id, move="review", actor=reviewer
    )
    publish(seeded_session, period_id=scenario.period_id, actor=reviewer)
    seeded_session.commit()

    comparison = _compare(seeded_session, SLUG, Y2021, Y2022)
    assert comparison.later.published
    ids = scenario.ids
    assert [(c.row.id, c.before, c.after) for c in comparison.changed] == [
        (ids["1.1"], S.on_schedule, S.completed),
        (ids["1.2"], S.on_schedule, S.completed),
        (ids["30.2"], S.not_started, S.on_schedule),
    ]
    expected = _expected_round_matrix()
    del expected[("delayed", "on_schedule")]
    expected[("delayed", "delayed")] += 1
    assert _cells(comparison.matrix) == expected
    assert comparison.in_both == 127
    assert [row.id for row in comparison.added] == [ids["34.5"]]
    assert [row.id for row in comparison.retired] == [ids["33.7"]]
    assert [e.row.id for e in comparison.explanations] == [ids["1.1"]]


# -- the page ------------------------------------------------------------------------------------


def _soup(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def _badge_key(cell) -> str:  # type: ignore[no-untyped-def]
    badge = cell.select_one(".status")
    return next(c.removeprefix("status--") for c in badge["class"] if c.startswith("status--"))


def _page_matrix(page: BeautifulSoup) -> dict[tuple[str, str], int]:
    """The matrix as a reader sees it: the row's header, the column's header, the number."""
    table = page.select_one("table#status-matrix")
    header = table.select("thead th")
    assert all(th["scope"] == "col" for th in header)
    columns = [_badge_key(th) for th in header[1:-1]]
    assert columns == LEGEND
    shown = {}
    for tr in table.select("tbody tr"):
        row_header = tr.select_one("th")
        assert row_header["scope"] == "row"
        counts = [int(td.text) for td in tr.select("td")]
        before = _badge_key(row_header)
        assert counts[-1] == sum(counts[:-1])  # the row's total
        shown.update(
            {(before, after): n for after, n in zip(columns, counts[:-1], strict=True) if n}
        )
    return shown


def _period_ids(client: TestClient) -> dict[str, int]:
    body = client.get("/api/v1/programmes").json()
    return {period["name"]: period["id"] for period in body[0]["periods"]}


def test_page_shows_the_matrix_changes_additions_and_retirements(
    seeded_session: Session, seeded_client: TestClient
) -> None:
    scenario = _seeded_scenario(seeded_session)
    ids = scenario.ids
    # Default: the current round against the period before it.
    page = _soup(seeded_client.get(f"/programmes/{SLUG}/compare"))
    assert page.h1.text == "Perioden vergelijken"
    assert page.select_one("#compare-from option[selected]").text.startswith(Y2021)
    assert page.select_one("#compare-to option[selected]").text.startswith(Y2022)
    # The form works without JavaScript: a GET form with labelled selects.
    form = page.select_one("form#compare-form")
    assert form["method"] == "get"
    for name in ("from", "to"):
        select_element = form.select_one(f"select[name={name}]")
        assert form.select_one(f"label[for={select_element['id']}]").text.strip()

    table = page.select_one("table#status-matrix")
    assert Y2021 in table.caption.text and Y2022 in table.caption.text
    assert _page_matrix(page) == _expected_round_matrix()
    footer = [int(td.text) for td in table.select("tfoot td")]
    assert footer[-1] == 127
    # Never colour alone: every status heading has its symbol and its words.
    for badge in table.select("thead .status:not(.status--none)"):
        assert badge.select_one(".status__symbol").text.strip()
        assert badge.text.strip().split(" ", 1)[1]
    assert table.select_one("thead .status--none").text == "Geen status"

    assert page.select_one("#count-in-both").text == "127"
    assert page.select_one("#count-changed").text == "4"
    assert page.select_one("#count-added").text == "1"
    assert page.select_one("#count-retired").text == "1"
    assert page.select_one("#count-explanations").text == "1"

    per_line = {
        tr["id"]: [int(td.text) for td in tr.select("td")]
        for tr in page.select("#action-line-changes tbody tr")
    }
    assert per_line == {
        "action-line-1": [58, 3, 0, 0],
        "action-line-2": [13, 0, 0, 0],
        "action-line-3": [31, 0, 0, 0],
        "action-line-4": [7, 0, 0, 0],
        "action-line-5": [18, 1, 1, 1],
    }

    changed = {
        tr["id"]: [_badge_key(td) for td in tr.select("td")[2:]]
        for tr in page.select("#changed-table tbody tr")
    }
    assert changed == {
        f"changed-{ids['1.1']}": ["on_schedule", "completed"],
        f"changed-{ids['1.2']}": ["on_schedule", "completed"],
        f"changed-{ids['1.7']}": ["delayed", "on_schedule"],
        f"changed-{ids['30.2']}": ["not_started", "on_schedule"],
    }
    added = page.select_one(f"#added-{ids['34.5']}")
    assert "Monitor arbeidsuitbuiting" in added.text
    assert _badge_key(added) == "not_started"
    retired = page.select_one(f"#retired-{ids['33.7']}")
    assert "Ontvangen internationale delegaties" in retired.text
    assert _badge_key(retired) == "delayed"
    assert retired.a["href"].endswith(f"/activities/{ids['33.7']}")

    diff = page.select_one(f"#explanation-{ids['1.1']} .diff")
    assert diff.ins.text == APPENDED
    assert not diff.find("del")


def test_page_in_english_and_with_periods_chosen_the_wrong_way_round(
    seeded_session: Session, seeded_client: TestClient
) -> None:
    _seeded_scenario(seeded_session)
    ids = _period_ids(seeded_client)
    page = _soup(
        seeded_client.get(f"/programmes/{SLUG}/compare?from={ids[Y2022]}&to={ids[Y2021]}&lang=en")
    )
    assert page.h1.text == "Compare periods"
    assert page.select_one("#compare-swapped")
    # Shown in time order, whatever the order asked for.
    assert page.select_one("#compare-from option[selected]")["value"] == str(ids[Y2021])
    assert _page_matrix(page) == _expected_round_matrix()


def test_page_with_a_single_period_says_there_is_nothing_to_compare(
    seeded_client: TestClient,
) -> None:
    page = _soup(seeded_client.get(f"/programmes/{SLUG}/compare"))
    assert page.select_one("#compare-unavailable").text.strip()
    assert page.select_one("#status-matrix") is None


def test_page_refuses_bad_input_with_a_clear_message(
    seeded_session: Session, seeded_client: TestClient
) -> None:
    open_round(seeded_session)
    ids = _period_ids(seeded_client)
    url = f"/programmes/{SLUG}/compare"

    same = seeded_client.get(f"{url}?from={ids[Y2021]}&to={ids[Y2021]}")
    assert same.status_code == 422
    assert "twee verschillende perioden" in same.text

    unknown = seeded_client.get(f"{url}?from=999999&to={ids[Y2022]}")
    assert unknown.status_code == 404
    assert "999999" in unknown.text

    not_a_number = seeded_client.get(f"{url}?from=vorig-jaar")
    assert not_a_number.status_code == 422
    assert "from moet een geheel getal zijn" in not_a_number.text

    assert seeded_client.get("/programmes/onbekend/compare").status_code == 404

    # The oldest period has none before it to default to: the page says so and offers the form.
    oldest = _soup(seeded_client.get(f"{url}?to={ids[Y2021]}"))
    assert (
        "Er is geen periode vóór Voortgangsrapportage 2021"
        in oldest.select_one("#compare-unavailable").text
    )
    assert oldest.select_one("form#compare-form")


# -- the JSON endpoint -----------------------------------------------------------------------------


def test_json_comparison_has_codes_periods_and_the_same_numbers(
    seeded_session: Session, seeded_client: TestClient
) -> None:
    scenario = _seeded_scenario(seeded_session)
    ids = scenario.ids
    periods = _period_ids(seeded_client)
    response = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/compare",
        params={"from": periods[Y2021], "to": periods[Y2022]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["programme"] == SLUG
    assert body["earlier"]["id"] == periods[Y2021]
    assert (body["earlier"]["name"], body["earlier"]["state"]) == (Y2021, "published")
    assert (body["later"]["name"], body["later"]["state"]) == (Y2022, "open")
    assert body["swapped"] is False
    assert body["statuses"] == [status.value for status in Status] + [None]
    assert body["counts"] == {
        "in_both": 127,
        "changed": 4,
        "added": 1,
        "retired": 1,
        "explanations_changed": 1,
    }
    cells = {
        (c["from_status"] or "none", c["to_status"] or "none"): c["count"] for c in body["matrix"]
    }
    assert cells == _expected_round_matrix()
    assert sum(cells.values()) == body["counts"]["in_both"]
    assert [(c["activity"]["id"], c["from_status"], c["to_status"]) for c in body["changed"]] == [
        (ids["1.1"], "on_schedule", "completed"),
        (ids["1.2"], "on_schedule", "completed"),
        (ids["1.7"], "delayed", "on_schedule"),
        (ids["30.2"], "not_started", "on_schedule"),
    ]
    first = body["changed"][0]["activity"]
    assert first["action_line"] == {
        "number": 1,
        "title": body["action_lines"][0]["action_line"]["title"],
    }
    assert first["result"]["number"] == 1
    assert (first["label"], first["title"]) == ("1", "Training politiemedewerkers")
    assert [(a["activity"]["id"], a["status"]) for a in body["added"]] == [
        (ids["34.5"], "not_started")
    ]
    assert [(a["activity"]["id"], a["status"]) for a in body["retired"]] == [
        (ids["33.7"], "delayed")
    ]
    line_5 = body["action_lines"][4]
    assert line_5["action_line"]["number"] == 5
    assert (line_5["in_both"], line_5["changed"], line_5["added"], line_5["retired"]) == (
        18,
        1,
        1,
        1,
    )
    assert sum(c["count"] for c in line_5["matrix"]) == 18
    [explanation] = body["explanations"]
    assert explanation["activity"]["id"] == ids["1.1"]
    assert explanation["after"] == explanation["before"] + APPENDED
    assert "<ins> Afgerond in het voorjaar van 2022.</ins>" in explanation["diff_html"]

    # Without parameters: the current round against the period before it.
    assert (
        seeded_client.get(f"/api/v1/programmes/{SLUG}/compare").json()["counts"] == body["counts"]
    )
    swapped = seeded_client.get(
        f"/api/v1/programmes/{SLUG}/compare",
        params={"from": periods[Y2022], "to": periods[Y2021]},
    ).json()
    assert swapped["swapped"] is True
    assert swapped["earlier"]["name"] == Y2021
    assert swapped["matrix"] == body["matrix"]


def test_json_refuses_bad_input(seeded_session: Session, seeded_client: TestClient) -> None:
    url = f"/api/v1/programmes/{SLUG}/compare"
    only_one = seeded_client.get(url)
    assert only_one.status_code == 422
    assert "ten minste twee rapportageperioden" in only_one.json()["detail"]

    open_round(seeded_session)
    periods = _period_ids(seeded_client)
    same = seeded_client.get(url, params={"from": periods[Y2022], "to": periods[Y2022]})
    assert same.status_code == 422
    assert "twee verschillende perioden" in same.json()["detail"]

    unknown = seeded_client.get(url, params={"to": 999999})
    assert unknown.status_code == 404
    assert "999999" in unknown.json()["detail"]

    not_a_number = seeded_client.get(url, params={"from": "vorig-jaar"})
    assert not_a_number.status_code == 422
    [problem] = not_a_number.json()["detail"]
    assert problem["loc"] == ["query", "from"]

    assert seeded_client.get("/api/v1/programmes/onbekend/compare").status_code == 404

    oldest = seeded_client.get(url, params={"to": periods[Y2021]})
    assert oldest.status_code == 422
    assert "geen periode vóór Voortgangsrapportage 2021" in oldest.json()["detail"]


def test_openapi_documents_the_comparison(seeded_client: TestClient) -> None:
    schema = seeded_client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/programmes/{programme}/compare"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"programme", "from", "to"}
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response["$ref"].endswith("/ComparisonOut")
    assert "/programmes/{slug}/compare" not in schema["paths"]


def test_signed_out_visitors_cannot_read_the_comparison(anonymous_client: TestClient) -> None:
    page = anonymous_client.get(f"/programmes/{SLUG}/compare", follow_redirects=False)
    assert page.status_code == 303
    assert "/sign-in" in page.headers["location"]
    assert anonymous_client.get(f"/api/v1/programmes/{SLUG}/compare").status_code == 401


# -- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_compare_page_works_without_javascript_and_passes_axe(  # type: ignore[no-untyped-def]
    browser, seeded_settings: Settings
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine, expire_on_commit=False) as session:
            _seeded_scenario(session)
            viewer = create_user(session, "viewer")
            _, periods = _periods(session, SLUG)

        # The form is a plain GET form: choosing the periods needs no script.
        context = browser.new_context(locale="nl-NL", java_script_enabled=False)
        page = context.new_page()
        sign_in_page(page, server.url, viewer, PASSWORD)
        page.goto(f"{server.url}/programmes/{SLUG}/compare")
        page.select_option("#compare-from", str(periods[Y2022].id))
        page.select_option("#compare-to", str(periods[Y2021].id))
        page.click("#compare-form button[type=submit]")
        page.wait_for_url(lambda url: "from=" in url)
        assert page.locator("#compare-swapped").is_visible()
        assert page.locator("#count-changed").inner_text() == "4"
        context.close()

        context = browser.new_context(locale="nl-NL")
        page = context.new_page()
        sign_in_page(page, server.url, viewer, PASSWORD)
        for language in ("nl", "en"):
            page.goto(f"{server.url}/programmes/{SLUG}/compare?lang={language}")
            results = Axe().run(page, options=WCAG_21_AA)
            assert results.violations_count == 0, results.generate_report()
        context.close()
