"""How long a request holds SQLite's one write lock (and PostgreSQL's row locks): not while
it checks a password, and never for a reading request's note of an API token's use."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import anyio
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts.service import create_api_token, get_user_by_email
from app.config import Settings
from app.db import RequestTurns
from app.main import create_app
from tests.conftest import USE_POSTGRES
from tests.factories import create_user, csrf_from, sign_in


def _sqlite_path(database_url: str) -> str:
    return database_url.split("///", 1)[-1]


def write_lock_free(database_url: str) -> bool:
    """Could another client take SQLite's write lock at once, right now?"""
    other = sqlite3.connect(_sqlite_path(database_url), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.skipif(USE_POSTGRES, reason="SQLite's write lock")
def test_a_sign_in_checks_the_password_without_the_write_lock(
    seeded_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slow password hash runs while the request holds no transaction: another writer
    could take the write lock meanwhile (before, every other writer waited for it)."""
    app = create_app(seeded_settings)
    with Session(app.state.engine) as session:
        email = create_user(session, "coordinator")
    hasher = accounts.password_hasher
    lock_free_during_verify: list[bool] = []

    class Watched:
        """The app's hasher, noting whether the write lock is free while it verifies."""

        def verify(self, password_hash: str, password: str) -> Any:
            lock_free_during_verify.append(write_lock_free(seeded_settings.database_url))
            return hasher.verify(password_hash, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(hasher, name)

    monkeypatch.setattr(accounts, "password_hasher", Watched())
    try:
        with TestClient(app) as client:
            form = client.get("/sign-in")
            failed = client.post(
                "/sign-in",
                data={
                    "email": email,
                    "password": "not the password",
                    "next": "/",
                    "csrftoken": csrf_from(form.text),
                },
            )
            assert failed.status_code == 400, failed.status_code
            response = sign_in(client, email)
            assert response.status_code == 303
            assert client.get("/account").status_code == 200
    finally:
        app.state.engine.dispose()
    assert lock_free_during_verify and all(lock_free_during_verify), lock_free_during_verify


@contextmanager
def _token_row_locked(database_url: str) -> Iterator[None]:
    """Another client writes: on SQLite it holds the write lock, on PostgreSQL the API
    tokens' rows."""
    if USE_POSTGRES:
        url = make_url(database_url)
        with psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, dbname=url.database
        ) as holder:
            holder.execute("SELECT id FROM api_token FOR UPDATE")
            yield
            holder.rollback()
        return
    holder = sqlite3.connect(_sqlite_path(database_url), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def test_reading_with_an_api_token_does_not_wait_for_a_writer(
    seeded_settings: Settings,
) -> None:
    """A GET whose token's last use is due to be noted, while another client writes, answers
    at once: the note is skipped (best effort), not waited for (before: up to
    DATABASE_TIMEOUT, here 3 seconds)."""
    settings = seeded_settings.model_copy(update={"database_timeout": 3})
    app = create_app(settings)
    with Session(app.state.engine) as session:
        email = create_user(session, "coordinator")
        _, secret = create_api_token(session, get_user_by_email(session, email), name="read")
        session.commit()
    try:
        with TestClient(app) as client, _token_row_locked(settings.database_url):
            started = time.monotonic()
            response = client.get(
                "/api/v1/programmes", headers={"Authorization": f"Bearer {secret}"}
            )
            waited = time.monotonic() - started
        assert response.status_code == 200, response.text[:300]
        assert waited < 1.5, waited
    finally:
        app.state.engine.dispose()


def test_request_turns_serve_more_than_one_event_loop() -> None:
    """The turns of one app, used from two event loops one after the other (two test
    clients, say): each loop has its own semaphore, and a waiter in each is let in."""
    turns = RequestTurns(size=1, timeout=1)

    async def take_turn() -> None:
        async with turns.turn():
            await anyio.sleep(0)

    async def hold_turn_while_another_waits() -> None:
        async with anyio.create_task_group() as tasks, turns.turn():
            tasks.start_soon(take_turn)
            await anyio.sleep(0.01)

    # In threads of their own: the session's browser (Playwright's sync API) keeps an event
    # loop running in the main thread, where anyio.run would refuse to start another.
    with ThreadPoolExecutor(max_workers=1) as executor:
        for _ in range(2):
            executor.submit(anyio.run, hold_turn_while_another_waits).result(timeout=10)
