"""The monitor of key figures: qualified values, the seeded editions (every figure of the four
documents), breakdowns that must add up, the edition's life cycle (the periods' own), the edit
policy, append-only history in the database, and the seed's idempotence and all-or-nothing."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col

from app.cache import DATA_REVISION_ID
from app.db import make_engine
from app.errors import Forbidden
from app.i18n import DEFAULT_LANGUAGE, set_language
from app.monitor import service
from app.monitor.models import Area, Edition, Figure, FigureVersion, Indicator
from app.monitor.seeding import MONITOR_SEED_DIR, load_monitor_files, monitor_seed_files
from app.monitor.values import (
    InvalidValue,
    QualifiedValue,
    Qualifier,
    Unit,
    format_value,
    parse_value,
)
from app.periods import service as periods
from app.periods.models import PeriodKind, PeriodState, PeriodTransition
from app.policy import Reason
from app.programmes.models import Organisation, Programme
from app.readmodel import list_periods
from app.review import service as review
from app.revision import DataRevision
from app.seeding.service import SeedError, SeedReport
from tests.cli import run_cli
from tests.factories import (
    EditionFigure,
    coordinator,
    create_user,
    current_user,
    load_monitors,
    open_edition,
)

# The source documents: ../shared/seeds from the repository (a worktree may sit one deeper).
SEEDS = next(
    (
        folder / "shared" / "seeds"
        for folder in Path(__file__).resolve().parents
        if (folder / "shared" / "seeds").is_dir()
    ),
    Path("/work/shared/seeds"),
)
ROTTERDAM_FILES = ("000_db6cf8c3470fff37.txt", "002_347f2a937e8c39a3.txt")
VICTIMS_FILE = "001_af9306f945b42ee2.txt"
OFFENDERS_FILE = "003_9f3265c74006955c.txt"

MHM = "Mensenhandelmonitor 2020"
SLM = "Slachtoffermonitor mensenhandel 2014-2018 (factsheet)"
DM = "Dadermonitor mensenhandel 2015-2019 (factsheet)"

# -- qualified values -----------------------------------------------------------------------

ROUND_TRIP = [
    # (as typed, language, printed, qualifier, low, high)
    ("> 200", "nl", "> 200", Qualifier.at_least, 200, None),
    (">200", "en", "> 200", Qualifier.at_least, 200, None),
    ("≈ 95–105", "nl", "≈ 95–105", Qualifier.range, 95, 105),
    ("≈95-105", "en", "≈ 95–105", Qualifier.range, 95, 105),
    ("5.000–7.500", "nl", "5.000–7.500", Qualifier.range, 5000, 7500),
    ("5,000–7,500", "en", "5,000–7,500", Qualifier.range, 5000, 7500),
    ("tussen de 5.000 en 7.500", "nl", "5.000–7.500", Qualifier.range, 5000, 7500),
    ("onbekend", "nl", "onbekend", Qualifier.unknown, None, None),
    ("unknown", "en", "unknown", Qualifier.unknown, None, None),
    ("afgeschermd", "nl", "afgeschermd", Qualifier.suppressed, None, None),
    ("< 10", "en", "< 10", Qualifier.at_most, None, 10),
    ("1.045", "nl", "1.045", Qualifier.exact, 1045, 1045),
    ("1,045", "en", "1,045", Qualifier.exact, 1045, 1045),
    ("naar schatting 3.000", "nl", "naar schatting 3.000", Qualifier.exact, 3000, 3000),
    ("estimated 3,000", "en", "estimated 3,000", Qualifier.exact, 3000, 3000),
]


@pytest.mark.parametrize(("typed", "language", "printed", "qualifier", "low", "high"), ROUND_TRIP)
def test_a_value_reads_and_prints_as_the_source_does(
    typed: str,
    language: str,
    printed: str,
    qualifier: Qualifier,
    low: float | None,
    high: float | None,
) -> None:
    value = parse_value(typed, language)
    assert (value.qualifier, value.low, value.high) == (qualifier, low, high)
    assert format_value(value, Unit.number, language) == printed
    assert parse_value(printed, language) == value


def test_the_same_value_prints_in_each_languages_number_format() -> None:
    estimate = QualifiedValue.between(5000, 7500, estimate=True)
    assert format_value(estimate, Unit.persons, "nl") == "naar schatting 5.000–7.500"
    assert format_value(estimate, Unit.persons, "en") == "estimated 5,000–7,500"
    assert format_value(QualifiedValue.exact(1610), Unit.euro, "nl") == "€ 1.610"
    assert format_value(QualifiedValue.exact(1610), Unit.euro, "en") == "€1,610"
    assert format_value(QualifiedValue.exact(27, approximate=True), Unit.percent, "nl") == "≈ 27%"
    assert format_value(QualifiedValue.between(5, 9), Unit.percent, "en") == "5–9%"
    assert format_value(QualifiedValue.exact(20), Unit.months, "nl") == "1 jaar en 8 maanden"
    assert format_value(QualifiedValue.exact(20), Unit.months, "en") == "1 year and 8 months"
    assert format_value(QualifiedValue.exact(2.5), Unit.percent, "nl") == "2,5%"
    assert format_value(QualifiedValue.exact(2.5), Unit.percent, "en") == "2.5%"


@pytest.mark.parametrize("typed", ["", "veel", "> ", "7.500–5.000", "1.2.3,4,5"])
def test_a_text_that_is_no_value_is_refused(typed: str) -> None:
    with pytest.raises(InvalidValue):
        parse_value(typed, "nl")


def test_a_value_never_prints_as_a_false_exact_number() -> None:
    for value in (
        QualifiedValue.at_least(200),
        QualifiedValue.at_most(18),
        QualifiedValue.between(95, 105, approximate=True),
        QualifiedValue.exact(3000, estimate=True),
        QualifiedValue.unknown(),
    ):
        for language in ("nl", "en"):
            printed = format_value(value, Unit.persons, language)
            assert not re.fullmatch(r"[\d.,]+", printed), printed


def test_a_complete_breakdown_adds_up_only_when_its_parts_can_make_the_total() -> None:
    exact = QualifiedValue.exact
    assert service.adds_up(exact(477), [exact(320), exact(157)])
    assert not service.adds_up(exact(477), [exact(320), exact(150)])
    assert service.adds_up(QualifiedValue.at_least(200), [exact(150), exact(60)])
    assert not service.adds_up(QualifiedValue.at_least(200), [exact(150), exact(40)])
    assert service.adds_up(exact(10), [exact(4), QualifiedValue.suppressed()])


# -- the seeded editions --------------------------------------------------------------------

# Every figure of the four documents, written from the documents (not from the seed files):
# (edition, area code, years, printed in Dutch, qualifier, words of the document it stands in,
#  breakdown: None, or (complete, [(category, printed), ...])).
Row = tuple[str, str, tuple[int, int], str, Qualifier, str, Any]
Q = Qualifier
EXPECTED: list[Row] = [
    (MHM, "regio-rotterdam", (2020, 2020), "477", Q.exact, "477 bestuurlijke controles",
     (True, [("vergunde branche", "320"), ("overig", "157")])),
    (MHM, "GM0599", (2020, 2020), "39", Q.exact, "39 dossiers in behandeling", None),
    (MHM, "GM0599", (2020, 2020), "5", Q.exact, "5x een last onder dwangsom", None),
    (MHM, "GM0599", (2020, 2020), "23", Q.exact, "23 panden gesloten",
     (True, [("sluitingen van 3 maanden", "8"), ("sluitingen van 1 maand", "15")])),
    (MHM, "GM0599", (2020, 2020), "6", Q.exact, "6x bestuurlijke waarschuwing", None),
    (MHM, "regio-rotterdam", (2020, 2020), "30", Q.exact, "30 opsporingsonderzoeken",
     (True, [("mensenhandel", "22"), ("mensensmokkel", "4"), ("overig", "4")])),
    (MHM, "GM0599", (2020, 2020), "1", Q.exact, "arbeidsuitbuiting door de ISZW", None),
    (MHM, "regio-rotterdam", (2020, 2020), "2", Q.exact, "2 RIEC casussen",
     (True, [("arbeidsuitbuiting", "1"), ("mensenhandel", "1")])),
    (MHM, "regio-rotterdam", (2020, 2020), "29", Q.exact, "29 slachtoffers",
     (False, [("minderjarig", "4")])),
    (MHM, "regio-rotterdam", (2020, 2020), "55", Q.exact, "55 verdachten aangehouden",
     (True, [("mensenhandel", "43"), ("mensensmokkel", "6"), ("overig", "6")])),
    (MHM, "regio-rotterdam", (2020, 2020), "41", Q.exact, "41 verdachten veroordeeld",
     (True, [("mensenhandel", "6"), ("mensensmokkel", "35")])),
    (MHM, "regio-rotterdam", (2020, 2020), "5", Q.exact, "veroordeelde klanten minderjarige",
     None),
    (MHM, "regio-rotterdam", (2020, 2020), "€ 1.610", Q.exact, "in beslag genomen", None),
    (SLM, "NL", (2014, 2018), "naar schatting 5.000–7.500", Q.range,
     "naar schatting tussen de 5.000 en 7.500 slachtoffers per jaar", None),
    (SLM, "NL", (2018, 2018), "668", Q.exact, "668 slachtoffers in beeld", None),
    (SLM, "NL", (2014, 2017), "> 550", Q.at_least, "ruim 550", None),
    (SLM, "NL", (2018, 2018), "150", Q.exact, "in 2018 nog slechts 150", None),
    (SLM, "NL", (2014, 2018), "naar schatting 3.000", Q.exact, "naar schatting 3.000",
     (False, [("minderjarig", "naar schatting 1.300")])),
    (SLM, "NL", (2018, 2018), "132", Q.exact, "slechts 132 slachtoffers",
     (False, [("minderjarig", "29")])),
    (SLM, "NL", (2018, 2018), "60%", Q.exact, "60% minder slachtoffers", None),
    (SLM, "NL", (2018, 2018), "2–3%", Q.range, "2% tot 3%", None),
    (DM, "NL", (2015, 2019), "onbekend", Q.unknown, "PREVALENTIE", None),
    (DM, "NL", (2015, 2019), "> 200", Q.at_least, "SIGNALERING >200", None),
    (DM, "NL", (2015, 2019), "> 180", Q.at_least, "OPSPORING >180", None),
    (DM, "NL", (2015, 2019), "145", Q.exact, "DAGVAARDING 145", None),
    (DM, "NL", (2015, 2019), "≈ 95–105", Q.range, "VEROORDELING ≈95-105", None),
    (DM, "NL", (2015, 2019), "> 85", Q.at_least, "ONVOORWAARDELIJKE VRIJHEIDSSTRAF >85", None),
    (DM, "NL", (2015, 2019), "1 jaar en 8 maanden", Q.exact, "1 jaar en 8 maanden", None),
    (DM, "NL", (2015, 2019), "25", Q.exact, "RESOCIALISATIE 25", None),
    (DM, "NL", (2015, 2019), "onbekend", Q.unknown, "RECIDIVE ONBEKEND", None),
    (DM, "NL", (2016, 2016), "285", Q.exact, "van 285 verdachten in 2016", None),
    (DM, "NL", (2019, 2019), "170", Q.exact, "naar 170", None),
    (DM, "NL", (2016, 2016), "575", Q.exact, "van 575 in 2016", None),
    (DM, "NL", (2019, 2019), "1.045", Q.exact, "1.045", None),
    (DM, "NL", (2015, 2019), "180", Q.exact, "gemiddeld om 180 verdachten per jaar", None),
    (DM, "NL", (2019, 2019), "153", Q.exact, "slechts 153", None),
    (DM, "NL", (2019, 2019), "190", Q.exact, "streefcijfer van 190 verdachten", None),
    (DM, "NL", (2015, 2019), "60%", Q.exact, "komt 60% voor de rechter", None),
    (DM, "NL", (2016, 2016), "≈ 27%", Q.exact, "27% van de zaken", None),
    (DM, "NL", (2019, 2019), "41%", Q.exact, "in 2019 is dit 41%", None),
    (DM, "NL", (2015, 2019), "≈ 5–9%", Q.range, "5% à 9%", None),
]  # fmt: skip
FILES = {MHM: ROTTERDAM_FILES, SLM: (VICTIMS_FILE,), DM: (OFFENDERS_FILE,)}
FUNNEL = ["onbekend", "> 200", "> 180", "145", "≈ 95–105", "> 85", "25", "onbekend"]


def _document_text(edition: str) -> str:
    text = " ".join((SEEDS / name).read_text(encoding="utf-8") for name in FILES[edition])
    return " ".join(text.replace("’", "'").split())


def _edition(session: Session, title: str) -> service.EditionView:
    edition = session.scalar(select(Edition).where(col(Edition.title) == title))
    assert edition is not None, title
    return service.edition_view(session, edition.id or 0)


def test_the_expectations_stand_in_the_documents() -> None:
    """The words each expected figure is found by are the documents' own."""
    assert len(EXPECTED) == 41
    for edition, *_, words, _ in EXPECTED:
        assert " ".join(words.split()) in _document_text(edition), words


