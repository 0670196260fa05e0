"""Reminders during an update round: every editor gets one message listing the activities of
their organisations that still wait for them, and the coordinator gets a report of what was
sent, what failed and which organisations have nobody to remind.

Reminders go out by hand (the period's button, `voortgang remind`) or as planned: a period's
coordinators plan them in days before its deadline (`reminder_schedule`), and a check
(`voortgang reminders send-due`, run from cron) sends each one that has come. The check claims
a planned reminder by inserting its `reminder_run` row, unique per period and due date, and
queues a job that sends it: two processes checking at once send it once. Every sending is a
`reminder_run`, which the period's page shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from app import mail, readmodel
from app.accounts.models import Role, User, UserOrganisation
from app.accounts.service import CurrentUser
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.audit import service as audit
from app.audit.models import AuditAction
from app.clock import utc_now
from app.config import Settings
from app.db import transaction
from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import format_date, gettext, translations_for
from app.ids import id_of
from app.jobs import service as jobs
from app.jobs.models import Job, JobState
from app.periods import service as periods
from app.periods.models import PeriodState, ReportingPeriod
from app.reminders.models import MAX_DAYS_BEFORE, ReminderKind, ReminderRun, ReminderSchedule

log = logging.getLogger(__name__)

# The job that sends a planned reminder.
SEND_JOB = "reminders"
# A period's reminders go out in these states (in review: to the editors of what was sent back).
SENDING_STATES = (PeriodState.open, PeriodState.in_review)
# How many of a period's sendings its page lists.
RECENT_RUNS = 10

# Editors read Dutch: messages are written in it whatever language the sender uses.
MAIL_LANGUAGE = "nl"


@dataclass
class Reminder:
    """One editor's message and how sending it went."""

    name: str
    email: str
    organisations: list[str]  # codes of their organisations that have open activities
    activities: int  # open activities listed (each once, even when shared by two of them)
    error: str = ""  # why it could not be sent; empty when it was

    @property
    def sent(self) -> bool:
        return not self.error


@dataclass
class Unreached:
    """An organisation with open activities and no active editor to remind."""

    code: str
    name: str
    activities: int


@dataclass
class ReminderReport:
    period: readmodel.PeriodRow
    open_activities: int
    reminders: list[Reminder] = field(default_factory=list)
    without_editors: list[Unreached] = field(default_factory=list)

    @property
    def sent(self) -> list[Reminder]:
        return [reminder for reminder in self.reminders if reminder.sent]

    @property
    def failed(self) -> list[Reminder]:
        return [reminder for reminder in self.reminders if not reminder.sent]

    @property
    def complete(self) -> bool:
        """Every reminder went out, and if anything is open someone was reminded of it."""
        return not self.failed and (bool(self.sent) or self.open_activities == 0)

    def as_result(self) -> dict[str, Any]:
        """Who got a message and who did not (for the audit log and a job's page)."""
        return {
            "open_activities": self.open_activities,
            "sent": [reminder.email for reminder in self.sent],
            "failed": [
                {"email": reminder.email, "reason": reminder.error} for reminder in self.failed
            ],
            "without_editors": [organisation.code for organisation in self.without_editors],
        }

    def summary(self) -> str:
        return gettext("%(sent)d sent, %(failed)d failed.") % {
            "sent": len(self.sent),
            "failed": len(self.failed),
        }


def open_items(
    session: Session, *, programme_id: int, period: readmodel.PeriodRow
) -> list[periods.RoundItem]:
    """What still waits for an editor. While the round is open: everything not yet updated
    and everything sent back. In review editors may only change what was sent back to them
    (the edit policy says so), so only that is theirs to do."""
    items = periods.round_items(session, programme_id=programme_id, period=period)
    return [
        item
        for item in items
        if item.open
        and ACTIVITY_POLICY.open_to_its_editors(
            ActivitySubject.of(
                item.row.id,
                (organisation.id for organisation in item.row.organisations),
                sent_back=item.sent_back,
            ),
            period,
        )
    ]


