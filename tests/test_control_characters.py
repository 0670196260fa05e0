"""Control characters (issue 14, point 6): a NUL in an explanation gave 500 on PostgreSQL.

Text with a control character other than tab and line breaks is refused wherever it comes in
(API, forms, query strings, imports, the command line, the seed file) with the field or the
cell it is in, and nothing is stored; tabs and line breaks still go through.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import pytest
import typer
import yaml
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts.service import create_api_token, get_user_by_email
from app.activities.models import StatusUpdate
from app.audit.models import AuditEvent
from app.cli import cli
from app.db import make_engine
from app.imports import parsing
from app.jobs.models import Job
from app.main import create_app
from app.permissions import iter_routes
from app.programmes.models import Activity, ActivityOrganisation, Organisation
from app.review.models import ReviewNote
from app.revision import DataRevision
from app.text import FILLED_TEXT_PATTERN, TEXT_PATTERN
from tests.cli import run_cli
from tests.factories import create_programme, create_user, csrf_from, programme_data, sign_in
from tests.test_board import SLUG as SLUG_SEEDED
from tests.test_browser_editing import _page, server
from tests.test_imports import FORMATS, World, _job_id, _upload, web, world, write_file

__all__ = ["server", "web", "world"]  # fixtures of the browser and import tests, used here too

# One of each kind: C0 (NUL, the PostgreSQL 500), vertical tab and form feed (Word's line and
# page breaks), unit separator, DEL, a C1 control.
CONTROL_CHARACTERS = ["\x00", "\x0b", "\x0c", "\x1f", "\x7f", "\x85"]
SLUG = "test-programme"


@pytest.fixture
def programme(settings, session: Session) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A small programme and an editor of ORG-A with an API token."""
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=2)
    app = create_app(settings)
    editor = get_user_by_email(session, create_user(session, "editor", ("ORG-A",)))
    _, secret = create_api_token(session, editor, name="integratie")
    session.commit()
    api = TestClient(app)
    api.headers["Authorization"] = f"Bearer {secret}"
    listing = api.get(f"/api/v1/programmes/{SLUG}/activities").json()
    own = next(
        activity
        for activity in listing["activities"]
        if activity["organisations"][0]["code"] == "ORG-A"
    )
    yield {"app": app, "api": api, "activity": own}
    app.state.engine.dispose()


def _versions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(StatusUpdate)) or 0


# -- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize("field", ["explanation", "status"])
def test_api_refuses_a_control_character_naming_the_field(
    programme: dict[str, Any], session: Session, field: str, character: str
) -> None:
    """The status is one of the legend's codes (an enum in the schema), so it is refused as
    any other text that is not a code; the explanation says which character."""
    activity = programme["activity"]
    before = _versions(session)
    body = {
        "status": "delayed",
        "explanation": "Vertraagd.",
        "based_on_version": activity["version"],
    }
    body[field] = f"a{character}b"
    response = programme["api"].patch(f"/api/v1/activities/{activity['id']}/status", json=body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    if field == "explanation":
        assert problem["type"] == "control_character"
        assert f"U+{ord(character):04X}" in problem["msg"] and "positie 2" in problem["msg"]
    else:
        assert problem["type"] == "enum"
    assert _versions(session) == before


def test_api_takes_tabs_and_line_breaks(programme: dict[str, Any], session: Session) -> None:
    activity = programme["activity"]
    response = programme["api"].patch(
        f"/api/v1/activities/{activity['id']}/status",
        json={
            "status": "delayed",
            "explanation": "Eerste regel\r\n\tTweede regel\nDerde",
            "based_on_version": activity["version"],
        },
    )
    assert response.status_code == 200, response.text
    # Stored with its line breaks as LF, as the form stores them.
    assert response.json()["explanation"] == "Eerste regel\n\tTweede regel\nDerde"


@pytest.mark.parametrize(
    ("path", "params", "place"),
    [
        (f"/api/v1/programmes/{SLUG}/activities", {"q": "a\x00b"}, ["query", "q"]),
        (
            f"/api/v1/programmes/{SLUG}/activities",
            {"organisation": "\x00"},
            ["query", "organisation"],
        ),
        ("/api/v1/programmes/a%00b/activities", {}, ["path", "programme"]),
        ("/api/v1/programmes/a%00b/compare", {}, ["path", "programme"]),
    ],
)
def test_api_refuses_control_characters_in_the_url(
    programme: dict[str, Any], path: str, params: dict[str, str], place: list[str]
) -> None:
    response = programme["api"].get(path, params=params)
    assert response.status_code == 422, response.text
    assert [problem["loc"] for problem in response.json()["detail"]] == [place]


def test_the_openapi_schema_shows_the_rule(programme: dict[str, Any]) -> None:
    """Schema-based testers (schemathesis) generate only what the schema allows."""
    schema = programme["api"].get("/api/openapi.json").json()
    change = schema["components"]["schemas"]["StatusChangeIn"]["properties"]
    assert change["explanation"]["pattern"] == FILLED_TEXT_PATTERN
    assert schema["components"]["schemas"]["Status"]["enum"]
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in schema["paths"]["/api/v1/programmes/{programme}/activities"]["get"][
            "parameters"
        ]
    }
    assert parameters["programme"]["pattern"] == TEXT_PATTERN
    assert parameters["q"]["anyOf"][0]["pattern"] == TEXT_PATTERN
    assert parameters["q"]["anyOf"][0]["maxLength"] == 200


