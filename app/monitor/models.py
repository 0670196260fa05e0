"""The monitor of key figures (kerncijfers): editions, indicators, areas, figures with qualified
values, their footnotes, breakdowns and chains.

An edition is a reporting period of its own kind (`reporting_period.kind = 'monitor'`), so its
life cycle, round, review states, publication and audited reopening are the periods' own
(app/periods/service.py); the edition row adds what a monitor has beyond a period. A figure's
coordinates (indicator × period × area × breakdown) are fixed when it is created; its value is
history: one append-only `monitor_figure_version` row per change (database triggers refuse
UPDATE and DELETE, and any new row in a published edition). See docs/monitor.md.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText
from app.monitor.values import QualifiedValue, Qualifier, Unit


def in_language(dutch: str, english: str | None, language: str | None) -> str:
    """A seeded label in the reader's language: the English translation on an English page
    where one was given, else the Dutch source text."""
    return english if language == "en" and english else dutch


class AreaLevel(StrEnum):
    country = "country"  # Nederland
    region = "region"  # a regional unit, an RIEC region, a police unit
    municipality = "municipality"  # with its CBS code (GM0599 Rotterdam)


class Area(SQLModel, table=True):
    """A place figures are about. Areas form a hierarchy (parent) and may overlap (the region
    contains Rotterdam): figures of different areas are never added up unless every area
    involved is declared `additive` (and none contains another)."""

    __tablename__ = "monitor_area"

    id: int | None = Field(default=None, primary_key=True)
    # Our key (stable, used in seed files and imports): "NL", "regio-rotterdam", "GM0599".
    code: str = Field(max_length=50, unique=True)
    # The official code where one exists (CBS: "GM0599"; the country "NL"); else None.
    official_code: str | None = Field(default=None, max_length=20)
    name_nl: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    level: AreaLevel = Field(sa_column=Column(EnumText(AreaLevel), nullable=False))
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("monitor_area.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    additive: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )


class Indicator(SQLModel, table=True):
    """A key figure's definition, per programme."""

    __tablename__ = "monitor_indicator"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    code: str = Field(max_length=100)
    name_nl: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    unit: Unit = Field(sa_column=Column(EnumText(Unit), nullable=False))
    definition: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The organisation that supplies the figures: its editors may enter them (app/policy.py).
    supplier_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=True
        ),
    )


class IndicatorResult(SQLModel, table=True):
    """An indicator says something about a programme result."""

    __tablename__ = "monitor_indicator_result"

    indicator_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_indicator.id", ondelete="CASCADE"), primary_key=True
        )
    )
    result_id: int = Field(
        sa_column=Column(Integer, ForeignKey("result.id", ondelete="CASCADE"), primary_key=True)
    )


class Edition(SQLModel, table=True):
    """A monitor edition ("Mensenhandelmonitor 2020"): what it adds to its reporting period
    (whose state is the edition's state)."""

    __tablename__ = "monitor_edition"

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("reporting_period.id", ondelete="RESTRICT"),
            nullable=False,
            unique=True,
        )
    )
    title: str = Field(max_length=300)
    publisher_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False
        )
    )
    # The years it covers: one (2020–2020) or a span (2014–2018).
    covers_from: int
    covers_to: int
    area_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_area.id", ondelete="RESTRICT"), nullable=False
        )
    )
    # The document the edition is, by its title (and publisher, year): what pages and exports
    # print. The files it was read from (the seed's text files, an address), for provenance:
    # the open data names them.
    source_document: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    source_files: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    introduction: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Footnote(SQLModel, table=True):
    """A numbered note of an edition; it follows the figures it is linked to everywhere."""

    __tablename__ = "monitor_footnote"
    __table_args__ = (UniqueConstraint("edition_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_edition.id", ondelete="RESTRICT"), nullable=False
        )
    )
    number: int
    # How the source marks it ("*", "**"), printed beside the figure.
    marker: str = Field(default="", max_length=10)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # Its faithful English translation (None: the pages print the Dutch).
    text_en: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def text_in(self, language: str | None) -> str:
        return in_language(self.text, self.text_en, language)


