"""The edit policy (app/policy.py) for an activity's status, in the words of activities.

Everything that asks "may this user change this activity now" (the status service, the
board's change links and activity page, the import checker, the API) asks `ACTIVITY_POLICY`
with an `ActivitySubject`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.i18n import gettext
from app.policy import EditPolicy, Period, Reason, period_message


@dataclass(frozen=True)
class ActivitySubject:
    id: int
    organisation_ids: frozenset[int]
    # Retired (or under a retired result, theme or action line) and without a status in the
    # period: no longer part of it.
    retired: bool = False
    # The activity's newest version in the period was sent back in review (and not answered
    # with a new version since).
    sent_back: bool = False

    @classmethod
    def of(
        cls,
        activity_id: int,
        organisation_ids: Iterable[int],
        *,
        retired: bool = False,
        sent_back: bool = False,
    ) -> ActivitySubject:
        return cls(activity_id, frozenset(organisation_ids), retired, sent_back)


def activity_wording(reason: Reason, subject: ActivitySubject, period: Period | None) -> str:
    if reason in (Reason.no_editor, Reason.other_organisation):
        return gettext(
            "Only editors of the organisations carrying out this activity may change it."
        )
    if reason == Reason.retired:
        return gettext("Activity %(id)s is no longer part of %(period)s (it was retired).") % {
            "id": subject.id,
            "period": period.name if period else "",
        }
    if reason == Reason.in_review:
        return gettext(
            "The update round of %(period)s is closed for review; only activities sent "
            "back to you can still be changed."
        ) % {"period": period.name if period else ""}
    return period_message(reason, period)


ACTIVITY_POLICY: EditPolicy[ActivitySubject] = EditPolicy(activity_wording)