# -- every form ----------------------------------------------------------------------------


def _is_text(annotation: Any) -> bool:
    """A form field that takes text: str, or a list of str (Annotated or not)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is str:
        return True
    return any(_is_text(argument) for argument in get_args(annotation))


def _form_fields(app: FastAPI) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(route name, path, field, the form's other required fields) for every text field of
    every form route: what a browser can post."""
    found = []
    for route in iter_routes(app.routes):
        if not isinstance(route, APIRoute) or route.path.startswith("/api/"):
            continue
        fields = route.dependant.body_params
        text = [field for field in fields if _is_text(field.field_info.annotation)]
        for field in text:
            others = [
                (other.alias, "1")
                for other in fields
                if other is not field and other.field_info.is_required()
            ]
            found.append((route.name, route.path, field.alias, others))
    return found


PATH_PARAMETERS = {
    "slug": "samen-tegen-mensenhandel",
    "kind": "activity",
    "activity_id": "1",
    "item_id": "1",
    "user_id": "1",
    "organisation_id": "1",
    "period_id": "1",
    "status_update_id": "1",
    "job_id": "1",
    "figure_version_id": "1",
    "edition_id": "1",
    "figure_id": "1",
    "indicator_id": "1",
    "recommendation_id": "1",
    "entry_id": "1",
}


def test_the_form_fields_are_all_found(seeded_app: FastAPI) -> None:
    """The test below covers every kind of form: accounts, activities, admin, periods,
    reminders, review, exports and imports."""
    found = _form_fields(seeded_app)
    names = {name for name, *_ in found}
    assert len(found) >= 40
    assert {
        "sign_in",
        "set_password",
        "change_password",
        "create_token",
        "save_status",
        "admin_create_user",
        "admin_update_user",
        "admin_structure_add",
        "admin_structure_change",
        "admin_create_organisation",
        "admin_rename_organisation",
        "create_period",
        "period_move",
        "period_deadline",
        "plan_reminder",
        "todo_confirm",
        "review_decide",
        "review_reply",
        "review_approve_many",
        "create_export",
        "import_apply",
    } <= names


def _snapshot(session: Session) -> tuple[int, ...]:
    """What a change of any kind would move: both revisions (data and sessions, raised by
    triggers), and the audit log, versions, review notes and jobs."""
    session.expire_all()
    revisions = tuple(session.scalars(select(DataRevision.revision).order_by(DataRevision.id)))
    counts = tuple(
        session.scalar(select(func.count()).select_from(table)) or 0
        for table in (AuditEvent, StatusUpdate, ReviewNote, Job)
    )
    return revisions + counts


