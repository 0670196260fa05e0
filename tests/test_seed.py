"""The real programme as seed data: complete, clean, idempotent; bad files refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlmodel import Session

from app.activities.models import StatusUpdate, UpdateSource
from app.cli import DEFAULT_SEED
from app.periods.models import ReportingPeriod
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    Programme,
    Result,
    Theme,
)
from app.seeding.service import SeedError, load_seed_file, parse_seed

SOURCE_DOCUMENT = (
    Path(__file__).resolve().parents[2] / "shared" / "seeds" / "004_dcc075ab107a757f.txt"
)

# Activities per result, counted by hand in the source document (rows of the
# "Activiteiten / producten" column, including unnumbered and sub-numbered rows; see
# seed/README.md for how ambiguous rows were read).
ACTIVITIES_PER_RESULT = {
    1: 12, 2: 7, 3: 3, 4: 13, 5: 4, 6: 4, 7: 1, 8: 1, 9: 1, 10: 1, 11: 4, 12: 1, 13: 1,
    14: 5, 15: 5, 16: 3, 17: 1, 18: 4, 19: 4, 20: 4, 21: 2, 22: 1, 23: 1, 24: 7, 25: 9,
    26: 1, 27: 2, 28: 5, 29: 2, 30: 2, 31: 4, 32: 2, 33: 7, 34: 4,
}  # fmt: skip


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _snapshot(session: Session) -> dict[str, int]:
    models = (
        Programme,
        ActionLine,
        Theme,
        Result,
        Activity,
        Organisation,
        ActivityOrganisation,
        ReportingPeriod,
        StatusUpdate,
    )
    return {model.__name__: _count(session, model) for model in models}


def test_seed_has_every_result_with_its_activities(seeded_session: Session) -> None:
    rows = seeded_session.execute(
        select(Result.number, func.count(Activity.id))
        .join(Activity, Activity.result_id == Result.id)
        .group_by(Result.number)
    ).all()
    assert dict(rows) == ACTIVITIES_PER_RESULT


@pytest.mark.skipif(not SOURCE_DOCUMENT.exists(), reason="shared/seeds is not next to the repo")
def test_every_result_title_starts_as_in_the_document(seeded_session: Session) -> None:
    # The PDF text breaks titles over lines and drops hyphens; compare letters only.
    document = re.sub(r"[^a-z0-9]", "", SOURCE_DOCUMENT.read_text(encoding="utf-8").lower())
    results = seeded_session.execute(select(Result.number, Result.title)).all()
    assert len(results) == len(ACTIVITIES_PER_RESULT)
    for number, title in results:
        letters = re.sub(r"[^a-z0-9]", "", title.lower())[:25]
        assert f"{number}{letters}" in document, f"result {number} {title!r} not in the document"


def test_seed_has_five_action_lines_and_derived_statuses(seeded_session: Session) -> None:
    lines = seeded_session.scalars(select(ActionLine.number).order_by(ActionLine.position)).all()
    assert lines == [1, 2, 3, 4, 5]
    period = seeded_session.scalars(select(ReportingPeriod)).one()
    assert period.name == "Voortgangsrapportage 2021"
    sources = seeded_session.scalars(select(StatusUpdate.source).distinct()).all()
    assert sources == [UpdateSource.derived]
    assert _count(seeded_session, StatusUpdate) == sum(ACTIVITIES_PER_RESULT.values())


def test_seed_text_is_clean() -> None:
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    texts = []
    for line in data["action_lines"]:
        for theme in line["themes"]:
            texts.append(theme["title"])
            for result in theme["results"]:
                texts.append(result["title"])
                for activity in result["activities"]:
                    texts += [activity["title"], activity["explanation"] or ""]
    blob = "\n".join(texts)
    # Page headers and legend blocks of the PDF.
    assert "Programmaresultaten Samen tegen mensenhandel" not in blob
    assert "Stand van zaken" not in blob
    assert "Toelichting" not in blob
    # Lost hyphens and stuck footnote numbers.
    for damaged in ("Covid19", "COApersoneel", "Elearning", "gerealiseerd1", "20192022"):
        assert damaged not in blob, damaged
    # No hard line breaks inside a paragraph, except before the items of a bulleted list.
    for text in texts:
        for paragraph in text.split("\n\n"):
            for line in paragraph.strip().split("\n")[1:]:
                assert line.startswith("•"), paragraph


def test_seeding_twice_changes_nothing(seeded_session: Session) -> None:
    before = _snapshot(seeded_session)
    report = load_seed_file(seeded_session, DEFAULT_SEED)
    seeded_session.commit()
    assert not report.changed
    assert _snapshot(seeded_session) == before


def _seed_text(mutate) -> str:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    mutate(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _activities(data: dict, result_number: int) -> list[dict]:
    for line in data["action_lines"]:
        for theme in line["themes"]:
            for result in theme["results"]:
                if result["number"] == result_number:
                    return result["activities"]
    raise AssertionError(result_number)


def _set_status(data: dict) -> None:
    _activities(data, 4)[2]["status"] = "half done"


def _duplicate_result(data: dict) -> None:
    data["action_lines"][1]["themes"][0]["results"][0]["number"] = 3


def _missing_title(data: dict) -> None:
    del _activities(data, 12)[0]["title"]


def _unknown_organisation(data: dict) -> None:
    _activities(data, 7)[0]["lead"] = "Nobody"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            _set_status,
            r"action line 1 → theme 2 .* → result 4 → activity '3' → status: unknown status 'half done'",
        ),
        (_duplicate_result, r"action line 2 → result 3: duplicate result number 3"),
        (_missing_title, r"result 12 → activity '1' → title: missing 'title'"),
        (_unknown_organisation, r"result 7 → activity '1': unknown organisation 'Nobody'"),
    ],
    ids=["unknown-status", "duplicate-number", "missing-title", "unknown-organisation"],
)
def test_bad_seed_is_refused_with_the_place_and_nothing_changes(
    session: Session,
    tmp_path: Path,
    mutate,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(_seed_text(mutate), encoding="utf-8")
    before = _snapshot(session)
    with pytest.raises(SeedError) as refused:
        load_seed_file(session, bad)
    session.rollback()
    assert re.search(expected, refused.value.message), refused.value.message
    assert "nothing was loaded" in refused.value.message
    assert _snapshot(session) == before


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(SeedError) as refused:
        parse_seed("programme:\n  slug: x\n  name: [unclosed\n", source="broken.yaml")
    assert "broken.yaml" in refused.value.message
    assert re.search(r"line \d+, column \d+: not valid YAML", refused.value.message)


def test_duplicate_organisation_code_is_refused(session: Session) -> None:
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    data["organisations"].append(dict(data["organisations"][0]))
    before = _snapshot(session)
    with pytest.raises(SeedError, match="listed twice"):
        parse_seed(yaml.safe_dump(data, allow_unicode=True))
    assert _snapshot(session) == before