def send_reminders(
    session: Session,
    *,
    settings: Settings,
    programme_id: int,
    period: readmodel.PeriodRow,
    actor: CurrentUser | None,
    address: str = "",
    run: ReminderRun | None = None,
) -> ReminderReport:
    """Send each active editor of an organisation with open activities one message, and
    record the outcome on the run (a planned one; by hand a new one) and in the audit log. A
    failed send is reported and the others are still tried. `actor` None is the command line
    (or the check that sends planned reminders, which runs from it)."""
    if actor is not None and not actor.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators may send reminders."))
    if period.state not in SENDING_STATES:
        raise periods.PeriodClosed(
            gettext(
                "Reminders can only be sent while a period is open for updates or in review; "
                "%(period)s is %(state)s."
            )
            % {"period": period.name, "state": periods.state_label(period.state).lower()}
        )
    items = open_items(session, programme_id=programme_id, period=period)
    organisations = {
        organisation.id: organisation for item in items for organisation in item.row.organisations
    }
    editors: dict[int, tuple[str, str, set[int]]] = {}
    for user_id, name, email, organisation_id in session.execute(
        select(col(User.id), col(User.name), col(User.email), col(UserOrganisation.organisation_id))
        .join(UserOrganisation, col(UserOrganisation.user_id) == User.id)
        .where(
            col(User.active).is_(True),
            col(User.role) == Role.editor.value,
            col(UserOrganisation.organisation_id).in_(list(organisations)),
        )
        .order_by(col(User.email))
    ):
        editors.setdefault(user_id, (name, email, set()))[2].add(organisation_id)

    report = ReminderReport(period=period, open_activities=len(items))
    reached = set().union(*(ids for _, _, ids in editors.values()))
    for organisation in sorted(organisations.values(), key=lambda o: o.name.lower()):
        if organisation.id not in reached:
            count = sum(
                1 for item in items if organisation.id in {o.id for o in item.row.organisations}
            )
            report.without_editors.append(Unreached(organisation.code, organisation.name, count))

    for name, email, organisation_ids in editors.values():
        groups = _grouped(items, organisation_ids)
        reminder = Reminder(
            name=name,
            email=email,
            organisations=[organisation.code for organisation, _ in groups],
            activities=sum(len(group) for _, group in groups),
        )
        try:
            subject, body = reminder_text(settings, period=period, name=name, groups=groups)
            mail.send(
                settings,
                mail.build_message(
                    settings, to_address=email, to_name=name, subject=subject, body=body
                ),
            )
        except mail.MailError as error:
            reminder.error = error.reason
        report.reminders.append(reminder)

    if run is None:
        run = ReminderRun(
            period_id=period.id,
            kind=ReminderKind.manual,
            actor=actor.name if actor else "command line",
            actor_id=actor.id if actor else None,
        )
        session.add(run)
    run.finished_at = utc_now()
    run.open_activities = report.open_activities
    run.sent = len(report.sent)
    run.failed = len(report.failed)
    run.without_editors = len(report.without_editors)
    session.flush()
    planned = run.kind == ReminderKind.scheduled
    audit.record(
        session,
        actor=actor,
        actor_label="command line" if actor is None else None,
        action=AuditAction.reminders_send,
        object_type="period",
        object_id=period.id,
        summary=(f"planned for {run.due_on}: " if planned else "")
        + f"{period.name}: {len(report.sent)} sent, {len(report.failed)} failed, "
        f"{len(report.without_editors)} organisations without an editor",
        details=report.as_result()
        | {"run_id": run.id, "kind": run.kind.value}
        | ({"due_on": _iso(run.due_on), "days_before": run.days_before} if planned else {}),
        address=address,
    )
    return report


Group = tuple[readmodel.OrganisationRef, list[periods.RoundItem]]


def _grouped(items: list[periods.RoundItem], organisation_ids: set[int]) -> list[Group]:
    """The open activities of these organisations, each once, under the organisation that
    leads it (or, when it leads none of them, the first involved one by name)."""
    groups: dict[int, Group] = {}
    for item in items:
        mine = [o for o in item.row.organisations if o.id in organisation_ids]
        if not mine:
            continue
        home = next((o for o in mine if o.role == "lead"), None) or min(
            mine, key=lambda o: o.name.lower()
        )
        groups.setdefault(home.id, (home, []))[1].append(item)
    return sorted(groups.values(), key=lambda group: group[0].name.lower())


