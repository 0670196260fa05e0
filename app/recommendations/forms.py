"""The coordinator's forms for the recommendations (coordinators and admins; app/permissions.py):
register a report, add or edit a recommendation, record a response or an assessment,
reschedule the deadline, make, confirm and remove links. Plain POST forms that work without
JavaScript: a refusal shows the form again with the message beside the field it is about and
what was typed, and nothing is stored; a success goes back to the page with what was done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session, col

from app import readmodel
from app.deps import SessionDep
from app.errors import DomainError, InvalidInput
from app.ids import id_of
from app.monitor import reading as monitor_reading
from app.permissions import CurrentUser, CurrentUserDep, client_address
from app.programmes.models import Programme
from app.recommendations import editing
from app.recommendations import service as recommendations
from app.recommendations.models import Addressee, Recommendation, SourceReport
from app.recommendations.routes import detail_page
from app.text import TEXT, Text
from app.web import render

router = APIRouter()

# Form rows for addressees: those there are, and this many empty ones.
SPARE_ADDRESSEES = 2


def _errors(problem: DomainError) -> dict[str, str]:
    field = problem.field if isinstance(problem, editing.FieldInvalid) else "form"
    return {field: problem.message}


def _slug_of(session: Session, recommendation: Recommendation) -> str:
    programme = session.get(Programme, recommendations.programme_of(session, recommendation))
    assert programme is not None  # a foreign key
    return programme.slug


def _back(request: Request, recommendation_id: int, done: str, anchor: str = "") -> Response:
    target = request.url_for("recommendation", recommendation_id=recommendation_id).path
    return RedirectResponse(f"{target}?done={done}{'#' + anchor if anchor else ''}", 303)


# -- a report ----------------------------------------------------------------------------------


def _report_page(
    request: Request,
    session: Session,
    slug: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    programme = readmodel.get_programme(session, slug)
    return render(
        request,
        "recommendations/report_form.html",
        {
            "programme": programme,
            "organisations": monitor_reading.organisations(session),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get(
    "/programmes/{slug}/recommendations/reports/new",
    include_in_schema=False,
    name="recommendation_report_form",
)
def recommendation_report_form(request: Request, session: SessionDep, slug: str) -> Response:
    return _report_page(request, session, slug)


@router.post(
    "/programmes/{slug}/recommendations/reports",
    include_in_schema=False,
    name="recommendation_report_create",
)
def recommendation_report_create(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    slug: str,
    title: Annotated[str, Form(max_length=500), TEXT] = "",
    publisher_id: Annotated[Text, Form()] = "",
    year: Annotated[Text, Form()] = "",
    covers_from: Annotated[Text, Form()] = "",
    covers_to: Annotated[Text, Form()] = "",
    reference: Annotated[str, Form(max_length=2000), TEXT] = "",
    url: Annotated[str, Form(max_length=1000), TEXT] = "",
) -> Response:
    programme = readmodel.get_programme(session, slug)
    values = {
        "title": title,
        "publisher_id": publisher_id,
        "year": year,
        "covers_from": covers_from,
        "covers_to": covers_to,
        "reference": reference,
        "url": url,
    }
    try:
        report = editing.create_report(
            session,
            programme_id=programme.id,
            title=title,
            publisher_id=publisher_id,
            year=year,
            covers_from=covers_from,
            covers_to=covers_to,
            reference=reference,
            url=url,
            actor=user,
            address=client_address(request),
        )
    except InvalidInput as problem:
        session.rollback()
        return _report_page(
            request, session, slug, errors=_errors(problem), values=values, status_code=422
        )
    target = request.url_for("recommendation_new_form", slug=slug).path
    return RedirectResponse(f"{target}?report={id_of(report)}", 303)


# -- a recommendation --------------------------------------------------------------------------


def _recommendation_page(
    request: Request,
    session: Session,
    slug: str,
    *,
    recommendation: Recommendation | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    programme = readmodel.get_programme(session, slug)
    reports = list(
        session.scalars(
            select(SourceReport)
            .where(col(SourceReport.programme_id) == programme.id)
            .order_by(col(SourceReport.covers_to), col(SourceReport.id))
        )
    )
    wholes = list(
        session.scalars(
            select(Recommendation)
            .where(
                col(Recommendation.report_id).in_([id_of(report) for report in reports]),
                col(Recommendation.parent_id).is_(None),
            )
            .order_by(col(Recommendation.report_id), col(Recommendation.position))
        )
    )
    if values is None:
        values = {"report_id": request.query_params.get("report", "")}
        if recommendation is not None:
            addressees = session.scalars(
                select(Addressee)
                .where(col(Addressee.recommendation_id) == id_of(recommendation))
                .order_by(col(Addressee.position))
            ).all()
            values = {
                "report_id": str(recommendation.report_id),
                "number": recommendation.number,
                "title": recommendation.title,
                "text": recommendation.text,
                "priority": "yes" if recommendation.priority else "",
                "parent_id": str(recommendation.parent_id or ""),
                "addressees": [
                    (addressee.name, str(addressee.organisation_id or ""))
                    for addressee in addressees
                ],
                "seen": editing.fingerprint(session, recommendation),
            }
    listed = list(values.get("addressees") or [])  # type: ignore[call-overload]
    values["addressees"] = listed + [("", "")] * SPARE_ADDRESSEES
    return render(
        request,
        "recommendations/recommendation_form.html",
        {
            "programme": programme,
            "recommendation": recommendation,
            "reports": reports,
            "wholes": [
                whole
                for whole in wholes
                if recommendation is None or id_of(whole) != id_of(recommendation)
            ],
            "organisations": monitor_reading.organisations(session),
            "errors": errors or {},
            "values": values,
        },
        status_code=status_code,
    )


@router.get(
    "/programmes/{slug}/recommendations/new",
    include_in_schema=False,
    name="recommendation_new_form",
)
def recommendation_new_form(request: Request, session: SessionDep, slug: str) -> Response:
    return _recommendation_page(request, session, slug)


@router.get(
    "/recommendations/{recommendation_id}/edit",
    include_in_schema=False,
    name="recommendation_edit_form",
)
def recommendation_edit_form(
    request: Request, session: SessionDep, recommendation_id: int
) -> Response:
    found = recommendations.get_recommendation(session, recommendation_id)
    return _recommendation_page(request, session, _slug_of(session, found), recommendation=found)


def _save(
    request: Request,
    session: Session,
    user: CurrentUser,
    slug: str,
    recommendation_id: int | None,
    fields: dict[str, str],
    addressee_name: list[str],
    addressee_organisation: list[str],
) -> Response:
    programme = readmodel.get_programme(session, slug)
    given = [
        editing.AddresseeInput(name, organisation)
        for name, organisation in zip(
            addressee_name,
            addressee_organisation + [""] * (len(addressee_name) - len(addressee_organisation)),
            strict=False,
        )
    ]
    try:
        saved = editing.save_recommendation(
            session,
            programme_id=programme.id,
            recommendation_id=recommendation_id,
            report_id=fields["report_id"],
            number=fields["number"],
            title=fields["title"],
            text=fields["text"],
            priority=fields["priority"] == "yes",
            parent_id=fields["parent_id"],
            addressees=given,
            seen=fields["seen"],
            actor=user,
            address=client_address(request),
        )
    except (InvalidInput, editing.EditedMeanwhile) as problem:
        session.rollback()
        current = (
            recommendations.get_recommendation(session, recommendation_id)
            if recommendation_id is not None
            else None
        )
        values: dict[str, object] | None = {
            **fields,
            "addressees": [(item.name, item.organisation_id) for item in given],
        }
        if isinstance(problem, editing.EditedMeanwhile):
            values = None  # their version, with a new fingerprint
        return _recommendation_page(
            request,
            session,
            slug,
            recommendation=current,
            errors=_errors(problem),
            values=values,
            status_code=problem.status_code,
        )
    return _back(request, id_of(saved), "created" if recommendation_id is None else "saved")


@router.post(
    "/programmes/{slug}/recommendations/new",
    include_in_schema=False,
    name="recommendation_create",
)
def recommendation_create(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    slug: str,
    report_id: Annotated[Text, Form()] = "",
    number: Annotated[str, Form(max_length=20), TEXT] = "",
    title: Annotated[str, Form(max_length=2000), TEXT] = "",
    text: Annotated[str, Form(max_length=20000), TEXT] = "",
    priority: Annotated[Text, Form()] = "",
    parent_id: Annotated[Text, Form()] = "",
    addressee_name: Annotated[list[Text], Form()] = [],  # noqa: B006 (FastAPI copies it)
    addressee_organisation: Annotated[list[Text], Form()] = [],  # noqa: B006
) -> Response:
    fields = {
        "report_id": report_id,
        "number": number,
        "title": title,
        "text": text,
        "priority": priority,
        "parent_id": parent_id,
        "seen": "",
    }
    return _save(request, session, user, slug, None, fields, addressee_name, addressee_organisation)


@router.post(
    "/recommendations/{recommendation_id}/edit",
    include_in_schema=False,
    name="recommendation_update",
)
def recommendation_update(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    report_id: Annotated[Text, Form()] = "",
    number: Annotated[str, Form(max_length=20), TEXT] = "",
    title: Annotated[str, Form(max_length=2000), TEXT] = "",
    text: Annotated[str, Form(max_length=20000), TEXT] = "",
    priority: Annotated[Text, Form()] = "",
    parent_id: Annotated[Text, Form()] = "",
    seen: Annotated[str, Form(max_length=100), TEXT] = "",
    addressee_name: Annotated[list[Text], Form()] = [],  # noqa: B006
    addressee_organisation: Annotated[list[Text], Form()] = [],  # noqa: B006
) -> Response:
    found = recommendations.get_recommendation(session, recommendation_id)
    fields = {
        "report_id": report_id,
        "number": number,
        "title": title,
        "text": text,
        "priority": priority,
        "parent_id": parent_id,
        "seen": seen,
    }
    return _save(
        request,
        session,
        user,
        _slug_of(session, found),
        recommendation_id,
        fields,
        addressee_name,
        addressee_organisation,
    )


# -- on the recommendation's page: the dialogue, the deadline, the links -------------------------


def _refused(
    request: Request,
    session: Session,
    recommendation_id: int,
    form: str,
    problem: DomainError,
    values: dict[str, str],
) -> Response:
    if problem.status_code == 404:
        raise problem
    session.rollback()
    return detail_page(
        request,
        session,
        recommendation_id,
        form=form,
        errors=_errors(problem),
        values=values,
        status_code=problem.status_code,
    )


@router.post(
    "/recommendations/{recommendation_id}/statements",
    include_in_schema=False,
    name="recommendation_add_statement",
)
def recommendation_add_statement(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    kind: Annotated[Text, Form()] = "",
    verdict: Annotated[Text, Form()] = "",
    entry_date: Annotated[Text, Form()] = "",
    document_reference: Annotated[str, Form(max_length=1000), TEXT] = "",
    text: Annotated[str, Form(max_length=20000), TEXT] = "",
) -> Response:
    values = {
        "kind": kind,
        "verdict": verdict,
        "entry_date": entry_date,
        "document_reference": document_reference,
        "text": text,
    }
    try:
        editing.add_statement(
            session,
            recommendation_id=recommendation_id,
            kind=kind,
            verdict=verdict,
            entry_date=entry_date,
            document_reference=document_reference,
            text=text,
            actor=user,
            address=client_address(request),
        )
    except DomainError as problem:
        return _refused(request, session, recommendation_id, kind, problem, values)
    return _back(request, recommendation_id, "statement", "dialogue-heading")


@router.post(
    "/recommendations/{recommendation_id}/deadline",
    include_in_schema=False,
    name="recommendation_reschedule",
)
def recommendation_reschedule(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    deadline: Annotated[Text, Form()] = "",
    reason: Annotated[str, Form(max_length=2000), TEXT] = "",
) -> Response:
    values = {"deadline": deadline, "reason": reason}
    try:
        editing.change_deadline(
            session,
            recommendation_id=recommendation_id,
            deadline=deadline,
            reason=reason,
            actor=user,
            address=client_address(request),
        )
    except DomainError as problem:
        return _refused(request, session, recommendation_id, "deadline", problem, values)
    return _back(request, recommendation_id, "deadline", "deadline-form")


@router.post(
    "/recommendations/{recommendation_id}/links",
    include_in_schema=False,
    name="recommendation_add_link",
)
def recommendation_add_link(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    target: Annotated[Text, Form()] = "",
) -> Response:
    try:
        editing.add_link(
            session,
            recommendation_id=recommendation_id,
            target=target,
            actor=user,
            address=client_address(request),
        )
    except DomainError as problem:
        return _refused(request, session, recommendation_id, "link", problem, {"target": target})
    return _back(request, recommendation_id, "linked", "activities-heading")


@router.post(
    "/recommendations/{recommendation_id}/links/{kind}/{item_id}/confirm",
    include_in_schema=False,
    name="recommendation_confirm_link",
)
def recommendation_confirm_link(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    kind: str,
    item_id: int,
) -> Response:
    try:
        editing.confirm_link(
            session,
            recommendation_id=recommendation_id,
            kind=kind,
            item_id=item_id,
            actor=user,
            address=client_address(request),
        )
    except DomainError as problem:
        return _refused(request, session, recommendation_id, "link", problem, {})
    return _back(request, recommendation_id, "confirmed", "activities-heading")


@router.post(
    "/recommendations/{recommendation_id}/links/{kind}/{item_id}/remove",
    include_in_schema=False,
    name="recommendation_remove_link",
)
def recommendation_remove_link(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    recommendation_id: int,
    kind: str,
    item_id: int,
) -> Response:
    try:
        editing.remove_link(
            session,
            recommendation_id=recommendation_id,
            kind=kind,
            item_id=item_id,
            actor=user,
            address=client_address(request),
        )
    except DomainError as problem:
        return _refused(request, session, recommendation_id, "link", problem, {})
    return _back(request, recommendation_id, "unlinked", "activities-heading")
