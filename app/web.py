"""Templates and the one render() every HTML route uses (full page or htmx fragment)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from app.activities.models import STATUS_ORDER
from app.activities.presentation import STATUS_STYLES, status_label, status_symbol
from app.config import PROJECT_ROOT
from app.i18n import LANGUAGES, get_language, gettext, ngettext

templates = Jinja2Blocks(directory=PROJECT_ROOT / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.globals.update(
    status_label=status_label,
    status_symbol=status_symbol,
    STATUS_STYLES=STATUS_STYLES,
    STATUS_ORDER=STATUS_ORDER,
    LANGUAGES=LANGUAGES,
    current_language=get_language,
)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The full page, or only `block` for an htmx request (but the full page when htmx
    restores history, since the cache then needs a whole document)."""
    fragment = (
        block is not None
        and is_htmx(request)
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    response = templates.TemplateResponse(
        request,
        template,
        context,
        status_code=status_code,
        block_name=block if fragment else None,
    )
    response.headers["Vary"] = "HX-Request"
    return response  # type: ignore[return-value]
