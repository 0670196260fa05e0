"""Dates as people read them: in the user's language ("1 november 2031", "1 November 2031"),
moments with their time on a Dutch clock, never an ISO date in the visible text; the ISO value
stays in each <time datetime> for machines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.service import create_api_token, get_user_by_email
from app.activities import service as activities
from app.activities.models import Status
from app.config import Settings
from app.main import create_app
from app.periods import service as periods
from app.review import service as review
from tests.factories import coordinator, create_programme, sign_in, update_round

SLUG = "test-programme"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTHS = {
    # The round's reference date and its deadline (two weeks later).
    "nl": ("1 november 2031", "15 november 2031"),
    "en": ("1 November 2031", "15 November 2031"),
}
MOMENT = {
    "nl": re.compile(
        r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
        r"|november|december) \d{4} \d{2}:\d{2}"
    ),
    "en": re.compile(
        r"\d{1,2} (January|February|March|April|May|June|July|August|September|October"
        r"|November|December) \d{4} \d{2}:\d{2}"
    ),
}


@dataclass(frozen=True)
class Round:
    client: TestClient  # a coordinator's
    editor: TestClient
    period_id: int
    activity: int  # one with a proposal that was sent back


@pytest.fixture
def round_with_history(settings: Settings, session: Session) -> Iterator[Round]:
    """A round on 1 November 2031 (deadline the 15th) with a proposal and one sent back, a
    reason-giving step, an API token: every kind of date the pages show."""
    create_programme(session, organisations=("ORG-A", "ORG-B"))
    rnd = update_round(
        session, SLUG, organisation="ORG-A", name="Ronde 2031", reference_date="2031-11-01"
    )
    first, second = rnd.activities[:2]
    for activity_id in (first, second):
        activities.record_status(
            session,
            activity_id=activity_id,
            period_id=rnd.period_id,
            status=Status.delayed,
            explanation="Vertraagd door de verbouwing.",
            author=rnd.editor,
            based_on_version=1,
        )
    latest = activities.latest_update(session, activity_id=second, period_id=rnd.period_id)
    assert latest is not None
    review.send_back(
        session, status_update_id=latest.id, reviewer=rnd.coordinator, comment="Wanneer klaar?"
    )
    create_api_token(session, get_user_by_email(session, rnd.coordinator_email), name="koppeling")
    session.commit()
    app = create_app(settings)
    coordinator, editor = TestClient(app), TestClient(app)
    sign_in(coordinator, rnd.coordinator_email)
    sign_in(editor, rnd.editor_email)
    yield Round(coordinator, editor, rnd.period_id, second)
    app.state.engine.dispose()


def _visible(client: TestClient, path: str, language: str) -> tuple[str, BeautifulSoup]:
    response = client.get(path, params={"lang": language})
    assert response.status_code == 200, (path, response.status_code)
    page = BeautifulSoup(response.text, "html.parser")
    main = page.select_one("main")
    assert main is not None
    for hidden in main.select("script, style, template"):
        hidden.decompose()
    return " ".join(main.get_text(" ").split()), page


@pytest.mark.parametrize("language", ["nl", "en"])
def test_pages_show_dates_in_the_users_language_and_no_iso_date(
    round_with_history: Round, session: Session, language: str
) -> None:
    rnd = round_with_history
    period = f"/periods/{rnd.period_id}"
    reference, deadline = MONTHS[language]
    # page → what it must show: the reference date, the deadline, a moment (date and time)
    pages = {
        f"/programmes/{SLUG}": (deadline,),
        f"/programmes/{SLUG}/periods": (reference, deadline),
        period: (reference, deadline, MOMENT[language]),
        f"{period}/progress": (deadline,),
        f"{period}/review": (MOMENT[language],),
        f"/activities/{rnd.activity}?period={rnd.period_id}": (MOMENT[language],),
        "/account": (MOMENT[language],),
    }
    for path, expected in pages.items():
        text, page = _visible(rnd.client, path, language)
        for wanted in expected:
            found = wanted.search(text) if isinstance(wanted, re.Pattern) else wanted in text
            assert found, (path, wanted, text[:2000])
        assert not ISO_DATE.search(text), (path, ISO_DATE.findall(text))
        # Machines still read each date from its <time>.
        times = page.select("main time[datetime]")
        assert times and all(ISO_DATE.match(t["datetime"]) for t in times), path  # type: ignore[arg-type]
    text, _ = _visible(rnd.editor, f"{period}/todo", language)
    assert deadline in text and not ISO_DATE.search(text)

    # The confirmation before publishing names the reference date in words too.
    periods.move_period(session, period_id=rnd.period_id, move="review", actor=coordinator(session))
    session.commit()
    text, _ = _visible(rnd.client, f"{period}/publish", language)
    assert reference in text and not ISO_DATE.search(text)