def reminder_text(
    settings: Settings, *, period: readmodel.PeriodRow, name: str, groups: list[Group]
) -> tuple[str, str]:
    """The subject and plain-text body of one editor's reminder, in Dutch."""
    nl = translations_for(MAIL_LANGUAGE)
    base = settings.public_url.rstrip("/")
    count = sum(len(group) for _, group in groups)
    lines = [nl.gettext("Dear %(name)s,") % {"name": name}, ""]
    lines.append(
        nl.ngettext(
            "For %(period)s, %(count)d activity of your organisation still needs your update.",
            "For %(period)s, %(count)d activities of your organisation still need your update.",
            count,
        )
        % {"period": period.name, "count": count}
    )
    if period.deadline is not None:
        deadline = format_date(period.deadline, MAIL_LANGUAGE)
        lines.append(nl.gettext("Please update them by %(deadline)s.") % {"deadline": deadline})
    for organisation, group in groups:
        lines += ["", organisation.name, "-" * len(organisation.name)]
        for item in group:
            row = item.row
            lines.append(
                "* "
                + (
                    nl.gettext("Result %(result)s, activity %(label)s: %(title)s")
                    if row.label
                    else nl.gettext("Result %(result)s: %(title)s")
                )
                % {"result": row.result_number, "label": row.label, "title": row.title}
            )
            if item.sent_back:
                reason = nl.gettext("Sent back to you by the reviewer")
                if item.comment:
                    reason += ": " + item.comment.replace("\n", "\n    ")
            else:
                reason = nl.gettext("Not updated yet in this period")
            lines += [f"  {reason}", f"  {base}/activities/{row.id}"]
    lines += [
        "",
        nl.gettext("Your to-do list for %(period)s: %(url)s")
        % {"period": period.name, "url": f"{base}/periods/{period.id}/todo"},
        "",
        nl.gettext(
            "You receive this message because you are an editor for %(organisations)s in Voortgang."
        )
        % {"organisations": ", ".join(organisation.name for organisation, _ in groups)},
    ]
    subject = nl.gettext("Reminder: activities to update for %(period)s") % {"period": period.name}
    return subject, "\n".join(lines) + "\n"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# -- planning reminders ---------------------------------------------------------------------


def _require_coordinator(actor: CurrentUser) -> None:
    if not actor.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators may plan reminders."))


def _plannable(session: Session, period_id: int) -> ReportingPeriod:
    period = periods.get_period(session, period_id)
    # A correction has no deadline, so nothing to remind of before it.
    if period.state in (PeriodState.published, PeriodState.correcting):
        raise periods.PeriodClosed(periods.published_message(period.name))
    return period


def planned_days(session: Session, period_id: int) -> list[int]:
    """The days before the deadline a period's reminders are planned, the earliest first."""
    return list(
        session.scalars(
            select(col(ReminderSchedule.days_before))
            .where(col(ReminderSchedule.period_id) == period_id)
            .order_by(col(ReminderSchedule.days_before).desc())
        )
    )


def plan_reminder(
    session: Session, *, period_id: int, days_before: int, actor: CurrentUser, address: str = ""
) -> ReminderSchedule:
    """Plan the period's reminders `days_before` days before its deadline (0: on the day)."""
    _require_coordinator(actor)
    period = _plannable(session, period_id)
    if period.deadline is None:
        raise InvalidInput(
            gettext("Set the deadline for updates first: reminders are planned in days before it.")
        )
    if not 0 <= days_before <= MAX_DAYS_BEFORE:
        raise InvalidInput(
            gettext(
                "Days before the deadline: give a whole number from 0 (on the day itself) "
                "to %(max)d, not %(value)s."
            )
            % {"max": MAX_DAYS_BEFORE, "value": days_before}
        )
    if days_before in planned_days(session, period_id):
        raise InvalidInput(
            gettext("A reminder %(days)d days before the deadline is already planned.")
            % {"days": days_before}
        )
    planned = ReminderSchedule(
        period_id=id_of(period), days_before=days_before, created_by_id=actor.id
    )
    session.add(planned)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.reminders_plan,
        object_type="period",
        object_id=period.id,
        summary=f"{period.name}: {days_before} days before the deadline",
        details={"days_before": days_before},
        address=address,
    )
    return planned


def unplan_reminder(
    session: Session, *, period_id: int, days_before: int, actor: CurrentUser, address: str = ""
) -> None:
    """Take a planned reminder off the plan (what went out stays in the period's record)."""
    _require_coordinator(actor)
    period = _plannable(session, period_id)
    removed = session.execute(
        delete(ReminderSchedule).where(
            col(ReminderSchedule.period_id) == period.id,
            col(ReminderSchedule.days_before) == days_before,
        )
    )
    if removed.rowcount != 1:  # type: ignore[attr-defined]  # a DELETE returns a CursorResult
        raise NotFound(
            gettext("No reminder is planned %(days)d days before the deadline of %(period)s.")
            % {"days": days_before, "period": period.name}
        )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.reminders_unplan,
        object_type="period",
        object_id=period.id,
        summary=f"{period.name}: {days_before} days before the deadline",
        details={"days_before": days_before},
        address=address,
    )


# -- what is due ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A planned reminder whose day has come and that has not gone out."""

    period_id: int
    period: str
    due_on: date
    days_before: int


