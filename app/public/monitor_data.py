"""Open data of a published monitor edition: one record per figure as CSV (with W3C CSV on the
Web metadata, csv-metadata.json) and as JSON (with a JSON Schema). The same columns in both;
a value is never one bare number: its qualifier and its lower and upper bounds are columns of
their own, and `printed` is the value as the edition prints it (app/monitor/values.format_value,
Dutch). No author, version or source passage is in either.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from app.i18n import N_, gettext, translations_for
from app.monitor.models import Edition
from app.monitor.service import FigureRow
from app.monitor.values import Qualifier, Unit, format_value
from app.public.monitor_service import PublicEdition
from app.public.service import LICENCE_URL


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # msgid
    description: str  # msgid
    datatype: str  # CSVW: string, integer, decimal, boolean
    required: bool = False
    values: tuple[str, ...] = ()  # the allowed codes, for a code column


COLUMNS = (
    Column("key", N_("Key"), N_("The figure's key, stable within the edition."), "string", True),
    Column(
        "parent_key",
        N_("Part of"),
        N_("For a part of a breakdown: the key of the figure it is part of; else empty."),
        "string",
    ),
    Column("indicator_code", N_("Indicator code"), N_("The indicator's code."), "string", True),
    Column("indicator", N_("Indicator"), N_("The indicator's name, in Dutch."), "string", True),
    Column(
        "unit",
        N_("Unit"),
        N_("What is counted: count, persons, euro, percent or months."),
        "string",
        True,
        tuple(u.value for u in Unit),
    ),
    Column("year_from", N_("From year"), N_("The first year the figure covers."), "integer", True),
    Column("year_to", N_("To year"), N_("The last year the figure covers."), "integer", True),
    Column("area_code", N_("Area code"), N_("The area's key."), "string", True),
    Column(
        "area_official_code",
        N_("Official area code"),
        N_("The area's official code (CBS), where there is one."),
        "string",
    ),
    Column("area", N_("Area"), N_("The area's name, in Dutch."), "string", True),
    Column(
        "dimension",
        N_("Dimension"),
        N_("For a part: what the breakdown splits along."),
        "string",
    ),
    Column("category", N_("Category"), N_("For a part: its category, in Dutch."), "string"),
    Column(
        "dimension_en",
        N_("Dimension (English)"),
        N_("For a part: the dimension in English, where a translation is given."),
        "string",
    ),
    Column(
        "category_en",
        N_("Category (English)"),
        N_("For a part: its category in English, where a translation is given."),
        "string",
    ),
    Column(
        "qualifier",
        N_("Qualifier"),
        N_(
            "What kind of value it is: exact, at_least (a lower bound), at_most (an upper bound),"
            " range, unknown or suppressed."
        ),
        "string",
        True,
        tuple(q.value for q in Qualifier),
    ),
    Column(
        "low",
        N_("Lower bound"),
        N_("The lowest number the value allows (an exact value: the number itself)."),
        "decimal",
    ),
    Column(
        "high",
        N_("Upper bound"),
        N_("The highest number the value allows; empty for a lower bound (open-ended)."),
        "decimal",
    ),
    Column(
        "approximate", N_("Approximate"), N_("The source calls it approximate."), "boolean", True
    ),
    Column("estimate", N_("Estimate"), N_("The source calls it an estimate."), "boolean", True),
    Column(
        "breakdown_complete",
        N_("Breakdown complete"),
        N_("For a figure with parts: true when its parts add up to it, false when partial."),
        "boolean",
    ),
    Column(
        "printed",
        N_("As printed"),
        N_("The value as the edition prints it (Dutch number format)."),
        "string",
    ),
    Column(
        "footnotes",
        N_("Footnotes"),
        N_("The numbers of the figure's footnotes, separated by spaces."),
        "string",
    ),
    Column(
        "source_page",
        N_("Source page"),
        N_("The page of the source document the figure is on, where known."),
        "string",
    ),
)


def _number(amount: float | None) -> str | float | int | None:
    if amount is None:
        return None
    return int(amount) if float(amount).is_integer() else amount


def records(edition: PublicEdition) -> list[dict[str, Any]]:
    """One record per figure with a published value, in printed order (each total before its
    parts)."""
    found = []
    for top in edition.view.figures:
        for row in (top, *top.parts):
            if row.version is None:
                continue
            found.append(_record(row, top if row is not top else None))
    return found


def _record(row: FigureRow, parent: FigureRow | None) -> dict[str, Any]:
    version = row.version
    assert version is not None
    value = version.value
    return {
        "key": row.figure.key,
        "parent_key": parent.figure.key if parent else None,
        "indicator_code": row.indicator.code,
        "indicator": row.indicator.name_nl,
        "unit": row.indicator.unit.value,
        "year_from": row.figure.year_from,
        "year_to": row.figure.year_to,
        "area_code": row.area.code,
        "area_official_code": row.area.official_code,
        "area": row.area.name_nl,
        "dimension": row.figure.dimension,
        "category": row.figure.category,
        "dimension_en": row.figure.dimension_en,
        "category_en": row.figure.category_en,
        "qualifier": value.qualifier.value,
        "low": _number(value.low),
        "high": _number(value.high),
        "approximate": value.approximate,
        "estimate": value.estimate,
        "breakdown_complete": version.breakdown_complete,
        "printed": format_value(value, row.indicator.unit, "nl"),
        "footnotes": " ".join(str(n) for n in row.footnote_numbers) or None,
        "source_page": version.source_page,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # No spreadsheet runs a text as a formula (as the progress report's CSV).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_file(edition: PublicEdition) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.key for column in COLUMNS])
    for record in records(edition):
        writer.writerow([_cell(record[column.key]) for column in COLUMNS])
    return out.getvalue().encode("utf-8")


def translate(msgid: str, language: str) -> str:
    return translations_for(language).gettext(msgid)


def _both(msgid: str) -> dict[str, str]:
    return {"nl": translate(msgid, "nl"), "en": translate(msgid, "en")}


def csv_metadata(edition: PublicEdition, *, csv_url: str, page_url: str) -> dict[str, Any]:
    """The CSV's description in W3C CSV on the Web (Metadata Vocabulary for Tabular Data)."""
    e = edition.edition
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
        if column.key in ("low", "high"):
            described["dc:description"] = {
                lang: f"{text} ({_unit_note(lang)})"
                for lang, text in _both(column.description).items()
            }
        columns.append(described)
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "nl"}],
        "url": csv_url,
        "dc:title": e.title,
        "dc:publisher": edition.publisher,
        "dc:license": {"@id": LICENCE_URL},
        "dc:temporal": f"{e.covers_from}/{e.covers_to}",
        "dc:spatial": edition.area.name_nl,
        "dc:source": _source(e),
        "dc:isPartOf": {"@id": page_url},
        "dialect": {"header": True, "encoding": "utf-8", "delimiter": ","},
        "tableSchema": {
            "columns": columns,
            "primaryKey": "key",
        },
        "notes": [
            {
                "dc:identifier": str(note.number),
                "rdf:value": note.marker,
                # A natural-language property, tagged per language as the columns' titles.
                "dc:description": {
                    "nl": note.text,
                    **({"en": note.text_en} if note.text_en else {}),
                },
            }
            for note in edition.view.footnotes
        ],
    }


