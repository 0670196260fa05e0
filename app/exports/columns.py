"""The columns of the spreadsheet and open-data exports (XLSX, ODS, CSV, JSON): one row per
activity. An export is also the template for a bulk update: the importer reads the same
columns back (by key, or by the label in either language), and changes only `status` and
`explanation`; `activity_id` and `version` say which activity and which version the row was
exported from, so a change made since the export is detected.

This is the one home of the column list; docs and the JSON Schema are generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_


@dataclass(frozen=True)
class Column:
    key: str  # stable, English: CSV header, JSON property
    label: str  # msgid: the spreadsheet header in the export's language
    kind: str  # "integer", "text", "datetime"
    description: str  # for the documentation and the JSON Schema (English)
    editable: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "activity_id", N_("Activity id"), "integer", "Internal id of the activity (do not change)."
    ),
    Column(
        "version",
        N_("Version"),
        "integer",
        "Version of the status this row was exported from (do not change).",
    ),
    Column("action_line", N_("Action line"), "integer", "Number of the action line."),
    Column("action_line_title", N_("Action line title"), "text", "Title of the action line."),
    Column("theme", N_("Theme"), "text", "Theme within the action line."),
    Column(
        "result_number",
        N_("Result no."),
        "integer",
        "Number of the result (unique in the programme).",
    ),
    Column("result", N_("Result"), "text", "The result (objective)."),
    Column(
        "activity_label",
        N_("Activity no."),
        "text",
        "The activity's number within its result, as printed.",
    ),
    Column("activity", N_("Activity"), "text", "The activity or product."),
    Column(
        "status",
        N_("Status"),
        "text",
        "The state of affairs. In CSV and JSON the code (completed, ongoing, on_schedule, "
        "delayed, not_started, in_consultation, not_applicable); in XLSX and ODS the legend's "
        "label in the export's language. The importer accepts either, in Dutch or English.",
        editable=True,
    ),
    Column(
        "explanation",
        N_("Explanation"),
        "text",
        "Explanation of the state of affairs.",
        editable=True,
    ),
    Column(
        "organisations", N_("Organisations"), "text", "Organisation codes; the lead marked as such."
    ),
    Column(
        "last_change",
        N_("Last change"),
        "datetime",
        "When the shown version was saved (ISO 8601, UTC).",
    ),
)

KEYS = tuple(column.key for column in COLUMNS)

# The open data of the public site: the version number and the time of saving describe the
# internal editing (how often a text was changed, and when), not the published report.
PUBLIC_COLUMNS = tuple(column for column in COLUMNS if column.key not in ("version", "last_change"))
