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
    # What the column holds, an English msgid: the open data's page, JSON and JSON Schema say
    # it in the reader's language, docs/exports.md in English.
    description: str
    editable: bool = False


COLUMNS: tuple[Column, ...] = (
    Column(
        "activity_id",
        N_("Activity id"),
        "integer",
        N_("Internal id of the activity (do not change)."),
    ),
    Column(
        "version",
        N_("Version"),
        "integer",
        N_("Version of the status this row was exported from (do not change)."),
    ),
    Column("action_line", N_("Action line"), "integer", N_("Number of the action line.")),
    Column("action_line_title", N_("Action line title"), "text", N_("Title of the action line.")),
    Column("theme", N_("Theme"), "text", N_("Theme within the action line.")),
    Column(
        "result_number",
        N_("Result no."),
        "integer",
        N_("Number of the result (unique in the programme)."),
    ),
    Column("result", N_("Result"), "text", N_("The result (objective).")),
    Column(
        "activity_label",
        N_("Activity no."),
        "text",
        N_("The activity's number within its result, as printed."),
    ),
    Column("activity", N_("Activity"), "text", N_("The activity or product.")),
    Column(
        "status",
        N_("Status"),
        "text",
        N_(
            "The state of affairs. In CSV and JSON the code (completed, ongoing, on_schedule, "
            "delayed, not_started, in_consultation, not_applicable); in XLSX and ODS the "
            "legend's label in the export's language. The importer accepts either, in Dutch "
            "or English."
        ),
        editable=True,
    ),
    Column(
        "explanation",
        N_("Explanation"),
        "text",
        N_("Explanation of the state of affairs."),
        editable=True,
    ),
    Column(
        "unconfirmed",
        N_("Not confirmed"),
        "text",
        N_(
            "Whether the status was not stated for this report: empty when the organisation "
            "entered, changed or confirmed it; carried_over when it was carried over unchanged "
            "from the previous report and not updated or confirmed; derived when it was "
            "derived from the explanation and not confirmed. In CSV and JSON the code; in XLSX "
            "and ODS a mark in the export's language. The importer ignores this column."
        ),
    ),
    Column(
        "organisations",
        N_("Organisations"),
        "text",
        N_("Organisation codes; the lead marked as such."),
    ),
    Column(
        "last_change",
        N_("Last change"),
        "datetime",
        N_("When the shown version was saved (ISO 8601, UTC)."),
    ),
)

KEYS = tuple(column.key for column in COLUMNS)

# The open data of the public site: the version number and the time of saving describe the
# internal editing (how often a text was changed, and when), not the published report.
PUBLIC_COLUMNS = tuple(column for column in COLUMNS if column.key not in ("version", "last_change"))
