"""The progress table as a print-ready PDF: WeasyPrint on a Jinja2 HTML template
(templates/exports/table.html with table.css).

A4 landscape; programme and period at the top of every page (and DRAFT for a period that is
not published), the legend and "page / pages" at the bottom; column headers repeat on every
page (`thead { display: table-header-group }`) and rows are not split. Tagged for
accessibility as PDF/UA-1 (WeasyPrint ≥ 63 writes the structure tree, the document language and
title), so the text is selectable and read in order.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from app.config import PROJECT_ROOT
from app.exports.table import ProgressTable

if TYPE_CHECKING:
    from weasyprint import CSS

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


def render_html(table: ProgressTable) -> str:
    return (
        _environment()
        .get_template("exports/table.html")
        .render(table=table, page_numbers=_page_numbers(table.texts.page))
    )


def render(table: ProgressTable) -> bytes:
    from weasyprint import HTML

    document = HTML(string=render_html(table), base_url=str(TEMPLATES))
    return document.write_pdf(stylesheets=[_stylesheet()], **pdf_options())


@cache
def _stylesheet_named(name: str) -> CSS:
    from weasyprint import CSS

    return CSS(filename=str(TEMPLATES / "exports" / name))


def render_document(template: str, stylesheet: str, *, page_text: str, **context: object) -> bytes:
    """Another document on the same machinery (the monitor's factsheet): a template under
    templates/exports/ with its stylesheet, tagged as the table is; `page_text` is the
    translated "Page %(page)s of %(pages)s", given to the template as `page_numbers`."""
    from weasyprint import HTML

    html = (
        _environment()
        .get_template(f"exports/{template}")
        .render(page_numbers=_page_numbers(page_text), **context)
    )
    document = HTML(string=html, base_url=str(TEMPLATES))
    return document.write_pdf(stylesheets=[_stylesheet_named(stylesheet)], **pdf_options())
