"""The edit policy (app/policy.py) in the recommendations' words: who may propose a
recommendation's follow-up entry in a reporting period, and when.

A follow-up's organisations are those that lead an activity linked to the recommendation
(every link counts, a seeded proposal too: those organisations are the ones that report on
the work) and the organisations among its addressees. Editors of those organisations propose
the follow-up while the period is open (and, in review, when it was sent back to them);
coordinators always while the period takes changes; nobody once it is published.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.service import CurrentUser
from app.i18n import gettext
from app.periods.models import PeriodState, ReportingPeriod
from app.policy import Decision, EditPolicy, Period, Reason, period_message
from app.programmes.models import ActivityOrganisation, OrganisationRole
from app.readmodel.rows import PeriodRow
from app.recommendations.models import Addressee, Entry, EntryKind, RecommendationActivity
from app.review import follow_ups as review_state


@dataclass(frozen=True)
class FollowUpSubject:
    """A recommendation's follow-up in one period, as the edit policy sees it."""

    recommendation_id: int
    organisation_ids: Set[int]
    retired: bool = False
    sent_back: bool = False


def follow_up_wording(reason: Reason, subject: FollowUpSubject, period: Period | None) -> str:
    if reason in (Reason.no_editor, Reason.other_organisation):
        return gettext(
            "Only editors of an organisation that leads a linked activity or is addressed by "
            "the recommendation may propose its follow-up."
        )
    if reason == Reason.in_review:
        return gettext(
            "%(period)s is closed for review; only coordinators can still change its follow-up."
        ) % {"period": period.name if period else ""}
    return period_message(reason, period)


FOLLOW_UP_POLICY: EditPolicy[FollowUpSubject] = EditPolicy(follow_up_wording)


def organisations_of(session: Session, recommendation_id: int) -> frozenset[int]:
    """The organisations that lead a linked activity or are an addressee."""
    leads = session.scalars(
        select(col(ActivityOrganisation.organisation_id))
        .join(
            RecommendationActivity,
            col(RecommendationActivity.activity_id) == col(ActivityOrganisation.activity_id),
        )
        .where(
            col(RecommendationActivity.recommendation_id) == recommendation_id,
            col(ActivityOrganisation.role) == OrganisationRole.lead.value,
        )
    )
    addressed = session.scalars(
        select(col(Addressee.organisation_id)).where(
            col(Addressee.recommendation_id) == recommendation_id,
            col(Addressee.organisation_id).is_not(None),
        )
    )
    return frozenset(leads) | frozenset(org for org in addressed if org is not None)


def current_entry(session: Session, recommendation_id: int, period_id: int) -> Entry | None:
    """The period's follow-up of this recommendation: its newest follow-up entry there."""
    return session.scalar(
        select(Entry)
        .where(
            col(Entry.recommendation_id) == recommendation_id,
            col(Entry.kind) == EntryKind.follow_up.value,
            col(Entry.period_id) == period_id,
        )
        .order_by(col(Entry.version).desc())
        .limit(1)
    )


def subject_of(session: Session, recommendation_id: int, period_id: int) -> FollowUpSubject:
    return FollowUpSubject(
        recommendation_id,
        organisations_of(session, recommendation_id),
        sent_back=review_state.sent_back(
            session, current_entry(session, recommendation_id, period_id)
        ),
    )


def may_propose(
    session: Session, user: CurrentUser | None, recommendation_id: int, period: ReportingPeriod
) -> Decision:
    """May this user propose the recommendation's follow-up in this period now?"""
    return FOLLOW_UP_POLICY.change(
        user, subject_of(session, recommendation_id, period.id or 0), period
    )


# The periods whose round takes follow-ups (a correction's small round is a coordinator's
# business on the period's own pages, not a link on the recommendation's page).
ROUND_STATES = frozenset({PeriodState.open, PeriodState.in_review})


def proposable_periods(
    session: Session, user: CurrentUser | None, recommendation_id: int, periods: Sequence[PeriodRow]
) -> list[PeriodRow]:
    """The periods of the round (open, in review) in which this user may propose the
    recommendation's follow-up now, as FOLLOW_UP_POLICY answers: for an editor of its
    organisations the open ones and those in review where it was sent back to them."""
    if user is None:
        return []
    return [
        period
        for period in periods
        if period.state in ROUND_STATES
        and FOLLOW_UP_POLICY.change(user, subject_of(session, recommendation_id, period.id), period)
    ]
