"""Long work recorded in the database: jobs and the files they produce."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class StoredFile(SQLModel, table=True):
    """A produced file (an export, an import report). Files of a published period are kept
    under a `cache_key` so that the same download is produced once and then served."""

    __tablename__ = "stored_file"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=300)
    media_type: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    cache_key: str | None = Field(
        default=None, sa_column=Column(String(300), nullable=True, unique=True)
    )
    created_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Job(SQLModel, table=True):
    """One piece of long work. Any app process may run it; its progress, outcome and file
    are here, so a page reload (or another process) shows the same state."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=50)
    state: JobState = Field(
        default=JobState.queued, sa_column=Column(EnumText(JobState), nullable=False, index=True)
    )
    # How often a process has claimed it: 1 for its first run, one more for every take-up
    # after its process stopped. A claim is a compare-and-set on this number, so exactly one
    # process holds each attempt, and only that one may record the outcome.
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # 0-100, and what is being done (or, when failed, why).
    progress: int = 0
    message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    file_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("stored_file.id"), nullable=True)
    )
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True, index=True),
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # Set by the process running the job while it runs (every step, and by a beat of its
    # own); a running job whose heartbeat is old was interrupted (its process stopped) and
    # is taken up again (app/jobs/service.py).
    heartbeat_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
