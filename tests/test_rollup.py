"""The documented roll-up rule, case by case."""

from __future__ import annotations

import pytest

from app.activities.models import Status
from app.activities.rollup import rollup_of

C, O, S, D, N, K, X = (
    Status.completed,
    Status.ongoing,
    Status.on_schedule,
    Status.delayed,
    Status.not_started,
    Status.in_consultation,
    Status.not_applicable,
)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], None),
        ([X, X], X),
        ([C, C, X], C),
        ([C, O], O),
        ([O], O),
        ([C, S, C], S),
        ([C, D, S], D),
        ([D, X], D),
        ([N, N], N),
        ([N, None], N),
        ([None], N),
        ([C, N], S),
        ([K, K], K),
        ([K, C], S),
        ([K, D], D),
        ([O, N], S),
    ],
)
def test_rollup_rule(statuses, expected) -> None:  # type: ignore[no-untyped-def]
    assert rollup_of(statuses) == expected
