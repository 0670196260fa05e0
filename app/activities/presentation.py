"""How a status is shown: symbol + translated label (+ colour, never colour alone)."""

from __future__ import annotations

from dataclasses import dataclass

from app.activities.models import Status
from app.i18n import N_, gettext


@dataclass(frozen=True)
class StatusStyle:
    symbol: str
    colour: str
    # Text colour on the status colour, chosen for a contrast ratio of at least 4.5:1.
    ink: str
    label: str  # English msgid; translate with gettext where shown


STATUS_STYLES: dict[Status, StatusStyle] = {
    Status.completed: StatusStyle("✔", "#39870c", "#ffffff", N_("Completed")),
    Status.ongoing: StatusStyle("↻", "#01689b", "#ffffff", N_("Ongoing")),
    Status.on_schedule: StatusStyle("▶", "#76d2b6", "#000000", N_("In progress, on schedule")),
    Status.delayed: StatusStyle("⚠", "#ffb612", "#000000", N_("In progress, delayed")),
    Status.not_started: StatusStyle("○", "#b4b4b4", "#000000", N_("Not started yet")),
    Status.in_consultation: StatusStyle("✎", "#a90061", "#ffffff", N_("In (formal) consultation")),
    Status.not_applicable: StatusStyle("–", "#f3f3f3", "#000000", N_("Not applicable")),
}


def status_label(status: Status | str | None) -> str:
    if status is None:
        return gettext("No status")
    return gettext(STATUS_STYLES[Status(status)].label)


def status_symbol(status: Status | str | None) -> str:
    return "?" if status is None else STATUS_STYLES[Status(status)].symbol
