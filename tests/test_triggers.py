"""Database triggers: docs/triggers.md lists exactly the triggers a migrated database has (and
the migration that creates each); every table the read-model reads raises the data revision;
sessions raise only the session revision, so signing in leaves cached pages alone while
signing out, deactivating and a role change still take effect at once in every process."""

from __future__ import annotations

import ast
import importlib
import inspect as python_inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Table, and_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm.util import AliasedClass
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session

from app.accounts.models import Role, User
from app.accounts.service import deactivate, set_password, set_role, start_session
from app.activities import service as activities
from app.activities.models import Status
from app.cache import DATA_REVISION_ID, SESSION_REVISION_ID
from app.cli import alembic_config, run_alembic
from app.config import PROJECT_ROOT, Settings
from app.csrf_masking import unmask_token
from app.db import make_engine
from app.dbtypes import metadata
from app.main import create_app
from app.permissions import SESSION_COOKIE
from app.review import service as review
from tests.conftest import DatabaseFactory
from tests.factories import (
    PASSWORD,
    coordinator,
    create_programme,
    create_user,
    csrf_from,
    open_round,
    sign_in,
)
from tests.test_query_count import counting

DOC = PROJECT_ROOT / "docs" / "triggers.md"
# The read-model: every module of this package (or this module) counts.
READ_MODEL = "app.readmodel"


# -- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Documented:
    table: str
    name: str
    database: str  # "sqlite" or "postgresql"
    migration: str


def documented_triggers(doc: Path = DOC) -> list[Documented]:
    """The rows of every table in the document with the columns table, SQLite, PostgreSQL
    and migration; names are in backticks, "none" where a database has no trigger."""
    found: list[Documented] = []
    header: list[str] | None = None
    for line in doc.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if set(line) <= {"|", "-", " "} or not {"table", "sqlite", "postgresql"} <= set(header):
            continue
        row = dict(zip(header, cells, strict=True))
        (table,) = re.findall(r"`(\w+)`", row["table"])
        (migration,) = re.findall(r"`([0-9a-f]{12})`", row["migration"])
        for database in ("sqlite", "postgresql"):
            for name in re.findall(r"`(\w+)`", row[database]):
                found.append(Documented(table, name, database, migration))
    return found


