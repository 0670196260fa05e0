"""Exports on the web: the form on a period's page starts an export job (or, for a published
period whose export is stored already, goes straight to the file); the JSON Schema of the JSON
export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.deps import SessionDep
from app.errors import InvalidInput
from app.exports import opendata, service
from app.exports.table import load_period
from app.i18n import get_language, gettext
from app.jobs import service as jobs
from app.periods.models import PeriodKind
from app.permissions import CurrentUserDep
from app.readmodel import ActionLineOption, OrganisationOption
from app.text import Text
from app.web import templates

router = APIRouter()


def export_choices(items: list[Any]) -> dict[str, Any]:
    """What the export form on a period's page offers, from the rows that page shows already
    (no query of its own): the formats, the action lines and the organisations."""
    lines: dict[int, str] = {}
    organisations: dict[str, str] = {}
    for item in items:
        row = item.row
        lines.setdefault(row.action_line_number, row.action_line_title)
        for organisation in row.organisations:
            organisations.setdefault(organisation.code, organisation.name)
    return {
        "formats": [(fmt.key, gettext(fmt.label)) for fmt in service.FORMATS.values()],
        "action_lines": [ActionLineOption(*line) for line in sorted(lines.items())],
        "organisations": sorted(
            (OrganisationOption(*organisation) for organisation in organisations.items()),
            key=lambda organisation: organisation.name.casefold(),
        ),
    }


# templates/exports/_form.html is included in the period page, whose route is the periods
# package's: the choices come through this global instead of that route's context.
templates.env.globals["export_choices"] = export_choices


@router.post("/periods/{period_id}/exports", include_in_schema=False, name="create_export")
def create_export(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    background_tasks: BackgroundTasks,
    period_id: int,
    format: Annotated[Text, Form()] = "",
    action_line: Annotated[Text, Form()] = "",
    organisation: Annotated[Text, Form()] = "",
    status: Annotated[list[Text] | None, Form()] = None,
    organisations: Annotated[Text, Form()] = "",
) -> Response:
    fmt = service.get_format(format)
    filters = service.parse_filters(
        action_line=action_line, organisation=organisation, statuses=status
    )
    _, record = load_period(session, period_id)
    if record.kind == PeriodKind.monitor:
        raise InvalidInput(
            gettext(
                "%(period)s is a monitor edition: its exports are on the edition's page, not"
                " in the progress export."
            )
            % {"period": record.name}
        )
    export = service.ExportRequest(
        period_id, fmt, filters, get_language(), organisations=bool(organisations)
    )
    stored = service.stored_export(session, export)
    if stored is not None:
        return RedirectResponse(
            request.url_for("stored_file", file_id=stored.id).path, status_code=303
        )
    job = jobs.submit(
        session,
        kind="export",
        params={
            "period_id": period_id,
            "format": fmt.key,
            "action_line": filters.action_line,
            "organisation": filters.organisation,
            "statuses": [value.value for value in filters.statuses],
            "language": export.language,
            "organisations": export.organisations,
            "title": gettext("Export of %(period)s as %(format)s")
            % {"period": record.name, "format": fmt.key.upper()},
        },
        user=user,
    )
    jobs.run_after_response(request, session, background_tasks, job)
    return RedirectResponse(request.url_for("job", job_id=job.id).path, status_code=303)


@router.get("/exports/schema.json", include_in_schema=False, name="export_schema")
def export_schema() -> JSONResponse:
    return JSONResponse(
        opendata.json_schema(language=get_language()), media_type="application/schema+json"
    )
