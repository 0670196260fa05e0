"""The overall state of a result or an action line, derived from its activities.

The rule, in order (documented in the README too):

1. Activities that are "Niet van toepassing" do not count. If nothing else is left, the whole
   is "Niet van toepassing".
2. Any activity "In uitvoering maar met vertraging": the whole is delayed.
3. All "Voltooid": completed.
4. Only "Voltooid" and "Doorlopend": ongoing.
5. All "Nog niet in uitvoering" (an activity without a status counts as not started): not
   started.
6. All "In (formele) consultatie": in consultation. Otherwise a consultation is work in
   progress, like the rest:
7. Anything else (a mix of started, completed and not yet started work): in progress, on
   schedule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.activities.models import Status


def rollup(counts: Mapping[Status | None, int]) -> Status | None:
    """The overall status for these numbers of activities per status; None when empty."""
    present = {
        (status if status is not None else Status.not_started): count
        for status, count in counts.items()
        if count
    }
    if not present:
        return None
    counted = {status for status in present if status != Status.not_applicable}
    if not counted:
        return Status.not_applicable
    if Status.delayed in counted:
        return Status.delayed
    for single in (Status.completed, Status.not_started, Status.in_consultation):
        if counted == {single}:
            return single
    if counted <= {Status.completed, Status.ongoing}:
        return Status.ongoing
    return Status.on_schedule


def rollup_of(statuses: Iterable[Status | None]) -> Status | None:
    counts: dict[Status | None, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return rollup(counts)
