"""The documented roll-up rule, case by case."""

from __future__ import annotations

import pytest

from app.activities.models import Status
from app.activities.rollup import rollup_of

C, G, S, D, N, K, X = (  # G: ongoing (doorlopend, 'gaande')
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
        ([C, G], G),
        ([G], G),
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
        ([G, N], S),
    ],
)
def test_rollup_rule(statuses, expected) -> None:  # type: ignore[no-untyped-def]
    assert rollup_of(statuses) == expected
