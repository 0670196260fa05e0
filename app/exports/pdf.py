"""The progress table as a print-ready PDF: WeasyPrint on a Jinja2 HTML template
(templates/exports/table.html with table.css).

A4 landscape; programme and period at the top of every page (and DRAFT for a period that is
not published), the legend and "page / pages" at the bottom; column headers repeat on every
page (`thead { display: table-header-group }`) and rows are not split. A result's number and
title are one cell spanning its rows; where the result goes on over a page break, the cell
starts again at the top of the new page with the title and "(vervolg)": the first layout
says which rows begin a page, and the document is laid out again with the result's cell split
there (`render`), until the breaks stay where they are. Tagged for
accessibility as PDF/UA-1 (WeasyPrint ≥ 63 writes the structure tree, the document language and
title), so the text is selectable and read in order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from app.config import PROJECT_ROOT
from app.exports.table import ProgressTable, ResultBlock

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.document import Document

# Layouts at most: the first, one with the results' cells split at its page breaks, and one
# more should the split move a break (a continued title taller than its rows).
MAX_LAYOUTS = 3

# Result number → the rows (counted from 0, the note first) at the top of a page after the
# result's first page.
Continued = Mapping[int, Collection[int]]

MEDIA_TYPE = "application/pdf"
TEMPLATES = PROJECT_ROOT / "templates"


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string: every character but letters, digits and spaces as a
    CSS escape, so no data can end the string or the rule."""
    escaped = "".join(
        char if char.isalnum() and char.isascii() or char == " " else f"\\{ord(char):x} "
        for char in text
    )
    return Markup(f'"{escaped}"')


def _page_numbers(template: str) -> Markup:
    """'Page %(page)s of %(pages)s' (translated) as CSS content with the page counters."""
    parts = []
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", template):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return Markup(" ".join(parts))


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["css_string"] = css_string
    environment.globals["result_segments"] = result_segments
    return environment


@cache
def _stylesheet() -> CSS:
    """The static CSS, parsed once per process."""
    from weasyprint import CSS

    return CSS(filename=str(TEMPLATES / "exports" / "table.css"))


@cache
def pdf_options() -> dict[str, object]:
    """PDF/UA-1 where the installed WeasyPrint offers it (63 and later), else tagged PDF."""
    from weasyprint.pdf import VARIANTS

    if "pdf/ua-1" in VARIANTS:
        return {"pdf_variant": "pdf/ua-1"}
    return {"pdf_tags": True}


def result_segments(result: ResultBlock, continued: Continued) -> dict[int, int]:
    """Row → how many rows the result's cells span from it: from its first row, and anew from
    each row that starts a page."""
    rows = len(result.activities) + (1 if result.note else 0)
    starts = sorted({0, *(row for row in continued.get(result.number, ()) if 0 < row < rows)})
    return {start: end - start for start, end in zip(starts, [*starts[1:], rows], strict=True)}


def render_html(table: ProgressTable, continued: Continued | None = None) -> str:
    return (
        _environment()
        .get_template("exports/table.html")
        .render(
            table=table,
            page_numbers=_page_numbers(table.texts.page),
            continued=continued or {},
        )
    )


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _boxes(child)


def continued_rows(document: Document) -> dict[int, frozenset[int]]:
    """Per result, the rows after its first that begin a page of the laid-out document (the
    first row of the result on that page). A row split over two pages (taller than a page)
    is not a beginning: its result's cell stays as it is."""
    found: dict[int, set[int]] = {}
    seen: set[tuple[int, int]] = set()
    for page in document.pages:
        results_on_page: set[int] = set()
        # WeasyPrint's layout tree: the boxes of the page, each with its HTML element.
        for box in _boxes(page._page_box):
            if type(box).__name__ != "TableRowBox" or box.element is None:
                continue
            number = box.element.get("data-result")
            if number is None or int(number) in results_on_page:
                continue
            result, row = int(number), int(box.element.get("data-row"))
            results_on_page.add(result)
            if row > 0 and (result, row) not in seen:
                found.setdefault(result, set()).add(row)
        for box in _boxes(page._page_box):
            if type(box).__name__ == "TableRowBox" and box.element is not None:
                number = box.element.get("data-result")
                if number is not None:
                    seen.add((int(number), int(box.element.get("data-row"))))
    return {result: frozenset(rows) for result, rows in found.items()}


def render(table: ProgressTable) -> bytes:
    from weasyprint import HTML

    options = pdf_options()
    continued: dict[int, frozenset[int]] = {}
    for _ in range(MAX_LAYOUTS):
        document = HTML(string=render_html(table, continued), base_url=str(TEMPLATES)).render(
            stylesheets=[_stylesheet()], **options
        )
        found = continued_rows(document)
        if found == continued:
            break
        continued = found
    return document.write_pdf(**options)