@pytest.fixture
def admin_client(seeded_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with Session(seeded_app.state.engine) as session:
        email = create_user(session, "admin")
    with TestClient(seeded_app) as client:
        sign_in(client, email)
        yield client


def test_every_form_field_refuses_a_control_character_naming_the_field(
    seeded_app: FastAPI, admin_client: TestClient
) -> None:
    token = csrf_from(admin_client.get("/account").text)
    wrong = []
    with Session(seeded_app.state.engine) as session:
        before = _snapshot(session)
        for name, path, field, others in _form_fields(seeded_app):
            for character in ("\x00", "\x0b"):
                response = admin_client.post(
                    path.format(**PATH_PARAMETERS),
                    data={**dict(others), field: f"a{character}b", "csrftoken": token},
                    follow_redirects=False,
                )
                message = _error_message(response.text)
                if (
                    response.status_code != 422
                    or not re.search(rf"\({field}(\.0)?: ", message)
                    or f"U+{ord(character):04X}" not in message
                ):
                    wrong.append((name, field, response.status_code, message[:200]))
        assert wrong == []
        assert _snapshot(session) == before


def _max_length(field_info: Any) -> int | None:
    lengths = [getattr(item, "max_length", None) for item in field_info.metadata]
    return next((length for length in lengths if length is not None), None)


def test_a_too_long_form_field_says_how_many_characters_it_may_have(
    seeded_app: FastAPI, admin_client: TestClient
) -> None:
    """str's own message ("String should have at most 200 characters"), not the generic one
    pydantic gives a limit applied after a validator ("Value should have at most 200 items
    after validation")."""
    token = csrf_from(admin_client.get("/account").text)
    limited = {
        (route.name, route.path, field.alias, length)
        for route in iter_routes(seeded_app.routes)
        if isinstance(route, APIRoute) and not route.path.startswith("/api/")
        for field in route.dependant.body_params
        if (length := _max_length(field.field_info)) is not None
    }
    assert len(limited) >= 10
    wrong = []
    for name, path, field, length in sorted(limited):
        response = admin_client.post(
            path.format(**PATH_PARAMETERS),
            data={field: "a" * (length + 1), "csrftoken": token},
            follow_redirects=False,
        )
        message = _error_message(response.text)
        if response.status_code != 422 or f"at most {length} characters" not in message:
            wrong.append((name, field, response.status_code, message[:200]))
    assert wrong == []


def test_a_too_long_api_parameter_says_how_many_characters_it_may_have(
    programme: dict[str, Any],
) -> None:
    for parameter in ("q", "organisation"):
        response = programme["api"].get(
            f"/api/v1/programmes/{SLUG}/activities", params={parameter: "a" * 201}
        )
        assert response.status_code == 422, response.text
        assert [problem["msg"] for problem in response.json()["detail"]] == [
            "String should have at most 200 characters"
        ]


def _error_message(html: str) -> str:
    alert = BeautifulSoup(html, "html.parser").find(id="error-message")
    return alert.get_text(" ", strip=True) if alert else ""


@pytest.fixture
def editor(settings, session: Session) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """An editor of ORG-A on a small programme, signed in, and their activity."""
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=2)
    app = create_app(settings)
    client = TestClient(app)
    sign_in(client, create_user(session, "editor", ("ORG-A",)))
    activity = session.scalars(
        select(ActivityOrganisation.activity_id)
        .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
        .where(Organisation.code == "ORG-A")
    ).first()
    yield {"client": client, "activity": activity}
    app.state.engine.dispose()


def _post_status(client: TestClient, activity: int, explanation: str, *, htmx: bool):  # type: ignore[no-untyped-def]
    page = client.get(f"/activities/{activity}/edit")
    form = BeautifulSoup(page.text, "html.parser").find("form", class_="status-form")
    values = {field["name"]: field.get("value", "") for field in form.find_all("input")}
    return client.post(
        f"/activities/{activity}/status",
        data={**values, "status": "delayed", "explanation": explanation},
        headers={"HX-Request": "true"} if htmx else {},
        follow_redirects=False,
    )


def _explanations(session: Session, activity: int) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(StatusUpdate.explanation)
            .where(StatusUpdate.activity_id == activity)
            .order_by(StatusUpdate.version)
        )
    )


@pytest.mark.parametrize("htmx", [True, False])
def test_the_status_form_refuses_a_control_character_and_keeps_what_was_typed(
    editor: dict[str, Any], session: Session, htmx: bool
) -> None:
    before = _explanations(session, editor["activity"])
    response = _post_status(editor["client"], editor["activity"], "Vertraagd\x00 door X", htmx=htmx)
    assert response.status_code == 422
    assert "explanation: " in _error_message(response.text)
    assert "U+0000" in _error_message(response.text)
    if htmx:
        # Shown above the page; the form, with the text typed, stays as it is.
        assert response.headers["HX-Retarget"] == "#htmx-error"
        assert response.headers["HX-Reswap"] == "innerHTML"
    assert _explanations(session, editor["activity"]) == before


def test_the_status_form_takes_tabs_and_line_breaks_and_stores_lf(
    editor: dict[str, Any], session: Session
) -> None:
    response = _post_status(
        editor["client"], editor["activity"], "Regel 1\r\n\tRegel 2\rRegel 3", htmx=False
    )
    assert response.status_code == 303, response.text[:300]
    assert _explanations(session, editor["activity"])[-1] == "Regel 1\n\tRegel 2\nRegel 3"


