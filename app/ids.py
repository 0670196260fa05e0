"""Primary keys of rows that are in the database.

SQLModel types a table's `id` as `int | None` because a new row has none until it is flushed.
Code that works with stored rows reads the key through `id_of`, which says so to the type
checker and fails loudly if a row was never flushed.
"""

from __future__ import annotations

from typing import Protocol


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _HasId) -> int:
    """The primary key of a flushed or loaded row."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it was never flushed")
    return row.id