def _current_due(deadline: date, days: list[int], today: date) -> tuple[date, int] | None:
    """Of a period's planned reminders, the one to send today: the latest whose day has come,
    up to the deadline itself. An earlier one whose day passed unsent (no check ran) is
    overtaken by it: editors get one message, not a pile."""
    if today > deadline:
        return None
    come = [(deadline - timedelta(days=before), before) for before in days]
    come = [(due_on, before) for due_on, before in come if due_on <= today]
    return max(come) if come else None


def due_reminders(session: Session, *, today: date) -> list[Due]:
    """The planned reminders to send today, one per period at most: periods in a round
    (open, or in review) with a deadline not yet passed, whose reminder for that day has not
    been claimed."""
    plans: dict[int, tuple[str, date, list[int]]] = {}
    for period_id, name, deadline, days_before in session.execute(
        select(
            col(ReportingPeriod.id),
            col(ReportingPeriod.name),
            col(ReportingPeriod.deadline),
            col(ReminderSchedule.days_before),
        )
        .join(ReminderSchedule, col(ReminderSchedule.period_id) == ReportingPeriod.id)
        .where(
            col(ReportingPeriod.state).in_([state.value for state in SENDING_STATES]),
            col(ReportingPeriod.deadline).is_not(None),
            col(ReportingPeriod.deadline) >= today,
        )
        .order_by(col(ReportingPeriod.id))
    ):
        plans.setdefault(period_id, (name, deadline, []))[2].append(days_before)
    if not plans:
        return []
    claimed = set(
        session.execute(
            select(col(ReminderRun.period_id), col(ReminderRun.due_on)).where(
                col(ReminderRun.period_id).in_(list(plans)), col(ReminderRun.due_on).is_not(None)
            )
        )
    )
    found = []
    for period_id, (name, deadline, days) in plans.items():
        current = _current_due(deadline, days, today)
        if current is not None and (period_id, current[0]) not in claimed:
            found.append(Due(period_id, name, current[0], current[1]))
    return found