# -- addresses and query strings -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "place"),
    [
        ("/programmes/a%00b", "slug"),
        (f"/programmes/{SLUG}/activities?q=a%00b", "q"),
        (f"/programmes/{SLUG}/activities?organisation=%00", "organisation"),
        ("/admin/audit?actor=%00", "actor"),
        ("/sign-in?next=/%00", "next"),
    ],
)
def test_a_control_character_in_the_address_is_refused_naming_the_parameter(
    editor: dict[str, Any], session: Session, url: str, place: str
) -> None:
    """The board reads its filters from the query string itself: they are checked for every
    route at once, before anything reaches the database (a 500 on PostgreSQL before)."""
    with Session(editor["client"].app.state.engine) as own:  # type: ignore[attr-defined]
        email = create_user(own, "admin")
    client = TestClient(editor["client"].app)
    sign_in(client, email)
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 422, response.text[:300]
    assert f"{place}: " in _error_message(response.text)


# -- imports -------------------------------------------------------------------------------

# What each format can carry: XML (XLSX, ODS) holds no C0 control but tab and line breaks;
# a CSV with a NUL in its first 4 KB is refused as not being text at all.
IMPORT_CHARACTERS = {"csv": "\x1b", "xlsx": "\x7f", "ods": "\x85"}


def _with_nul_late(world: World) -> tuple[bytes, int]:
    """A CSV export with a NUL in the explanation of its last police row (past the first
    4 KB, where the format check looks for one), and that row's number."""
    activity = max(world.police, key=world.row_of)
    records = [dict(record) for record in world.records]
    records[world.row_of(activity) - 2]["explanation"] = "Vertraagd\x00 door X."
    content = write_file("csv", records)
    assert content.index(b"\x00") > 4096
    return content, world.row_of(activity)


@pytest.mark.parametrize("file_format", FORMATS)
def test_an_import_cell_with_a_control_character_refuses_the_file_naming_the_cell(
    world: World, file_format: str
) -> None:
    records = [dict(record) for record in world.records]
    activity = world.police[0]
    records[world.row_of(activity) - 2]["explanation"] = (
        f"Vertraagd{IMPORT_CHARACTERS[file_format]} door X."
    )
    content = write_file(file_format, records)
    with pytest.raises(parsing.ImportFileError) as refused:
        parsing.read_sheet(content, f"bijwerken.{file_format}")
    column = "explanation" if file_format == "csv" else "Toelichting"
    assert refused.value.message.startswith(f"Rij {world.row_of(activity)}, kolom {column} (")
    assert f"U+{ord(IMPORT_CHARACTERS[file_format]):04X}" in refused.value.message


def test_an_import_upload_with_a_control_character_fails_and_changes_nothing(web) -> None:  # type: ignore[no-untyped-def]
    app, world = web
    content, row = _with_nul_late(world)
    client = TestClient(app)
    sign_in(client, world.editor_email)
    before = world.counts()
    job_id = _job_id(_upload(client, world.period_id, "bijwerken.csv", content))
    page = client.get(f"/jobs/{job_id}")
    assert 'data-state="failed"' in page.text
    assert f"Rij {row}, kolom explanation (" in page.text
    assert "U+0000" in page.text
    statuses, audit = world.counts()
    assert (statuses, audit) == before


