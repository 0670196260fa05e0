"""The edit policy on its own: role × period state × own or other organisation × sent back ×
retired, against the policy directly (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.errors import Forbidden
from app.i18n import gettext, set_language
from app.periods.models import PeriodState
from app.periods.service import PeriodClosed, published_message
from app.policy import (
    EditPolicy,
    ErrorKind,
    Period,
    Reason,
    period_accepts_changes,
    period_message,
)

OWN, OTHER = 1, 2
ROLES = (None, Role.viewer, Role.editor, Role.coordinator, Role.admin)  # None: signed out


@dataclass(frozen=True)
class APeriod:
    name: str
    state: PeriodState


def user(role: Role | None) -> CurrentUser | None:
    if role is None:
        return None
    return CurrentUser(1, "someone@example.org", "Someone", role, frozenset({OWN}))


# Whose subject it is, whatever the period: (role, the user's organisation's own) → reason.
ACCESS: dict[tuple[Role | None, bool], Reason | None] = {
    (None, True): Reason.no_editor,
    (None, False): Reason.no_editor,
    (Role.viewer, True): Reason.no_editor,
    (Role.viewer, False): Reason.no_editor,
    (Role.editor, True): None,
    (Role.editor, False): Reason.other_organisation,
    (Role.coordinator, True): None,
    (Role.coordinator, False): None,
    (Role.admin, True): None,
    (Role.admin, False): None,
}

# Whether the period takes the change now: (state, coordinator or admin, sent back, retired).
D, OP, R, P = PeriodState.draft, PeriodState.open, PeriodState.in_review, PeriodState.published
C = PeriodState.correcting
PERIOD: dict[tuple[PeriodState, bool, bool, bool], Reason | None] = {
    (D, False, False, False): Reason.not_opened,
    (D, False, False, True): Reason.not_opened,
    (D, False, True, False): Reason.not_opened,
    (D, False, True, True): Reason.not_opened,
    (D, True, False, False): Reason.not_opened,
    (D, True, False, True): Reason.not_opened,
    (D, True, True, False): Reason.not_opened,
    (D, True, True, True): Reason.not_opened,
    (OP, False, False, False): None,
    (OP, False, False, True): Reason.retired,
    (OP, False, True, False): None,
    (OP, False, True, True): Reason.retired,
    (OP, True, False, False): None,
    (OP, True, False, True): Reason.retired,
    (OP, True, True, False): None,
    (OP, True, True, True): Reason.retired,
    (R, False, False, False): Reason.in_review,
    (R, False, False, True): Reason.retired,
    (R, False, True, False): None,  # an editor changes what was sent back to them
    (R, False, True, True): Reason.retired,
    (R, True, False, False): None,  # coordinators change anything during review
    (R, True, False, True): Reason.retired,
    (R, True, True, False): None,
    (R, True, True, True): Reason.retired,
    (P, False, False, False): Reason.published,
    (P, False, False, True): Reason.published,
    (P, False, True, False): Reason.published,
    (P, False, True, True): Reason.published,
    (P, True, False, False): Reason.published,
    (P, True, False, True): Reason.published,
    (P, True, True, False): Reason.published,
    (P, True, True, True): Reason.published,
    # A correction of a published report is a round of its own: as open.
    (C, False, False, False): None,
    (C, False, False, True): Reason.retired,
    (C, False, True, False): None,
    (C, False, True, True): Reason.retired,
    (C, True, False, False): None,
    (C, True, False, True): Reason.retired,
    (C, True, True, False): None,
    (C, True, True, True): Reason.retired,
}

CASES = list(product(ROLES, PeriodState, (True, False), (True, False), (True, False)))


@pytest.mark.parametrize(("role", "state", "own", "sent_back", "retired"), CASES)
def test_policy_table(
    role: Role | None, state: PeriodState, own: bool, sent_back: bool, retired: bool
) -> None:
    period = APeriod("Rapportage 2030", state)
    subject = ActivitySubject.of(
        7, {OWN if own else OTHER, 99}, retired=retired, sent_back=sent_back
    )
    coordinating = role is not None and role.at_least(Role.coordinator)
    expected = [
        reason
        for reason in (ACCESS[role, own], PERIOD[state, coordinating, sent_back, retired])
        if reason is not None
    ]

    decision = ACTIVITY_POLICY.change(user(role), subject, period)

    assert [refusal.reason for refusal in decision.refusals] == expected
    assert decision.allowed is (not expected)
    assert bool(decision) is decision.allowed
    assert ACTIVITY_POLICY.access(user(role), subject).allowed is (ACCESS[role, own] is None)
    if not expected:
        assert decision.reason is None and decision.kind is None and decision.message == ""
        ACTIVITY_POLICY.require(user(role), subject, period)  # raises nothing
        return
    first = expected[0]
    assert decision.reason == first
    forbidden = first in (Reason.no_editor, Reason.other_organisation)
    assert decision.kind == (ErrorKind.forbidden if forbidden else ErrorKind.period_closed)
    with pytest.raises(Forbidden if forbidden else PeriodClosed) as raised:
        ACTIVITY_POLICY.require(user(role), subject, period)
    assert raised.value.status_code == (403 if forbidden else 409)
    assert raised.value.message == decision.message != ""


@pytest.mark.parametrize(("role", "state", "own", "sent_back", "retired"), CASES)
def test_a_lists_decisions_by_organisations_are_the_policys(
    role: Role | None, state: PeriodState, own: bool, sent_back: bool, retired: bool
) -> None:
    """The shortcut a list uses for its rows answers as `change` does, for any organisations
    (none, the user's, another's, both) and without a period."""
    period = APeriod("Rapportage 2030", state)
    for organisations in ({OWN if own else OTHER, 99}, set(), {OWN, OTHER}, {99}):
        subject = ActivitySubject.of(7, organisations, retired=retired, sent_back=sent_back)
        for some_period in (period, None):
            allows = EditPolicy.allows_by_organisations(
                user(role), some_period, retired=retired, sent_back=sent_back
            )
            expected = ACTIVITY_POLICY.change(user(role), subject, some_period).allowed
            assert allows(subject.organisation_ids) is expected


@pytest.mark.parametrize("language", ["nl", "en"])
def test_refusals_say_what_the_activity_service_always_said(language: str) -> None:
    set_language(language)
    editor = user(Role.editor)
    mine = ActivitySubject.of(7, {OWN})

    def message(state: PeriodState, subject: ActivitySubject = mine) -> str:
        return ACTIVITY_POLICY.change(editor, subject, APeriod("Rapportage 2030", state)).message

    assert message(PeriodState.published) == published_message("Rapportage 2030")
    assert message(PeriodState.draft) == gettext(
        "%(period)s has not been opened for updates yet."
    ) % {"period": "Rapportage 2030"}
    assert message(PeriodState.in_review) == gettext(
        "The update round of %(period)s is closed for review; only activities sent "
        "back to you can still be changed."
    ) % {"period": "Rapportage 2030"}
    assert message(PeriodState.open, ActivitySubject.of(7, {OTHER})) == gettext(
        "Only editors of the organisations carrying out this activity may change it."
    )
    assert message(PeriodState.open, ActivitySubject.of(7, {OWN}, retired=True)) == gettext(
        "Activity %(id)s is no longer part of %(period)s (it was retired)."
    ) % {"id": 7, "period": "Rapportage 2030"}
    if language == "nl":
        assert "Rapportage 2030" in message(PeriodState.in_review)
        assert "alleen" in message(PeriodState.in_review).lower()
    set_language("nl")


def test_without_a_period_nothing_changes() -> None:
    decision = ACTIVITY_POLICY.change(user(Role.admin), ActivitySubject.of(7, {OWN}), None)
    assert decision.reason == Reason.no_period
    assert decision.kind == ErrorKind.period_closed


def test_a_period_takes_changes_while_open_in_review_or_being_corrected() -> None:
    taking = {state for state in PeriodState if period_accepts_changes(APeriod("x", state))}
    assert taking == {PeriodState.open, PeriodState.in_review, PeriodState.correcting}


def test_the_audience_is_what_a_list_of_decisions_depends_on() -> None:
    assert ACTIVITY_POLICY.audience(None) == ACTIVITY_POLICY.audience(user(Role.viewer))
    assert ACTIVITY_POLICY.audience(user(Role.coordinator)) == ACTIVITY_POLICY.audience(
        user(Role.admin)
    )
    assert ACTIVITY_POLICY.audience(user(Role.editor)) == (OWN,)


# The next domains bring their own subjects and words; the rule is the same object.


@dataclass(frozen=True)
class KeyFigure:
    code: str
    organisation_ids: frozenset[int]
    retired: bool = False
    sent_back: bool = False


def key_figure_wording(reason: Reason, subject: KeyFigure, period: Period | None) -> str:
    if reason in (Reason.no_editor, Reason.other_organisation):
        return f"not yours: {subject.code}"
    if reason == Reason.in_review:
        return f"in review: {subject.code}"
    if reason == Reason.retired:
        return f"retired: {subject.code}"
    return period_message(reason, period)


def test_another_subject_uses_the_same_rule_with_its_own_words() -> None:
    policy: EditPolicy[KeyFigure] = EditPolicy(key_figure_wording)
    edition = APeriod("Monitor 2031", PeriodState.in_review)
    figure = KeyFigure("K1", frozenset({OWN}))
    editor = user(Role.editor)
    for role, state, own, sent_back, retired in CASES:
        subject = KeyFigure("K1", frozenset({OWN if own else OTHER}), retired, sent_back)
        activity = ActivitySubject.of(
            1, subject.organisation_ids, retired=retired, sent_back=sent_back
        )
        period = APeriod("Monitor 2031", state)
        assert [r.reason for r in policy.change(user(role), subject, period).refusals] == [
            r.reason for r in ACTIVITY_POLICY.change(user(role), activity, period).refusals
        ]
    assert policy.change(editor, figure, edition).message == "in review: K1"
    with pytest.raises(PeriodClosed):
        policy.require(editor, figure, edition)
    policy.require(editor, KeyFigure("K1", frozenset({OWN}), sent_back=True), edition)
    assert policy.change(user(Role.editor), KeyFigure("K2", frozenset({OTHER})), edition).refusals[
        0
    ].message == ("not yours: K2")


@pytest.mark.parametrize(
    ("state", "sent_back", "retired"), list(product(PeriodState, (True, False), (True, False)))
)
def test_what_is_still_its_editors_to_do_is_what_they_may_change(
    state: PeriodState, sent_back: bool, retired: bool
) -> None:
    subject = ActivitySubject.of(7, {OWN}, retired=retired, sent_back=sent_back)
    period = APeriod("Rapportage 2030", state)
    assert ACTIVITY_POLICY.open_to_its_editors(subject, period) is (
        PERIOD[state, False, sent_back, retired] is None
    )
    assert ACTIVITY_POLICY.open_to_its_editors(subject, period) is (
        ACTIVITY_POLICY.change(user(Role.editor), subject, period).allowed
    )
