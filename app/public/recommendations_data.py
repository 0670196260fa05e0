"""The Rapporteur's recommendations with their published follow-up, for the public site and
its open data: a published reporting period's report (app/public/service.published_period)
and, per recommendation, the government's response and the period's follow-up as its report
published them (app/recommendations/followup.py: what was saved up to the publication). One
record per recommendation as CSV (with W3C CSV on the Web metadata) and as JSON (with a JSON
Schema), the same columns in both. No author, version, link or draft is in either.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.i18n import N_
from app.periods.models import ReportingPeriod
from app.public import service
from app.public.monitor_data import Column, _both, _cell, translate
from app.readmodel import PeriodRow, ProgrammeRow
from app.recommendations.followup import FollowUpReport, FollowUpRow, period_follow_up
from app.recommendations.models import Verdict


@dataclass(frozen=True)
class PublicFollowUp:
    programme: ProgrammeRow
    period: PeriodRow
    reports: list[FollowUpReport]

    @property
    def count(self) -> int:
        return sum(len(report.rows) for report in self.reports)

    def addressees(self) -> list[tuple[str, list[tuple[FollowUpReport, FollowUpRow]]]]:
        """Each addressee as written (in order of first appearance) with its recommendations."""
        found: dict[str, list[tuple[FollowUpReport, FollowUpRow]]] = {}
        for report in self.reports:
            for row in report.rows:
                for name in row.addressees:
                    found.setdefault(name, []).append((report, row))
        return list(found.items())


def published_follow_up(
    session: Session, *, slug: str, period_id: int, language: str
) -> PublicFollowUp:
    """A published period's recommendations and follow-up; NotFound for any other period."""
    programme, period, _ = service.published_period(session, slug, period_id)
    record = session.get(ReportingPeriod, period.id)
    assert record is not None and record.published_at is not None  # a published period
    return PublicFollowUp(
        programme=programme,
        period=period,
        reports=period_follow_up(
            session,
            programme_id=programme.id,
            period_id=period.id,
            published_at=record.published_at,
            language=language,
        ),
    )


COLUMNS = (
    Column("report_key", N_("Report key"), N_("The source report's key, stable."), "string", True),
    Column("report", N_("Report"), N_("The source report's title."), "string", True),
    Column(
        "number",
        N_("Number"),
        N_("The recommendation's number as the report prints it."),
        "string",
        True,
    ),
    Column("title", N_("Title"), N_("The recommendation's title, in Dutch."), "string", True),
    Column(
        "priority",
        N_("Priority"),
        N_("The recommendation is marked as a priority."),
        "boolean",
        True,
    ),
    Column(
        "addressees",
        N_("Addressees"),
        N_("Whom it addresses, as written, separated by semicolons."),
        "string",
    ),
    Column(
        "addressee_organisations",
        N_("Addressee organisations"),
        N_("The codes of the addressees' organisations, separated by spaces."),
        "string",
    ),
    Column(
        "response",
        N_("Government response"),
        N_(
            "How the government took the recommendation: accepted, partly_accepted, "
            "not_accepted or noted; empty when no response is recorded."
        ),
        "string",
        False,
        tuple(verdict.value for verdict in Verdict),
    ),
    Column(
        "response_date",
        N_("Response date"),
        N_("The date of the response's document."),
        "date",
    ),
    Column(
        "follow_up",
        N_("Follow-up"),
        N_(
            "The follow-up status reported for the period: a code of the programme's follow-up "
            "legend; empty when none was reported."
        ),
        "string",
    ),
    Column(
        "follow_up_label",
        N_("Follow-up (label)"),
        N_("The follow-up status as the legend names it, with its symbol, in Dutch."),
        "string",
    ),
    Column(
        "explanation",
        N_("Explanation"),
        N_("The explanation of the follow-up, in Dutch."),
        "string",
    ),
    Column(
        "follow_up_date",
        N_("Follow-up date"),
        N_("The date of the follow-up's document."),
        "date",
    ),
    Column(
        "document_reference",
        N_("Document"),
        N_("The document the follow-up is reported in."),
        "string",
    ),
)