def test_an_upload_whose_file_name_has_a_control_character_is_refused(web) -> None:  # type: ignore[no-untyped-def]
    app, world = web
    client = TestClient(app)
    sign_in(client, world.editor_email)
    response = _upload(
        client, world.period_id, "bijwerken\x1b.csv", write_file("csv", world.records)
    )
    assert response.status_code == 422
    assert "U+001B" in response.text
    with Session(app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


# -- the command line and the seed file ----------------------------------------------------


def test_the_command_line_refuses_a_control_character_naming_the_option(
    database_url: str,
) -> None:
    created = run_cli(
        "user",
        "create",
        "--email",
        "ed@example.nl",
        "--name",
        "Ed\x00",
        "--password",
        "a long enough password",
        env={"DATABASE_URL": database_url},
    )
    assert created.exit_code == 2
    assert "'--name'" in created.stderr and "U+0000" in created.stderr
    token = run_cli(
        "token", "create", "ed@example.nl", "--name=ci\x0b", env={"DATABASE_URL": database_url}
    )
    assert token.exit_code == 2 and "'--name'" in token.stderr and "U+000B" in token.stderr
    listing = run_cli("user", "list", env={"DATABASE_URL": database_url})
    assert listing.exit_code == 0 and "ed@example.nl" not in listing.stdout

    tab = run_cli(
        "user",
        "create",
        "--email",
        "ed@example.nl",
        "--name",
        "Ed\tde Vries",
        "--password",
        "a long enough password",
        env={"DATABASE_URL": database_url},
    )
    assert tab.exit_code == 0, tab.stderr


def _cli_text_parameters() -> list[tuple[list[str], str]]:
    """(the arguments up to and with a text parameter holding a unit separator, how the
    error names it) for every text parameter of every command, from their signatures."""
    found = []

    def walk(app: typer.Typer, path: list[str]) -> None:
        for group in app.registered_groups:
            assert group.name is not None and group.typer_instance is not None
            walk(group.typer_instance, [*path, group.name])
        for command in app.registered_commands:
            assert command.callback is not None
            name = command.name or command.callback.__name__.replace("_", "-")
            positional: list[str] = []
            hints = get_type_hints(command.callback, include_extras=True)
            for parameter in inspect.signature(command.callback).parameters.values():
                hint = hints[parameter.name]
                annotation, *metadata = get_args(hint) if get_origin(hint) is Annotated else (hint,)
                text = annotation in (str, Path) or str in get_args(annotation)
                text = text or list[str] in get_args(annotation)
                info = metadata[0] if metadata else typer.Argument()
                if isinstance(info, typer.models.OptionInfo):
                    decls = [info.default] if str(info.default).startswith("-") else []
                    option = (decls or [f"--{parameter.name.replace('_', '-')}"])[0]
                    if text:
                        found.append(([*path, name, option, "a\x1fb"], repr(option)))
                else:
                    if text:
                        found.append(([*path, name, *positional, "a\x1fb"], repr(parameter.name)))
                    positional.append("1")

    walk(cli, [])
    return found


def test_every_text_parameter_of_the_command_line_refuses_a_control_character(
    database_url: str,
) -> None:
    parameters = _cli_text_parameters()
    assert len(parameters) >= 30
    wrong = []
    for arguments, name in parameters:
        result = run_cli(*arguments, env={"DATABASE_URL": database_url})
        if result.exit_code != 2 or name not in result.stderr or "U+001F" not in result.stderr:
            wrong.append((arguments, result.exit_code, result.stderr[-200:]))
    assert wrong == []


def test_a_command_line_import_with_a_control_character_changes_nothing(
    world: World, seeded_database_url: str, tmp_path: Path
) -> None:
    content, row = _with_nul_late(world)
    file = tmp_path / "bijwerken.csv"
    file.write_bytes(content)
    before = world.counts()
    result = run_cli(
        "import",
        str(file),
        "--period",
        "Voortgangsrapportage 2022",
        "--as",
        world.editor_email,
        "--apply",
        env={"DATABASE_URL": seeded_database_url},
    )
    assert result.exit_code == 1
    assert f"Rij {row}, kolom explanation (" in result.stderr
    assert world.counts() == before


def test_the_seed_file_refuses_a_control_character_with_its_place(
    database_url: str, tmp_path: Path
) -> None:
    data = programme_data(action_lines=1, results_per_line=1, activities_per_result=1)
    data["action_lines"][0]["themes"][0]["results"][0]["activities"][0]["title"] = "Training\x00"
    seed = tmp_path / "seed.yaml"
    # YAML writes the NUL as the escape "\0": the file itself is plain text.
    seed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert "\\0" in seed.read_text(encoding="utf-8")
    run_cli("db", "upgrade", env={"DATABASE_URL": database_url})
    result = run_cli("seed", str(seed), env={"DATABASE_URL": database_url})
    assert result.exit_code == 1
    assert "activity '1' → title: " in result.stderr and "U+0000" in result.stderr
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
    engine.dispose()


@pytest.mark.browser
def test_in_the_browser_the_refused_form_keeps_what_was_typed(browser, server) -> None:  # type: ignore[no-untyped-def]
    """Word writes a line break within a paragraph as a vertical tab (U+000B): pasted into
    the explanation it is refused with the field named above the page, and the form stays
    open with the text, to be corrected."""
    context, page, errors = _page(browser, server, server.editor)
    activity = server.ind_activity
    page.goto(f"{server.url}/programmes/{SLUG_SEEDED}/results/{server.ind_result}")
    page.wait_for_function("() => window.htmx !== undefined")
    page.locator(f"#activity-{activity} .edit-link").click()
    form = page.locator(f"#activity-{activity} form")
    form.wait_for()
    page.select_option(f"#status-{activity}", "not_started")
    page.fill(f"#explanation-{activity}", "Eerste regel\x0btweede regel")
    form.get_by_role("button", name="Opslaan").click()
    alert = page.locator("#htmx-error #error-message")
    alert.wait_for()
    assert "explanation: " in alert.inner_text() and "U+000B" in alert.inner_text()
    assert page.input_value(f"#explanation-{activity}") == "Eerste regel\x0btweede regel"
    with Session(server.app.state.engine) as session:
        assert "tweede regel" not in " ".join(_explanations(session, activity))
    assert errors == []
    context.close()
