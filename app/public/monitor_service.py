"""What the public site shows of the monitor of key figures: published editions only, each with
the figure values as they were published.

An edition whose period is not published (draft, open, in review) does not exist here: asking
for it gives the same 404 as an id that never existed. An edition being corrected stays as it
was published: each figure shows its newest version recorded before the edition's last
publication (`published_at`), never one recorded during the correction. No author, version
number or source passage is ever read into what the public site shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFound
from app.i18n import gettext
from app.ids import id_of
from app.monitor.models import Area, Edition
from app.monitor.service import (
    EditionView,
    FigureRow,
    as_published,
    edition_view,
    publications,
)
from app.periods.models import PeriodKind, PeriodState, ReportingPeriod
from app.programmes.models import Organisation

# The states in which an edition is public: published, and being corrected (as published).
PUBLIC_STATES = (PeriodState.published, PeriodState.correcting)


def _not_published() -> NotFound:
    # One message for an unknown id and for an edition that is not published.
    return NotFound(gettext("There is no published monitor edition with this number."))


@dataclass(frozen=True)
class EditionListing:
    edition: Edition
    period: ReportingPeriod
    publisher: str
    area: Area


def published_editions(session: Session) -> list[EditionListing]:
    """Every published edition (one being corrected included), newest years first."""
    rows = session.execute(
        select(Edition, ReportingPeriod, Organisation, Area)
        .join(ReportingPeriod, col(ReportingPeriod.id) == col(Edition.period_id))
        .join(Organisation, col(Organisation.id) == col(Edition.publisher_id))
        .join(Area, col(Area.id) == col(Edition.area_id))
        .where(
            col(ReportingPeriod.kind) == PeriodKind.monitor,
            col(ReportingPeriod.state).in_(PUBLIC_STATES),
        )
        .order_by(col(Edition.covers_to).desc(), col(Edition.covers_from).desc(), col(Edition.id))
    ).all()
    return [EditionListing(e, p, o.name, a) for e, p, o, a in rows]


@dataclass(frozen=True)
class PublicEdition:
    view: EditionView
    publisher: str
    area: Area
    published_at: datetime
    # The date of the last republication after a correction (None: never corrected).
    corrected_at: datetime | None

    @property
    def edition(self) -> Edition:
        return self.view.edition

    def breakdowns(self) -> list[FigureRow]:
        """The top-level figures with parts (each drawn as bars of its parts)."""
        return [row for row in self.view.figures if row.parts]

    def series(self) -> list[list[FigureRow]]:
        """Figures of one indicator and area for single years, where there are two or more
        years (each drawn as a line over the years), in printed order of their first figure."""
        groups: dict[tuple[int, int], list[FigureRow]] = {}
        for row in self.view.figures:
            if row.figure.year_from == row.figure.year_to:
                key = (row.figure.indicator_id, row.figure.area_id)
                groups.setdefault(key, []).append(row)
        return [
            sorted(rows, key=lambda r: r.figure.year_from)
            for rows in groups.values()
            if len({r.figure.year_from for r in rows}) >= 2
        ]


def published_edition(session: Session, edition_id: int) -> PublicEdition:
    """The published edition with this id, each figure with its published version; NotFound
    for anything else (unknown, draft, open, in review)."""
    listing = next((e for e in published_editions(session) if e.edition.id == edition_id), None)
    if listing is None:
        raise _not_published()
    published = publications(session, id_of(listing.period))
    if not published:  # published without a transition: nothing is known to be public
        raise _not_published()
    view = edition_view(session, edition_id)
    if listing.period.state != PeriodState.published:
        view = as_published(session, view, published[-1])
    return PublicEdition(
        view,
        listing.publisher,
        listing.area,
        published[0],
        published[-1] if len(published) > 1 else None,
    )