def claim(session: Session, *, due: Due) -> Job | None:
    """Claim a due reminder (its run row, unique per period and day) and queue the job that
    sends it. None: another process claimed it first."""
    run = ReminderRun(
        period_id=due.period_id,
        kind=ReminderKind.scheduled,
        due_on=due.due_on,
        days_before=due.days_before,
        actor="command line",
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None
    job = jobs.submit(
        session,
        kind=SEND_JOB,
        params={
            "run_id": run.id,
            "period_id": due.period_id,
            "title": gettext("Reminders for %(period)s") % {"period": due.period},
        },
        user=None,
    )
    run.job_id = job.id
    session.flush()
    return job


# Not run again when interrupted: the messages sent before the process stopped are not
# recorded (the run is, with the outcome), so a second run could send them twice.
@jobs.handler(SEND_JOB, retry=False)
def _send_job(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    run = session.get(ReminderRun, job.params["run_id"])
    if run is None:
        raise NotFound(gettext("Reminder run %(id)s does not exist") % {"id": job.params["run_id"]})
    programme_id = periods.get_period(session, run.period_id).programme_id
    period = readmodel.find_period(readmodel.list_periods(session, programme_id), run.period_id)
    progress(10, gettext("Sending the reminders…"))
    report = send_reminders(
        session,
        settings=jobs.settings(),
        programme_id=programme_id,
        period=period,
        actor=None,
        address="cli",
        run=run,
    )
    return jobs.Outcome(result=report.as_result(), message=report.summary())


@dataclass(frozen=True)
class DueOutcome:
    """How one planned reminder went, for the command's report."""

    period: str
    due_on: date | None
    days_before: int | None
    job_id: int
    state: JobState
    message: str
    sent: int
    failed: int


def send_due(engine: Engine, *, settings: Settings, today: date) -> list[DueOutcome]:
    """Send every planned reminder whose day has come: claim each (in a transaction of its
    own, so a claim is visible to every process at once), then run its job. Also runs a
    reminder job a stopped check left queued. Safe to run from several processes at once: a
    reminder claimed elsewhere is skipped."""
    with transaction(engine) as session:
        found = due_reminders(session, today=today)
    for due in found:
        try:
            with transaction(engine) as session:
                claim(session, due=due)
        except OperationalError:  # the database is busy: the next check tries again
            log.warning("reminder of period %s due %s not claimed: busy", due.period_id, due)
    with transaction(engine) as session:
        queued = [
            id_of(job)
            for job in session.scalars(
                select(Job)
                .where(col(Job.kind) == SEND_JOB, col(Job.state) == JobState.queued)
                .order_by(col(Job.id))
            )
        ]
    # Each is run by whichever process claims it first; this one reports what it ran.
    ran = [job_id for job_id in queued if jobs.run(engine, job_id, settings=settings)]
    outcomes = []
    with transaction(engine) as session:
        for job_id in ran:
            job = session.get(Job, job_id)
            run = session.scalar(select(ReminderRun).where(col(ReminderRun.job_id) == job_id))
            if job is None or run is None:
                continue
            outcomes.append(
                DueOutcome(
                    period=periods.get_period(session, run.period_id).name,
                    due_on=run.due_on,
                    days_before=run.days_before,
                    job_id=job_id,
                    state=job.state,
                    message=job.message,
                    sent=run.sent,
                    failed=run.failed,
                )
            )
    return outcomes


# -- what a period's page shows ---------------------------------------------------------------

PLANNED = "planned"  # its day has not come
DUE = "due"  # its day has come: the next check sends it
SENDING = "sending"  # claimed, its job has not finished
SENT = "sent"
FAILED = "failed"  # its job failed (the reason is on the job)
MISSED = "missed"  # its day passed without it: overtaken by a later one, or the round ended


@dataclass(frozen=True)
class PlannedReminder:
    days_before: int
    due_on: date | None  # None while the period has no deadline
    state: str  # PLANNED, DUE, SENDING, SENT, FAILED or MISSED
    run: ReminderRun | None = None


def _job_failed(job: Job | None) -> bool:
    return job is not None and (job.state == JobState.failed or jobs.interrupted(job))


@dataclass(frozen=True)
class SentRun:
    """A sending of the period's reminders, and its job (a planned one has one)."""

    run: ReminderRun
    job: Job | None

    @property
    def failed(self) -> bool:
        """Its job failed or was interrupted (the job's page says why)."""
        return _job_failed(self.job)


@dataclass(frozen=True)
class ReminderOverview:
    deadline: date | None
    planned: list[PlannedReminder]
    recent: list[SentRun]  # the newest first
    # Reminders are planned or sent while the period is not published.
    may_plan: bool

    @property
    def last_sent(self) -> SentRun | None:
        return next((sent for sent in self.recent if sent.run.finished_at is not None), None)


def overview(session: Session, *, period_id: int, today: date) -> ReminderOverview:
    """A period's planned reminders (with where each stands) and its latest sendings."""
    period = periods.get_period(session, period_id)
    recent = [
        SentRun(run, job)
        for run, job in session.execute(
            select(ReminderRun, Job)
            .outerjoin(Job, col(Job.id) == ReminderRun.job_id)
            .where(col(ReminderRun.period_id) == period_id)
            .order_by(col(ReminderRun.created_at).desc(), col(ReminderRun.id).desc())
            .limit(RECENT_RUNS)
        )
    ]
    claimed = {
        run.due_on: (run, job)
        for run, job in session.execute(
            select(ReminderRun, Job)
            .outerjoin(Job, col(Job.id) == ReminderRun.job_id)
            .where(col(ReminderRun.period_id) == period_id, col(ReminderRun.due_on).is_not(None))
        )
    }
    days = planned_days(session, period_id)
    deadline = period.deadline
    current = (
        _current_due(deadline, days, today)
        if deadline is not None and period.state in SENDING_STATES
        else None
    )
    planned = []
    for before in days:
        if deadline is None:
            planned.append(PlannedReminder(before, None, PLANNED))
            continue
        due_on = deadline - timedelta(days=before)
        run, job = claimed.get(due_on, (None, None))
        if run is not None:
            state = SENT if run.finished_at else FAILED if _job_failed(job) else SENDING
        elif due_on > today:
            state = PLANNED
        elif current is not None and current[0] == due_on:
            state = DUE
        else:
            state = MISSED
        planned.append(PlannedReminder(before, due_on, state, run))
    return ReminderOverview(
        deadline=deadline,
        planned=planned,
        recent=recent,
        may_plan=period.state not in (PeriodState.published, PeriodState.correcting),
    )


def due_label(planned: PlannedReminder) -> str:
    """Where a planned reminder stands, in words."""
    when = format_date(planned.due_on) if planned.due_on else ""
    return {
        PLANNED: gettext("planned for %(date)s") % {"date": when}
        if planned.due_on
        else gettext("waits for a deadline"),
        DUE: gettext("due since %(date)s: the next check sends it") % {"date": when},
        SENDING: gettext("being sent"),
        SENT: gettext("sent (due %(date)s)") % {"date": when},
        FAILED: gettext("could not be sent (due %(date)s)") % {"date": when},
        MISSED: gettext("not sent: its day (%(date)s) passed") % {"date": when},
    }[planned.state]
