"""The edit policy: may this user change this subject in this period now, and if not, why.

One rule for everything an organisation reports on in a reporting period (an activity's
status today; a key figure or a follow-up entry later). A domain describes its subject by
what the rule needs (the organisations it belongs to, whether it was retired from the period,
whether its current version was sent back in review) and words the refusals in its own terms;
the rule itself is here and nowhere else:

- coordinators and admins change every subject, editors the subjects of their own
  organisations, viewers (and the signed-out) nothing;
- a period changes only while it is open for updates, in review, or being corrected (a
  correction of its published report: editors propose corrections, coordinators review them,
  as in a round); during review only coordinators change, and editors change what was sent
  back to them;
- a subject retired from the period no longer changes there.

A decision names every refusal, access first: the service raises the first one, the import
lists them all. Route rules (which role may open which page) are `app/permissions.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Set
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Generic, Protocol, TypeVar

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.errors import DomainError, Forbidden
from app.i18n import gettext
from app.periods.models import PeriodState
from app.periods.service import PeriodClosed, published_message

# A period takes changes (from someone) in these states.
CHANGING_STATES = frozenset({PeriodState.open, PeriodState.in_review, PeriodState.correcting})


class Reason(StrEnum):
    """Why a change is refused."""

    no_period = "no_period"  # the programme has no reporting period to change in
    no_editor = "no_editor"  # signed out, or a viewer
    other_organisation = "other_organisation"  # an editor of none of the subject's organisations
    not_opened = "not_opened"  # the period is a draft
    published = "published"
    retired = "retired"  # the subject is no longer part of the period
    in_review = "in_review"  # the round is closed for review and this was not sent back


class ErrorKind(StrEnum):
    forbidden = "forbidden"  # 403: not this user's to change
    period_closed = "period_closed"  # 409: not now


ERROR_KINDS: dict[Reason, ErrorKind] = {
    Reason.no_period: ErrorKind.period_closed,
    Reason.no_editor: ErrorKind.forbidden,
    Reason.other_organisation: ErrorKind.forbidden,
    Reason.not_opened: ErrorKind.period_closed,
    Reason.published: ErrorKind.period_closed,
    Reason.retired: ErrorKind.period_closed,
    Reason.in_review: ErrorKind.period_closed,
}


class Subject(Protocol):
    """What the rule needs to know about the thing being changed."""

    @property
    def organisation_ids(self) -> Set[int]: ...

    @property
    def retired(self) -> bool: ...

    @property
    def sent_back(self) -> bool: ...


class Period(Protocol):
    """A reporting period (or anything with its life cycle), as the rule needs it."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> str: ...  # a PeriodState (a database row may hold its plain value)


S = TypeVar("S", bound=Subject)
S_contra = TypeVar("S_contra", bound=Subject, contravariant=True)


class Wording(Protocol[S_contra]):
    """A domain's words for a refusal of its subject, in the user's language."""

    def __call__(self, reason: Reason, subject: S_contra, period: Period | None) -> str: ...


def period_message(reason: Reason, period: Period | None) -> str:
    """The words for a period that does not take changes, whatever the subject."""
    if reason == Reason.no_period:
        return gettext("This programme has no reporting period")
    if period is None:
        raise ValueError(reason)
    if reason == Reason.published:
        return published_message(period.name)
    if reason == Reason.not_opened:
        return gettext("%(period)s has not been opened for updates yet.") % {"period": period.name}
    raise ValueError(reason)


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    # Worded only when asked: a list page makes a decision per row and shows none of the words.
    words: Callable[[], str] = field(compare=False, repr=False)

    @property
    def message(self) -> str:
        return self.words()

    @property
    def kind(self) -> ErrorKind:
        return ERROR_KINDS[self.reason]

    def error(self) -> DomainError:
        if self.kind == ErrorKind.forbidden:
            return Forbidden(self.message)
        return PeriodClosed(self.message)


