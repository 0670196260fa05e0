"""The coordinator's forms for the monitor's indicators (coordinators and admins;
app/permissions.py): add an indicator to a programme, edit its definition and link it to the
programme's results. Plain POST forms that work without JavaScript: a refusal shows the form
again with the message beside the field it is about and what was typed, and nothing is
stored; a success goes to the indicator's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session, col

from app import readmodel
from app.deps import SessionDep
from app.errors import DomainError
from app.ids import id_of
from app.monitor import defining, reading
from app.monitor.models import Indicator
from app.monitor.routes import UNIT_LABELS, unit_label
from app.permissions import CurrentUser, CurrentUserDep, client_address
from app.programmes.models import Result
from app.readmodel.rows import ProgrammeRow
from app.text import Text
from app.web import render

router = APIRouter()


def _errors(problem: DomainError) -> dict[str, str]:
    field = problem.field if isinstance(problem, defining.FieldInvalid) else "form"
    return {field: problem.message}


def _values_of(session: Session, indicator: Indicator) -> dict[str, object]:
    return {
        "code": indicator.code,
        "name_nl": indicator.name_nl,
        "name_en": indicator.name_en,
        "unit": str(indicator.unit),
        "definition": indicator.definition,
        "supplier_id": str(indicator.supplier_id or ""),
        "result_ids": [
            str(result_id) for result_id in defining.linked_results(session, id_of(indicator))
        ],
        "seen": defining.fingerprint(session, indicator),
    }


def _form_page(
    request: Request,
    session: Session,
    programme: ProgrammeRow,
    indicator: Indicator | None,
    *,
    values: dict[str, object],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    results = list(
        session.scalars(
            select(Result)
            .where(col(Result.programme_id) == programme.id, col(Result.retired_at).is_(None))
            .order_by(col(Result.number))
        )
    )
    return render(
        request,
        "monitor/indicator_form.html",
        {
            "programme": programme,
            "indicator": indicator,
            "values": values,
            "errors": errors or {},
            "units": list(UNIT_LABELS),
            "unit_label": unit_label,
            "organisations": reading.organisations(session),
            "results": results,
        },
        status_code=status_code,
    )


@router.get(
    "/programmes/{slug}/monitor/indicators/new",
    include_in_schema=False,
    name="monitor_indicator_new",
)
def monitor_indicator_new(request: Request, session: SessionDep, slug: str) -> Response:
    programme = readmodel.get_programme(session, slug)
    return _form_page(request, session, programme, None, values={"result_ids": []})


@router.get(
    "/monitor/indicators/{indicator_id}/edit",
    include_in_schema=False,
    name="monitor_indicator_edit",
)
def monitor_indicator_edit(request: Request, session: SessionDep, indicator_id: int) -> Response:
    indicator = reading.get_indicator(session, indicator_id)
    programme = readmodel.get_programme(session, reading.programme_slug(session, indicator))
    return _form_page(request, session, programme, indicator, values=_values_of(session, indicator))


def _save(
    request: Request,
    session: Session,
    user: CurrentUser,
    programme: ProgrammeRow,
    indicator: Indicator | None,
    values: dict[str, object],
) -> Response:
    result_ids = values["result_ids"]
    assert isinstance(result_ids, list)
    try:
        saved = defining.save_indicator(
            session,
            programme_id=programme.id,
            indicator_id=id_of(indicator) if indicator else None,
            code=str(values["code"]),
            name_nl=str(values["name_nl"]),
            name_en=str(values["name_en"]),
            unit=str(values["unit"]),
            definition=str(values["definition"]),
            supplier_id=str(values["supplier_id"]),
            result_ids=result_ids,
            seen=str(values.get("seen", "")),
            actor=user,
            address=client_address(request),
        )
    except DomainError as problem:
        if problem.status_code in (403, 404):
            raise
        session.rollback()
        if isinstance(problem, defining.EditedMeanwhile) and indicator is not None:
            # The form shows their version now (saving again is a choice made having seen it).
            session.refresh(indicator)
            values = _values_of(session, indicator)
        return _form_page(
            request,
            session,
            programme,
            indicator,
            values=values,
            errors=_errors(problem),
            status_code=problem.status_code,
        )
    target = request.url_for("monitor_indicator", indicator_id=id_of(saved)).path
    return RedirectResponse(f"{target}?done={'changed' if indicator else 'added'}", 303)


@router.post(
    "/programmes/{slug}/monitor/indicators",
    include_in_schema=False,
    name="monitor_indicator_create",
)
def monitor_indicator_create(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    slug: str,
    code: Annotated[Text, Form()] = "",
    name_nl: Annotated[Text, Form()] = "",
    name_en: Annotated[Text, Form()] = "",
    unit: Annotated[Text, Form()] = "",
    definition: Annotated[Text, Form()] = "",
    supplier_id: Annotated[Text, Form()] = "",
    result_ids: Annotated[list[Text] | None, Form()] = None,
) -> Response:
    programme = readmodel.get_programme(session, slug)
    values: dict[str, object] = {
        "code": code,
        "name_nl": name_nl,
        "name_en": name_en,
        "unit": unit,
        "definition": definition,
        "supplier_id": supplier_id,
        "result_ids": list(result_ids or []),
    }
    return _save(request, session, user, programme, None, values)


@router.post(
    "/monitor/indicators/{indicator_id}/edit",
    include_in_schema=False,
    name="monitor_indicator_update",
)
def monitor_indicator_update(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    indicator_id: int,
    code: Annotated[Text, Form()] = "",
    name_nl: Annotated[Text, Form()] = "",
    name_en: Annotated[Text, Form()] = "",
    unit: Annotated[Text, Form()] = "",
    definition: Annotated[Text, Form()] = "",
    supplier_id: Annotated[Text, Form()] = "",
    result_ids: Annotated[list[Text] | None, Form()] = None,
    seen: Annotated[Text, Form()] = "",
) -> Response:
    indicator = reading.get_indicator(session, indicator_id)
    programme = readmodel.get_programme(session, reading.programme_slug(session, indicator))
    values: dict[str, object] = {
        "code": code,
        "name_nl": name_nl,
        "name_en": name_en,
        "unit": unit,
        "definition": definition,
        "supplier_id": supplier_id,
        "result_ids": list(result_ids or []),
        "seen": seen,
    }
    return _save(request, session, user, programme, indicator, values)