def test_the_seeded_editions_hold_every_figure_of_the_four_documents(
    seeded_session: Session,
) -> None:
    load_monitors(seeded_session)
    views = {title: _edition(seeded_session, title) for title in (MHM, SLM, DM)}
    matched: set[int] = set()
    for title, area, years, printed, qualifier, words, breakdown in EXPECTED:
        view = views[title]
        candidates = [
            row
            for row in view.figures
            if row.area.code == area
            and (row.figure.year_from, row.figure.year_to) == years
            and row.printed("nl") == printed
            and " ".join(words.split()) in " ".join(row.version.source_text.split())  # type: ignore[union-attr]
        ]
        assert len(candidates) == 1, (title, printed, words, len(candidates))
        row = candidates[0]
        matched.add(row.figure.id or 0)
        assert row.value is not None and row.value.qualifier == qualifier
        assert row.version is not None
        assert row.version.source_document in FILES[title]
        if breakdown is None:
            assert row.parts == [] and row.version.breakdown_complete is None
            continue
        complete, parts = breakdown
        assert row.version.breakdown_complete is complete, (title, printed)
        assert [(part.figure.category, part.printed("nl")) for part in row.parts] == parts
        for part in row.parts:
            assert part.area.code == area
            assert (part.figure.year_from, part.figure.year_to) == years
            matched.add(part.figure.id or 0)
    every = [row.figure.id for view in views.values() for row in view.all_figures()]
    assert len(every) == len(matched), "figures in the seed that no document gives"


