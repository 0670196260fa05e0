"""The coordinator's changes to the recommendations, as the forms make them: register a report,
add or edit a recommendation (with its addressees), record a response or an assessment,
reschedule the deadline, confirm, make and remove links. Each is audited. Services flush and
never commit; coordinators (and admins) only (`service._require_coordinator`).

A refusal that is about one field is a `FieldInvalid` naming it, so that a form shows the
message beside that field. Editing a recommendation carries the fingerprint of what the
editor saw (`fingerprint`): if someone saved in between, `EditedMeanwhile` (409) and nothing is
written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel, col

from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.clock import utc_now
from app.errors import DomainError, InvalidInput, NotFound
from app.i18n import gettext
from app.ids import id_of
from app.monitor.models import Indicator
from app.programmes.models import Activity, Organisation, Result
from app.recommendations import service
from app.recommendations.models import (
    Addressee,
    Entry,
    EntryKind,
    LinkSource,
    LinkState,
    Recommendation,
    RecommendationActivity,
    RecommendationIndicator,
    RecommendationResult,
    SourceReport,
    Verdict,
)


class FieldInvalid(InvalidInput):
    """A refusal about one field of a form (`field`: the form's name for it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class EditedMeanwhile(DomainError):
    status_code = 409


def _audit(
    session: Session,
    actor: CurrentUser,
    action: AuditAction,
    object_type: str,
    object_id: object,
    summary: str,
    address: str,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        details=details,
        address=address,
    )


# -- reports -----------------------------------------------------------------------------------


def _key_of(title: str, year: int | None) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "report"
    return f"{words}-{year}" if year and not words.endswith(str(year)) else words


def _year(raw: str, field: str, *, required: bool = False) -> int | None:
    raw = raw.strip()
    if not raw:
        if required:
            raise FieldInvalid(field, gettext("Give the year."))
        return None
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        raise FieldInvalid(field, gettext("%(value)s is not a year.") % {"value": repr(raw)})
    return int(raw)


def create_report(
    session: Session,
    *,
    programme_id: int,
    title: str,
    publisher_id: str,
    year: str,
    covers_from: str,
    covers_to: str,
    reference: str,
    url: str,
    actor: CurrentUser,
    address: str = "",
) -> SourceReport:
    """Register a source report: its publisher an organisation, its years where known."""
    service._require_coordinator(actor)
    title = " ".join(title.split())
    if not title:
        raise FieldInvalid("title", gettext("Give the report a title."))
    if not publisher_id.strip().isdigit() or session.get(Organisation, int(publisher_id)) is None:
        raise FieldInvalid("publisher_id", gettext("Choose the organisation that published it."))
    published = _year(year, "year")
    first = _year(covers_from, "covers_from")
    last = _year(covers_to, "covers_to")
    if (first is None) != (last is None):
        raise FieldInvalid(
            "covers_to" if last is None else "covers_from",
            gettext("Give both the first and the last year covered, or neither."),
        )
    if first is not None and last is not None and first > last:
        raise FieldInvalid("covers_to", gettext("The last year covered is before the first."))
    url = url.strip()
    if url and not re.match(r"^https?://\S+$", url):
        raise FieldInvalid("url", gettext("An address starts with https:// or http://."))
    key = _key_of(title, published)
    taken = set(
        session.scalars(
            select(col(SourceReport.key)).where(col(SourceReport.programme_id) == programme_id)
        )
    )
    if key in taken:
        raise FieldInvalid(
            "title", gettext("The programme has a report %(title)s already.") % {"title": title}
        )
    report = SourceReport(
        programme_id=programme_id,
        key=key,
        title=title,
        publisher_id=int(publisher_id),
        year=published,
        covers_from=first,
        covers_to=last,
        reference=reference.strip(),
        url=url or None,
    )
    session.add(report)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.recommendation_report_create,
        "recommendation_report",
        id_of(report),
        title,
        address,
        key=key,
    )
    return report


