"""The summary of a published report as a PDF: WeasyPrint on templates/public/summary_pdf.html
with summary_pdf.css, tagged like the exports' PDF (PDF/UA-1 where WeasyPrint offers it)."""

from __future__ import annotations

from functools import cache

from app.config import PROJECT_ROOT

STYLESHEET = PROJECT_ROOT / "templates" / "public" / "summary_pdf.css"


@cache
def _stylesheet():  # type: ignore[no-untyped-def]
    """The CSS, parsed once per process."""
    from weasyprint import CSS

    return CSS(filename=str(STYLESHEET))


def render(html: str) -> bytes:
    from weasyprint import HTML

    from app.exports.pdf import pdf_options

    document = HTML(string=html, base_url=str(PROJECT_ROOT / "templates" / "public"))
    return document.write_pdf(stylesheets=[_stylesheet()], **pdf_options())  # type: ignore[no-any-return]