def test_the_seeded_editions_are_published_monitor_periods(seeded_session: Session) -> None:
    load_monitors(seeded_session)
    for title, covers, area in (
        (MHM, (2020, 2020), "regio-rotterdam"),
        (SLM, (2014, 2018), "NL"),
        (DM, (2015, 2019), "NL"),
    ):
        view = _edition(seeded_session, title)
        assert view.period.kind == PeriodKind.monitor
        assert view.period.state == PeriodState.published
        assert (view.edition.covers_from, view.edition.covers_to) == covers
        assert seeded_session.get(Area, view.edition.area_id).code == area  # type: ignore[union-attr]
    # The programme's progress views list its progress periods only.
    programme = seeded_session.scalar(select(Programme))
    assert programme is not None
    assert [p.name for p in list_periods(seeded_session, programme.id or 0)] == [
        "Voortgangsrapportage 2021"
    ]


def test_the_funnel_footnotes_and_areas_are_as_printed(seeded_session: Session) -> None:
    load_monitors(seeded_session)
    offenders = _edition(seeded_session, DM)
    ((chain, steps),) = offenders.chains
    assert chain.title in _document_text(DM)
    assert "cohort" in chain.caveat
    assert [step.printed("nl") for step in steps] == FUNNEL
    assert [step.printed("en") for step in steps][:5] == [
        "unknown", "> 200", "> 180", "145", "≈ 95–105"
    ]  # fmt: skip
    rotterdam = _edition(seeded_session, MHM)
    (note,) = rotterdam.footnotes
    assert note.text.startswith("Omdat niet alle aangehouden verdachten in 2020")
    with_note = sorted(row.printed("nl") for row in rotterdam.figures if row.footnote_numbers)
    assert with_note == ["41", "55"]
    areas = {area.code: area for area in seeded_session.scalars(select(Area))}
    assert areas["GM0599"].official_code == "GM0599"
    assert areas["GM0599"].parent_id == areas["regio-rotterdam"].id
    # The region contains Rotterdam: their figures are never added up.
    assert not service.addable([areas["regio-rotterdam"], areas["GM0599"]], areas.values())


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Edition, Figure, FigureVersion, Indicator, Area, Organisation)
    )


