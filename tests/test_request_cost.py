"""What every request costs besides its page (issue 15): the trips to the thread pool of a
cached page and of a 304, the language read from a cookie header as the rest of the app reads
it, and a page of a list counted without reading every id. (Counts, never timings: those are
in bench/.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import opentelemetry.trace
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import readmodel
from app.config import Settings
from app.main import create_app
from tests.conftest import USE_POSTGRES
from tests.factories import create_programme, create_user, sign_in

LIST = "/programmes/test-programme/activities"
ROW = re.compile(r'<tr[^>]*\bid="activity-\d+"')


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions sent to the thread pool (anyio's, which Starlette and FastAPI use too),
    each still run there."""
    sent: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        inner = getattr(function, "func", function)  # a functools.partial's function
        sent.append(getattr(inner, "__qualname__", repr(inner)))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return sent


@pytest.fixture
def viewer(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with Session(app.state.engine) as session:
        create_programme(session, action_lines=2, results_per_line=2, activities_per_result=2)
        email = create_user(session, "viewer")
    with TestClient(app) as client:
        sign_in(client, email)
        yield client
    app.state.engine.dispose()


def test_a_cached_page_takes_three_trips_to_the_thread_pool(
    viewer: TestClient, trips: list[str]
) -> None:
    # The route rule, the route, and the commit with the close; the header's programmes
    # come from the revision cache in the event loop (it was five: those two had a trip each).
    first = viewer.get(LIST)
    assert first.status_code == 200
    trips.clear()
    again = viewer.get(LIST)
    assert again.status_code == 200
    assert len(ROW.findall(again.text)) == len(ROW.findall(first.text)) == 8
    assert len(trips) <= 3, trips


def test_a_304_takes_no_trip_to_the_thread_pool_on_sqlite_and_one_on_postgresql(
    viewer: TestClient, trips: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer.get(LIST)  # the CSRF cookie, which the tag depends on
    tag = viewer.get(LIST).headers["ETag"]
    trips.clear()
    # Nor does it look for an OpenTelemetry provider (OPENTELEMETRY is off): FastAPI did on
    # every request, a tenth of a 304's work.
    looks: list[str] = []
    get_tracer_provider = opentelemetry.trace.get_tracer_provider

    def looked() -> Any:
        looks.append("tracer provider")
        return get_tracer_provider()

    monkeypatch.setattr(opentelemetry.trace, "get_tracer_provider", looked)
    answer = viewer.get(LIST, headers={"If-None-Match": tag})
    assert looks == []
    assert answer.status_code == 304
    assert answer.headers["ETag"] == tag
    assert answer.headers["Cache-Control"] == "private, no-cache"
    assert answer.headers["Vary"].endswith("Accept-Encoding")
    assert answer.headers["X-Frame-Options"] == "DENY"  # the security headers, as on a 200
    # On a SQLite file the revisions and the session are read in the event loop (a
    # microsecond's read); a server database is read in one trip, the user's lookup with it.
    assert trips == (["RevisionReader.find_user"] if USE_POSTGRES else [])


def test_the_language_cookie_beside_a_cookie_with_a_space(anonymous_client: TestClient) -> None:
    # Browsers send a cookie value with a space as it was set (another app on the host may
    # set one); http.cookies.SimpleCookie gave up on the whole header, so the language cookie
    # after it was not seen and the page came in Dutch while Request.cookies read it fine.
    page = anonymous_client.get("/sign-in", headers={"Cookie": "other=a b; lang=en"})
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "en"
    assert '<html lang="en"' in page.text
    dutch = anonymous_client.get("/sign-in", headers={"Cookie": "other=a b"})
    assert dutch.headers["Content-Language"] == "nl"


def test_every_page_of_a_list_with_its_total(session: Session) -> None:
    create_programme(session, action_lines=2, results_per_line=3, activities_per_result=2)
    programme = readmodel.get_programme(session, "test-programme")
    whole = readmodel.list_activities(session, programme.id, None)
    assert whole.total == len(whole.rows) == 12
    pages = [
        readmodel.list_activities(session, programme.id, None, page=number, page_size=5)
        for number in (1, 2, 3, 4)
    ]
    assert [len(page.rows) for page in pages] == [5, 5, 2, 0]
    assert {page.total for page in pages} == {12}  # a page past the end still knows the total
    # Far past the end: an offset over 2**31 (PostgreSQL refused it as an INTEGER parameter).
    far = readmodel.list_activities(session, programme.id, None, page=13_164_043, page_size=1000)
    assert (far.rows, far.total) == ([], 12)
    assert [row.id for page in pages for row in page.rows] == [row.id for row in whole.rows]
    one_page = readmodel.list_activities(session, programme.id, None, page=1, page_size=12)
    assert one_page.total == 12
    assert [row.id for row in one_page.rows] == [row.id for row in whole.rows]
    line = readmodel.ActivityFilters(action_line=2)
    filtered = readmodel.list_activities(session, programme.id, None, line, page=2, page_size=4)
    assert filtered.total == 6
    assert {row.action_line_number for row in whole.rows[6:]} == {2}
    assert [row.id for row in filtered.rows] == [row.id for row in whole.rows[6:]][4:6]
