"""Reading a bulk update: an XLSX, ODS or CSV file in the layout of an export (the export is
the template) into rows keyed by the column keys of `app.exports.columns`.

Headers are recognised by key or by label in Dutch or English, case-insensitively; the rows
keep the number the spreadsheet shows (the header on top is row 1). Nothing here touches the
database: what a row means is decided by `app.imports.service`.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from xml.etree.ElementTree import Element

from babel.numbers import format_decimal
from defusedxml.ElementTree import iterparse
from openpyxl import load_workbook

from app.activities.models import Status
from app.activities.presentation import STATUS_STYLES
from app.errors import InvalidInput
from app.exports.columns import COLUMNS
from app.i18n import LANGUAGES, get_language, gettext, translations_for

# The limits of one upload, documented in README.md ("Bulk update by spreadsheet").
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000

FORMATS = {".xlsx": "xlsx", ".ods": "ods", ".csv": "csv"}
FORMAT_NAMES = {"xlsx": "XLSX", "ods": "ODS", "csv": "CSV"}
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "csv": "text/csv",
}
# Without these the importer cannot tell which activity and which version a row is about,
# or what it should become.
REQUIRED = ("activity_id", "version", "status", "explanation")
# The header is looked for in the first rows of a sheet (an export puts it on top).
HEADER_SEARCH_ROWS = 10
# Cells the exports neutralise (so that no formula runs when the file is opened) start with
# an apostrophe followed by one of these.
NEUTRALISED = ("=", "+", "-", "@", "\t", "\r")

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class ImportFileError(InvalidInput):
    """The file cannot be read as a bulk update; the message says why and what to do."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # as the spreadsheet shows it
    values: dict[str, str]  # cell text by column key (recognised columns only)


@dataclass
class Sheet:
    format: str  # "xlsx", "ods" or "csv"
    # Column key → the header as the file writes it, with its letter: "Toelichting (K)".
    columns: dict[str, str]
    rows: list[SheetRow] = field(default_factory=list)


def detect_format(content: bytes, filename: str) -> str:
    """The file's format, from its name and checked against its first bytes."""
    name = PurePath(filename or "").name or gettext("The file")
    extension = PurePath(name).suffix.lower()
    if not content:
        raise ImportFileError(gettext("%(name)s is empty.") % {"name": name})
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(
            gettext(
                "%(name)s is %(size)s MB; at most %(max)s MB can be imported at once. Split it "
                "into smaller files, or leave out the rows that do not change."
            )
            % {
                "name": name,
                "size": format_decimal(
                    len(content) / 1024 / 1024, format="0.0", locale=get_language()
                ),
                "max": MAX_FILE_BYTES // 1024 // 1024,
            }
        )
    if content.startswith(OLE2_MAGIC):
        # Office keeps an encrypted XLSX (and an old .xls) in an OLE2 container; an
        # encrypted one has a stream called EncryptedPackage.
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise ImportFileError(
                gettext(
                    "%(name)s is protected with a password. Remove the password in your "
                    "spreadsheet program (save a copy without encryption) and upload that."
                )
                % {"name": name}
            )
        raise ImportFileError(
            gettext(
                "%(name)s is an old Excel file (.xls) or another Office document. Save it as "
                "an Excel workbook (.xlsx), ODS or CSV and upload that."
            )
            % {"name": name}
        )
    if extension not in FORMATS:
        raise ImportFileError(
            gettext(
                "%(name)s is not an XLSX, ODS or CSV file. Upload a spreadsheet in the layout "
                "of an export (.xlsx, .ods or .csv)."
            )
            % {"name": name}
        )
    wanted = FORMATS[extension]
    found = _zip_format(content, name) if content.startswith(ZIP_MAGIC) else None
    if wanted == "csv" and found is None and b"\x00" not in content[:4096]:
        return "csv"
    if found is not None and found != "csv" and wanted != "csv":
        return found  # an .ods that is really an .xlsx (or back) is read for what it is
    raise ImportFileError(
        gettext(
            "%(name)s is not a valid %(format)s file: it may be another kind of file that was "
            "renamed, or it is damaged. Save it again as %(format)s and upload that."
        )
        % {"name": name, "format": FORMAT_NAMES[wanted]}
    )