def test_loading_the_monitor_seed_twice_changes_nothing(seeded_session: Session) -> None:
    first = load_monitors(seeded_session)
    assert first.created["figure values"] == 58
    before = _counts(seeded_session)
    revision = seeded_session.get(DataRevision, DATA_REVISION_ID)
    assert revision is not None
    number = revision.revision
    again = load_monitors(seeded_session)
    assert not again.changed, (again.created, again.updated)
    assert _counts(seeded_session) == before
    seeded_session.refresh(revision)
    assert revision.revision == number


def _broken_copy(tmp_path: Path, old: str, new: str) -> list[Path]:
    for path in monitor_seed_files():
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "mensenhandelmonitor-2020.yaml"
    content = target.read_text(encoding="utf-8")
    assert old in content
    target.write_text(content.replace(old, new, 1), encoding="utf-8")
    return monitor_seed_files(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'value: "157"',
            'value: "150"',
            r"mensenhandelmonitor-2020\.yaml.*bestuurlijke-controles \(477\): .* 320 \+ 150 ",
        ),
        ('value: "39"', 'value: "veel"', r"'dossiers-illegale-prostitutie' → value: 'veel'"),
        (
            'area: GM0599\n    value: "39"',
            'area: GM0600\n    value: "39"',
            r"'dossiers-illegale-prostitutie' → area: onbekend gebied 'GM0600'",
        ),
    ],
    ids=["breakdown-mismatch", "not-a-value", "unknown-area"],
)
def test_a_broken_monitor_file_changes_nothing_and_says_what_and_where(
    seeded_session: Session, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    paths = _broken_copy(tmp_path, old, new)
    before = _counts(seeded_session)
    with pytest.raises(SeedError) as refused:
        load_monitor_files(seeded_session, paths, SeedReport())
    seeded_session.rollback()
    assert re.search(expected, refused.value.message, re.S), refused.value.message
    assert _counts(seeded_session) == before


@pytest.mark.parametrize(
    ("language", "heading", "value", "indicator"),
    [
        (
            "nl",
            "het seedbestand van de monitor is geweigerd, er is niets geladen:",
            "'veel' is geen waarde",
            "onbekende indicator 'dossiers'",
        ),
        (
            "en",
            "the monitor seed file was refused, nothing was loaded:",
            "'veel' is not a value",
            "unknown indicator 'dossiers'",
        ),
    ],
)
def test_a_broken_monitor_file_is_refused_in_the_users_language_naming_file_and_figure(
    seeded_session: Session, tmp_path: Path, language: str, heading: str, value: str,
    indicator: str,
) -> None:  # fmt: skip
    """The monitor seed's errors come from the translation catalogue: the file, then per
    problem the figure and field (the file's own keys) and what is wrong; nothing loaded."""
    paths = _broken_copy(
        tmp_path,
        "indicator: dossiers-illegale-prostitutie\n    years: 2020\n    area: GM0599\n"
        '    value: "39"',
        'indicator: dossiers\n    years: 2020\n    area: GM0599\n    value: "veel"',
    )
    before = _counts(seeded_session)
    set_language(language)
    try:
        with pytest.raises(SeedError) as refused:
            load_monitor_files(seeded_session, paths, SeedReport())
    finally:
        set_language(DEFAULT_LANGUAGE)
    seeded_session.rollback()
    lines = refused.value.message.splitlines()
    assert lines[0] == f"{tmp_path / 'mensenhandelmonitor-2020.yaml'}: {heading}"
    assert f"  - figures → 'dossiers-illegale-prostitutie' → value: {value}" in "\n".join(lines)
    assert f"  - figures → 'dossiers-illegale-prostitutie' → indicator: {indicator}" in lines
    assert _counts(seeded_session) == before


def test_the_seed_command_loads_the_monitor_all_or_nothing(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    assert _broken_copy(tmp_path, 'value: "43"', 'value: "44"')
    refused = run_cli("seed", "--monitor", str(tmp_path), env=env)
    assert refused.exit_code == 1
    assert "verdachten-aangehouden (55)" in refused.stderr
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            # The programme, loaded before the broken monitor file, was rolled back with it.
            assert session.scalar(select(func.count()).select_from(Programme)) == 0
    finally:
        engine.dispose()
    loaded = run_cli("seed", env=env)
    assert loaded.exit_code == 0, loaded.stderr
    assert "3 monitor editions" in loaded.stdout
    again = run_cli("seed", env=env)
    assert "already loaded, nothing changed" in again.stdout


# -- entering figures: life cycle, policy, breakdowns ---------------------------------------


def _open_edition(session: Session) -> tuple[int, dict[str, Figure], Any, int]:
    """A new edition of the monitor (after the seed), opened (tests.factories.open_edition);
    its figures: a total with a complete breakdown along sector, supplied by organisation
    NRM."""
    load_monitors(session)
    nrm = session.scalar(select(Organisation).where(col(Organisation.code) == "NRM"))
    indicator = session.scalar(
        select(Indicator).where(col(Indicator.code) == "bestuurlijke-controles")
    )
    assert nrm and indicator
    indicator.supplier_id = nrm.id
    parts = [
        EditionFigure(f"controles.{key}", indicator.code, "controles", "sector", key)
        for key in ("vergund", "overig")
    ]
    edition = open_edition(session, figures=[EditionFigure("controles", indicator.code), *parts])
    figures = {
        "total": edition.figures["controles"],
        "vergund": edition.figures["controles.vergund"],
        "overig": edition.figures["controles.overig"],
    }
    return edition.edition_id, figures, edition.coordinator, nrm.id or 0


def _entries(figures: dict[str, Figure], total: str, vergund: str, overig: str) -> list[Any]:
    return [
        service.FigureEntry(
            figures["total"].id or 0, parse_value(total, "nl"), 0, breakdown_complete=True
        ),
        service.FigureEntry(figures["vergund"].id or 0, parse_value(vergund, "nl"), 0),
        service.FigureEntry(figures["overig"].id or 0, parse_value(overig, "nl"), 0),
    ]


def edition_period_programme(session: Session, edition: Edition) -> int:
    return service.edition_period(session, edition).programme_id


def test_an_edition_goes_through_the_periods_life_cycle(seeded_session: Session) -> None:
    edition_id, figures, actor, _ = _open_edition(seeded_session)
    edition = seeded_session.get(Edition, edition_id)
    assert edition is not None
    # A progress round may run beside the edition's (one round at a time holds per kind).
    progress = periods.create_period(
        seeded_session, programme_id=edition_period_programme(seeded_session, edition),
        name="Voortgangsrapportage 2022", reference_date=date(2022, 11, 1), deadline=None,
        actor=actor,
    )  # fmt: skip
    periods.move_period(seeded_session, period_id=progress.id or 0, move="open", actor=actor)
    assert progress.state == PeriodState.open
    written = service.record_figures(
        seeded_session, edition_id=edition_id, entries=_entries(figures, "10", "6", "4"),
        author=actor,
    )  # fmt: skip
    service.move_edition(seeded_session, edition_id=edition_id, move="review", actor=actor)
    # Four eyes (app/review): another coordinator approves the figures before publication.
    reviewer = coordinator(seeded_session)
    for version in written:
        review.decide_figure(
            seeded_session, figure_version_id=version.id or 0, decision="approve",
            reviewer=reviewer,
        )  # fmt: skip
    service.move_edition(seeded_session, edition_id=edition_id, move="publish", actor=actor)
    seeded_session.commit()
    steps = periods.transitions(seeded_session, edition.period_id)
    assert [step.to_state for step in steps] == [
        PeriodState.draft, PeriodState.open, PeriodState.in_review, PeriodState.published
    ]  # fmt: skip
    # Published: the policy refuses, and so does the database.
    decision = service.may_change(seeded_session, actor, figures["total"])
    assert decision.reason == Reason.published
    with pytest.raises(periods.PeriodClosed):
        service.record_figures(
            seeded_session, edition_id=edition_id,
            entries=[service.FigureEntry(figures["overig"].id or 0, parse_value("5"), 1)],
            author=actor,
        )  # fmt: skip
    seeded_session.rollback()
    # An audited correction reopens it, with a reason, as for any period.
    service.move_edition(
        seeded_session, edition_id=edition_id, move="correct", actor=actor, reason="Typo"
    )
    assert service.may_change(seeded_session, actor, figures["total"]).allowed
    assert seeded_session.scalar(
        select(func.count()).select_from(PeriodTransition).where(
            col(PeriodTransition.period_id) == edition.period_id,
            col(PeriodTransition.reason) == "Typo",
        )
    ) == 1  # fmt: skip


def test_a_breakdown_that_does_not_add_up_is_refused_naming_the_figure(
    seeded_session: Session,
) -> None:
    edition_id, figures, actor, _ = _open_edition(seeded_session)
    with pytest.raises(service.BreakdownMismatch) as refused:
        service.record_figures(
            seeded_session, edition_id=edition_id, entries=_entries(figures, "477", "320", "150"),
            author=actor,
        )  # fmt: skip
    seeded_session.rollback()
    assert "controles (477)" in refused.value.message
    assert "320 + 150" in refused.value.message
    assert refused.value.status_code == 422
    assert seeded_session.scalar(select(func.count()).select_from(FigureVersion)) == 58
    # Declared partial, the same numbers are allowed.
    partial = _entries(figures, "477", "320", "150")
    partial[0] = service.FigureEntry(figures["total"].id or 0, parse_value("477"), 0, False)
    service.record_figures(seeded_session, edition_id=edition_id, entries=partial, author=actor)
    # A later change of a part is checked against the total it belongs to (a complete one).
    service.record_figures(
        seeded_session, edition_id=edition_id,
        entries=[service.FigureEntry(figures["total"].id or 0, parse_value("470"), 1, True)],
        author=actor,
    )  # fmt: skip
    with pytest.raises(service.BreakdownMismatch, match="controles"):
        service.record_figures(
            seeded_session, edition_id=edition_id,
            entries=[service.FigureEntry(figures["overig"].id or 0, parse_value("157"), 1)],
            author=actor,
        )  # fmt: skip


def test_the_supplying_organisations_editor_may_change_a_figure_in_an_open_edition_only(
    seeded_session: Session,
) -> None:
    edition_id, figures, actor, _ = _open_edition(seeded_session)
    supplier = current_user(seeded_session, create_user(seeded_session, "editor", ("NRM",)))
    other = current_user(seeded_session, create_user(seeded_session, "editor", ("OM",)))
    viewer = current_user(seeded_session, create_user(seeded_session, "viewer"))
    total = figures["total"]
    assert service.may_change(seeded_session, supplier, total).allowed
    assert service.may_change(seeded_session, other, total).reason == Reason.other_organisation
    assert service.may_change(seeded_session, viewer, total).reason == Reason.no_editor

    with pytest.raises(Forbidden, match="organisatie die dit cijfer levert"):
        service.record_figures(
            seeded_session, edition_id=edition_id, entries=_entries(figures, "10", "6", "4"),
            author=other,
        )  # fmt: skip
    seeded_session.rollback()
    written = service.record_figures(
        seeded_session, edition_id=edition_id, entries=_entries(figures, "10", "6", "4"),
        author=supplier,
    )  # fmt: skip
    assert [version.author for version in written] == [supplier.name] * 3
    # A lost update is refused: the change must be based on the newest version.
    with pytest.raises(service.FigureConflict):
        service.record_figures(
            seeded_session, edition_id=edition_id,
            entries=[service.FigureEntry(figures["overig"].id or 0, parse_value("4"), 0)],
            author=supplier,
        )  # fmt: skip
    seeded_session.rollback()
    # A published seeded edition: nobody changes it, its supplier's editor neither.
    seeded = _edition(seeded_session, DM).figure("signalering").figure
    nrm_editor = supplier
    assert service.may_change(seeded_session, nrm_editor, seeded).reason == Reason.published
    assert service.may_change(seeded_session, actor, seeded).reason == Reason.published


# -- the database keeps the history ---------------------------------------------------------


def test_figure_versions_are_append_only_and_published_editions_immutable_in_the_database(
    seeded_session: Session,
) -> None:
    load_monitors(seeded_session)
    version_id = seeded_session.scalar(select(col(FigureVersion.id)).limit(1))
    for statement in (
        "UPDATE monitor_figure_version SET low = 1 WHERE id = :id",
        "DELETE FROM monitor_figure_version WHERE id = :id",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            seeded_session.execute(text(statement), {"id": version_id})
        seeded_session.rollback()
    figure_id = seeded_session.scalar(select(col(Figure.id)).limit(1))
    with pytest.raises(DatabaseError, match="published"):
        seeded_session.execute(
            text(
                "INSERT INTO monitor_figure_version (figure_id, version, qualifier, approximate, "
                "estimate, source_document, source_text, source, author, created_at) VALUES "
                "(:id, 99, 'exact', false, false, '', '', 'entered', 'x', CURRENT_TIMESTAMP)"
            ),
            {"id": figure_id},
        )
    seeded_session.rollback()


def test_a_new_figure_value_raises_the_data_revision(seeded_session: Session) -> None:
    edition_id, figures, actor, _ = _open_edition(seeded_session)
    revision = seeded_session.get(DataRevision, DATA_REVISION_ID)
    assert revision is not None
    before = revision.revision
    service.record_figures(
        seeded_session, edition_id=edition_id, entries=_entries(figures, "10", "6", "4"),
        author=actor,
    )  # fmt: skip
    seeded_session.commit()
    seeded_session.refresh(revision)
    assert revision.revision > before


def test_the_monitor_seed_folder_is_where_the_cli_looks() -> None:
    assert MONITOR_SEED_DIR.is_dir()
    assert [path.name for path in monitor_seed_files()] == [
        "dadermonitor-2015-2019.yaml",
        "mensenhandelmonitor-2020.yaml",
        "slachtoffermonitor-2014-2018.yaml",
    ]


def test_a_progress_round_carries_over_from_the_progress_report_not_from_an_edition(
    seeded_session: Session,
) -> None:
    """An edition is a period too, dated later than the 2021 report: the next progress round
    still starts from that report (previous period, carry-over and one round at a time look at
    periods of their own kind)."""
    edition_id, _, actor, _ = _open_edition(seeded_session)
    edition = seeded_session.get(Edition, edition_id)
    assert edition is not None
    programme_id = edition_period_programme(seeded_session, edition)
    progress = periods.create_period(
        seeded_session, programme_id=programme_id, name="Voortgangsrapportage 2022",
        reference_date=date(2022, 11, 1), deadline=None, actor=actor,
    )  # fmt: skip
    assert date(2022, 11, 1) > service.edition_period(seeded_session, edition).reference_date
    previous = periods.previous_period(seeded_session, progress)
    assert previous is not None and previous.name == "Voortgangsrapportage 2021"
    periods.move_period(seeded_session, period_id=progress.id or 0, move="open", actor=actor)
    assert progress.state == PeriodState.open
    carried = seeded_session.scalar(
        text("SELECT count(*) FROM status_update WHERE period_id = :id"), {"id": progress.id}
    )
    assert carried == 128


def test_overlapping_or_non_additive_areas_are_not_added_up(seeded_session: Session) -> None:
    load_monitors(seeded_session)
    areas = {area.code: area for area in seeded_session.scalars(select(Area))}
    value = QualifiedValue.exact(1)
    with pytest.raises(service.InvalidInput):
        service.sum_over_areas(
            [(areas["regio-rotterdam"], value), (areas["GM0599"], value)], areas.values()
        )
    for area in areas.values():
        area.additive = True
    assert not service.addable([areas["regio-rotterdam"], areas["GM0599"]], areas.values())
    assert service.addable([areas["GM0599"]], areas.values())
