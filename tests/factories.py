"""Build small programmes through the seed service (the same rules as real data), and their
rounds: a progress period (`open_round`) or a monitor edition (`open_edition`), opened and
published through the same services as real ones."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts import service as accounts
from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.config import MailBackend, Settings
from app.ids import id_of
from app.monitor import service as monitor
from app.monitor.models import Area, Figure, Indicator
from app.monitor.seeding import load_monitor_files, monitor_seed_files
from app.periods import service as periods
from app.periods.models import PeriodKind, PeriodState, ReportingPeriod
from app.programmes.models import Activity, ActivityOrganisation, Organisation, Programme
from app.review import figures as figure_review
from app.review import follow_ups as follow_up_review
from app.review import service as review
from app.seeding.schema import SeedFile
from app.seeding.service import SeedReport, apply_seed

STATUS_CYCLE = [
    "completed",
    "ongoing",
    "on_schedule",
    "delayed",
    "not_started",
    "in_consultation",
    "not_applicable",
]


def programme_data(
    *,
    slug: str = "test-programme",
    action_lines: int = 2,
    results_per_line: int = 2,
    activities_per_result: int = 3,
    period: str = "Voortgangsrapportage 2030",
    organisations: tuple[str, ...] = ("ORG-A", "ORG-B"),
) -> dict[str, Any]:
    """A programme as seed data: statuses cycle through the legend."""
    counter = 0
    lines = []
    result_number = 0
    for line_number in range(1, action_lines + 1):
        results = []
        for _ in range(results_per_line):
            result_number += 1
            activities = []
            for index in range(1, activities_per_result + 1):
                activities.append(
                    {
                        "label": str(index),
                        "title": f"Activiteit {result_number}.{index}",
                        "lead": organisations[counter % len(organisations)],
                        "involved": [],
                        "status": STATUS_CYCLE[counter % len(STATUS_CYCLE)],
                        "explanation": f"Toelichting bij activiteit {result_number}.{index}.",
                    }
                )
                counter += 1
            results.append(
                {
                    "number": result_number,
                    "title": f"Resultaat {result_number}",
                    "activities": activities,
                }
            )
        lines.append(
            {
                "number": line_number,
                "title": f"Actielijn {line_number}",
                "themes": [{"title": f"Thema {line_number}", "results": results}],
            }
        )
    return {
        "schema_version": 1,
        "programme": {"slug": slug, "name": f"Programma {slug}"},
        "period": {"name": period, "reference_date": "2030-01-01"},
        "organisations": [{"code": code, "name": f"Organisatie {code}"} for code in organisations],
        "action_lines": lines,
    }


def create_programme(
    session: Session, data: dict[str, Any] | None = None, **kwargs: Any
) -> SeedReport:
    report = apply_seed(session, SeedFile.model_validate(data or programme_data(**kwargs)))
    session.commit()
    return report


PASSWORD = "a long enough test password"
_user_numbers = iter(range(1, 1_000_000))


def create_user(
    session: Session,
    role: str = "viewer",
    organisations: tuple[str, ...] = (),
    email: str | None = None,
    name: str | None = None,
) -> str:
    """An account created through the accounts service; returns its e-mail address."""
    email = email or f"{role}{next(_user_numbers)}@example.nl"
    accounts.create_user(
        session,
        email=email,
        name=name or f"{role.title()} {email.split('@')[0]}",
        role=Role(role),
        password=PASSWORD,
        organisation_codes=list(organisations),
    )
    session.commit()
    return email


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form (with its CSRF token), as a browser would."""
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "next": "/", "csrftoken": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    return response


def with_mail_folder(settings: Settings, folder: Path) -> Settings:
    """The same settings, with outgoing mail written to `folder` as .eml files."""
    return settings.model_copy(update={"mail_backend": MailBackend.folder, "mail_folder": folder})


def sent_mail(folder: Path) -> list[EmailMessage]:
    """The messages the folder backend wrote, oldest first."""
    files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [
        message_from_bytes(path.read_bytes(), policy=default_policy)  # type: ignore[misc]
        for path in files
    ]


PASSWORD_LINK = re.compile(r"https?://\S+/password/set\?token=([A-Za-z0-9_-]+)")


def password_link(message: EmailMessage) -> tuple[str, str]:
    """The link in a reset or invitation mail: its path and query, and its token."""
    match = PASSWORD_LINK.search(message.get_content())
    assert match, "no link to choose a password in the message"
    return "/password/set?token=" + match.group(1), match.group(1)


def coordinator(session: Session, email: str | None = None) -> Any:
    """A coordinator account as the services see it (for factories and service tests)."""
    email = email or create_user(session, "coordinator")
    return accounts.as_current_user(session, accounts.get_user_by_email(session, email))


def current_user(session: Session, email: str) -> Any:
    return accounts.as_current_user(session, accounts.get_user_by_email(session, email))


