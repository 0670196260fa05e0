"""The Rapporteur's recommendations (aanbevelingen): source reports, numbered recommendations
with their addressees, deadlines, relations and parts, their links to what answers them
(activities, results, key figures), the programme's follow-up legend, and the dialogue about
each recommendation as append-only entries (response, assessment, follow-up).

Two tables are history and never change (database triggers refuse UPDATE and DELETE): the
dialogue (`recommendation_entry`) and the deadline's rescheduling (`recommendation_deadline`).
A follow-up entry belongs to a reporting period and carries a version, so that it can go
through the period's round, review and publication as a figure version does (a review note
will point at an entry as it points at a figure version); that integration is still to come.
See docs/recommendations.md.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText


class SourceReport(SQLModel, table=True):
    """A published report whose recommendations are followed ("Slachtoffermonitor mensenhandel
    2014-2018"), per programme."""

    __tablename__ = "recommendation_report"
    __table_args__ = (UniqueConstraint("programme_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    # Stable within the programme ("slachtoffermonitor-2014-2018"): the seed's and imports' key.
    key: str = Field(max_length=100)
    title: str = Field(max_length=500)
    publisher_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False
        )
    )
    # The year of publication, where known.
    year: int | None = Field(default=None)
    # The years the report covers (2014–2018), where it says.
    covers_from: int | None = Field(default=None)
    covers_to: int | None = Field(default=None)
    # How to find the published document (its title, a parliamentary number) and its address.
    reference: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    url: str | None = Field(default=None, max_length=1000)
    # The file the recommendations were taken from.
    source_document: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )


class Recommendation(SQLModel, table=True):
    """A numbered recommendation of a report, or a part of one (`parent_id`) followed
    separately. Its deadline is the newest row of its rescheduling history."""

    __tablename__ = "recommendation"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation_report.id", ondelete="RESTRICT"), nullable=False
        )
    )
    # As printed ("1", "5"); a part adds to its parent's ("5a", "5.1").
    number: str = Field(max_length=20)
    # Printed order within the report.
    position: int = 0
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    priority: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="RESTRICT"), nullable=True, index=True
        ),
    )
    # The file the text was taken from, where it is not the report's own.
    source_document: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )


class Addressee(SQLModel, table=True):
    """Whom a recommendation addresses, as written ("de staatssecretaris van Justitie en
    Veiligheid"), and the organisation that is, where one is known: an office holder, an
    organisation, or both."""

    __tablename__ = "recommendation_addressee"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "position"),
        CheckConstraint("name <> '' OR organisation_id IS NOT NULL", name="someone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), nullable=False
        )
    )
    position: int
    name: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    organisation_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("organisation.id", ondelete="RESTRICT"),
            nullable=True,
            index=True,
        ),
    )


class RelationKind(StrEnum):
    repeats = "repeats"  # a later report makes the same recommendation again
    continues = "continues"  # it builds on an earlier one


class RecommendationRelation(SQLModel, table=True):
    """This recommendation repeats or continues an earlier one (`related_id`)."""

    __tablename__ = "recommendation_relation"
    __table_args__ = (CheckConstraint("recommendation_id <> related_id", name="not_itself"),)

    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    related_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    kind: RelationKind = Field(sa_column=Column(EnumText(RelationKind), nullable=False))


class LinkSource(StrEnum):
    seeded = "seeded"  # proposed by the seed file: staff confirm it
    entered = "entered"  # made by a person


class LinkState(SQLModel):
    """What a link from a recommendation to what answers it shares: who proposed it, and who
    confirmed it (a seeded link is a proposal until a person confirms it)."""

    # A mixin cannot share Column objects between tables, so its columns are declared by type.
    source: LinkSource = Field(sa_type=EnumText(LinkSource), nullable=False)
    confirmed_by: str | None = Field(default=None, max_length=200)
    confirmed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    confirmed_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    created_at: datetime = Field(
        default_factory=utc_now,
        sa_type=DateTime(timezone=True),
        nullable=False,
    )

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


CONFIRMED_TOGETHER = "(confirmed_at IS NULL) = (confirmed_by IS NULL)"


