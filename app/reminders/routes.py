"""The coordinator's button: send the reminders of a period and show what happened."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import readmodel
from app.deps import SessionDep, SettingsDep
from app.periods import service as periods
from app.permissions import CurrentUserDep, client_address
from app.reminders import service
from app.web import render

router = APIRouter()


@router.post("/periods/{period_id}/reminders", name="send_reminders", include_in_schema=False)
def send_reminders(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    period_id: int,
) -> Response:
    programme_id = periods.get_period(session, period_id).programme_id
    period = readmodel.choose_period(readmodel.list_periods(session, programme_id), period_id)
    assert period is not None  # choose_period raises NotFound for an unknown id
    report = service.send_reminders(
        session,
        settings=settings,
        programme_id=programme_id,
        period=period,
        actor=user,
        address=client_address(request),
    )
    # 502: a mail server (the "upstream") refused or failed; the page says which and why.
    return render(
        request,
        "reminders/report.html",
        {"report": report, "period": period},
        status_code=502 if report.failed else 200,
    )
