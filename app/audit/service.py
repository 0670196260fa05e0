"""Recording and reading the audit log.

Where a change came from (the web, the API, an import, the command line) is said once per
entry point, not by every service it calls: the app's middleware says web or API per request,
the command line says so for its commands, an import for the changes it makes
(`recording_from`). Each event stores the source in force when it is recorded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from app.accounts.models import ApiToken, User
from app.accounts.service import CurrentUser
from app.audit.models import AuditAction, AuditEvent, AuditSource
from app.monitor.models import Indicator
from app.periods.models import ReportingPeriod
from app.programmes.models import ActionLine, Activity, Organisation, Result, Theme
from app.text import neutralise

# The source of the changes being made in this context (a request, a command, an import).
_source: ContextVar[AuditSource | None] = ContextVar("audit_source", default=None)


@contextmanager
def recording_from(source: AuditSource) -> Iterator[None]:
    """Events recorded inside come from `source`."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def set_source(source: AuditSource) -> None:
    """The source of the rest of this context (a request's: its context is its own)."""
    _source.set(source)


def current_source() -> AuditSource | None:
    return _source.get()


def record(
    session: Session,
    *,
    actor: CurrentUser | None,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    summary: str = "",
    details: dict[str, Any] | None = None,
    address: str = "",
    actor_label: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor=actor_label or (actor.label if actor else "system"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:1000],
        details=details or {},
        address=address[:100],
        source=_source.get(),
    )
    session.add(event)
    session.flush()
    return event


# The source filter's value for events recorded before sources were.
UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    # an AuditSource value, or UNKNOWN_SOURCE for events without one
    source: str = ""
    since: date | None = None
    until: date | None = None


def _filtered(filters: AuditFilters) -> Select:
    statement = select(AuditEvent)
    if filters.action:
        statement = statement.where(col(AuditEvent.action) == filters.action)
    if filters.source == UNKNOWN_SOURCE:
        statement = statement.where(col(AuditEvent.source).is_(None))
    elif filters.source:
        statement = statement.where(col(AuditEvent.source) == filters.source)
    if filters.actor:
        statement = statement.where(
            func.lower(col(AuditEvent.actor)).contains(filters.actor.lower())
        )
    if filters.since:
        statement = statement.where(col(AuditEvent.at) >= datetime.combine(filters.since, time.min))
    if filters.until:
        statement = statement.where(
            col(AuditEvent.at) < datetime.combine(filters.until + timedelta(days=1), time.min)
        )
    return statement


def list_events(
    session: Session, filters: AuditFilters, *, limit: int | None = 200
) -> list[AuditEvent]:
    statement = _filtered(filters).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if limit:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def _ids(events: list[AuditEvent], object_type: str) -> set[int]:
    found = {event.object_id for event in events if event.object_type == object_type}
    if object_type == "period":
        # An activity's event names the period it was in.
        found |= {str(event.details.get("period_id", "")) for event in events}
    return {int(value) for value in found if value.isdigit()}


def subject_names(session: Session, events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """(object_type, object_id) → the name of what each event is about, as it is now (and
    of the periods the events name): a query per kind of subject among the events."""
    names: dict[tuple[str, str], str] = {}

    def add(object_type: str, rows: Any) -> None:
        names.update({(object_type, str(row_id)): name for row_id, name in rows})

    if ids := _ids(events, "user"):
        add(
            "user",
            (
                (user_id, f"{name} <{email}>")
                for user_id, name, email in session.execute(
                    select(col(User.id), col(User.name), col(User.email)).where(
                        col(User.id).in_(ids)
                    )
                )
            ),
        )
    if ids := _ids(events, "activity"):
        add(
            "activity",
            (
                (activity_id, f"{number}.{label or ''} {title}")
                for activity_id, number, label, title in session.execute(
                    select(
                        col(Activity.id),
                        col(Result.number),
                        col(Activity.label),
                        col(Activity.title),
                    )
                    .join(Result, col(Result.id) == col(Activity.result_id))
                    .where(col(Activity.id).in_(ids))
                )
            ),
        )
    if ids := _ids(events, "result"):
        add(
            "result",
            (
                (result_id, f"{number}. {title}")
                for result_id, number, title in session.execute(
                    select(col(Result.id), col(Result.number), col(Result.title)).where(
                        col(Result.id).in_(ids)
                    )
                )
            ),
        )
    for object_type, model, name_column in (
        ("period", ReportingPeriod, ReportingPeriod.name),
        ("organisation", Organisation, Organisation.name),
        ("api_token", ApiToken, ApiToken.name),
        ("action_line", ActionLine, ActionLine.title),
        ("theme", Theme, Theme.title),
        ("indicator", Indicator, Indicator.name_nl),
    ):
        if ids := _ids(events, object_type):
            add(
                object_type,
                session.execute(
                    select(col(model.id), col(name_column)).where(col(model.id).in_(ids))
                ),
            )
    return names


def list_actions(session: Session) -> list[str]:
    return list(
        session.scalars(select(col(AuditEvent.action)).distinct().order_by(col(AuditEvent.action)))
    )


CSV_COLUMNS = [
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "summary",
    "source",
    "address",
    "details",
]


def events_as_csv(events: list[AuditEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow(
            [
                event.at.isoformat(),
                neutralise(event.actor),
                event.action,
                event.object_type,
                event.object_id,
                neutralise(event.summary),
                event.source or UNKNOWN_SOURCE,
                event.address,
                neutralise(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
            ]
        )
    return buffer.getvalue()