# -- recommendations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddresseeInput:
    name: str  # as written
    organisation_id: str  # an organisation's id, or ""


def fingerprint(session: Session, recommendation: Recommendation) -> str:
    """What an editor of this recommendation sees, as one short string: any save changes it."""
    addressees = session.execute(
        select(col(Addressee.name), col(Addressee.organisation_id))
        .where(col(Addressee.recommendation_id) == id_of(recommendation))
        .order_by(col(Addressee.position))
    ).all()
    seen = [
        recommendation.report_id,
        recommendation.number,
        recommendation.title,
        recommendation.text,
        recommendation.priority,
        recommendation.parent_id,
        [list(row) for row in addressees],
    ]
    return hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:20]


def _addressees(session: Session, given: list[AddresseeInput]) -> list[tuple[str, int | None]]:
    found = []
    for index, addressee in enumerate(given):
        name = " ".join(addressee.name.split())
        raw = addressee.organisation_id.strip()
        organisation_id: int | None = None
        if raw:
            if not raw.isdigit() or session.get(Organisation, int(raw)) is None:
                raise FieldInvalid(
                    f"addressee_{index}", gettext("Choose an organisation from the list.")
                )
            organisation_id = int(raw)
        if name or organisation_id is not None:
            found.append((name, organisation_id))
    return found


def save_recommendation(
    session: Session,
    *,
    programme_id: int,
    recommendation_id: int | None,
    report_id: str,
    number: str,
    title: str,
    text: str,
    priority: bool,
    parent_id: str,
    addressees: list[AddresseeInput],
    seen: str,
    actor: CurrentUser,
    address: str = "",
) -> Recommendation:
    """Add (recommendation_id None) or change a recommendation and its addressees (as written
    and/or an organisation, in order). A change is refused if someone saved since `seen`."""
    service._require_coordinator(actor)
    existing = (
        service.get_recommendation(session, recommendation_id)
        if recommendation_id is not None
        else None
    )
    if existing is not None:
        if service.programme_of(session, existing) != programme_id:
            raise NotFound(
                gettext("Recommendation %(id)s does not exist") % {"id": recommendation_id}
            )
        if seen != fingerprint(session, existing):
            raise EditedMeanwhile(
                gettext(
                    "Someone else changed this recommendation after you opened the form. "
                    "Nothing was saved: the form now shows their version; make your change again."
                )
            )
    report = session.get(SourceReport, int(report_id)) if report_id.strip().isdigit() else None
    if report is None or report.programme_id != programme_id:
        raise FieldInvalid("report_id", gettext("Choose the report it is from."))
    number = number.strip()
    if not number:
        raise FieldInvalid("number", gettext("Give its number as printed in the report."))
    clash = session.scalar(
        select(col(Recommendation.id)).where(
            col(Recommendation.report_id) == id_of(report),
            col(Recommendation.number) == number,
        )
    )
    if clash is not None and clash != recommendation_id:
        raise FieldInvalid(
            "number",
            gettext("The report has a recommendation %(number)s already.") % {"number": number},
        )
    title = " ".join(title.split())
    if not title:
        raise FieldInvalid("title", gettext("Give the recommendation a title."))
    parent: Recommendation | None = None
    if parent_id.strip():
        parent = session.get(Recommendation, int(parent_id)) if parent_id.isdigit() else None
        if parent is None or parent.report_id != id_of(report):
            raise FieldInvalid("parent_id", gettext("Choose a recommendation of the same report."))
        if recommendation_id is not None and (
            id_of(parent) == recommendation_id or parent.parent_id is not None
        ):
            raise FieldInvalid(
                "parent_id", gettext("A part belongs to a whole recommendation, not to a part.")
            )
    people = _addressees(session, addressees)
    if existing is None:
        position = (
            max(
                session.scalars(
                    select(col(Recommendation.position)).where(
                        col(Recommendation.report_id) == id_of(report)
                    )
                ),
                default=0,
            )
            + 1
        )
        recommendation = Recommendation(
            report_id=id_of(report), number=number, position=position, title=title
        )
    else:
        recommendation = existing
        recommendation.report_id = id_of(report)
        recommendation.number = number
    recommendation.title = title
    recommendation.text = text.strip()
    recommendation.priority = priority
    recommendation.parent_id = id_of(parent) if parent else None
    session.add(recommendation)
    session.flush()
    session.execute(
        delete(Addressee).where(col(Addressee.recommendation_id) == id_of(recommendation))
    )
    for position, (name, organisation_id) in enumerate(people, start=1):
        session.add(
            Addressee(
                recommendation_id=id_of(recommendation),
                position=position,
                name=name,
                organisation_id=organisation_id,
            )
        )
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.recommendation_update if existing else AuditAction.recommendation_create,
        "recommendation",
        id_of(recommendation),
        f"{report.title}, {number}: {title}",
        address,
        number=number,
        report=report.key,
    )
    return recommendation