class Figure(SQLModel, table=True):
    """An observation's coordinates: indicator × period (years) × area × breakdown. A part of a
    breakdown ("waarvan") has a parent figure, the dimension it splits along and its category.
    A figure whose breakdown is declared complete must equal the sum of its parts (checked on
    every entry, `app/monitor/service.py`)."""

    __tablename__ = "monitor_figure"
    __table_args__ = (UniqueConstraint("edition_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_edition.id", ondelete="RESTRICT"), nullable=False
        )
    )
    # Stable within the edition ("controles", "controles.vergunde-branche"): seed and sheet key.
    key: str = Field(max_length=200)
    indicator_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_indicator.id", ondelete="RESTRICT"), nullable=False
        )
    )
    year_from: int
    year_to: int
    area_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_area.id", ondelete="RESTRICT"), nullable=False
        )
    )
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("monitor_figure.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    # For a part: the dimension ("sector", "offence", "age", "duration") and its category label
    # as printed ("vergunde branche").
    dimension: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=200)
    # Their faithful English translations ("sector", "licensed sector"); None: the Dutch.
    dimension_en: str | None = Field(default=None, max_length=100)
    category_en: str | None = Field(default=None, max_length=200)
    # Printed order within the edition.
    position: int = 0

    def dimension_in(self, language: str | None) -> str:
        return in_language(self.dimension or "", self.dimension_en, language)

    def category_in(self, language: str | None) -> str:
        return in_language(self.category or "", self.category_en, language)


class FigureSource(StrEnum):
    entered = "entered"
    imported = "imported"
    seeded = "seeded"


class FigureVersion(SQLModel, table=True):
    """One row per change of a figure's value. Never updated or deleted (database triggers
    refuse it, and refuse new rows in a published edition); the figure's value is its row
    with the highest version."""

    __tablename__ = "monitor_figure_version"
    __table_args__ = (UniqueConstraint("figure_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    figure_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_figure.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version: int
    qualifier: Qualifier = Field(sa_column=Column(EnumText(Qualifier), nullable=False))
    low: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    high: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    approximate: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    estimate: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    # For a figure with parts: True when its breakdown is declared complete (the parts must
    # add up to it), False when partial ("29 slachtoffers, waarvan 4 minderjarig"); None
    # when it has no parts.
    breakdown_complete: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    # Where it comes from: the document (file) and page, and the passage as printed.
    source_document: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    source_page: str | None = Field(default=None, max_length=20)
    source_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    source: FigureSource = Field(sa_column=Column(String(20), nullable=False))
    author: str = Field(default="", max_length=200)
    author_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id"), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

    @property
    def value(self) -> QualifiedValue:
        return QualifiedValue(self.qualifier, self.low, self.high, self.approximate, self.estimate)


class FigureFootnote(SQLModel, table=True):
    __tablename__ = "monitor_figure_footnote"

    figure_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_figure.id", ondelete="CASCADE"), primary_key=True
        )
    )
    footnote_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_footnote.id", ondelete="CASCADE"), primary_key=True
        )
    )


class Chain(SQLModel, table=True):
    """A funnel: ordered figures for one cohort (or, as its caveat says, not one cohort)."""

    __tablename__ = "monitor_chain"
    __table_args__ = (UniqueConstraint("edition_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_edition.id", ondelete="RESTRICT"), nullable=False
        )
    )
    key: str = Field(max_length=200)
    title: str = Field(sa_column=Column(Text, nullable=False))
    caveat: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Their faithful English translations (None: the pages print the Dutch).
    title_en: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    caveat_en: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def title_in(self, language: str | None) -> str:
        return in_language(self.title, self.title_en, language)

    def caveat_in(self, language: str | None) -> str:
        return in_language(self.caveat, self.caveat_en, language)


class ChainStep(SQLModel, table=True):
    __tablename__ = "monitor_chain_step"

    chain_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_chain.id", ondelete="CASCADE"), primary_key=True
        )
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    figure_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("monitor_figure.id", ondelete="RESTRICT"), nullable=False
        )
    )
