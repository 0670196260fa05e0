"""The recommendations' internal pages, read-only for every signed-in account: a programme's
recommendations with filters and counts, and one recommendation with what answers it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import readmodel
from app.deps import SessionDep
from app.i18n import N_, gettext
from app.recommendations import reading
from app.recommendations.followup import VERDICT_LABELS
from app.recommendations.models import RelationKind, Verdict
from app.web import render

router = APIRouter()

RELATION_LABELS = {
    # (kind, this recommendation is the later one)
    (RelationKind.repeats, True): N_("Repeats"),
    (RelationKind.repeats, False): N_("Repeated by"),
    (RelationKind.continues, True): N_("Continues"),
    (RelationKind.continues, False): N_("Continued by"),
}


def _filters(request: Request) -> reading.RecommendationFilters:
    query = request.query_params
    priority = {"yes": True, "no": False}.get(query.get("priority", ""))
    return reading.RecommendationFilters(
        report=query.get("report") or None,
        addressee=query.get("addressee") or None,
        priority=priority,
    )


@router.get("/programmes/{slug}/recommendations", include_in_schema=False, name="recommendations")
def recommendations(request: Request, session: SessionDep, slug: str) -> Response:
    programme = readmodel.get_programme(session, slug)
    filters = _filters(request)
    listing = reading.recommendation_list(session, programme.id, filters)
    return render(
        request,
        "recommendations/list.html",
        {"programme": programme, "listing": listing, "filters": filters},
    )


@router.get("/recommendations/{recommendation_id}", include_in_schema=False, name="recommendation")
def recommendation(request: Request, session: SessionDep, recommendation_id: int) -> Response:
    view = reading.recommendation_view(session, recommendation_id)
    return render(
        request,
        "recommendations/detail.html",
        {
            "view": view,
            "verdict_label": lambda verdict: gettext(VERDICT_LABELS[Verdict(verdict)]),
            "relation_label": lambda kind, outgoing: gettext(
                RELATION_LABELS[RelationKind(kind), outgoing]
            ),
        },
    )
