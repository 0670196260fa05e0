"""The recommendations of a programme with their follow-up for one reporting period: what the
annual export's annex "Opvolging aanbevelingen" prints, and (for a published period) what open
data and the public site show. Plain rows, four queries whatever the number.

The one rule of what counts for a period, kept here: for a period whose report was published
(published, or being corrected: its report as published), the newest version of the period's
follow-up entry saved up to its publication time, and the newest response saved by then; for
any other period (a draft) the newest of each, proposals included, and the documents say it is
a draft. No author is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.clock import as_utc
from app.i18n import N_, translations_for
from app.ids import id_of
from app.programmes.models import Organisation
from app.recommendations.models import (
    Addressee,
    Entry,
    EntryKind,
    FollowUpStatus,
    Recommendation,
    SourceReport,
    Verdict,
)

VERDICT_LABELS = {
    Verdict.accepted: N_("accepted"),
    Verdict.partly_accepted: N_("partly accepted"),
    Verdict.not_accepted: N_("not accepted"),
    Verdict.noted: N_("noted"),
}


@dataclass(frozen=True)
class FollowUpRow:
    """One recommendation and where it stands in the period."""

    id: int
    number: str
    title: str
    priority: bool
    addressees: list[str]  # as written, else the organisation's name
    addressee_codes: list[str]  # the addressees' organisations (codes), where known
    verdict: Verdict | None
    verdict_label: str  # in the reader's language; "" without a response
    response_date: str  # ISO date of the response's document; "" without one
    status_code: str  # the legend's code; "" without a follow-up entry
    symbol: str
    status_label: str  # in the reader's language
    explanation: str
    entry_date: str  # ISO date of the follow-up entry's document; ""
    document_reference: str

    @property
    def addressees_text(self) -> str:
        return "; ".join(self.addressees)

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.explanation.split("\n\n") if part.strip()]


@dataclass(frozen=True)
class FollowUpReport:
    id: int
    key: str
    title: str
    year: int | None
    url: str | None
    rows: list[FollowUpRow]


def period_follow_up(
    session: Session,
    *,
    programme_id: int,
    period_id: int,
    published_at: datetime | None,
    language: str,
) -> list[FollowUpReport]:
    """The programme's reports, each with its recommendations in printed order and their
    response and follow-up for the period. `published_at`: the period's publication time when
    its report was published (only what was saved by then counts), None for a draft."""
    translations = translations_for(language)
    reports = list(
        session.scalars(
            select(SourceReport)
            .where(col(SourceReport.programme_id) == programme_id)
            .order_by(col(SourceReport.covers_to), col(SourceReport.id))
        )
    )
    if not reports:
        return []
    recommendations = list(
        session.scalars(
            select(Recommendation)
            .where(col(Recommendation.report_id).in_([id_of(r) for r in reports]))
            .order_by(col(Recommendation.report_id), col(Recommendation.position))
        )
    )
    ids = [id_of(r) for r in recommendations]
    addressees: dict[int, list[tuple[str, str]]] = {identifier: [] for identifier in ids}
    for addressee, organisation in session.execute(
        select(Addressee, Organisation)
        .outerjoin(Organisation, col(Organisation.id) == Addressee.organisation_id)
        .where(col(Addressee.recommendation_id).in_(ids))
        .order_by(col(Addressee.recommendation_id), col(Addressee.position))
    ).all():
        name = addressee.name or (organisation.name if organisation else "")
        addressees[addressee.recommendation_id].append(
            (name, organisation.code if organisation else "")
        )
    # Responses (of any period) and this period's follow-up entries, oldest first, so that
    # the last one seen of each is the newest.
    entries = select(Entry, FollowUpStatus).outerjoin(
        FollowUpStatus, col(FollowUpStatus.id) == Entry.followup_status_id
    )
    entries = entries.where(
        col(Entry.recommendation_id).in_(ids),
        (col(Entry.kind) == EntryKind.response.value)
        | ((col(Entry.kind) == EntryKind.follow_up.value) & (col(Entry.period_id) == period_id)),
    ).order_by(col(Entry.entry_date), col(Entry.created_at), col(Entry.version), col(Entry.id))
    responses: dict[int, Entry] = {}
    follow_ups: dict[int, tuple[Entry, FollowUpStatus | None]] = {}
    cutoff = None if published_at is None else as_utc(published_at)
    for entry, status in session.execute(entries).all():
        if cutoff is not None and as_utc(entry.created_at) > cutoff:
            continue
        if entry.kind == EntryKind.response:
            responses[entry.recommendation_id] = entry
        else:
            newest = follow_ups.get(entry.recommendation_id)
            if newest is None or newest[0].version < entry.version:
                follow_ups[entry.recommendation_id] = (entry, status)
    label = "label_nl" if language == "nl" else "label_en"
    rows: dict[int, list[FollowUpRow]] = {id_of(report): [] for report in reports}
    for recommendation in recommendations:
        identifier = id_of(recommendation)
        response = responses.get(identifier)
        follow_up, status = follow_ups.get(identifier, (None, None))
        verdict = response.verdict if response else None
        rows[recommendation.report_id].append(
            FollowUpRow(
                id=identifier,
                number=recommendation.number,
                title=recommendation.title,
                priority=recommendation.priority,
                addressees=[name for name, _ in addressees[identifier] if name],
                addressee_codes=[code for _, code in addressees[identifier] if code],
                verdict=verdict,
                verdict_label=translations.gettext(VERDICT_LABELS[verdict]) if verdict else "",
                response_date=response.entry_date.isoformat() if response else "",
                status_code=status.code if status else "",
                symbol=status.symbol if status else "",
                status_label=getattr(status, label) if status else "",
                explanation=follow_up.text if follow_up else "",
                entry_date=follow_up.entry_date.isoformat() if follow_up else "",
                document_reference=follow_up.document_reference if follow_up else "",
            )
        )
    return [
        FollowUpReport(
            id=id_of(report),
            key=report.key,
            title=report.title,
            year=report.year,
            url=report.url,
            rows=rows[id_of(report)],
        )
        for report in reports
    ]
