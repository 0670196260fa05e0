"""Period comparison: a page and its JSON twin, both over compare_periods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app import readmodel
from app.api.schemas import (
    MAX_INTEGER,
    ActionLineRef,
    ErrorOut,
    PeriodOut,
    ResultRef,
    ValidationErrorOut,
    error_responses,
)
from app.compare.schemas import (
    ActionLineComparisonOut,
    ActivityStatusOut,
    CompareActivityOut,
    ComparisonOut,
    CountsOut,
    ExplanationChangeOut,
    MatrixCellOut,
    StatusChangeOut,
)
from app.compare.service import (
    MATRIX_STATUSES,
    Comparison,
    StatusMatrix,
    compare_periods,
    default_periods,
    nothing_to_compare,
)
from app.deps import SessionDep
from app.errors import InvalidInput
from app.i18n import gettext
from app.periods.service import state_label
from app.text import Text
from app.web import render

router = APIRouter()


def _whole_number(name: str, raw: str | None) -> int | None:
    """A period id from the page's query string (empty: not chosen)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            gettext("%(field)s must be a whole number, not %(value)s")
            % {"field": name, "value": repr(raw)}
        ) from None


@router.get("/programmes/{slug}/compare", include_in_schema=False, name="period_compare")
def period_compare(
    request: Request,
    session: SessionDep,
    slug: str,
    from_period: Annotated[str | None, Query(alias="from")] = None,
    to_period: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    programme = readmodel.get_programme(session, slug)
    periods = readmodel.list_periods(session, programme.id)
    earlier, later = default_periods(
        periods, _whole_number("from", from_period), _whole_number("to", to_period)
    )
    comparison = None
    if earlier is not None and later is not None:
        comparison = compare_periods(
            session, programme_id=programme.id, earlier=earlier, later=later
        )
        earlier, later = comparison.earlier, comparison.later
    return render(
        request,
        "compare/page.html",
        {
            "programme": programme,
            "periods": periods,
            "earlier": earlier,
            "later": later,
            "comparison": comparison,
            "statuses": MATRIX_STATUSES,
            "nothing_to_compare": None if comparison else nothing_to_compare(periods, later),
            "state_label": state_label,
        },
    )


@router.get(
    "/api/v1/programmes/{programme}/compare",
    response_model=ComparisonOut,
    name="api_period_compare",
    responses={
        **error_responses(401, 404, descriptions={404: "Unknown programme or period"}),
        422: {
            "model": ValidationErrorOut | ErrorOut,
            "description": "A period id that is not a number (ValidationErrorOut), the same "
            "period twice, or no period to compare with",
        },
    },
)
def api_period_compare(
    session: SessionDep,
    programme: Text,
    from_period: Annotated[
        int | None,
        Query(
            alias="from",
            ge=1,
            le=MAX_INTEGER,
            description="Period id; default the period before `to`",
        ),
    ] = None,
    to_period: Annotated[
        int | None,
        Query(alias="to", ge=1, le=MAX_INTEGER, description="Period id; default the latest"),
    ] = None,
) -> ComparisonOut:
    """Compare two reporting periods: the activities whose status changed (from → to), the
    from × to counts in total and per action line, activities added and no longer in the
    programme, and the changed explanations. Each period is shown as on the board (a
    published period: what counted for its report). If `from` is the later period, the two
    are swapped (`swapped` is true)."""
    programme_row = readmodel.get_programme(session, programme)
    periods = readmodel.list_periods(session, programme_row.id)
    earlier, later = default_periods(periods, from_period, to_period)
    if earlier is None or later is None:
        raise InvalidInput(nothing_to_compare(periods, later))
    comparison = compare_periods(
        session, programme_id=programme_row.id, earlier=earlier, later=later
    )
    return _comparison_out(programme_row.slug, comparison)


def _activity_out(row: readmodel.ActivityRow) -> CompareActivityOut:
    return CompareActivityOut(
        id=row.id,
        action_line=ActionLineRef(number=row.action_line_number, title=row.action_line_title),
        result=ResultRef(number=row.result_number, title=row.result_title),
        label=row.label,
        title=row.title,
    )


def _cells(matrix: StatusMatrix) -> list[MatrixCellOut]:
    return [
        MatrixCellOut(from_status=before, to_status=after, count=count)
        for before, after, count in matrix.nonzero()
    ]


def _comparison_out(slug: str, comparison: Comparison) -> ComparisonOut:
    return ComparisonOut(
        programme=slug,
        earlier=PeriodOut(**comparison.earlier.__dict__),
        later=PeriodOut(**comparison.later.__dict__),
        swapped=comparison.swapped,
        statuses=list(MATRIX_STATUSES),
        counts=CountsOut(
            in_both=comparison.in_both,
            changed=len(comparison.changed),
            added=len(comparison.added),
            retired=len(comparison.retired),
            explanations_changed=len(comparison.explanations),
        ),
        matrix=_cells(comparison.matrix),
        action_lines=[
            ActionLineComparisonOut(
                action_line=ActionLineRef(number=line.number, title=line.title),
                in_both=line.in_both,
                changed=line.changed,
                added=line.added,
                retired=line.retired,
                matrix=_cells(line.matrix),
            )
            for line in comparison.action_lines
        ],
        changed=[
            StatusChangeOut(
                activity=_activity_out(change.row),
                from_status=change.before,
                to_status=change.after,
            )
            for change in comparison.changed
        ],
        added=[
            ActivityStatusOut(activity=_activity_out(row), status=row.status)
            for row in comparison.added
        ],
        retired=[
            ActivityStatusOut(activity=_activity_out(row), status=row.status)
            for row in comparison.retired
        ],
        explanations=[
            ExplanationChangeOut(
                activity=_activity_out(change.row),
                before=change.before,
                after=change.after,
                diff_html=str(change.diff),
            )
            for change in comparison.explanations
        ],
    )