# -- the dialogue and the deadline -------------------------------------------------------------


def _date(raw: str, field: str, *, required: bool) -> date | None:
    raw = raw.strip()
    if not raw:
        if required:
            raise FieldInvalid(field, gettext("Give the date (year-month-day)."))
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldInvalid(
            field, gettext("%(value)s is not a date (year-month-day).") % {"value": repr(raw)}
        ) from None


def add_statement(
    session: Session,
    *,
    recommendation_id: int,
    kind: str,
    verdict: str,
    entry_date: str,
    document_reference: str,
    text: str,
    actor: CurrentUser,
    address: str = "",
) -> Entry:
    """Record the government's response (with its verdict) or the Rapporteur's assessment:
    a new entry of the dialogue (append-only, `service.record_entry`)."""
    service._require_coordinator(actor)
    if kind not in (EntryKind.response.value, EntryKind.assessment.value):
        raise FieldInvalid("kind", gettext("Choose a response or an assessment."))
    chosen: Verdict | None = None
    if kind == EntryKind.response.value:
        if verdict not in {item.value for item in Verdict}:
            raise FieldInvalid("verdict", gettext("Say how the government takes it."))
        chosen = Verdict(verdict)
    day = _date(entry_date, "entry_date", required=True)
    assert day is not None
    if day > utc_now().date():
        raise FieldInvalid("entry_date", gettext("The date is in the future."))
    if not text.strip() and not document_reference.strip():
        raise FieldInvalid("text", gettext("Give the text or the document it is in."))
    entry = service.record_entry(
        session,
        recommendation_id=recommendation_id,
        kind=EntryKind(kind),
        entry_date=day,
        text=text,
        document_reference=document_reference,
        verdict=chosen,
        author=actor,
    )
    _audit(
        session,
        actor,
        AuditAction.recommendation_entry,
        "recommendation",
        recommendation_id,
        f"{kind}{': ' + verdict if chosen else ''} ({day.isoformat()})",
        address,
        kind=kind,
        verdict=chosen.value if chosen else None,
        entry_date=day.isoformat(),
        entry_id=id_of(entry),
    )
    return entry


def change_deadline(
    session: Session,
    *,
    recommendation_id: int,
    deadline: str,
    reason: str,
    actor: CurrentUser,
    address: str = "",
) -> None:
    """Set, move or drop (empty) the deadline, a reason where one was set
    (`service.reschedule`)."""
    service._require_coordinator(actor)
    day = _date(deadline, "deadline", required=False)
    current = service.current_deadline(session, recommendation_id)
    before = current.deadline if current else None
    if before is not None and day != before and not reason.strip():
        raise FieldInvalid("reason", gettext("Say why the deadline changes."))
    try:
        service.reschedule(
            session,
            recommendation_id=recommendation_id,
            deadline=day,
            reason=reason,
            author=actor,
        )
    except FieldInvalid:
        raise
    except InvalidInput as problem:
        raise FieldInvalid("deadline", problem.message) from None
    _audit(
        session,
        actor,
        AuditAction.recommendation_deadline,
        "recommendation",
        recommendation_id,
        f"{before.isoformat() if before else '–'} → {day.isoformat() if day else '–'}",
        address,
        **{
            "from": before.isoformat() if before else None,
            "to": day.isoformat() if day else None,
            "reason": reason.strip(),
        },
    )