def database_triggers(connection: Connection) -> set[tuple[str, str]]:
    """(table, trigger) of every trigger the database has (PostgreSQL: not its internal ones,
    such as those behind foreign keys)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"
        )
    return {(table, name) for table, name in connection.execute(text(query))}


def _triggers_at(url: str) -> set[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return database_triggers(connection)
    finally:
        engine.dispose()


def test_the_catalogue_parses_every_rule_for_both_databases() -> None:
    documented = documented_triggers()
    assert {entry.database for entry in documented} == {"sqlite", "postgresql"}
    assert len({entry.name for entry in documented if entry.database == "sqlite"}) > 50
    # A name is listed once per database and table.
    keys = [(entry.database, entry.table, entry.name) for entry in documented]
    assert len(keys) == len(set(keys))


def test_docs_list_exactly_the_triggers_of_a_migrated_database(database_url: str) -> None:
    engine = make_engine(database_url)
    database = engine.dialect.name
    engine.dispose()
    documented = {(e.table, e.name) for e in documented_triggers() if e.database == database}
    present = _triggers_at(database_url)
    assert present - documented == set(), "triggers missing from docs/triggers.md"
    assert documented - present == set(), "docs/triggers.md lists triggers the database lacks"


def test_docs_name_the_migration_that_creates_each_trigger(databases: DatabaseFactory) -> None:
    """Upgrade one migration at a time: a trigger is created by the migration from which on it
    exists up to the head."""
    url = databases.new("empty")
    engine = make_engine(url)
    database = engine.dialect.name
    engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    history = [revision.revision for revision in script.walk_revisions("base", "heads")][::-1]
    created_by: dict[tuple[str, str], str] = {}
    for revision in history:
        run_alembic("upgrade", revision, database_url=url)
        present = _triggers_at(url)
        created_by = {key: created_by.get(key, revision) for key in present}
    documented = {
        (e.table, e.name): e.migration for e in documented_triggers() if e.database == database
    }
    assert documented == created_by


# -- what the read-model reads raises the data revision --------------------------------------


def _read_model_modules() -> list[ModuleType]:
    module = importlib.import_module(READ_MODEL)
    modules = [module]
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{READ_MODEL}."):
            modules.append(importlib.import_module(info.name))
    return modules


def _table_of(value: object) -> Table | None:
    if isinstance(value, Table):
        return value
    if isinstance(value, AliasedClass):
        return _table_of(value._aliased_insp.mapper.local_table)  # noqa: SLF001
    table = getattr(value, "__table__", None) if isinstance(value, type) else None
    return table if isinstance(table, Table) else None


def read_model_tables() -> set[str]:
    """The tables the read-model reads, from its own code: every model or table among its
    modules' names (what it imports and the aliases it makes), and every application table
    named in the SQL it writes as text()."""
    names = set(metadata.tables)
    tables: set[str] = set()
    for module in _read_model_modules():
        for value in vars(module).values():
            table = _table_of(value)
            if table is not None and table.name in names:
                tables.add(table.name)
        for node in ast.walk(ast.parse(python_inspect.getsource(module))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "text"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                sql = node.args[0].value
                tables |= {name for name in names if re.search(rf"\b{name}\b", sql)}
    return tables


def test_the_read_model_tables_are_derived_from_its_code() -> None:
    tables = read_model_tables()
    # What any reader of the read-model knows it reads: the derivation finds at least these.
    assert {"activity", "status_update", "status_current", "status_approved"} <= tables
    assert "user_session" not in tables
    # A text() statement's tables are found too.
    assert isinstance(text("SELECT 1 FROM activity"), TextClause)


def _revision(session: Session, row: int = DATA_REVISION_ID) -> int:
    return int(
        session.execute(
            text("SELECT revision FROM data_revision WHERE id = :id"), {"id": row}
        ).scalar_one()
    )


def _insert_status_update(session: Session, context: dict[str, int]) -> None:
    current = activities.latest_update(
        session, activity_id=context["activity_id"], period_id=context["period_id"]
    )
    update = activities.record_status(
        session,
        activity_id=context["activity_id"],
        period_id=context["period_id"],
        status=Status.delayed,
        explanation=f"Vertraagd ({context.setdefault('saves', 0) + 1}).",
        author=coordinator(session),
        based_on_version=current.version if current else None,
    )
    context["saves"] += 1
    context["status_update_id"] = int(update.id)  # type: ignore[arg-type]


def _insert_review_note(session: Session, context: dict[str, int]) -> None:
    review.approve(
        session, status_update_id=context["status_update_id"], reviewer=coordinator(session)
    )


# Tables that refuse an update (append-only): a row is added the way the app adds one.
APPEND_ONLY_INSERTS: dict[str, Callable[[Session, dict[str, int]], None]] = {
    "status_update": _insert_status_update,
    "review_note": _insert_review_note,  # after status_update: it reviews that one
}


def test_changing_any_table_the_read_model_reads_raises_the_data_revision(
    seeded_session: Session,
) -> None:
    session = seeded_session
    period_id = open_round(session)
    activity_id = session.execute(text("SELECT min(id) FROM activity")).scalar_one()
    context = {"period_id": period_id, "activity_id": activity_id}
    _insert_status_update(session, context)
    _insert_review_note(session, context)  # now every read table has a row
    session.commit()
    refused: list[str] = []
    for name in sorted(read_model_tables()):
        table = metadata.tables[name]
        key = list(table.primary_key.columns)
        row = session.execute(select(*key).limit(1)).first()
        assert row is not None, f"the test data has no {name} row"
        before = _revision(session)
        try:
            with session.begin_nested():
                changed = session.execute(
                    update(table)
                    .where(and_(*(column == value for column, value in zip(key, row, strict=True))))
                    .values({key[0].name: key[0]})
                )
        except DatabaseError as error:
            assert "append-only" in str(error), (name, error)
            refused.append(name)
            continue
        assert changed.rowcount == 1, name
        assert _revision(session) > before, f"changing {name} does not raise the data revision"
    assert refused, "no append-only table among the read tables: is the update tried at all?"
    assert set(refused) <= set(APPEND_ONLY_INSERTS), "add an insert for these tables"
    for name, insert in APPEND_ONLY_INSERTS.items():
        if name not in refused:
            continue
        before = _revision(session)
        insert(session, context)
        session.flush()
        assert _revision(session) > before, f"a new {name} row does not raise the data revision"
    session.rollback()


# -- sessions: the session revision, not the data revision -----------------------------------


def _revisions(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return _revision(session), _revision(session, SESSION_REVISION_ID)


def _reads_activities(statements: list[str]) -> bool:
    return any(re.search(r"\bactivity\b", statement) for statement in statements)


# A page prints its browser's CSRF token masked afresh for each response (app/csrf_masking.py).
_TOKEN = re.compile(r'(name="csrftoken" value="|"x-csrftoken": ")([^"]+)"')


def _unmasked(html: str) -> str:
    """The page with its CSRF tokens unmasked: the same for the same browser."""
    return _TOKEN.sub(lambda match: f'{match.group(1)}{unmask_token(match.group(2))}"', html)


def _sign_out(client: TestClient) -> None:
    token = csrf_from(client.get("/account").text)
    response = client.post("/sign-out", data={"csrftoken": token}, follow_redirects=False)
    assert response.status_code == 303


def test_a_cached_page_survives_someone_signing_in_and_out(
    settings: Settings, session: Session
) -> None:
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=2)
    reader, visitor = create_user(session, "viewer"), create_user(session, "viewer")
    app = create_app(settings)
    board = "/programmes/test-programme"
    try:
        with TestClient(app) as first, TestClient(app) as second:
            sign_in(first, reader)
            page = first.get(board)
            assert page.status_code == 200
            data, sessions = _revisions(app.state.engine)
            sign_in(second, visitor)
            _sign_out(second)
            after = _revisions(app.state.engine)
            assert after[0] == data and after[1] > sessions
            with counting(app.state.engine) as statements:
                again = first.get(board)
            assert _unmasked(again.text) == _unmasked(page.text)
            assert not _reads_activities(statements), "the page was built again"
            # The same check sees a page that is built again: after a change to the programme.
            session.execute(text("UPDATE activity SET title = title || '.'"))
            session.commit()
            with counting(app.state.engine) as statements:
                assert first.get(board).status_code == 200
            assert _reads_activities(statements)
    finally:
        app.state.engine.dispose()


def test_a_failed_sign_in_raises_neither_revision(settings: Settings, session: Session) -> None:
    email = create_user(session, "viewer")
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            before = _revisions(app.state.engine)
            form = client.get("/sign-in")
            response = client.post(
                "/sign-in",
                data={
                    "email": email,
                    "password": "not the password",
                    "csrftoken": csrf_from(form.text),
                },
            )
            assert response.status_code == 400
            assert _revisions(app.state.engine) == before
    finally:
        app.state.engine.dispose()


def test_a_sign_in_that_hashes_the_password_again_keeps_cached_pages(
    settings: Settings, session: Session
) -> None:
    """A stored hash made with older parameters is hashed again at sign-in: an update of the
    account, yet nothing a page shows."""
    create_programme(session, action_lines=1, results_per_line=1, activities_per_result=2)
    reader, visitor = create_user(session, "viewer"), create_user(session, "viewer")
    account = _user(session, visitor)
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    session.commit()
    old_hash = account.password_hash
    app = create_app(settings)
    board = "/programmes/test-programme"
    try:
        with TestClient(app) as first, TestClient(app) as second:
            sign_in(first, reader)
            page = first.get(board)
            data, sessions = _revisions(app.state.engine)
            sign_in(second, visitor)
            session.expire_all()
            assert _user(session, visitor).password_hash != old_hash, "not hashed again"
            assert _revisions(app.state.engine)[0] == data
            with counting(app.state.engine) as statements:
                assert _unmasked(first.get(board).text) == _unmasked(page.text)
            assert not _reads_activities(statements), "the page was built again"
    finally:
        app.state.engine.dispose()


def test_a_new_password_ends_sessions_without_emptying_the_page_cache(
    session: Session,
) -> None:
    email = create_user(session, "viewer")
    start_session(session, _user(session, email), lifetime=timedelta(hours=1))
    session.commit()
    before = _revision(session), _revision(session, SESSION_REVISION_ID)
    set_password(session, _user(session, email), "another long enough password")
    session.commit()
    after = _revision(session), _revision(session, SESSION_REVISION_ID)
    assert after[0] == before[0], "a new password raised the data revision"
    assert after[1] > before[1], "a new password must end the account's sessions"


def test_every_account_column_but_the_password_hash_raises_the_data_revision(
    session: Session,
) -> None:
    """What an account shows (its name, role, whether it is active, ...) decides cached pages
    and session users; its password hash decides neither."""
    email = create_user(session, "viewer")
    account = metadata.tables["app_user"]
    user_id = _user(session, email).id
    columns = [column for column in account.columns]
    assert {"name", "role", "active", "password_hash"} <= {column.name for column in columns}
    for column in columns:
        before = _revision(session)
        with session.begin_nested():
            changed = session.execute(
                update(account).where(account.c.id == user_id).values({column.name: column})
            )
        assert changed.rowcount == 1, column.name
        raised = _revision(session) > before
        assert raised == (column.name != "password_hash"), column.name
    session.rollback()


@pytest.fixture
def two_processes(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two app processes on one database, each with its own cache."""
    one, two = create_app(settings), create_app(settings)
    with TestClient(one) as first, TestClient(two) as second:
        yield first, second
    one.state.engine.dispose()
    two.state.engine.dispose()


