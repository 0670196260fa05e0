"""The seed file format (see seed/README.md). Validated before anything touches the database."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.activities.models import Status
from app.periods.models import PeriodState
from app.text import Text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clean_text(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SeedOrganisation(_Strict):
    code: Text = Field(min_length=1, max_length=50)
    name: Text = Field(min_length=1, max_length=300)


class SeedActivity(_Strict):
    label: Text | None = Field(default=None, max_length=20)
    title: Text = Field(min_length=1, max_length=1000)
    lead: Text | None = None
    involved: list[Text] = Field(default_factory=list)
    status: Status
    # Why the status was derived as it is: for reviewers, not loaded into the database.
    derivation: Text | None = None
    explanation: Text = ""

    _strip = field_validator("label", "title", "explanation", mode="before")(_clean_text)

    @field_validator("label", mode="before")
    @classmethod
    def _label_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("explanation", mode="before")
    @classmethod
    def _explanation_may_be_empty(cls, value: object) -> object:
        return "" if value is None else value


class SeedResult(_Strict):
    number: int = Field(ge=1)
    title: Text = Field(min_length=1, max_length=500)
    # Text printed across the whole table for this result (an introduction or a closing remark).
    note: Text = ""
    activities: list[SeedActivity] = Field(min_length=1)

    _strip = field_validator("title", mode="before")(_clean_text)


class SeedTheme(_Strict):
    title: Text = Field(min_length=1, max_length=500)
    results: list[SeedResult] = Field(min_length=1)

    _strip = field_validator("title", mode="before")(_clean_text)


class SeedActionLine(_Strict):
    number: int = Field(ge=1)
    title: Text = Field(min_length=1, max_length=500)
    themes: list[SeedTheme] = Field(min_length=1)

    _strip = field_validator("title", mode="before")(_clean_text)


class SeedProgramme(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)
    name: Text = Field(min_length=1, max_length=300)
    description: Text = ""


class SeedPeriod(_Strict):
    name: Text = Field(min_length=1, max_length=200)
    reference_date: date
    # Where the period stands when it is first created: "published" for a report that was
    # sent to Parliament (it can then no longer change), "open" for an update round.
    state: PeriodState = PeriodState.open


class SeedFile(_Strict):
    schema_version: int = Field(ge=1, le=1)
    programme: SeedProgramme
    # The period the statuses and explanations in this file belong to.
    period: SeedPeriod
    organisations: list[SeedOrganisation] = Field(default_factory=list)
    action_lines: list[SeedActionLine] = Field(min_length=1)
