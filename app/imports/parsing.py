"""Reading a bulk update: an XLSX, ODS or CSV file in the layout of an export (the export is
the template) into rows keyed by the column keys of `app.exports.columns`.

Headers are recognised by key or by label in Dutch or English, case-insensitively; the rows
keep the number the spreadsheet shows (the header on top is row 1). Nothing here touches the
database: what a row means is decided by `app.imports.service`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import posixpath
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from xml.parsers import expat

from babel.numbers import format_decimal
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel

from app.activities.models import Status
from app.activities.presentation import STATUS_STYLES
from app.activities.service import MAX_EXPLANATION_LENGTH
from app.errors import InvalidInput
from app.exports.columns import COLUMNS
from app.i18n import LANGUAGES, get_language, gettext, translations_for
from app.text import FORMULA_TRIGGERS, control_character_problem

# The limits of one upload, documented in README.md ("Bulk update by spreadsheet") and
# docs/imports.md. A file within them is read with the memory of its rows, not of its size
# unpacked: tests/test_import_bombs.py measures it.
MAX_FILE_BYTES = 5 * 1024 * 1024
# A programme has some 130 activities and a file one row for each: a few times the largest is
# plenty, and keeps the preview (every row checked, stored and shown) small.
MAX_ROWS = 2_000
# XLSX and ODS are zip packages: together their members unpack to at most this, and no member
# larger than MIN_RATIO_CHECKED_BYTES unpacked to more than MAX_RATIO times its packed size (a
# spreadsheet's XML packs 5 to 20 times; a zip bomb a thousand).
MAX_UNPACKED_BYTES = 5 * MAX_FILE_BYTES
MAX_RATIO = 100
MIN_RATIO_CHECKED_BYTES = 1024 * 1024
# A cell: twice the longest text one may hold (an explanation), which leaves room for the
# line breaks as CRLF, the apostrophe of a neutralised cell and the spaces the importer takes
# off; a row: every cell together.
MAX_CELL_LENGTH = 2 * MAX_EXPLANATION_LENGTH
MAX_ROW_LENGTH = 100_000
MAX_COLUMNS = 1024
# The text of the columns the import reads, over all rows (as UTF-8): at most what a CSV file
# of the largest size holds, whichever format it comes in (a shared string, or an ODS row
# repeated, can be used many times over).
MAX_TEXT_BYTES = MAX_FILE_BYTES
# How the members are read, and the longest piece of markup (a tag with its attributes, a
# comment) the XML parser is given to hold whole.
CHUNK_BYTES = 64 * 1024
MAX_TOKEN_BYTES = 1024 * 1024
# A zip's directory, checked in its end record before zipfile reads it (zipfile holds the whole
# directory and an object per member): an XLSX or ODS has some tens of members, listed in a few
# kilobytes.
MAX_MEMBERS = 1_000
MAX_DIRECTORY_BYTES = 256 * 1024

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


@dataclass(frozen=True)
class Layout:
    """The columns a kind of import reads: each key with its label (a msgid, recognised in
    every language), and the keys without which a sheet is not one of its files."""

    labels: tuple[tuple[str, str], ...]
    required: tuple[str, ...]

    def label(self, key: str) -> str:
        return next(label for known, label in self.labels if known == key)


# The bulk update of statuses: the columns of a progress export.
STATUS_LAYOUT = Layout(tuple((column.key, column.label) for column in COLUMNS), REQUIRED)

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
        package = Package(content, name)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError):
        return None
    try:
        names = package.names
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "mimetype" in names and package.read("mimetype").strip() == ODS_MIMETYPE:
            manifest = (
                package.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
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
    finally:
        package.close()
    return None


def read_sheet(
    content: bytes, filename: str, *, header_only: bool = False, layout: Layout = STATUS_LAYOUT
) -> Sheet:
    """The rows of a bulk update (or of another `layout`: a monitor's figure sheet). With
    header_only, stop once the columns are known (a quick check while uploading; the rows are
    read by the job)."""
    file_format = detect_format(content, filename)
    name = PurePath(filename).name
    sheets = {"xlsx": _xlsx_sheets, "ods": _ods_sheets, "csv": _csv_sheets}[file_format]
    try:
        return _read(file_format, sheets(content, name), header_only=header_only, layout=layout)
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


def _read(
    file_format: str, sheets: Iterable[RawRows], *, header_only: bool, layout: Layout
) -> Sheet:
    first_found: dict[int, str] | None = None
    for rows in sheets:
        header = _find_header(rows, layout)
        if header is None:
            continue
        positions, header_cells = header
        if first_found is None:
            first_found = positions
        if any(key not in positions.values() for key in layout.required):
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
        text_bytes = 0
        rows_found = 0  # with content, also beyond MAX_ROWS (counted, not kept)
        for number, cells in rows:
            if rows_found >= MAX_ROWS:
                if any(cell.strip() for cell in cells):
                    rows_found += 1
                continue
            values = {
                key: _restore(cells[index]) if index < len(cells) else ""
                for index, key in positions.items()
            }
            if not any(value.strip() for value in values.values()):
                continue
            _refuse_control_characters(sheet, number, values)
            text_bytes += sum(len(value.encode()) for value in values.values())
            if text_bytes > MAX_TEXT_BYTES:
                raise ImportFileError(
                    gettext(
                        "The columns the import reads hold more than %(max)s MB of text "
                        "together; at most %(max)s MB can be imported at once, in any format. "
                        "Split the file into smaller files."
                    )
                    % {"max": MAX_TEXT_BYTES // 1024 // 1024}
                )
            rows_found += 1
            sheet.rows.append(SheetRow(number, values))
        if rows_found > MAX_ROWS:
            raise ImportFileError(
                gettext(
                    "The file has %(count)s rows with content; at most %(max)s can be imported "
                    "at once (a row per activity). Leave out the rows of other programmes, or "
                    "split the file into smaller files."
                )
                % {
                    "count": format_decimal(rows_found, locale=get_language()),
                    "max": format_decimal(MAX_ROWS, locale=get_language()),
                }
            )
        if not sheet.rows:
            raise ImportFileError(gettext("The file has no rows below the column headers."))
        return sheet
    missing = [
        key for key in layout.required if first_found is None or key not in first_found.values()
    ]
    raise ImportFileError(
        gettext(
            "Columns missing: %(columns)s. Start from an export of this period: it has every "
            "column the import needs, with its header in the first row."
        )
        % {"columns": ", ".join(column_name(key, layout) for key in missing)}
    )


def _refuse_control_characters(sheet: Sheet, number: int, values: dict[str, str]) -> None:
    """No text the import uses may hold a control character (see app/text.py): the file is
    refused with the first cell that does."""
    for key, value in values.items():
        problem = control_character_problem(value)
        if problem is not None:
            raise ImportFileError(
                gettext("Row %(row)s, column %(column)s: %(problem)s")
                % {"row": number, "column": sheet.columns[key], "problem": problem}
            )


def _header_names(layout: Layout = STATUS_LAYOUT) -> dict[str, str]:
    """Every accepted header (lower case) → its column key."""
    names: dict[str, str] = {}
    for key, label in layout.labels:
        names[key.lower()] = key
        for language in LANGUAGES:
            names[_normalise(translations_for(language).gettext(label))] = key
    return names


def _find_header(rows: RawRows, layout: Layout) -> tuple[dict[int, str], list[str]] | None:
    """The first row (of the first few) that names at least two known columns: the column
    positions and the header cells. Consumes the rows up to and including it."""
    names = _header_names(layout)
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
            # As the messages name a column: whitespace (control characters among it) as spaces.
            return positions, [" ".join(cell.split()) for cell in cells]
    return None


def column_name(key: str, layout: Layout = STATUS_LAYOUT) -> str:
    """A column as a message names it: its label in the user's language and its key."""
    return f"{gettext(layout.label(key))} ({key})"


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
    if text.startswith("'") and text[1:2] in FORMULA_TRIGGERS and len(text) > 1:
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


# -- unpacking within limits: the zip packages (XLSX, ODS) and their XML ----------------------


class Package:
    """An XLSX or ODS file (a zip package) whose members are read within the limits.

    The directory is checked first (what the members say they unpack to, and how tightly
    they are packed), and again while reading: each member is read in chunks and counted, so
    a member that unpacks to more than it says, or more than the limits, is refused after at
    most one chunk too many (zipfile itself also stops at the size the directory states)."""

    def __init__(self, content: bytes, name: str) -> None:
        self.name = name
        _check_directory(content, name)
        self.archive = zipfile.ZipFile(io.BytesIO(content))
        self.unpacked = 0  # bytes unpacked so far, over every member read
        infos = self.archive.infolist()
        if len(infos) > MAX_MEMBERS:  # the end record said fewer than its directory holds
            raise _too_many_members(name, len(infos))
        if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise self._too_big()
        for info in infos:
            if self._too_tight(info.file_size, info.compress_size):
                raise self._packed_tightly(info.filename)

    @property
    def names(self) -> set[str]:
        return set(self.archive.namelist())

    def chunks(self, member: str) -> Iterator[bytes]:
        """A member's content, unpacked a chunk at a time within the limits."""
        info = self.archive.getinfo(member)
        read = 0
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    read += len(chunk)
                    self.unpacked += len(chunk)
                    if read > info.file_size:
                        raise self._damaged(member)
                    if self.unpacked > MAX_UNPACKED_BYTES:
                        raise self._too_big()
                    if self._too_tight(read, info.compress_size):
                        raise self._packed_tightly(member)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError):
            # A wrong checksum: the member holds other data than the directory says.
            raise self._damaged(member) from None

    def read(self, member: str) -> bytes:
        return b"".join(self.chunks(member))

    def close(self) -> None:
        self.archive.close()

    @staticmethod
    def _too_tight(unpacked: int, packed: int) -> bool:
        return unpacked > MIN_RATIO_CHECKED_BYTES and unpacked > MAX_RATIO * max(packed, 1)

    def _too_big(self) -> ImportFileError:
        return ImportFileError(
            gettext(
                "%(name)s unpacks to more than %(max)s MB of spreadsheet data; at most %(max)s "
                "MB can be imported at once. Split it into smaller files, or leave out the rows "
                "and sheets that the import does not need."
            )
            % {"name": self.name, "max": MAX_UNPACKED_BYTES // 1024 // 1024}
        )

    def _packed_tightly(self, member: str) -> ImportFileError:
        return ImportFileError(
            gettext(
                "%(name)s is not read: its part %(part)s unpacks to more than %(ratio)s times "
                "its packed size, which a spreadsheet program does not write. Save the file "
                "again in your spreadsheet program and upload that."
            )
            % {"name": self.name, "part": member, "ratio": MAX_RATIO}
        )

    def _damaged(self, member: str) -> ImportFileError:
        return ImportFileError(
            gettext(
                "%(name)s is damaged: its part %(part)s holds other data than the file's "
                "directory says. Save the file again in your spreadsheet program and upload "
                "that."
            )
            % {"name": self.name, "part": member}
        )


_END_RECORD = struct.Struct("<4s4H2LH")  # the zip's end of central directory record
_END_RECORD_64 = struct.Struct("<4sQ2H2L4Q")  # its Zip64 form
_LOCATOR_64 = struct.Struct("<4sLQL")  # where the Zip64 record is


def _check_directory(content: bytes, name: str) -> None:
    """Refuse a zip whose directory lists more members, or takes more bytes, than a
    spreadsheet's does, from its end record: found as zipfile finds it (at the end, or before
    a comment of at most 64 KB; the Zip64 record just before it when its locator is there),
    before zipfile reads the directory and makes an object of every member. Anything else
    that is wrong is left to zipfile, which refuses it as not a zip."""
    search_from = max(len(content) - 0xFFFF - _END_RECORD.size, 0)
    start = content.rfind(b"PK\x05\x06", search_from)
    if start < 0 or start + _END_RECORD.size > len(content):
        return
    *_, members, directory_bytes, _, _ = _END_RECORD.unpack_from(content, start)
    locator = start - _LOCATOR_64.size
    record = locator - _END_RECORD_64.size
    if record >= 0 and content[locator : locator + 4] == b"PK\x06\x07":
        fields = _END_RECORD_64.unpack_from(content, record)
        if fields[0] == b"PK\x06\x06":
            members, directory_bytes = fields[7], fields[8]
    if members > MAX_MEMBERS:
        raise _too_many_members(name, members)
    if directory_bytes > MAX_DIRECTORY_BYTES:
        raise ImportFileError(
            gettext(
                "%(name)s is not read: its directory takes %(size)s kB, a spreadsheet's a few "
                "kB (at most %(max)s kB is read). Save the file again in your spreadsheet "
                "program and upload that."
            )
            % {
                "name": name,
                "size": format_decimal(directory_bytes // 1024, locale=get_language()),
                "max": MAX_DIRECTORY_BYTES // 1024,
            }
        )


def _too_many_members(name: str, members: int) -> ImportFileError:
    return ImportFileError(
        gettext(
            "%(name)s is not read: it is a package of %(count)s parts, a spreadsheet has some "
            "tens (at most %(max)s are read). Save the file again in your spreadsheet program "
            "and upload that."
        )
        % {
            "name": name,
            "count": format_decimal(members, locale=get_language()),
            "max": format_decimal(MAX_MEMBERS, locale=get_language()),
        }
    )


# What the XML readers see of a document: (START, tag, attributes), (END, tag, None) and
# (TEXT, text, None), with tags and attribute names as "namespace localname".
START, END, TEXT = 0, 1, 2
XmlEvent = tuple[int, str, dict[str, str] | None]


def _xml_events(chunks: Iterable[bytes]) -> Iterator[XmlEvent]:
    """A document's events, parsed a chunk at a time (expat, fed by the caller's pace): text
    arrives in pieces, so a reader can stop at a cell that is too long without holding it.
    A document type declaration (where entity tricks live; XLSX and ODS never have one) is
    refused, and so is one piece of markup (a tag, a comment) longer than MAX_TOKEN_BYTES,
    which expat would otherwise hold whole."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    events: list[XmlEvent] = []

    def refuse_doctype(*_: object) -> None:
        raise ValueError("a document type declaration")

    def mark(*_: object) -> None:
        events.append((TEXT, "", None))  # progress, for the markup length check below

    parser.StartElementHandler = lambda tag, attributes: events.append((START, tag, attributes))
    parser.EndElementHandler = lambda tag: events.append((END, tag, None))
    parser.CharacterDataHandler = lambda text: events.append((TEXT, text, None))
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.CommentHandler = mark
    parser.ProcessingInstructionHandler = mark
    without_events = 0
    for chunk in chunks:
        parser.Parse(chunk, False)
        if events:
            without_events = 0
            yield from events
            events.clear()
        else:
            without_events += len(chunk)
            if without_events > MAX_TOKEN_BYTES:
                raise ValueError("markup longer than MAX_TOKEN_BYTES")
    parser.Parse(b"", True)
    yield from events


def _local(tag: str) -> str:
    return tag.rpartition(" ")[2]


def _attribute(attributes: dict[str, str] | None, name: str, default: str = "") -> str:
    """An attribute by its local name, whatever its namespace."""
    for key, value in (attributes or {}).items():
        if _local(key) == name:
            return value
    return default


class _TextBuffer:
    """A cell's text as it arrives, refused as soon as it is longer than a cell may be."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str, where: Callable[[], str]) -> None:
        self.length += len(text)
        if self.length > MAX_CELL_LENGTH:
            raise _cell_too_long(where())
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


class _RowLength:
    """A row's cells together, and how far to the right they go, as they are read."""

    def __init__(self, sheet: str | None, number: int) -> None:
        self.sheet, self.number, self.length = sheet, number, 0

    def add(self, text: str, column: int) -> None:
        """A filled cell (column from 0)."""
        if column >= MAX_COLUMNS:
            raise ImportFileError(
                gettext(
                    "In %(where)s a cell beyond column %(column)s is filled; at most %(max)s "
                    "columns are read. Remove those cells and upload the file again."
                )
                % {
                    "where": _where(self.sheet, self.number),
                    "column": column_letter(MAX_COLUMNS - 1),
                    "max": format_decimal(MAX_COLUMNS, locale=get_language()),
                }
            )
        self.length += len(text)
        if self.length > MAX_ROW_LENGTH:
            raise ImportFileError(
                gettext(
                    "In %(where)s the row holds more than %(max)s characters in all. Remove "
                    "the columns the import does not need and upload the file again."
                )
                % {
                    "where": _where(self.sheet, self.number),
                    "max": format_decimal(MAX_ROW_LENGTH, locale=get_language()),
                }
            )


def _where(sheet: str | None, row: int, column: int | None = None) -> str:
    """A place in the file as a message names it: sheet (not in a CSV), row, column letter."""
    if sheet is None:
        if column is None:
            return gettext("row %(row)s") % {"row": row}
        return gettext("row %(row)s, column %(column)s") % {
            "row": row,
            "column": column_letter(column),
        }
    if column is None:
        return gettext("sheet '%(sheet)s', row %(row)s") % {"sheet": sheet, "row": row}
    return gettext("sheet '%(sheet)s', row %(row)s, column %(column)s") % {
        "sheet": sheet,
        "row": row,
        "column": column_letter(column),
    }


def _cell_too_long(where: str) -> ImportFileError:
    return ImportFileError(
        gettext(
            "In %(where)s the cell holds more than %(max)s characters; an explanation has at "
            "most %(explanation)s. Shorten it and upload the file again."
        )
        % {
            "where": where,
            "max": format_decimal(MAX_CELL_LENGTH, locale=get_language()),
            "explanation": format_decimal(MAX_EXPLANATION_LENGTH, locale=get_language()),
        }
    )


# -- readers: each yields its sheets, a sheet its rows as (row number, [cell text]) --------

_COORDINATE = re.compile(r"([A-Za-z]{1,3})(\d+)")


def _xlsx_sheets(content: bytes, name: str) -> Iterator[RawRows]:
    """The sheets of a workbook, read from its XML as it streams (SpreadsheetML, any
    namespace: the transitional one of Excel and LibreOffice, the strict one)."""
    package = Package(content, name)
    try:
        names = package.names
        workbook_sheets: list[tuple[str, str]] = []  # (name, relationship id)
        epoch = WINDOWS_EPOCH
        for kind, tag, attributes in _xml_events(package.chunks("xl/workbook.xml")):
            if kind != START:
                continue
            if _local(tag) == "sheet":
                workbook_sheets.append(
                    (_attribute(attributes, "name"), _attribute(attributes, "id"))
                )
            elif _local(tag) == "workbookPr" and _attribute(attributes, "date1904") in (
                "1",
                "true",
            ):
                epoch = CALENDAR_MAC_1904
        targets: dict[str, str] = {}  # relationship id → member
        kinds: dict[str, str] = {}  # relationship type (its last part) → member
        if "xl/_rels/workbook.xml.rels" in names:
            for kind, tag, attributes in _xml_events(package.chunks("xl/_rels/workbook.xml.rels")):
                if kind == START and _local(tag) == "Relationship":
                    target = _attribute(attributes, "Target")
                    member = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join("xl", target))
                    )
                    targets[_attribute(attributes, "Id")] = member
                    kinds[_attribute(attributes, "Type").rpartition("/")[2]] = member
        styles = kinds.get("styles", "xl/styles.xml")
        dates = _xlsx_date_styles(package, styles) if styles in names else set()
        strings_member = kinds.get("sharedStrings", "xl/sharedStrings.xml")
        strings = (
            _SharedStrings(package, strings_member) if strings_member in names else _SharedStrings()
        )
        for sheet_name, relationship in workbook_sheets:
            member = targets.get(relationship, "")
            if member in names:
                yield _xlsx_rows(package, member, sheet_name, strings, dates, epoch)
    finally:
        package.close()


