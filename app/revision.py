"""The data revision: one number that goes up with every change to what the pages show.

Imports nothing of the app's domains; `app.cache` keys what it keeps by this number.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class DataRevision(SQLModel, table=True):
    """One row whose number goes up with every change to what the pages show (kept by
    database triggers). Caches of rendered lists are keyed by it, so a change made through
    any process is seen by every process on its next request. Row 1 is the data revision;
    row 2 is the session revision, raised by sign-ins and sign-outs (docs/triggers.md)."""

    __tablename__ = "data_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