def publish(session: Session, *, period_id: int, actor: Any) -> None:
    """Publish a period in review (or republish one being corrected) through the period
    service, with the choice a coordinator makes on the confirmation page: publish with
    whatever was not updated or approved. What nobody can accept away is approved first by
    another coordinator: a monitor edition's figure versions (`approve_figures`), a progress
    period's follow-ups of recommendations (`approve_follow_ups`)."""
    period = periods.get_period(session, period_id)
    move = "republish" if period.state == PeriodState.correcting else "publish"
    if PeriodKind(period.kind) == PeriodKind.monitor:
        approve_figures(session, period_id=period_id)
        periods.move_period(session, period_id=period_id, move=move, actor=actor)
        return
    approve_follow_ups(session, period_id=period_id)
    check = periods.publication_check(session, period=period)
    periods.move_period(
        session,
        period_id=period_id,
        move=move,
        actor=actor,
        accept_not_updated=check.not_updated,
        accept_unapproved=check.unapproved,
    )


def approve_figures(session: Session, *, period_id: int, reviewer: Any = None) -> int:
    """Every figure version of the edition on this period that waits for review (or was sent
    back), approved through the review service by `reviewer` (default: a new coordinator, so
    the author of none of them); returns how many."""
    waiting = figure_review.unapproved_of_period(session, period_id)
    reviewer = reviewer or (coordinator(session) if waiting else None)
    for version in waiting:
        review.decide_figure(
            session, figure_version_id=id_of(version), decision="approve", reviewer=reviewer
        )
    return len(waiting)


def approve_follow_ups(session: Session, *, period_id: int, reviewer: Any = None) -> int:
    """Every recommendation's follow-up of this period that waits for review (or was sent
    back), approved through the review service by `reviewer` (default: a new coordinator, so
    the author of none of them); returns how many. Publication waits for them."""
    waiting = follow_up_review.unapproved_of_period(session, period_id)
    reviewer = reviewer or (coordinator(session) if waiting else None)
    for entry in waiting:
        review.decide_follow_up(
            session, entry_id=id_of(entry), decision="approve", reviewer=reviewer
        )
    return len(waiting)


def _publish_rounds(session: Session, programme_id: int, kind: PeriodKind, actor: Any) -> None:
    """The programme's periods of this kind that are open or in review, published: one round
    at a time holds per kind (a progress round and an edition's run side by side)."""
    for period in session.scalars(
        select(ReportingPeriod).where(
            col(ReportingPeriod.programme_id) == programme_id,
            col(ReportingPeriod.kind) == kind.value,
        )
    ).all():
        if period.state == PeriodState.open:
            periods.move_period(session, period_id=id_of(period), move="review", actor=actor)
        if period.state == PeriodState.in_review:
            publish(session, period_id=id_of(period), actor=actor)


def _programme(session: Session, slug: str) -> Programme:
    programme = session.scalar(select(Programme).where(col(Programme.slug) == slug))
    assert programme is not None, slug
    return programme


def open_round(
    session: Session,
    programme_slug: str = "samen-tegen-mensenhandel",
    *,
    name: str = "Voortgangsrapportage 2022",
    reference_date: str = "2022-11-01",
    deadline: str | None = "",
    actor: Any = None,
) -> int:
    """A new period opened for updates through the period service (carry-over included), with
    every other progress period of the programme published first, by `actor` (default: a new
    coordinator); returns its id. The deadline is two weeks after the reference date unless
    given (None: no deadline). A monitor edition's round: `open_edition`."""
    actor = actor or coordinator(session)
    programme = _programme(session, programme_slug)
    _publish_rounds(session, id_of(programme), PeriodKind.progress, actor)
    created = periods.create_period(
        session,
        programme_id=id_of(programme),
        name=name,
        reference_date=date.fromisoformat(reference_date),
        deadline=(
            date.fromisoformat(deadline)
            if deadline
            else date.fromisoformat(reference_date) + timedelta(days=14)
            if deadline == ""
            else None
        ),
        actor=actor,
    )
    periods.move_period(session, period_id=id_of(created), move="open", actor=actor)
    session.commit()
    return id_of(created)


@dataclass(frozen=True)
class EditionFigure:
    """A figure of a new edition: its key, the indicator's code, for a part of a breakdown
    the key of its total, the dimension and category; its area's code (default: the
    edition's) and years (default: the edition's)."""

    key: str
    indicator: str
    parent: str | None = None
    dimension: str | None = None
    category: str | None = None
    area: str | None = None
    years: tuple[int, int] | None = None


@dataclass(frozen=True)
class OpenEdition:
    """A monitor edition made by `open_edition`: its ids, its figures by key, and the
    coordinator who made it, as the services see them."""

    edition_id: int
    period_id: int
    coordinator: CurrentUser
    figures: dict[str, Figure] = field(default_factory=dict)


