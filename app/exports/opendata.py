"""The progress table as open data: CSV and JSON, one record per activity in the columns of
app/exports/columns.py, with the JSON Schema generated from the same list.

CSV: UTF-8 with a byte order mark (so Excel recognises UTF-8 when the file is opened by a
double click), comma-separated and quoted as RFC 4180 says, CRLF line ends; the header is the
column keys; the status is the code (`on_schedule`); dates are ISO 8601 in UTC. Text that
starts with =, +, - or @ gets an apostrophe in front so that no spreadsheet runs it as a formula.

JSON: `{"programme", "period", "generated_at", "language", "filters", "columns",
"activities"}`, each activity an object keyed by column key with typed values (integers,
strings, ISO 8601 date-times, null); nothing is altered, it is data for programs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from io import StringIO
from operator import itemgetter
from typing import Any

from app.activities.models import BASELINE_SOURCES, STATUS_ORDER
from app.exports.columns import COLUMNS, KEYS, Column
from app.exports.table import ProgressTable
from app.i18n import N_, translations_for
from app.periods.models import PeriodState
from app.text import neutralise

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
SCHEMA_ID = "/exports/schema.json"
# The lead organisation is marked the same way in every language: this is data.
LEAD_MARKER = "lead"


def _subset(columns: tuple[Column, ...]) -> Callable[[tuple[Any, ...]], Any] | None:
    """Pick `columns` out of a row of all COLUMNS (None: all of them)."""
    if columns == COLUMNS:
        return None
    return itemgetter(*(KEYS.index(column.key) for column in columns))


def _rows(table: ProgressTable, columns: tuple[Column, ...], **options: Any) -> Iterator[Any]:
    pick = _subset(columns)
    rows = table.column_rows(status_as="code", lead_marker=LEAD_MARKER, **options)
    return rows if pick is None else (pick(values) for values in rows)


def render_csv(table: ProgressTable, columns: tuple[Column, ...] = COLUMNS) -> bytes:
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.key for column in columns])
    # The csv module writes None as an empty field.
    writer.writerows(_rows(table, columns, text=neutralise, moment=datetime.isoformat))
    return buffer.getvalue().encode("utf-8-sig")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def document(
    table: ProgressTable, columns: tuple[Column, ...] = COLUMNS, schema_id: str = SCHEMA_ID
) -> dict[str, Any]:
    translations = translations_for(table.language)
    filters = table.filters
    keys = [column.key for column in columns]
    return {
        "$schema": schema_id,
        "programme": {"slug": table.programme.slug, "name": table.programme.name},
        "period": {
            "id": table.period.id,
            "name": table.period.name,
            "state": table.period.state.value,
            "published": table.period.published,
            "published_at": _iso(table.period.published_at),
            "reference_date": table.period.reference_date.isoformat(),
        },
        "generated_at": _iso(table.generated_at),
        "language": table.language,
        "filters": {
            "action_line": filters.action_line,
            "organisation": filters.organisation,
            "statuses": [status.value for status in filters.statuses],
        },
        "columns": [
            {
                "key": column.key,
                "label": translations.gettext(column.label),
                "type": column.kind,
                "description": translations.gettext(column.description),
            }
            for column in columns
        ],
        "activities": [
            dict(zip(keys, values, strict=True))
            for values in _rows(table, columns, moment=datetime.isoformat)
        ],
    }


def render_json(
    table: ProgressTable, columns: tuple[Column, ...] = COLUMNS, schema_id: str = SCHEMA_ID
) -> bytes:
    # No indentation: json's C encoder only runs without it (three times as fast). Non-ASCII
    # characters as \u escapes (the default): valid UTF-8 either way, and a third faster.
    return json.dumps(document(table, columns, schema_id)).encode("ascii")


NO_STATUS = N_("Empty when the activity has no status.")

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": ["integer", "null"]},
    "text": {"type": "string"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
}


def json_schema(
    columns: tuple[Column, ...] = COLUMNS, schema_id: str = SCHEMA_ID, *, language: str
) -> dict[str, Any]:
    """The JSON Schema of the JSON export, generated from the columns; its descriptions in
    `language` (the reader's)."""
    translate = translations_for(language).gettext
    properties: dict[str, Any] = {}
    for column in columns:
        description = translate(column.description)
        schema = {**_JSON_TYPES[column.kind], "description": description}
        if column.key == "status":
            schema = {
                "enum": ["", *(status.value for status in STATUS_ORDER)],
                "description": f"{description} {translate(NO_STATUS)}",
            }
        elif column.key == "unconfirmed":
            schema = {
                "enum": ["", *(kind.value for kind in BASELINE_SOURCES)],
                "description": description,
            }
        properties[column.key] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": translate(N_("Voortgang progress table export")),
        "description": translate(
            N_("One record per activity of a reporting period, in the columns it describes.")
        ),
        "type": "object",
        "required": ["programme", "period", "generated_at", "columns", "activities"],
        "properties": {
            "$schema": {"type": "string"},
            "programme": {
                "type": "object",
                "required": ["slug", "name"],
                "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
            },
            "period": {
                "type": "object",
                "required": ["id", "name", "state", "published", "reference_date"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "state": {"enum": [state.value for state in PeriodState]},
                    "published": {"type": "boolean"},
                    "published_at": {"type": ["string", "null"], "format": "date-time"},
                    "reference_date": {"type": "string", "format": "date"},
                },
            },
            "generated_at": {"type": "string", "format": "date-time"},
            "language": {"enum": ["nl", "en"]},
            "filters": {
                "type": "object",
                "properties": {
                    "action_line": {"type": ["integer", "null"]},
                    "organisation": {"type": ["string", "null"]},
                    "statuses": {
                        "type": "array",
                        "items": {"enum": [status.value for status in STATUS_ORDER]},
                    },
                },
            },
            "columns": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "label", "type"],
                    "properties": {
                        "key": {"enum": [column.key for column in columns]},
                        "label": {"type": "string"},
                        "type": {"enum": sorted(_JSON_TYPES)},
                        "description": {"type": "string"},
                    },
                },
            },
            "activities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [column.key for column in columns],
                    "additionalProperties": False,
                    "properties": properties,
                },
            },
        },
    }


def columns_markdown() -> str:
    """The column list as the Markdown table in docs/exports.md (a test keeps them equal)."""
    lines = [
        "| key | header (nl / en) | type | editable | description |",
        "|---|---|---|---|---|",
    ]
    dutch, english = translations_for("nl"), translations_for("en")
    for column in COLUMNS:
        header = f"{dutch.gettext(column.label)} / {english.gettext(column.label)}"
        editable = "yes" if column.editable else ""
        lines.append(
            f"| `{column.key}` | {header} | {column.kind} | {editable} | {column.description} |"
        )
    return "\n".join(lines)
