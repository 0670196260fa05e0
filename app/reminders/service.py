"""Reminders during an update round: every editor gets one message listing the activities of
their organisations that still wait for them, and the coordinator gets a report of what was
sent, what failed and which organisations have nobody to remind."""

from __future__ import annotations

from dataclasses import dataclass, field

from babel.dates import format_date
from sqlalchemy import select
from sqlmodel import Session, col

from app import mail, readmodel
from app.accounts.models import Role, User, UserOrganisation
from app.accounts.service import CurrentUser
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.audit import service as audit
from app.config import Settings
from app.errors import Forbidden
from app.i18n import gettext, translations_for
from app.periods import service as periods
from app.periods.models import PeriodState

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
) -> ReminderReport:
    """Send each active editor of an organisation with open activities one message, and
    record the outcome in the audit log. A failed send is reported and the others are still
    tried. `actor` None is the command line."""
    if actor is not None and not actor.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators may send reminders."))
    if period.state not in (PeriodState.open, PeriodState.in_review):
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

    audit.record(
        session,
        actor=actor,
        actor_label="command line" if actor is None else None,
        action="reminders.send",
        object_type="period",
        object_id=period.id,
        summary=f"{period.name}: {len(report.sent)} sent, {len(report.failed)} failed, "
        f"{len(report.without_editors)} organisations without an editor",
        details={
            "sent": [reminder.email for reminder in report.sent],
            "failed": [
                {"email": reminder.email, "reason": reminder.error} for reminder in report.failed
            ],
            "without_editors": [organisation.code for organisation in report.without_editors],
        },
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
        deadline = format_date(period.deadline, format="long", locale=MAIL_LANGUAGE)
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