# -- links -------------------------------------------------------------------------------------


# kind → (link model, its column of the target, the target's model)
LINK_KINDS: dict[str, tuple[Any, str, type[SQLModel]]] = {
    "activity": (RecommendationActivity, "activity_id", Activity),
    "result": (RecommendationResult, "result_id", Result),
    "indicator": (RecommendationIndicator, "indicator_id", Indicator),
}


def _target_programme(session: Session, kind: str, target: Any) -> int:
    if kind == "activity":
        result = session.get(Result, target.result_id)
        assert result is not None  # a foreign key
        return result.programme_id
    return int(target.programme_id)


def find_link(session: Session, recommendation_id: int, kind: str, item_id: int) -> LinkState:
    if kind not in LINK_KINDS:
        raise NotFound(gettext("No such link"))
    model, column, _ = LINK_KINDS[kind]
    link = session.scalar(
        select(model).where(
            model.recommendation_id == recommendation_id,
            getattr(model, column) == item_id,
        )
    )
    if link is None:
        raise NotFound(gettext("No such link"))
    return link


def add_link(
    session: Session,
    *,
    recommendation_id: int,
    target: str,
    actor: CurrentUser,
    address: str = "",
) -> LinkState:
    """Link an activity, result or indicator of the same programme (`target` "activity:12"):
    made by a person, so confirmed by them at once."""
    service._require_coordinator(actor)
    recommendation = service.get_recommendation(session, recommendation_id)
    kind, _, raw = target.partition(":")
    if kind not in LINK_KINDS or not raw.isdigit():
        raise FieldInvalid("target", gettext("Choose an activity, a result or a key figure."))
    model, column, target_model = LINK_KINDS[kind]
    item = session.get(target_model, int(raw))
    if item is None or _target_programme(session, kind, item) != service.programme_of(
        session, recommendation
    ):
        raise FieldInvalid("target", gettext("Choose an activity, a result or a key figure."))
    try:
        find_link(session, recommendation_id, kind, int(raw))
    except NotFound:
        pass
    else:
        raise FieldInvalid("target", gettext("That is linked already."))
    link = model(
        recommendation_id=recommendation_id,
        source=LinkSource.entered,
        confirmed_by=actor.name,
        confirmed_by_id=actor.id,
        confirmed_at=utc_now(),
        **{column: int(raw)},
    )
    session.add(link)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.recommendation_link_add,
        "recommendation",
        recommendation_id,
        f"{kind} {raw}",
        address,
        kind=kind,
        item_id=int(raw),
    )
    return link


def confirm_link(
    session: Session,
    *,
    recommendation_id: int,
    kind: str,
    item_id: int,
    actor: CurrentUser,
    address: str = "",
) -> None:
    link = find_link(session, recommendation_id, kind, item_id)
    service.confirm_link(session, link=link, user=actor)
    _audit(
        session,
        actor,
        AuditAction.recommendation_link_confirm,
        "recommendation",
        recommendation_id,
        f"{kind} {item_id}",
        address,
        kind=kind,
        item_id=item_id,
    )


def remove_link(
    session: Session,
    *,
    recommendation_id: int,
    kind: str,
    item_id: int,
    actor: CurrentUser,
    address: str = "",
) -> None:
    service._require_coordinator(actor)
    link = find_link(session, recommendation_id, kind, item_id)
    session.delete(link)
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.recommendation_link_remove,
        "recommendation",
        recommendation_id,
        f"{kind} {item_id}",
        address,
        kind=kind,
        item_id=item_id,
        source=link.source.value if hasattr(link.source, "value") else str(link.source),
        confirmed_by=link.confirmed_by,
    )