def _zip_format(content: bytes, name: str) -> str | None:
    """'xlsx' or 'ods' for a spreadsheet package; None for any other zip (or a broken one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
                manifest = (
                    archive.read("META-INF/manifest.xml")
                    if "META-INF/manifest.xml" in names
                    else b""
                )
                if b"encryption-data" in manifest:
                    raise ImportFileError(
                        gettext(
                            "%(name)s is protected with a password. Remove the password in "
                            "your spreadsheet program (save a copy without encryption) and "
                            "upload that."
                        )
                        % {"name": name}
                    )
                return "ods"
    except (zipfile.BadZipFile, OSError, KeyError, EOFError):
        return None
    return None


def read_sheet(content: bytes, filename: str, *, header_only: bool = False) -> Sheet:
    """The rows of a bulk update. With header_only, stop once the columns are known (a quick
    check while uploading; the rows are read by the job)."""
    file_format = detect_format(content, filename)
    name = PurePath(filename).name
    sheets = {"xlsx": _xlsx_sheets, "ods": _ods_sheets, "csv": _csv_sheets}[file_format]
    try:
        return _read(file_format, sheets(content), header_only=header_only)
    except ImportFileError:
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure means a damaged file
        raise ImportFileError(
            gettext(
                "%(name)s could not be read as %(format)s (%(error)s). Save it again as "
                "%(format)s and upload that."
            )
            % {"name": name, "format": FORMAT_NAMES[file_format], "error": type(error).__name__}
        ) from error


# A sheet as a reader yields it: its rows as (number, cells), cells as text.
RawRows = Iterator[tuple[int, list[str]]]


def _read(file_format: str, sheets: Iterable[RawRows], *, header_only: bool) -> Sheet:
    first_found: dict[int, str] | None = None
    for rows in sheets:
        header = _find_header(rows)
        if header is None:
            continue
        positions, header_cells = header
        if first_found is None:
            first_found = positions
        if any(key not in positions.values() for key in REQUIRED):
            continue
        sheet = Sheet(
            file_format,
            {
                key: f"{header_cells[index]} ({column_letter(index)})"
                for index, key in positions.items()
            },
        )
        if header_only:
            return sheet
        for number, cells in rows:
            values = {
                key: _restore(cells[index]) if index < len(cells) else ""
                for index, key in positions.items()
            }
            if not any(value.strip() for value in values.values()):
                continue
            if len(sheet.rows) >= MAX_ROWS:
                raise ImportFileError(
                    gettext(
                        "The file has more than %(max)s rows; at most %(max)s can be imported "
                        "at once. Split it into smaller files."
                    )
                    % {"max": format_decimal(MAX_ROWS, locale=get_language())}
                )
            sheet.rows.append(SheetRow(number, values))
        if not sheet.rows:
            raise ImportFileError(gettext("The file has no rows below the column headers."))
        return sheet
    missing = [key for key in REQUIRED if first_found is None or key not in first_found.values()]
    raise ImportFileError(
        gettext(
            "Columns missing: %(columns)s. Start from an export of this period: it has every "
            "column the import needs, with its header in the first row."
        )
        % {"columns": ", ".join(column_name(key) for key in missing)}
    )


def _header_names() -> dict[str, str]:
    """Every accepted header (lower case) → its column key."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        names[column.key.lower()] = column.key
        for language in LANGUAGES:
            names[_normalise(translations_for(language).gettext(column.label))] = column.key
    return names


def _find_header(rows: RawRows) -> tuple[dict[int, str], list[str]] | None:
    """The first row (of the first few) that names at least two known columns: the column
    positions and the header cells. Consumes the rows up to and including it."""
    names = _header_names()
    for _ in range(HEADER_SEARCH_ROWS):
        found = next(rows, None)
        if found is None:
            return None
        _, cells = found
        positions: dict[int, str] = {}
        for index, cell in enumerate(cells):
            key = names.get(_normalise(cell))
            if key is not None and key not in positions.values():
                positions[index] = key
        if len(positions) >= 2:
            return positions, [cell.strip() for cell in cells]
    return None


def column_name(key: str) -> str:
    """A column as a message names it: its label in the user's language and its key."""
    label = next(column.label for column in COLUMNS if column.key == key)
    return f"{gettext(label)} ({key})"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as a spreadsheet program shows it."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def _restore(text: str) -> str:
    """A cell as it was before the export neutralised it (a leading apostrophe keeps a
    spreadsheet from running it as a formula)."""
    if text.startswith("'") and text[1:2] in NEUTRALISED and len(text) > 1:
        return text[1:]
    return text