@dataclass(frozen=True)
class Decision:
    """The answer: allowed, or every reason it is not (the first is the one to show)."""

    refusals: tuple[Refusal, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refusals

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def refusal(self) -> Refusal | None:
        return self.refusals[0] if self.refusals else None

    @property
    def reason(self) -> Reason | None:
        return self.refusals[0].reason if self.refusals else None

    @property
    def kind(self) -> ErrorKind | None:
        return self.refusals[0].kind if self.refusals else None

    @property
    def message(self) -> str:
        return self.refusals[0].message if self.refusals else ""

    def require(self) -> None:
        """Raise the first refusal as its domain error (Forbidden 403 or PeriodClosed 409)."""
        if self.refusals:
            raise self.refusals[0].error()


ALLOWED = Decision()


def period_accepts_changes(period: Period) -> bool:
    """Does the period take changes from anyone (it is open, in review, or being corrected)?"""
    return PeriodState(period.state) in CHANGING_STATES


@dataclass(frozen=True)
class EditPolicy(Generic[S]):
    """The rule, with one domain's words for its refusals."""

    wording: Wording[S]

    @staticmethod
    def access_reason(user: CurrentUser | None, subject: Subject) -> Reason | None:
        """Is the subject this user's to change at all (whatever the period's state)?"""
        if user is None or user.role == Role.viewer:
            return Reason.no_editor
        if user.at_least(Role.coordinator):
            return None
        if user.role == Role.editor and user.organisation_ids & subject.organisation_ids:
            return None
        return Reason.other_organisation

    @staticmethod
    def period_reason(user: CurrentUser | None, subject: Subject, period: Period) -> Reason | None:
        """Does the period take a change of the subject from this user now?"""
        coordinating = user is not None and user.at_least(Role.coordinator)
        return EditPolicy._period_reason(subject, period, coordinating=coordinating)

    @staticmethod
    def _period_reason(subject: Subject, period: Period, *, coordinating: bool) -> Reason | None:
        state = PeriodState(period.state)
        if state == PeriodState.published:
            return Reason.published
        if state == PeriodState.draft:
            return Reason.not_opened
        if subject.retired:
            return Reason.retired
        if state == PeriodState.in_review and not (coordinating or subject.sent_back):
            return Reason.in_review
        return None

    @staticmethod
    def open_to_its_editors(subject: Subject, period: Period) -> bool:
        """Does the period take a change of the subject from an editor of its organisations
        now (what is still theirs to do)?"""
        return EditPolicy._period_reason(subject, period, coordinating=False) is None

    def _decision(
        self, reasons: list[Reason | None], subject: S, period: Period | None
    ) -> Decision:
        refusals = tuple(
            Refusal(reason, partial(self.wording, reason, subject, period))
            for reason in reasons
            if reason is not None
        )
        return Decision(refusals) if refusals else ALLOWED

    def access(self, user: CurrentUser | None, subject: S) -> Decision:
        """May the user change the subject in a period that takes their changes?"""
        return self._decision([self.access_reason(user, subject)], subject, None)

    def change(self, user: CurrentUser | None, subject: S, period: Period | None) -> Decision:
        """May the user change the subject in this period now? (None: the programme has no
        period yet, so nothing changes.)"""
        return self._decision(
            [
                self.access_reason(user, subject),
                Reason.no_period if period is None else self.period_reason(user, subject, period),
            ],
            subject,
            period,
        )

    @staticmethod
    def allows_by_organisations(
        user: CurrentUser | None,
        period: Period | None,
        *,
        retired: bool = False,
        sent_back: bool = False,
    ) -> Callable[[Set[int]], bool]:
        """`change(user, subject, period).allowed` for many subjects that differ only in their
        organisations (the rows of a list): the period and the user's access are worked out
        once, then each subject costs one set intersection at most."""
        if period is None or user is None or user.role == Role.viewer:
            return _never
        probe = _Probe(frozenset(), retired, sent_back)
        if EditPolicy.period_reason(user, probe, period) is not None:
            return _never
        if user.at_least(Role.coordinator):
            return _always
        if user.role != Role.editor:
            return _never
        return partial(_shares_an_organisation, user.organisation_ids)

    def require(self, user: CurrentUser | None, subject: S, period: Period) -> None:
        self.change(user, subject, period).require()

    @staticmethod
    def audience(user: CurrentUser | None) -> Hashable:
        """What of the user the access part of a decision depends on (a cache key for pages
        that show many decisions)."""
        if user is None or user.role == Role.viewer:
            return "none"
        if user.at_least(Role.coordinator):
            return "all"
        return tuple(sorted(user.organisation_ids))


@dataclass(frozen=True)
class _Probe:
    """A subject with no organisations: what the period part of a decision needs."""

    organisation_ids: frozenset[int]
    retired: bool
    sent_back: bool


def _never(organisation_ids: Set[int]) -> bool:
    return False


def _always(organisation_ids: Set[int]) -> bool:
    return True


def _shares_an_organisation(mine: frozenset[int], organisation_ids: Set[int]) -> bool:
    return not mine.isdisjoint(organisation_ids)
