"""Recording and reading the audit log."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from app.accounts.service import CurrentUser
from app.audit.models import AuditEvent


def record(
    session: Session,
    *,
    actor: CurrentUser | None,
    action: str,
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
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None


def _filtered(filters: AuditFilters) -> Select:
    statement = select(AuditEvent)
    if filters.action:
        statement = statement.where(col(AuditEvent.action) == filters.action)
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


def list_actions(session: Session) -> list[str]:
    return list(
        session.scalars(select(col(AuditEvent.action)).distinct().order_by(col(AuditEvent.action)))
    )


CSV_COLUMNS = ["at", "actor", "action", "object_type", "object_id", "summary", "address", "details"]


def _csv_safe(value: str) -> str:
    # A cell starting with these would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def events_as_csv(events: list[AuditEvent]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow(
            [
                event.at.isoformat(),
                _csv_safe(event.actor),
                event.action,
                event.object_type,
                event.object_id,
                _csv_safe(event.summary),
                event.address,
                _csv_safe(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
            ]
        )
    return buffer.getvalue()