def cell_text(value: object) -> str:
    """A cell's value as text: whole numbers without a decimal point, dates in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# -- statuses and numbers ------------------------------------------------------------------


def _status_names() -> dict[str, Status]:
    names: dict[str, Status] = {}
    for status, style in STATUS_STYLES.items():
        names[status.value] = status
        names[status.value.replace("_", " ")] = status
        for language in LANGUAGES:
            names[_normalise(translations_for(language).gettext(style.label))] = status
    return names


def parse_status(text: str) -> Status | None:
    """A status cell: the code, or the label in Dutch or English, with or without its
    symbol in front ("✔ Voltooid"). None when it is none of these."""
    normalised = _normalise(text)
    for style in STATUS_STYLES.values():
        if normalised.startswith(style.symbol):
            normalised = normalised[len(style.symbol) :].strip()
            break
    return _status_names().get(normalised)


def parse_whole_number(text: str) -> int:
    """An id or a version: "12", also "12.0" as some programs write whole numbers."""
    cleaned = text.strip()
    try:
        return int(cleaned)
    except ValueError:
        number = float(cleaned)  # ValueError when it is no number at all
        if not number.is_integer():
            raise ValueError(cleaned) from None
        return int(number)


# -- readers: each yields its sheets, a sheet its rows as (row number, [cell text]) --------


def _xlsx_sheets(content: bytes) -> Iterator[RawRows]:
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        for worksheet in workbook.worksheets:
            # Files written by other programs may state wrong dimensions: read every cell.
            worksheet.reset_dimensions()
            yield (
                (number, [cell_text(value) for value in values])
                for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1)
            )
    finally:
        workbook.close()


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CELLS = (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell")


def _ods_sheets(content: bytes) -> Iterator[RawRows]:
    """ODS content.xml, streamed (a spreadsheet with thousands of rows is never held as a
    whole document tree); defusedxml refuses entity tricks."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("content.xml") as xml:
        events = iterparse(xml, events=("start", "end"))
        for event, element in events:
            if event == "start" and element.tag == f"{_TABLE}table":
                yield _ods_rows(events)


def _ods_rows(events: Iterator[tuple[str, Element]]) -> RawRows:
    number = 0
    cells: list[str] = []
    pending_empty = 0  # empty cells, written out only when a filled one follows
    for event, element in events:
        if event != "end":
            continue
        if element.tag in _CELLS:
            repeat = int(element.get(f"{_TABLE}number-columns-repeated", "1"))
            text = _ods_cell(element)
            if text:
                cells.extend([""] * pending_empty)
                pending_empty = 0
                cells.extend([text] * min(repeat, 1024))
            else:
                pending_empty += repeat
            element.clear()
        elif element.tag == f"{_TABLE}table-row":
            repeat = int(element.get(f"{_TABLE}number-rows-repeated", "1"))
            if any(cells):
                for _ in range(min(repeat, MAX_ROWS + 1)):
                    number += 1
                    yield number, list(cells)
            else:
                number += repeat  # empty rows (an ODS ends with a million of them)
            cells, pending_empty = [], 0
            element.clear()
        elif element.tag == f"{_TABLE}table":
            return


def _ods_cell(cell: Element) -> str:
    kind = cell.get(f"{_OFFICE}value-type")
    if kind in ("float", "percentage", "currency"):
        # Without office:value float() raises, and read_sheet reports a damaged file.
        return cell_text(float(cell.get(f"{_OFFICE}value")))  # type: ignore[arg-type]
    if kind == "date":
        return cell.get(f"{_OFFICE}date-value", "")
    if kind == "boolean":
        return "TRUE" if cell.get(f"{_OFFICE}boolean-value") == "true" else "FALSE"
    # Text: one paragraph per line (comments, office:annotation, are left out).
    return "\n".join(_ods_text(child) for child in cell if child.tag in (f"{_TEXT}p", f"{_TEXT}h"))


def _ods_text(element: Element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{_TEXT}s":
            parts.append(" " * int(child.get(f"{_TEXT}c", "1")))
        elif child.tag == f"{_TEXT}tab":
            parts.append("\t")
        elif child.tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif child.tag != f"{_OFFICE}annotation":
            parts.append(_ods_text(child))  # spans, links
        parts.append(child.tail or "")
    return "".join(parts)


_LINE_END = re.compile(r"\r\n?|\n")


def _csv_sheets(content: bytes) -> Iterator[RawRows]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            gettext(
                "The CSV file is not UTF-8 text. Save it as CSV UTF-8 (in Excel: 'CSV UTF-8 "
                "(comma delimited)') and upload it again."
            )
        ) from None
    first_line = _LINE_END.split(text, maxsplit=1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    yield ((number, row) for number, row in enumerate(reader, start=1))