def _xlsx_date_styles(package: Package, member: str) -> set[int]:
    """The cell styles (their index in cellXfs) whose number format shows a date."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    in_cell_formats = False
    for kind, tag, attributes in _xml_events(package.chunks(member)):
        local = _local(tag) if kind != TEXT else ""
        if kind == START and local == "numFmt":
            custom[int(_attribute(attributes, "numFmtId", "0"))] = _attribute(
                attributes, "formatCode"
            )
        elif local == "cellXfs":
            in_cell_formats = kind == START
        elif kind == START and local == "xf" and in_cell_formats:
            formats.append(int(_attribute(attributes, "numFmtId", "0")))
    return {
        index
        for index, format_id in enumerate(formats)
        if is_date_format(custom.get(format_id) or BUILTIN_FORMATS.get(format_id))
    }


class _SharedStrings:
    """The shared string table, kept packed (UTF-8 in one buffer, with where each string
    ends), so that a table of a million tiny strings costs what its text does. A string
    longer than a cell may be is not kept: it is refused where a cell uses it."""

    def __init__(self, package: Package | None = None, member: str = "") -> None:
        self.data = bytearray()
        self.ends = array("L")
        self.too_long: set[int] = set()
        if package is None:
            return
        text = _TextBuffer()
        collecting = False  # inside <t>, not inside <rPh> (a phonetic reading, no content)
        phonetic = 0
        for kind, tag, _ in _xml_events(package.chunks(member)):
            if kind == TEXT:
                if collecting and not phonetic and len(self.ends) not in self.too_long:
                    if text.length + len(tag) > MAX_CELL_LENGTH:
                        self.too_long.add(len(self.ends))
                    else:
                        text.length += len(tag)
                        text.parts.append(tag)
                continue
            local = _local(tag)
            if local == "t":
                collecting = kind == START
            elif local == "rPh":
                phonetic += 1 if kind == START else -1
            elif local == "si" and kind == START:
                text = _TextBuffer()
            elif local == "si":
                self.data += text.text().encode()
                self.ends.append(len(self.data))

    def get(self, index: int, where: Callable[[], str]) -> str:
        if index in self.too_long:
            raise _cell_too_long(where())
        start = self.ends[index - 1] if index else 0
        return self.data[start : self.ends[index]].decode()


def _xlsx_rows(
    package: Package,
    member: str,
    sheet: str,
    strings: _SharedStrings,
    dates: set[int],
    epoch: datetime,
) -> RawRows:
    number = 0
    cells: list[str] = []
    row = _RowLength(sheet, number)
    column = -1  # of the cell being read, from 0
    cell_type, style = "n", 0
    value = _TextBuffer()  # the text of <v>, or of an inline string's <t>s
    collecting = False
    phonetic = 0

    def where() -> str:
        return _where(sheet, number, column)

    for kind, tag, attributes in _xml_events(package.chunks(member)):
        if kind == TEXT:
            if collecting and not phonetic:
                value.add(tag, where)
            continue
        local = _local(tag)
        if local == "c" and kind == START:
            found = _COORDINATE.fullmatch(_attribute(attributes, "r"))
            column = column_index_from_string(found.group(1)) - 1 if found else column + 1
            cell_type = _attribute(attributes, "t", "n")
            style = int(_attribute(attributes, "s", "0"))
            value = _TextBuffer()
        elif local == "c":
            text = _xlsx_value(value.text(), cell_type, style, dates, epoch, strings, where)
            if text:
                row.add(text, column)
                cells.extend([""] * (column + 1 - len(cells)))
                cells[column] = text  # by its reference, as openpyxl places it
        elif local == ("t" if cell_type == "inlineStr" else "v"):
            collecting = kind == START
        elif local == "rPh":
            phonetic += 1 if kind == START else -1
        elif local == "row" and kind == START:
            number = int(_attribute(attributes, "r") or number + 1)
            cells, row, column = [], _RowLength(sheet, number), -1
        elif local == "row" and any(cells):
            yield number, cells


def _xlsx_value(
    text: str,
    cell_type: str,
    style: int,
    dates: set[int],
    epoch: datetime,
    strings: _SharedStrings,
    where: Callable[[], str],
) -> str:
    """A cell's value as the text the importer reads, as openpyxl gives it in data-only mode
    (the cached result of a formula; a date as a date where the cell's format shows one)."""
    if not text:
        return ""
    if cell_type == "s":
        return strings.get(int(text), where)
    if cell_type == "b":
        return cell_text(bool(int(text)))
    if cell_type != "n":
        return text
    number: int | float = float(text) if any(mark in text for mark in ".Ee") else int(text)
    if style in dates:
        try:
            return cell_text(from_excel(number, epoch))
        except (OverflowError, ValueError):
            return "#VALUE!"
    return cell_text(number)


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_CELLS = (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell")
_PARAGRAPHS = (f"{_TEXT}p", f"{_TEXT}h")


def _ods_sheets(content: bytes, name: str) -> Iterator[RawRows]:
    """ODS content.xml, streamed: a sheet with thousands of rows is never held as a whole,
    nor is a cell longer than a cell may be."""
    package = Package(content, name)
    try:
        events = _xml_events(package.chunks("content.xml"))
        for kind, tag, attributes in events:
            if kind == START and tag == f"{_TABLE}table":
                yield _ods_rows(events, _attribute(attributes, "name"))
    finally:
        package.close()


def _ods_rows(events: Iterator[XmlEvent], sheet: str) -> RawRows:
    number = 0  # of the last row read
    cells: list[str] = []
    row = _RowLength(sheet, 1)
    column = 0  # where the next cell goes, from 0
    rows_repeated = columns_repeated = 1
    value = _TextBuffer()
    cell_value: str | None = None  # a typed cell's value (number, date, boolean)
    paragraphs = 0  # in the cell so far: paragraphs are lines
    depth = 0  # elements open inside the cell's paragraphs
    annotation = 0  # inside a comment, which is no content

    def where() -> str:
        return _where(sheet, number + 1, column)

    for kind, tag, attributes in events:
        if kind == TEXT:
            if depth and not annotation:
                value.add(tag, where)
            continue
        if tag in _CELLS and kind == START:
            columns_repeated = int(_attribute(attributes, "number-columns-repeated", "1"))
            cell_value = _ods_value(attributes)
            value, paragraphs, depth, annotation = _TextBuffer(), 0, 0, 0
        elif tag in _CELLS:
            text = cell_value if cell_value is not None else value.text()
            if text:
                for _ in range(min(columns_repeated, MAX_COLUMNS + 1)):
                    row.add(text, column)
                    cells.extend([""] * (column - len(cells)))
                    cells.append(text)
                    column += 1
            else:
                column += columns_repeated  # empty cells (a row ends with a thousand of them)
        elif tag == f"{_OFFICE}annotation":
            annotation += 1 if kind == START else -1
        elif annotation:
            continue
        elif tag in _PARAGRAPHS and depth == 0 and kind == START:
            if paragraphs:
                value.add("\n", where)
            paragraphs += 1
            depth = 1
        elif depth and kind == START:
            depth += 1
            local = tag.removeprefix(_TEXT)
            if local == "s":
                # Spaces: counted, not made, until they fit in a cell.
                spaces = int(_attribute(attributes, "c", "1"))
                value.add(" " * min(spaces, MAX_CELL_LENGTH + 1), where)
            elif local == "tab":
                value.add("\t", where)
            elif local == "line-break":
                value.add("\n", where)
        elif depth and kind == END:
            depth -= 1
        elif tag == f"{_TABLE}table-row" and kind == START:
            rows_repeated = int(_attribute(attributes, "number-rows-repeated", "1"))
            cells, row, column = [], _RowLength(sheet, number + 1), 0
        elif tag == f"{_TABLE}table-row":
            if any(cells):
                for _ in range(min(rows_repeated, MAX_ROWS + 1)):
                    number += 1
                    yield number, list(cells)
                number += rows_repeated - min(rows_repeated, MAX_ROWS + 1)
            else:
                number += rows_repeated  # empty rows (an ODS ends with a million of them)
        elif tag == f"{_TABLE}table" and kind == END:
            return


def _ods_value(attributes: dict[str, str] | None) -> str | None:
    """A typed cell's value, from its attributes; None for text (read from its paragraphs)."""
    kind = _attribute(attributes, "value-type")
    if kind in ("float", "percentage", "currency"):
        # Without office:value float() raises, and read_sheet reports a damaged file.
        return cell_text(float(_attribute(attributes, "value", "none")))
    if kind == "date":
        return _attribute(attributes, "date-value")
    if kind == "boolean":
        return "TRUE" if _attribute(attributes, "boolean-value") == "true" else "FALSE"
    return None


def _csv_sheets(content: bytes, name: str) -> Iterator[RawRows]:
    """The CSV read as it is decoded, a row at a time; the csv module refuses a field longer
    than its field_size_limit (128 KiB), this reader a cell longer than a cell may be."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(content), CHUNK_BYTES):
            decoder.decode(content[start : start + CHUNK_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(
            gettext(
                "The CSV file is not UTF-8 text. Save it as CSV UTF-8 (in Excel: 'CSV UTF-8 "
                "(comma delimited)') and upload it again."
            )
        ) from None
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    first_line = text.readline()
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(itertools.chain([first_line], text), delimiter=delimiter)
    yield _csv_rows(reader)


def _csv_rows(reader: Iterator[list[str]]) -> RawRows:
    number = 0
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                raise _cell_too_long(_where(None, number + 1)) from None
            raise
        if cells is None:
            return
        number += 1
        row = _RowLength(None, number)
        for column, cell in enumerate(cells):
            if len(cell) > MAX_CELL_LENGTH:
                raise _cell_too_long(_where(None, number, column))
            if cell:
                row.add(cell, column)
        yield number, cells