def records(data: PublicFollowUp) -> list[dict[str, Any]]:
    """One record per recommendation, the reports in order and each in printed order."""
    return [
        {
            "report_key": report.key,
            "report": report.title,
            "number": row.number,
            "title": row.title,
            "priority": row.priority,
            "addressees": row.addressees_text or None,
            "addressee_organisations": " ".join(row.addressee_codes) or None,
            "response": row.verdict.value if row.verdict else None,
            "response_date": row.response_date or None,
            "follow_up": row.status_code or None,
            "follow_up_label": (f"{row.symbol} {row.status_label}" if row.status_code else None),
            "explanation": row.explanation or None,
            "follow_up_date": row.entry_date or None,
            "document_reference": row.document_reference or None,
        }
        for report in data.reports
        for row in report.rows
    ]


def csv_file(data: PublicFollowUp) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.key for column in COLUMNS])
    for record in records(data):
        writer.writerow([_cell(record[column.key]) for column in COLUMNS])
    return out.getvalue().encode("utf-8")


def csv_metadata(data: PublicFollowUp, *, csv_url: str, page_url: str) -> dict[str, Any]:
    """The CSV's description in W3C CSV on the Web (Metadata Vocabulary for Tabular Data)."""
    columns = []
    for column in COLUMNS:
        described: dict[str, Any] = {
            "name": column.key,
            "titles": column.key,
            "dc:title": _both(column.label),
            "dc:description": _both(column.description),
            "required": column.required,
        }
        if column.values:
            described["datatype"] = {"base": "string", "format": "|".join(column.values)}
        elif column.datatype == "boolean":
            described["datatype"] = {"base": "boolean", "format": "true|false"}
        else:
            described["datatype"] = column.datatype
        columns.append(described)
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "nl"}],
        "url": csv_url,
        "dc:title": translate(N_("Follow-up of recommendations"), "nl")
        + f" · {data.programme.name} · {data.period.name}",
        "dc:publisher": service.PUBLISHER,
        "dc:license": {"@id": service.LICENCE_URL},
        "dc:isPartOf": {"@id": page_url},
        "dialect": {"header": True, "encoding": "utf-8", "delimiter": ","},
        "tableSchema": {"columns": columns, "primaryKey": ["report_key", "number"]},
    }


def json_file(data: PublicFollowUp, *, schema_url: str) -> dict[str, Any]:
    return {
        "$schema": schema_url,
        "programme": {"slug": data.programme.slug, "name": data.programme.name},
        "period": {
            "id": data.period.id,
            "name": data.period.name,
            "reference_date": data.period.reference_date.isoformat(),
        },
        "licence": service.LICENCE_URL,
        "recommendations": records(data),
    }


_JSON_TYPES = {"string": "string", "boolean": "boolean", "date": "string"}


def json_schema(*, schema_url: str, language: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of json_file, its descriptions in `language`."""
    properties: dict[str, Any] = {}
    for column in COLUMNS:
        kind = _JSON_TYPES[column.datatype]
        prop: dict[str, Any] = {
            "title": translate(column.label, language),
            "description": translate(column.description, language),
            "type": kind if column.required else [kind, "null"],
        }
        if column.datatype == "date":
            prop["format"] = "date"
        if column.values:
            prop["enum"] = list(column.values) + ([] if column.required else [None])
        properties[column.key] = prop
    text = {"type": "string"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_url,
        "title": translate(N_("Follow-up of recommendations"), language),
        "type": "object",
        "required": ["$schema", "programme", "period", "licence", "recommendations"],
        "additionalProperties": False,
        "properties": {
            "$schema": text,
            "programme": {
                "type": "object",
                "required": ["slug", "name"],
                "additionalProperties": False,
                "properties": {"slug": text, "name": text},
            },
            "period": {
                "type": "object",
                "required": ["id", "name", "reference_date"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "integer"},
                    "name": text,
                    "reference_date": {"type": "string", "format": "date"},
                },
            },
            "licence": text,
            "recommendations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [column.key for column in COLUMNS],
                    "additionalProperties": False,
                    "properties": properties,
                },
            },
        },
    }