def _source(edition: Edition) -> str:
    """The source document by its title, and the files it was read from (provenance)."""
    if edition.source_files and edition.source_document:
        return f"{edition.source_document} ({edition.source_files})"
    return edition.source_document or edition.source_files


def _unit_note(language: str) -> str:
    return translate(N_("in the unit of the column unit; months for a duration"), language)


def json_file(edition: PublicEdition, *, schema_url: str) -> dict[str, Any]:
    e = edition.edition
    return {
        "$schema": schema_url,
        "edition": {
            "id": e.id,
            "title": e.title,
            "publisher": edition.publisher,
            "covers_from": e.covers_from,
            "covers_to": e.covers_to,
            "area": edition.area.name_nl,
            "licence": LICENCE_URL,
            "source_document": e.source_document,
            "source_files": e.source_files,
        },
        "footnotes": [
            {
                "number": note.number,
                "marker": note.marker,
                "text": note.text,
                "text_en": note.text_en,
            }
            for note in edition.view.footnotes
        ],
        "figures": records(edition),
        "chains": [
            {
                "key": chain.key,
                "title": chain.title,
                "caveat": chain.caveat,
                "title_en": chain.title_en,
                "caveat_en": chain.caveat_en,
                "steps": [row.figure.key for row in steps],
            }
            for chain, steps in edition.view.chains
        ],
    }


_JSON_TYPES = {"string": "string", "integer": "integer", "decimal": "number", "boolean": "boolean"}


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
        if column.values:
            prop["enum"] = list(column.values) + ([] if column.required else [None])
        properties[column.key] = prop
    figure = {
        "type": "object",
        "required": [column.key for column in COLUMNS],
        "additionalProperties": False,
        "properties": properties,
    }
    text = {"type": "string"}
    # The English beside the Dutch source text: null where no translation is given.
    optional_text = {"type": ["string", "null"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_url,
        "title": translate(N_("Key figures of a monitor edition"), language),
        "type": "object",
        "required": ["$schema", "edition", "footnotes", "figures", "chains"],
        "additionalProperties": False,
        "properties": {
            "$schema": text,
            "edition": {
                "type": "object",
                "required": ["id", "title", "publisher", "covers_from", "covers_to", "area"],
                "properties": {
                    "id": {"type": "integer"},
                    "title": text,
                    "publisher": text,
                    "covers_from": {"type": "integer"},
                    "covers_to": {"type": "integer"},
                    "area": text,
                    "licence": text,
                    "source_document": text,
                    "source_files": text,
                },
            },
            "footnotes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["number", "marker", "text"],
                    "properties": {
                        "number": {"type": "integer"},
                        "marker": text,
                        "text": text,
                        "text_en": optional_text,
                    },
                },
            },
            "figures": {"type": "array", "items": figure},
            "chains": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "title", "caveat", "steps"],
                    "properties": {
                        "key": text,
                        "title": text,
                        "caveat": text,
                        "title_en": optional_text,
                        "caveat_en": optional_text,
                        "steps": {"type": "array", "items": text},
                    },
                },
            },
        },
    }


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def labelled_columns() -> list[tuple[Column, str, str]]:
    """The columns with their label and description in the request's language (data page)."""
    return [(c, gettext(c.label), gettext(c.description)) for c in COLUMNS]
