"""The recommendations' internal pages, read-only for every signed-in account: a programme's
recommendations with filters and counts, and one recommendation with what answers it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import readmodel
from app.accounts.models import Role
from app.clock import programme_today
from app.deps import SessionDep
from app.i18n import N_, get_language, gettext
from app.ids import id_of
from app.permissions import current_user
from app.recommendations import reading
from app.recommendations.followup import VERDICT_LABELS
from app.recommendations.models import RelationKind, Verdict
from app.recommendations.policy import proposable_periods
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
    year = query.get("year", "").strip()
    return reading.RecommendationFilters(
        report=query.get("report") or None,
        addressee=query.get("addressee") or None,
        priority=priority,
        year=int(year) if year.isdigit() else None,
        verdict=query.get("verdict") or None,
        followup=query.get("followup") or None,
        overdue=query.get("overdue") == "yes",
        addressee_name=query.get("addressee_name", "").strip()[:200] or None,
    )


@router.get("/programmes/{slug}/recommendations", include_in_schema=False, name="recommendations")
def recommendations(request: Request, session: SessionDep, slug: str) -> Response:
    programme = readmodel.get_programme(session, slug)
    filters = _filters(request)
    listing = reading.recommendation_list(session, programme.id, filters)
    return render(
        request,
        "recommendations/list.html",
        {
            "programme": programme,
            "listing": listing,
            "filters": filters,
            "verdicts": [(item.value, gettext(label)) for item, label in VERDICT_LABELS.items()],
            "verdict_label": lambda verdict: gettext(VERDICT_LABELS[Verdict(verdict)]),
            "nothing_yet": reading.NOTHING_YET,
            "language": get_language(),
            "today": programme_today(),
        },
    )


@router.get("/recommendations/{recommendation_id}", include_in_schema=False, name="recommendation")
def recommendation(request: Request, session: SessionDep, recommendation_id: int) -> Response:
    return detail_page(request, session, recommendation_id)


def detail_page(
    request: Request,
    session: Session,
    recommendation_id: int,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The recommendation's page; for a coordinator with its forms (`form`: the one whose
    `errors` and `values` are shown, after a refusal)."""
    view = reading.recommendation_view(session, recommendation_id)
    user = current_user(request)
    coordinating = user is not None and user.at_least(Role.coordinator)
    return render(
        request,
        "recommendations/detail.html",
        {
            "view": view,
            "verdict_label": lambda verdict: gettext(VERDICT_LABELS[Verdict(verdict)]),
            "verdicts": [
                (verdict.value, gettext(label)) for verdict, label in VERDICT_LABELS.items()
            ],
            "relation_label": lambda kind, outgoing: gettext(
                RELATION_LABELS[RelationKind(kind), outgoing]
            ),
            "coordinating": coordinating,
            # The periods whose follow-up this user may propose now: a link to the form each.
            "follow_up_periods": proposable_periods(
                session,
                user,
                recommendation_id,
                readmodel.list_periods(session, id_of(view.programme)),
            ),
            "link_choices": reading.link_choices(session, view) if coordinating else None,
            "form": form,
            "errors": errors or {},
            "values": values or {},
            "done": _done(request),
        },
        status_code=status_code,
    )


def _done(request: Request) -> str:
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return gettext(done) if done else ""


DONE_MESSAGES = {
    "created": N_("The recommendation was added."),
    "saved": N_("The recommendation was saved."),
    "statement": N_("The entry was added to the dialogue."),
    "deadline": N_("The deadline was changed."),
    "linked": N_("The link was made."),
    "confirmed": N_("The link was confirmed."),
    "unlinked": N_("The link was removed."),
}
