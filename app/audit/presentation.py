"""How the audit log is shown: every action, subject and source by its name in the user's
language, and what happened written out from the event's details (the stored summary is the
words of the moment, in English or the recorder's language: shown only where the details say
no more)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.activities.presentation import status_label
from app.audit.models import AuditAction, AuditEvent, AuditSource
from app.clock import as_utc
from app.i18n import N_, format_date, gettext, ngettext
from app.periods.service import state_label
from app.web import role_label

ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.user_sign_in: N_("Signed in"),
    AuditAction.user_sign_out: N_("Signed out"),
    AuditAction.user_create: N_("Account created"),
    AuditAction.user_invite: N_("Invitation sent"),
    AuditAction.user_invitation_accepted: N_("Invitation accepted, password chosen"),
    AuditAction.user_set_role: N_("Role or organisations changed"),
    AuditAction.user_deactivate: N_("Account deactivated"),
    AuditAction.user_change_password: N_("Own password changed"),
    AuditAction.user_password_reset_requested: N_("Password reset link requested"),
    AuditAction.user_password_reset: N_("Password reset with a link"),
    AuditAction.user_reset_password: N_("Password set on the command line"),
    AuditAction.token_create: N_("API token created"),
    AuditAction.token_revoke: N_("API token revoked"),
    AuditAction.status_update: N_("Status updated"),
    AuditAction.status_confirm: N_("Status confirmed unchanged"),
    AuditAction.status_import: N_("Spreadsheet imported"),
    AuditAction.review_approve: N_("Proposal approved"),
    AuditAction.review_send_back: N_("Proposal sent back"),
    AuditAction.review_reply: N_("Reply to a sent-back proposal"),
    AuditAction.period_create: N_("Reporting period created"),
    AuditAction.period_deadline: N_("Deadline changed"),
    AuditAction.period_open: N_("Update round opened"),
    AuditAction.period_review: N_("Round closed for review"),
    AuditAction.period_publish: N_("Report published"),
    AuditAction.period_reopen_round: N_("Update round reopened"),
    AuditAction.period_reopen: N_("Published report reopened for a correction"),
    AuditAction.period_correct: N_("Correction of a published report started"),
    AuditAction.period_republish: N_("Corrected report republished"),
    AuditAction.reminders_send: N_("Reminders sent"),
    AuditAction.figure_record: N_("Key figures recorded"),
    AuditAction.indicator_create: N_("Indicator added"),
    AuditAction.indicator_update: N_("Indicator changed"),
    AuditAction.reminders_plan: N_("Reminder planned"),
    AuditAction.reminders_unplan: N_("Planned reminder removed"),
    AuditAction.structure_rename: N_("Programme structure: renamed"),
    AuditAction.structure_move: N_("Programme structure: moved"),
    AuditAction.structure_retire: N_("Programme structure: retired"),
    AuditAction.structure_restore: N_("Programme structure: restored"),
    AuditAction.structure_add: N_("Programme structure: added"),
    AuditAction.organisation_create: N_("Organisation created"),
    AuditAction.organisation_rename: N_("Organisation renamed"),
    AuditAction.recommendation_report_create: N_("Recommendations: report registered"),
    AuditAction.recommendation_create: N_("Recommendation added"),
    AuditAction.recommendation_update: N_("Recommendation changed"),
    AuditAction.recommendation_entry: N_("Recommendation: response or assessment recorded"),
    AuditAction.recommendation_deadline: N_("Recommendation: deadline changed"),
    AuditAction.recommendation_link_add: N_("Recommendation: link made"),
    AuditAction.recommendation_link_confirm: N_("Recommendation: proposed link confirmed"),
    AuditAction.recommendation_link_remove: N_("Recommendation: link removed"),
    AuditAction.recommendation_follow_up: N_("Recommendation: follow-up proposed"),
}

SOURCE_LABELS: dict[AuditSource, str] = {
    AuditSource.web: N_("Web"),
    AuditSource.api: N_("API"),
    AuditSource.import_: N_("Import"),
    AuditSource.cli: N_("Command line"),
}
UNKNOWN_SOURCE_LABEL = N_("unknown")

# The actor of an event no account made, as recorded (app/cli.py, app/audit/service.py).
ACTOR_LABELS = {"command line": N_("command line"), "system": N_("system")}

# What kind of thing an event is about (its object_type).
SUBJECT_LABELS: dict[str, str] = {
    "user": N_("Account"),
    "api_token": N_("API token"),
    "activity": N_("Activity"),
    "period": N_("Reporting period"),
    "edition": N_("Monitor edition"),
    "monitor_figure": N_("Key figure"),
    "indicator": N_("Indicator"),
    "organisation": N_("Organisation"),
    "action_line": N_("Action line"),
    "theme": N_("Theme"),
    "result": N_("Result"),
    "recommendation": N_("Recommendation"),
    "recommendation_report": N_("Report"),
}

# (object_type, object_id) → the subject's name now, as app/audit/service.py finds it.
Names = Mapping[tuple[str, str], str]


def action_label(action: str) -> str:
    """An action by its name; an action this version no longer knows, as it was stored."""
    try:
        return gettext(ACTION_LABELS[AuditAction(action)])
    except (ValueError, KeyError):
        return action


def source_label(source: AuditSource | str | None) -> str:
    if source is None:
        return gettext(UNKNOWN_SOURCE_LABEL)
    return gettext(SOURCE_LABELS[AuditSource(source)])


def subject_label(object_type: str) -> str:
    label = SUBJECT_LABELS.get(object_type)
    return gettext(label) if label else object_type


@dataclass(frozen=True)
class ShownEvent:
    at: datetime
    actor: str
    action: str
    action_label: str
    object_type: str
    object_id: str
    subject_kind: str  # "Activity", "Account", … in the user's language
    subject: str  # its name now, or "#id" when it has none (or no longer exists)
    description: str
    source: str  # an AuditSource value, "" when unknown
    source_label: str
    address: str


def shown_event(event: AuditEvent, names: Names) -> ShownEvent:
    name = names.get((event.object_type, event.object_id))
    return ShownEvent(
        # Aware, so that the page's machine-readable moment says it is UTC.
        at=as_utc(event.at),
        actor=gettext(ACTOR_LABELS[event.actor]) if event.actor in ACTOR_LABELS else event.actor,
        action=event.action,
        action_label=action_label(event.action),
        object_type=event.object_type,
        object_id=event.object_id,
        subject_kind=subject_label(event.object_type),
        subject=name or (f"#{event.object_id}" if event.object_id else ""),
        description=describe(event, names),
        source=event.source.value if event.source else "",
        source_label=source_label(event.source),
        address=event.address,
    )


def _day(value: Any) -> str:
    if not value:
        return "–"
    try:
        return format_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _state(value: Any) -> str:
    try:
        return state_label(str(value))
    except ValueError:
        return str(value)


def _status(value: Any) -> str:
    try:
        return status_label(value)
    except (ValueError, KeyError):
        return str(value)


def _role(value: Any) -> str:
    try:
        return role_label(str(value))
    except ValueError:
        return str(value)


def _in_period(details: Mapping[str, Any], names: Names) -> str:
    period = names.get(("period", str(details.get("period_id", ""))))
    return " · " + gettext("in %(period)s") % {"period": period} if period else ""


def describe(event: AuditEvent, names: Names) -> str:
    """What happened, in the user's language, from the event's details; its stored summary
    where the details do not say (or an event from before they did)."""
    details = event.details or {}
    try:
        action = AuditAction(event.action)
    except ValueError:
        return event.summary
    version = details.get("version")
    if action in (AuditAction.status_update, AuditAction.status_confirm) and "status" in details:
        change = details["status"]
        before, after = change.get("from"), change.get("to")
        text = (
            _status(after)
            if action == AuditAction.status_confirm or before == after
            else f"{_status(before) if before else '–'} → {_status(after)}"
        )
        return (
            text
            + (" · " + gettext("version %(version)s") % {"version": version} if version else "")
            + _in_period(details, names)
        )
    if event.action.startswith("review.") and version:
        comment = details.get("comment") or ""
        return (
            gettext("version %(version)s") % {"version": version}
            + (f": {comment}" if comment else "")
            + _in_period(details, names)
        )
    if action == AuditAction.status_import and "changed" in details:
        changed = len(details["changed"])
        text = ngettext("%(file)s: %(num)d change", "%(file)s: %(num)d changes", changed) % {
            "file": details.get("filename") or "–",
            "num": changed,
        }
        if details.get("confirmed"):
            confirmed = len(details["confirmed"])
            text += ", " + ngettext(
                "%(num)d confirmed unchanged", "%(num)d confirmed unchanged", confirmed
            ) % {"num": confirmed}
        return text
    if action == AuditAction.period_create and "reference_date" in details:
        return gettext("Reference date %(reference)s, deadline %(deadline)s") % {
            "reference": _day(details["reference_date"]),
            "deadline": _day(details.get("deadline")),
        }
    if action == AuditAction.period_deadline and "to" in details:
        return f"{_day(details.get('from'))} → {_day(details['to'])}"
    if event.action.startswith("period.") and "to" in details:
        reason = details.get("reason") or ""
        return f"{_state(details.get('from'))} → {_state(details['to'])}" + (
            f" ({reason})" if reason else ""
        )
    if action == AuditAction.reminders_send and "sent" in details:
        text = gettext("%(sent)d sent, %(failed)d failed") % {
            "sent": len(details["sent"]),
            "failed": len(details.get("failed", [])),
        }
        if details.get("due_on"):
            text = gettext("planned for %(day)s") % {"day": _day(details["due_on"])} + ": " + text
        return text
    if action in (AuditAction.reminders_plan, AuditAction.reminders_unplan) and (
        "days_before" in details
    ):
        days = int(details["days_before"])
        return ngettext(
            "%(num)d day before the deadline", "%(num)d days before the deadline", days
        ) % {"num": days}
    if action == AuditAction.user_create and "role" in details:
        return f"{details.get('email', '')} ({_role(details['role'])})"
    if action == AuditAction.user_set_role and "to" in details:
        before, after = details.get("from") or {}, details["to"]
        organisations = ", ".join(after.get("organisations") or []) or "–"
        return f"{_role(before.get('role'))} → {_role(after.get('role'))} · " + gettext(
            "organisations: %(organisations)s"
        ) % {"organisations": organisations}
    if action in (AuditAction.user_invite, AuditAction.user_password_reset_requested) and (
        details.get("sent") is False
    ):
        return gettext("not sent: %(reason)s") % {"reason": details.get("reason", "")}
    return event.summary
