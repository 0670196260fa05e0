"""A cache of values derived from the database, keyed by the database's data revision.

The revision is a number that database triggers raise with every change to what the pages
show (see `app.revision` and docs/triggers.md). A cached value is only ever served for the
revision it was built from, so it is never stale: a change made through any app process is seen
by every process on its next request. What the process keeps is a speed-up, never the record.

Sessions are not programme data: signing in or out raises a second number, the session
revision, and leaves the pages' cache alone. Whatever depends on sessions (the user a session
cookie belongs to) is keyed by both.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import NamedTuple, TypeVar

from sqlalchemy import text
from sqlmodel import Session

T = TypeVar("T")


# The rows of the data_revision table (the migrations create them and their triggers).
DATA_REVISION_ID = 1
SESSION_REVISION_ID = 2


class Revisions(NamedTuple):
    data: int  # programme data: everything the pages show
    sessions: int  # sign-ins and sign-outs


# Built once: every request runs it (a text() made per call costs more than the query).
_REVISIONS = text(
    "SELECT id, revision FROM data_revision "
    f"WHERE id IN ({DATA_REVISION_ID}, {SESSION_REVISION_ID})"
)


def current_revisions(session: Session) -> Revisions:
    """Both revisions, in one small query (every request reads them first)."""
    rows = session.connection().execute(_REVISIONS)
    found = {row_id: revision for row_id, revision in rows}
    return Revisions(data=int(found[DATA_REVISION_ID]), sessions=int(found[SESSION_REVISION_ID]))


def _kind(key: Hashable) -> str:
    """What a key is for: its first part when that is a name ("page", "session", ...)."""
    return key[0] if isinstance(key, tuple) and key and isinstance(key[0], str) else "other"


# What RevisionCache.get answers for a value it does not keep.
MISSING = object()


class RevisionCache:
    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = Lock()
        self.max_entries = max_entries
        # Lookups answered from the cache and built afresh, per kind of key, since the start
        # of this process: metrics for the benchmark (see counts()), never part of an answer.
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()

    def get_or_build(self, revision: int, key: Hashable, build: Callable[[], T]) -> T:
        full_key = (revision, key)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                self.hits[_kind(key)] += 1
                # One cache holds values of many types; the key says which it is.
                return self._entries[full_key]  # type: ignore[return-value]
            self.misses[_kind(key)] += 1
        value = build()
        with self._lock:
            self._entries[full_key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def get(self, revision: int, key: Hashable) -> object:
        """The value kept for this revision and key (a hit), or MISSING (not counted: the
        caller builds it with get_or_build, which counts the miss)."""
        full_key = (revision, key)
        with self._lock:
            if full_key not in self._entries:
                return MISSING
            self._entries.move_to_end(full_key)
            self.hits[_kind(key)] += 1
            return self._entries[full_key]

    def counts(self) -> dict[str, dict[str, int]]:
        """Hits and misses per kind of key so far, e.g. {"page": {"hits": 9, "misses": 1}}."""
        with self._lock:
            return {
                kind: {"hits": self.hits[kind], "misses": self.misses[kind]}
                for kind in sorted(self.hits.keys() | self.misses.keys())
            }

    def __len__(self) -> int:
        return len(self._entries)
