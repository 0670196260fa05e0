"""The coordinator defines the monitor's indicators (app/monitor/defining.py and
indicator_forms.py): add one, edit it, link it to the programme's results (shown on the
result's page and the indicator's); a duplicate code and another programme's result refused
beside their field with nothing saved; a stale edit 409; each change audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.audit.models import AuditEvent
from app.audit.presentation import action_label
from app.main import create_app
from app.monitor.models import Indicator, IndicatorResult
from app.programmes.models import ActionLine, Organisation, Programme, Result, Theme
from tests.factories import create_user, csrf_from, sign_in
from tests.test_board import SLUG


@pytest.fixture
def app(seeded_settings) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    app = create_app(seeded_settings)
    yield app
    app.state.engine.dispose()


def _indicator(app: Any, code: str = "controles") -> Indicator:
    with Session(app.state.engine, expire_on_commit=False) as session:
        programme = session.scalar(select(Programme).where(col(Programme.slug) == SLUG))
        assert programme is not None
        indicator = Indicator(
            programme_id=programme.id or 0,
            code=code,
            name_nl="Controles",
            name_en="Inspections",
            unit="count",
        )
        session.add(indicator)
        session.commit()
        return indicator


def _coordinator(app: Any) -> TestClient:
    with Session(app.state.engine) as session:
        email = create_user(session, "coordinator")
    client = TestClient(app)
    sign_in(client, email)
    return client


def _results(app: Any, slug: str = SLUG) -> list[Result]:
    with Session(app.state.engine) as session:
        return list(
            session.scalars(
                select(Result)
                .join(Programme, col(Programme.id) == Result.programme_id)
                .where(col(Programme.slug) == slug)
                .order_by(col(Result.number))
            )
        )


def _post(client: TestClient, form_path: str, action: str, **data: Any) -> Any:
    page = client.get(form_path)
    assert page.status_code == 200, page.text[:300]
    soup = BeautifulSoup(page.text, "html.parser")
    seen = soup.select_one("input[name=seen]")
    fields = {"csrftoken": csrf_from(page.text)}
    if seen is not None:
        fields["seen"] = str(seen["value"])
    fields.update(data)
    return client.post(action, data=fields, follow_redirects=False)


def _error_beside(html: str, field_id: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    found = soup.select_one(f"#{field_id}-error")
    assert found is not None, f"no message beside {field_id}"
    return " ".join(found.get_text(" ").split())


def _count(app: Any) -> int:
    with Session(app.state.engine) as session:
        return session.scalar(select(func.count()).select_from(Indicator)) or 0


def test_create_edit_and_link_show_on_the_result_and_indicator_pages(app) -> None:  # type: ignore[no-untyped-def]
    client = _coordinator(app)
    editions = client.get(f"/programmes/{SLUG}/monitor")
    assert f"/programmes/{SLUG}/monitor/indicators/new" in editions.text
    first, second = _results(app)[:2]
    with Session(app.state.engine) as session:
        supplier = session.scalars(select(Organisation).order_by(col(Organisation.id))).first()
        assert supplier is not None
    response = _post(
        client,
        f"/programmes/{SLUG}/monitor/indicators/new",
        f"/programmes/{SLUG}/monitor/indicators",
        code="gemelde-slachtoffers",
        name_nl="Gemelde slachtoffers",
        name_en="Reported victims",
        unit="persons",
        definition="Slachtoffers gemeld bij CoMensha.",
        supplier_id=str(supplier.id),
        result_ids=[str(first.id)],
    )
    assert response.status_code == 303, response.text[:500]
    indicator_path = response.headers["location"].split("?")[0]
    page = client.get(response.headers["location"])
    assert "Gemelde slachtoffers" in page.text and "Slachtoffers gemeld bij CoMensha." in page.text
    assert f"/programmes/{SLUG}/results/{first.number}" in page.text
    assert f"{indicator_path}/edit" in page.text
    result_page = client.get(f"/programmes/{SLUG}/results/{first.number}")
    assert indicator_path in result_page.text

    # Edit: a new definition, linked to the second result instead of the first.
    response = _post(
        client,
        f"{indicator_path}/edit",
        f"{indicator_path}/edit",
        code="gemelde-slachtoffers",
        name_nl="Gemelde slachtoffers",
        name_en="Reported victims",
        unit="persons",
        definition="Gemeld bij CoMensha, per jaar.",
        supplier_id="",
        result_ids=[str(second.id)],
    )
    assert response.status_code == 303, response.text[:500]
    page = client.get(indicator_path)
    assert "Gemeld bij CoMensha, per jaar." in page.text
    assert f'/results/{second.number}"' in page.text
    assert f'/results/{first.number}"' not in page.text
    assert indicator_path not in client.get(f"/programmes/{SLUG}/results/{first.number}").text
    assert indicator_path in client.get(f"/programmes/{SLUG}/results/{second.number}").text

    indicator_id = indicator_path.rsplit("/", 1)[1]
    with Session(app.state.engine) as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(col(AuditEvent.object_type) == "indicator")
                .where(col(AuditEvent.object_id) == indicator_id)
                .order_by(col(AuditEvent.id))
            )
        )
    assert [event.action for event in events] == ["indicator.create", "indicator.update"]
    assert events[0].details["results"] == [first.number]
    assert events[1].details["results"] == [second.number]
    # Each version of the definition stays in the (append-only) audit trail.
    assert events[0].details["definition"] == "Slachtoffers gemeld bij CoMensha."
    assert events[1].details["definition"] == "Gemeld bij CoMensha, per jaar."
    assert events[1].details["name_en"] == "Reported victims"
    assert action_label(events[0].action) == "Indicator toegevoegd"
    assert action_label(events[1].action) == "Indicator gewijzigd"


def test_a_duplicate_code_is_refused_beside_the_field(app) -> None:  # type: ignore[no-untyped-def]
    client = _coordinator(app)
    taken = _indicator(app)
    before = _count(app)
    response = _post(
        client,
        f"/programmes/{SLUG}/monitor/indicators/new",
        f"/programmes/{SLUG}/monitor/indicators",
        code=taken.code,
        name_nl="Dubbel",
        unit="count",
    )
    assert response.status_code == 422
    assert taken.code in _error_beside(response.text, "indicator-code")
    assert 'value="Dubbel"' in response.text
    assert _count(app) == before


def test_a_result_of_another_programme_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    with Session(app.state.engine) as session:
        other = Programme(slug="ander-programma", name="Ander programma")
        session.add(other)
        session.flush()
        line = ActionLine(programme_id=other.id or 0, number=1, title="Lijn", position=1)
        session.add(line)
        session.flush()
        theme = Theme(action_line_id=line.id or 0, title="Thema", position=1)
        session.add(theme)
        session.flush()
        foreign = Result(
            programme_id=other.id or 0, theme_id=theme.id or 0, number=1, title="Elders", position=1
        )
        session.add(foreign)
        session.commit()
        foreign_id = foreign.id
    client = _coordinator(app)
    before = _count(app)
    response = _post(
        client,
        f"/programmes/{SLUG}/monitor/indicators/new",
        f"/programmes/{SLUG}/monitor/indicators",
        code="nieuw",
        name_nl="Nieuw",
        unit="count",
        result_ids=[str(foreign_id)],
    )
    assert response.status_code == 422
    assert "dit programma" in _error_beside(response.text, "indicator-results")
    assert _count(app) == before
    with Session(app.state.engine) as session:
        links = session.scalar(
            select(func.count())
            .select_from(IndicatorResult)
            .where(col(IndicatorResult.result_id) == foreign_id)
        )
    assert links == 0


def test_a_stale_edit_is_refused_with_409_and_nothing_saved(app) -> None:  # type: ignore[no-untyped-def]
    client = _coordinator(app)
    indicator = _indicator(app)
    path = f"/monitor/indicators/{indicator.id}/edit"
    page = client.get(path)
    seen = BeautifulSoup(page.text, "html.parser").select_one("input[name=seen]")
    assert seen is not None
    form = {
        "csrftoken": csrf_from(page.text),
        "seen": str(seen["value"]),
        "code": indicator.code,
        "name_nl": indicator.name_nl,
        "name_en": indicator.name_en,
        "unit": str(indicator.unit),
        "supplier_id": str(indicator.supplier_id or ""),
    }
    first = client.post(path, data={**form, "definition": "Eerste"}, follow_redirects=False)
    assert first.status_code == 303
    second = client.post(path, data={**form, "definition": "Tweede"}, follow_redirects=False)
    assert second.status_code == 409
    assert "Iemand anders heeft deze indicator gewijzigd" in second.text
    with Session(app.state.engine) as session:
        stored = session.get(Indicator, indicator.id)
        assert stored is not None and stored.definition == "Eerste"


def test_the_form_fields_extra_attributes_are_attributes(app) -> None:  # type: ignore[no-untyped-def]
    """The coordinator forms' field macro prints `extra` as attributes, not as an escaped
    string (it printed maxlength="&quot;500&quot;": no limit, and an invalid lang)."""
    client = _coordinator(app)
    indicator_form = BeautifulSoup(
        client.get(f"/programmes/{SLUG}/monitor/indicators/new").text, "html.parser"
    )
    code = indicator_form.select_one("#indicator-code")
    english = indicator_form.select_one("#indicator-name-en")
    assert code is not None and code.get("maxlength") == "100"
    assert english is not None and english.get("lang") == "en"
    report_form = BeautifulSoup(
        client.get(f"/programmes/{SLUG}/recommendations/reports/new").text, "html.parser"
    )
    title = report_form.select_one("#report-title")
    assert title is not None and title.get("maxlength") == "500"