def load_monitors(session: Session, paths: list[Path] | None = None) -> SeedReport:
    """The monitor seed (areas, indicators, the published editions of seed/monitor/, or of
    `paths`), through the monitor's seed loader; committed. Loading it again changes
    nothing."""
    report = SeedReport()
    load_monitor_files(session, monitor_seed_files() if paths is None else paths, report)
    session.commit()
    return report


def open_edition(
    session: Session,
    programme_slug: str = "samen-tegen-mensenhandel",
    *,
    title: str = "Mensenhandelmonitor 2021",
    years: tuple[int, int] = (2021, 2021),
    area: str = "regio-rotterdam",
    publisher: str = "NRM",
    figures: Sequence[EditionFigure] = (),
    opened: bool = True,
    actor: Any = None,
) -> OpenEdition:
    """A new monitor edition through the monitor service, its figures added in the order
    given, and opened for figures (`opened=False`: left a draft), with every other edition of
    the programme that is open or in review published first (`publish`), by `actor` (default:
    a new coordinator). The monitor seed is loaded first when the programme has no indicators
    yet (`load_monitors`)."""
    actor = actor or coordinator(session)
    programme = _programme(session, programme_slug)
    if (
        session.scalar(select(Indicator.id).where(col(Indicator.programme_id) == programme.id))
        is None
    ):
        load_monitors(session)
    if opened:
        _publish_rounds(session, id_of(programme), PeriodKind.monitor, actor)
    areas = {row.code: id_of(row) for row in session.scalars(select(Area))}
    indicators = {
        row.code: id_of(row)
        for row in session.scalars(
            select(Indicator).where(col(Indicator.programme_id) == programme.id)
        )
    }
    organisation = session.scalar(select(Organisation).where(col(Organisation.code) == publisher))
    assert organisation is not None, publisher
    edition = monitor.create_edition(
        session,
        programme_id=id_of(programme),
        title=title,
        publisher_id=id_of(organisation),
        covers_from=years[0],
        covers_to=years[1],
        area_id=areas[area],
        actor=actor,
    )
    added: dict[str, Figure] = {}
    for spec in figures:
        year_from, year_to = spec.years or years
        added[spec.key] = monitor.add_figure(
            session,
            edition_id=id_of(edition),
            key=spec.key,
            indicator_id=indicators[spec.indicator],
            year_from=year_from,
            year_to=year_to,
            area_id=areas[spec.area or area],
            actor=actor,
            parent_id=id_of(added[spec.parent]) if spec.parent else None,
            dimension=spec.dimension,
            category=spec.category,
            # Printed order: the order given, among the figure's siblings.
            position=sum(
                1
                for other in added.values()
                if other.parent_id == (id_of(added[spec.parent]) if spec.parent else None)
            )
            + 1,
        )
    if opened:
        monitor.move_edition(session, edition_id=id_of(edition), move="open", actor=actor)
    session.commit()
    return OpenEdition(id_of(edition), edition.period_id, actor, added)


def organisation_activities(session: Session, code: str) -> list[int]:
    """The ids of the activities an organisation leads or is involved in, in id order."""
    return list(
        session.scalars(
            select(col(Activity.id))
            .join(ActivityOrganisation, col(ActivityOrganisation.activity_id) == Activity.id)
            .join(Organisation, col(Organisation.id) == ActivityOrganisation.organisation_id)
            .where(col(Organisation.code) == code)
            .order_by(col(Activity.id))
        )
    )


@dataclass(frozen=True)
class UpdateRound:
    """A period open for updates, a coordinator who opened it and an editor of one of the
    programme's organisations, as the services see them."""

    period_id: int
    organisation: str
    editor_email: str
    editor: CurrentUser
    coordinator_email: str
    coordinator: CurrentUser
    # The activities the editor's organisation leads or is involved in, in id order.
    activities: list[int]


def update_round(
    session: Session,
    programme_slug: str = "samen-tegen-mensenhandel",
    *,
    organisation: str = "Politie",
    **period: Any,
) -> UpdateRound:
    """The update round most tests of editing and review start from, built through the
    services: a coordinator opens a new round (see `open_round`, which takes the `period`
    options) and an editor of `organisation` gets an account."""
    coordinator_email = create_user(session, "coordinator")
    actor = current_user(session, coordinator_email)
    period_id = open_round(session, programme_slug, actor=actor, **period)
    editor_email = create_user(session, "editor", (organisation,))
    activities = organisation_activities(session, organisation)
    assert activities, f"{organisation} has no activities in {programme_slug}"
    return UpdateRound(
        period_id=period_id,
        organisation=organisation,
        editor_email=editor_email,
        editor=current_user(session, editor_email),
        coordinator_email=coordinator_email,
        coordinator=actor,
        activities=activities,
    )