class RecommendationActivity(LinkState, table=True):
    __tablename__ = "recommendation_activity"
    __table_args__ = (CheckConstraint(CONFIRMED_TOGETHER, name="confirmed_together"),)

    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    activity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class RecommendationResult(LinkState, table=True):
    __tablename__ = "recommendation_result"
    __table_args__ = (CheckConstraint(CONFIRMED_TOGETHER, name="confirmed_together"),)

    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    result_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("result.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class RecommendationIndicator(LinkState, table=True):
    __tablename__ = "recommendation_indicator"
    __table_args__ = (CheckConstraint(CONFIRMED_TOGETHER, name="confirmed_together"),)

    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    indicator_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("monitor_indicator.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )


class FollowUpStatus(SQLModel, table=True):
    """One value of a programme's follow-up legend ("Geïmplementeerd"), shown as its symbol
    and label, never by colour alone (as the activity legend, app/activities/presentation.py).
    The labels are the programme's own data, in both languages, not catalogue entries."""

    __tablename__ = "recommendation_followup_status"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint("symbol <> ''", name="has_symbol"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    # Stable English key ("implemented"), for imports and open data.
    code: str = Field(max_length=50)
    symbol: str = Field(max_length=10)
    label_nl: str = Field(max_length=200)
    label_en: str = Field(max_length=200)
    # The legend's own order.
    position: int

    def label(self, language: str) -> str:
        return self.label_nl if language == "nl" else self.label_en


class DeadlineChange(SQLModel, table=True):
    """The deadline's history: one row per setting, rescheduling or dropping (`deadline`
    None). Never updated or deleted (database triggers refuse it); the recommendation's
    deadline is its row with the highest version."""

    __tablename__ = "recommendation_deadline"
    __table_args__ = (UniqueConstraint("recommendation_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version: int
    deadline: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    author: str = Field(default="", max_length=200)
    author_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class EntryKind(StrEnum):
    response = "response"  # the government's policy response
    assessment = "assessment"  # the Rapporteur's assessment of that response
    follow_up = "follow_up"  # what was done, per reporting period


class Verdict(StrEnum):
    """How the government's response takes a recommendation."""

    accepted = "accepted"
    partly_accepted = "partly_accepted"
    not_accepted = "not_accepted"
    noted = "noted"


class EntrySource(StrEnum):
    entered = "entered"
    imported = "imported"
    seeded = "seeded"


class Entry(SQLModel, table=True):
    """One dated entry of the dialogue about a recommendation. Never updated or deleted
    (database triggers refuse it, and refuse an entry in a published period): a correction is
    a new entry. A follow-up entry belongs to a reporting period and is versioned within it,
    as a figure version is within its edition; the newest version is the period's follow-up."""

    __tablename__ = "recommendation_entry"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "kind", "period_id", "version"),
        Index("ix_recommendation_entry_period", "period_id", "recommendation_id"),
        CheckConstraint("(kind = 'response') = (verdict IS NOT NULL)", name="verdict_of_response"),
        CheckConstraint(
            "kind = 'follow_up' OR followup_status_id IS NULL", name="status_of_follow_up"
        ),
        CheckConstraint("kind <> 'follow_up' OR period_id IS NOT NULL", name="follow_up_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("recommendation.id", ondelete="RESTRICT"), nullable=False
        )
    )
    kind: EntryKind = Field(sa_column=Column(EnumText(EntryKind), nullable=False))
    version: int = 1
    verdict: Verdict | None = Field(
        default=None, sa_column=Column(EnumText(Verdict), nullable=True)
    )
    # The date the document gives (a letter's date), not when it was typed in.
    entry_date: date = Field(sa_column=Column(Date, nullable=False))
    # The document it is in ("Kamerstukken II 2019/20, 28 638, nr. 180"), and its address.
    document_reference: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    period_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("reporting_period.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    followup_status_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("recommendation_followup_status.id", ondelete="RESTRICT"),
            nullable=True,
        ),
    )
    source: EntrySource = Field(sa_column=Column(String(20), nullable=False))
    author: str = Field(default="", max_length=200)
    author_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
