"""The public site of the Rapporteur's recommendations: per published report of the progress
programme, its recommendations per source report and per addressee, with the government's
response and the follow-up as the report published it (app/public/recommendations_data.py),
and that as open data. Nothing else: no draft, no unapproved or unpublished entry, no link
(a seeded link may be a proposal), no author.

Every route has the rule `public` (app/permissions.py); pages and files are kept in the
revision cache per language and address, as the progress report's (app/public/routes.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import SessionDep
from app.i18n import get_language, gettext
from app.public import recommendations_data as data
from app.public.monitor_data import as_json
from app.public.routes import _context, _file, _page
from app.public.service import LICENCE_URL, PUBLISHER
from app.web import render

router = APIRouter(prefix="/public")


@router.get(
    "/{slug}/{period_id}/recommendations",
    include_in_schema=False,
    name="public_recommendations",
)
def public_recommendations(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    def build() -> Response:
        found = data.published_follow_up(
            session, slug=slug, period_id=period_id, language=get_language()
        )
        return render(
            request,
            "public/recommendations.html",
            _context(
                programme=found.programme,
                period=found.period,
                follow_up=found,
                columns=[(c, gettext(c.label), gettext(c.description)) for c in data.COLUMNS],
                publisher=PUBLISHER,
                licence_url=LICENCE_URL,
            ),
        )

    return _page(request, build)


def _paths(request: Request, slug: str, period_id: int) -> dict[str, str]:
    def path(name: str) -> str:
        return request.url_for(name, slug=slug, period_id=period_id).path

    return {
        "page": path("public_recommendations"),
        "schema": path("public_recommendations_schema"),
    }


@router.get(
    "/{slug}/{period_id}/recommendations/data.csv",
    include_in_schema=False,
    name="public_recommendations_csv",
)
def public_recommendations_csv(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    def build() -> tuple[str, str, bytes]:
        found = data.published_follow_up(session, slug=slug, period_id=period_id, language="nl")
        name = f"aanbevelingen-{period_id}.csv"
        return (name, "text/csv; charset=utf-8", data.csv_file(found))

    return _file(request, build)


@router.get(
    "/{slug}/{period_id}/recommendations/csv-metadata.json",
    include_in_schema=False,
    name="public_recommendations_csv_metadata",
)
def public_recommendations_csv_metadata(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    def build() -> tuple[str, str, bytes]:
        found = data.published_follow_up(session, slug=slug, period_id=period_id, language="nl")
        page = _paths(request, slug, period_id)["page"]
        described = data.csv_metadata(found, csv_url="data.csv", page_url=page)
        return ("csv-metadata.json", "application/csvm+json", as_json(described))

    return _file(request, build, inline=True)


@router.get(
    "/{slug}/{period_id}/recommendations/data.json",
    include_in_schema=False,
    name="public_recommendations_json",
)
def public_recommendations_json(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    def build() -> tuple[str, str, bytes]:
        found = data.published_follow_up(session, slug=slug, period_id=period_id, language="nl")
        schema = _paths(request, slug, period_id)["schema"]
        content = as_json(data.json_file(found, schema_url=schema))
        return (f"aanbevelingen-{period_id}.json", "application/json", content)

    return _file(request, build)


@router.get(
    "/{slug}/{period_id}/recommendations/schema.json",
    include_in_schema=False,
    name="public_recommendations_schema",
)
def public_recommendations_schema(
    request: Request, session: SessionDep, slug: str, period_id: int
) -> Response:
    def build() -> tuple[str, str, bytes]:
        data.published_follow_up(session, slug=slug, period_id=period_id, language="nl")
        schema = _paths(request, slug, period_id)["schema"]
        described = data.json_schema(schema_url=schema, language=get_language())
        return ("schema.json", "application/schema+json", as_json(described))

    return _file(request, build, inline=True)
