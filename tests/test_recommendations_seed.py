"""The recommendations' seed: every recommendation of the Rapporteur's two factsheets with its
number, title, full text and addressees as the factsheet prints them (read here from the
factsheets themselves), the reports as source reports, links proposed and unconfirmed, no
response or follow-up invented; loading twice changes nothing, and a broken file is refused
naming the file and the place, in both languages, with the database left as it was."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.cache import DATA_REVISION_ID
from app.db import make_engine
from app.monitor.seeding import load_monitor_files, monitor_seed_files
from app.programmes.models import Activity, Organisation, Programme
from app.recommendations.models import (
    Addressee,
    DeadlineChange,
    Entry,
    FollowUpStatus,
    LinkSource,
    Recommendation,
    RecommendationActivity,
    RecommendationIndicator,
    RecommendationRelation,
    RecommendationResult,
    RelationKind,
    SourceReport,
)
from app.recommendations.seeding import (
    RECOMMENDATION_SEED_DIR,
    load_recommendation_files,
    recommendation_seed_files,
)
from app.revision import DataRevision
from app.seeding.service import SeedError, SeedReport
from tests.cli import run_cli
from tests.test_monitor import SEEDS

FACTSHEETS = {
    "slachtoffermonitor-2014-2018": "001_af9306f945b42ee2.txt",
    "dadermonitor-2015-2019": "003_9f3265c74006955c.txt",
}
# How each factsheet heads a recommendation: "1.  ZORG VOOR …" and "AANBEVELING 1".
HEADINGS = {
    "slachtoffermonitor-2014-2018": re.compile(r"^\s*(\d+)\.\s+[A-ZÀ-Ý]", re.M),
    "dadermonitor-2015-2019": re.compile(r"^AANBEVELING (\d+)$", re.M),
}
# The extraction lost the ligatures ff, fi, ft, tt of the perpetrators' factsheet: it prints
# "slachto� ers" for "slachtoffers". A pair of the seed's letters may stand for such a mark.
LIGATURES = re.compile(r"ff|fi|fl|ft|tt")
LOST = "\ufffd"


def _letters(text: str) -> str:
    """Only the letters (and lost ligature marks), lower case: line breaks, the hyphens of
    words split across lines and the spacing around a lost ligature no longer count."""
    return "".join(ch for ch in text.lower() if ch.isalpha() or ch == LOST)


def _printed_in(text: str, document: str) -> bool:
    pattern = LIGATURES.sub(lambda m: f"(?:{m.group()}|{LOST})", re.escape(_letters(text)))
    return re.search(pattern, _letters(document)) is not None


def _factsheet(key: str) -> str:
    return (SEEDS / FACTSHEETS[key]).read_text(encoding="utf-8")


def _load(session: Session, paths: list[Path] | None = None) -> SeedReport:
    report = SeedReport()
    load_monitor_files(session, monitor_seed_files(), report)
    load_recommendation_files(
        session, recommendation_seed_files() if paths is None else paths, report
    )
    session.commit()
    return report


def _recommendations(session: Session, key: str) -> list[Recommendation]:
    report = session.scalar(select(SourceReport).where(col(SourceReport.key) == key))
    assert report is not None, key
    return list(
        session.scalars(
            select(Recommendation)
            .where(col(Recommendation.report_id) == report.id)
            .order_by(col(Recommendation.position))
        )
    )


def _addressees(session: Session, recommendation: Recommendation) -> list[Addressee]:
    return list(
        session.scalars(
            select(Addressee)
            .where(col(Addressee.recommendation_id) == recommendation.id)
            .order_by(col(Addressee.position))
        )
    )


def test_the_ligature_rule_reads_the_factsheet_and_nothing_else() -> None:
    offenders = _factsheet("dadermonitor-2015-2019")
    assert _printed_in("de jonge leeftijd van daders en slachtoffers", offenders)
    assert not _printed_in("de jonge leeftijd van daders en slachtofers", offenders)


@pytest.mark.parametrize("key", sorted(FACTSHEETS))
def test_every_recommendation_of_the_factsheet_is_loaded_as_printed(
    seeded_session: Session, key: str
) -> None:
    _load(seeded_session)
    factsheet = _factsheet(key)
    printed_numbers = HEADINGS[key].findall(factsheet)
    assert printed_numbers, "the factsheet's headings were not found"
    recommendations = _recommendations(seeded_session, key)
    assert [r.number for r in recommendations] == printed_numbers
    for recommendation in recommendations:
        assert recommendation.title and recommendation.text
        assert _printed_in(recommendation.title, factsheet), recommendation.title
        assert _printed_in(recommendation.text, factsheet), recommendation.text
        assert recommendation.source_document == FACTSHEETS[key]
        assert recommendation.parent_id is None and not recommendation.priority
        # The addressees are those the text names: "De Nationaal Rapporteur beveelt A, B en
        # C aan …"; a text that names none has none.
        named = re.search(r"De Nationaal Rapporteur beveelt (.+?) aan\b", recommendation.text)
        expected = re.split(r", | en (?=de )", named.group(1)) if named else []
        names = [a.name for a in _addressees(seeded_session, recommendation)]
        assert names == expected, recommendation.number
        for name in names:
            assert _printed_in(name, factsheet)
    report = seeded_session.scalar(select(SourceReport).where(col(SourceReport.key) == key))
    assert report is not None and report.source_document == FACTSHEETS[key]
    publisher = seeded_session.get(Organisation, report.publisher_id)
    assert publisher is not None and publisher.code == "NRM"
    # The perpetrators' factsheet does not print its report's title; the seeds' README does.
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    assert _printed_in(report.title, factsheet) or _printed_in(report.title, readme)


def test_the_addressees_name_their_organisations(seeded_session: Session) -> None:
    _load(seeded_session)
    police = _recommendations(seeded_session, "slachtoffermonitor-2014-2018")[4]
    organisations = [
        seeded_session.get(Organisation, a.organisation_id).code  # type: ignore[union-attr]
        for a in _addressees(seeded_session, police)
    ]
    assert organisations == ["JenV", "JenV", "Politie"]


def test_links_are_proposed_by_the_seed_and_nothing_is_invented(seeded_session: Session) -> None:
    _load(seeded_session)
    links = [
        *seeded_session.scalars(select(RecommendationActivity)),
        *seeded_session.scalars(select(RecommendationResult)),
        *seeded_session.scalars(select(RecommendationIndicator)),
    ]
    assert links
    assert all(link.source == LinkSource.seeded and not link.confirmed for link in links)
    every = [r for key in FACTSHEETS for r in _recommendations(seeded_session, key)]
    linked = {link.recommendation_id for link in links if isinstance(link, RecommendationActivity)}
    assert linked == {r.id for r in every}, "a recommendation without a proposed activity"
    # The coordination and monitoring recommendation: the programme's monitoring activity.
    coordination = _recommendations(seeded_session, "slachtoffermonitor-2014-2018")[0]
    titles = {
        seeded_session.get(Activity, link.activity_id).title  # type: ignore[union-attr]
        for link in links
        if isinstance(link, RecommendationActivity) and link.recommendation_id == coordination.id
    }
    assert titles == {"Impact monitor"}
    # No response, assessment, follow-up or deadline: those start empty.
    assert seeded_session.scalar(select(func.count()).select_from(Entry)) == 0
    assert seeded_session.scalar(select(func.count()).select_from(DeadlineChange)) == 0
    legend = list(seeded_session.scalars(select(FollowUpStatus).order_by(FollowUpStatus.position)))
    assert [value.code for value in legend] == [
        "not_started", "in_progress", "implemented", "not_implemented", "superseded"
    ]  # fmt: skip
    assert all(value.symbol and value.label_nl and value.label_en for value in legend)


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (
            SourceReport,
            Recommendation,
            Addressee,
            RecommendationActivity,
            RecommendationResult,
            RecommendationIndicator,
            FollowUpStatus,
        )
    )


def test_loading_the_recommendations_twice_changes_nothing(seeded_session: Session) -> None:
    first = _load(seeded_session)
    assert first.created["recommendations"] == 8
    before = _counts(seeded_session)
    revision = seeded_session.get(DataRevision, DATA_REVISION_ID)
    assert revision is not None
    number = revision.revision
    again = SeedReport()
    load_recommendation_files(seeded_session, recommendation_seed_files(), again)
    seeded_session.commit()
    assert not again.changed, (again.created, again.updated)
    assert _counts(seeded_session) == before
    seeded_session.refresh(revision)
    assert revision.revision == number


def _broken_copy(tmp_path: Path, old: str, new: str) -> list[Path]:
    for path in recommendation_seed_files():
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "slachtoffermonitor-2014-2018.yaml"
    content = target.read_text(encoding="utf-8")
    assert old in content
    target.write_text(content.replace(old, new, 1), encoding="utf-8")
    return recommendation_seed_files(tmp_path)


BROKEN = [
    (
        "organisation: Politie",
        "organisation: Marechaussee",
        r"recommendations → '5' → addressees → 3 → organisation: unknown organisation "
        r"'Marechaussee' / onbekende organisatie 'Marechaussee'",
    ),
    (
        "title: Impact monitor",
        "title: Impactmonitor",
        r"recommendations → '1' → links → activities → 1 → title: result 34, activity 3 is "
        r"'Impact monitor', not 'Impactmonitor' / resultaat 34, activiteit 3 heet",
    ),
    (
        "- number: '2'\n  title:",
        "- number: '2'\n  titel:",
        r"recommendations → '2' → title: Field required / ontbreekt",
    ),
    (
        "slachtoffers-geschat,",
        "slachtoffers-gisteren,",
        r"no indicator 'slachtoffers-gisteren' .* / er is geen indicator",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN, ids=["org", "title", "field", "ind"])
def test_a_broken_recommendation_file_changes_nothing_and_says_what_and_where(
    seeded_session: Session, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    paths = _broken_copy(tmp_path, old, new)
    report = SeedReport()
    load_monitor_files(seeded_session, monitor_seed_files(), report)
    seeded_session.commit()
    before = _counts(seeded_session)
    with pytest.raises(SeedError) as refused:
        load_recommendation_files(seeded_session, paths, SeedReport())
    seeded_session.rollback()
    message = refused.value.message
    assert "slachtoffermonitor-2014-2018.yaml" in message
    assert "nothing was loaded / het seedbestand is geweigerd" in message
    assert re.search(expected, message, re.S), message
    assert _counts(seeded_session) == before


def test_the_seed_command_loads_the_recommendations_all_or_nothing(
    database_url: str, tmp_path: Path
) -> None:
    _broken_copy(tmp_path, "organisation: Politie", "organisation: Marechaussee")
    refused = run_cli(
        "seed", "--recommendations", str(tmp_path), env={"DATABASE_URL": database_url}
    )
    assert refused.exit_code == 1
    assert "onbekende organisatie 'Marechaussee'" in refused.stderr
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            # The programme and the monitor, loaded before, were rolled back with it.
            assert session.scalar(select(func.count()).select_from(Programme)) == 0
    finally:
        engine.dispose()


def test_the_recommendation_seed_folder_is_where_the_cli_looks() -> None:
    assert [path.name for path in recommendation_seed_files(RECOMMENDATION_SEED_DIR)] == [
        "dadermonitor-2015-2019.yaml",
        "followup-legend.yaml",
        "slachtoffermonitor-2014-2018.yaml",
    ]


def test_relations_and_parts_load_and_reload_unchanged(
    seeded_session: Session, tmp_path: Path
) -> None:
    for path in recommendation_seed_files():
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "dadermonitor-2015-2019.yaml"
    content = target.read_text(encoding="utf-8")
    anchor = "- number: '2'\n"
    assert anchor in content
    target.write_text(
        content.replace(
            anchor,
            anchor + "  relations:\n"
            "  - {kind: continues, report: slachtoffermonitor-2014-2018, number: '3'}\n"
            "  parts:\n"
            "  - {number: 2a, title: Onderzoek de resocialisatie, text: Een deel.}\n",
            1,
        ),
        encoding="utf-8",
    )
    paths = recommendation_seed_files(tmp_path)
    _load(seeded_session, paths)
    offenders = _recommendations(seeded_session, "dadermonitor-2015-2019")
    assert [r.number for r in offenders] == ["1", "2", "2a", "3"]
    assert offenders[2].parent_id == offenders[1].id
    relation = seeded_session.scalar(select(RecommendationRelation))
    victims = _recommendations(seeded_session, "slachtoffermonitor-2014-2018")
    assert relation is not None
    assert (relation.recommendation_id, relation.related_id) == (offenders[1].id, victims[2].id)
    assert relation.kind == RelationKind.continues
    again = SeedReport()
    load_recommendation_files(seeded_session, paths, again)
    assert not again.changed, (again.created, again.updated)
    seeded_session.rollback()
    target.write_text(
        target.read_text(encoding="utf-8").replace("number: '3'}", "number: '9'}"),
        encoding="utf-8",
    )
    with pytest.raises(SeedError, match="no other recommendation '9'.*er is geen andere"):
        load_recommendation_files(seeded_session, paths, SeedReport())
    seeded_session.rollback()