def _same_browser(first: TestClient, second: TestClient, email: str) -> None:
    """Signed in through the first process; the second has the cookie and has cached who it
    belongs to."""
    sign_in(first, email)
    second.cookies.set(SESSION_COOKIE, first.cookies.get(SESSION_COOKIE) or "")
    assert second.get("/account").status_code == 200
    assert second.get("/account").status_code == 200


def _user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def test_after_signing_out_the_old_cookie_is_refused_at_once_in_every_process(
    two_processes: tuple[TestClient, TestClient], session: Session
) -> None:
    first, second = two_processes
    _same_browser(first, second, create_user(session, "viewer"))
    _sign_out(first)
    assert second.get("/account", follow_redirects=False).status_code == 303


def test_a_deactivated_accounts_session_is_refused_at_once_in_every_process(
    two_processes: tuple[TestClient, TestClient], session: Session
) -> None:
    first, second = two_processes
    email = create_user(session, "viewer")
    _same_browser(first, second, email)
    deactivate(session, _user(session, email))
    session.commit()
    assert second.get("/account", follow_redirects=False).status_code == 303


def test_a_role_change_applies_at_once_in_every_process(
    two_processes: tuple[TestClient, TestClient], session: Session
) -> None:
    first, second = two_processes
    email = create_user(session, "admin")
    _same_browser(first, second, email)
    assert second.get("/admin/users").status_code == 200
    set_role(session, _user(session, email), role=Role.viewer)
    session.commit()
    assert second.get("/admin/users").status_code == 403
    set_role(session, _user(session, email), role=Role.admin)
    session.commit()
    assert second.get("/admin/users").status_code == 200
