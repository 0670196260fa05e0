"""The summary of a published report as a PDF: WeasyPrint on templates/public/summary_pdf.html
with the status badges' stylesheet (templates/status.css, as on the pages) and summary_pdf.css,
tagged like the exports' PDF (PDF/UA-1 where WeasyPrint offers it)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from app.config import PROJECT_ROOT
from app.exports.pdf import pdf_options
from app.web import status_stylesheet

if TYPE_CHECKING:
    from weasyprint import CSS

STYLESHEET = PROJECT_ROOT / "templates" / "public" / "summary_pdf.css"


@cache
def _stylesheets() -> list[CSS]:
    """The CSS, parsed once per process: the badges' first, so the summary's own rules can
    adapt them to its tables (both are WeasyPrint's user stylesheets: one cascade)."""
    from weasyprint import CSS

    return [CSS(string=status_stylesheet()), CSS(filename=str(STYLESHEET))]


def render(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(PROJECT_ROOT / "templates" / "public"))
    return document.write_pdf(stylesheets=_stylesheets(), **pdf_options())
