"""How a status is shown: symbol + translated label (+ colour, never colour alone)."""

from __future__ import annotations

from dataclasses import dataclass

from babel.support import NullTranslations

from app.activities.models import Status, UpdateSource
from app.i18n import N_, get_language, gettext, translations_for


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


@dataclass(frozen=True)
class UnconfirmedStyle:
    """How a status that was not stated for its period is disclosed (app/readmodel/status.py
    says which are): a mark by the status wherever it is shown, and a note that explains the
    mark, with how many of the table's activities have it. English msgids."""

    mark: str
    note: str  # %(num)d of the %(total)d activities
    # The plural is not marked for extraction (N_ takes one text): the catalogue has it as
    # the note's msgid_plural.
    note_plural: str


UNCONFIRMED_STYLES: dict[UpdateSource, UnconfirmedStyle] = {
    UpdateSource.derived: UnconfirmedStyle(
        N_("derived, not confirmed"),
        N_(
            "Derived, not confirmed: for %(num)d of the %(total)d activities the status was "
            "derived from the explanation, because the status column of the original table "
            "did not survive its conversion to text; the organisation that carries out the "
            "activity has not confirmed it."
        ),
        (
            "Derived, not confirmed: for %(num)d of the %(total)d activities the status was "
            "derived from the explanation, because the status column of the original table "
            "did not survive its conversion to text; the organisations that carry out these "
            "activities have not confirmed them."
        ),
    ),
    UpdateSource.carried_over: UnconfirmedStyle(
        N_("carried over, not confirmed"),
        N_(
            "Carried over, not confirmed: for %(num)d of the %(total)d activities the status "
            "and the explanation were carried over unchanged from the previous report; the "
            "organisation that carries out the activity did not update or confirm them for "
            "this report."
        ),
        (
            "Carried over, not confirmed: for %(num)d of the %(total)d activities the status "
            "and the explanation were carried over unchanged from the previous report; the "
            "organisations that carry out these activities did not update or confirm them for "
            "this report."
        ),
    ),
}


def _translations(language: str | None) -> NullTranslations:
    return translations_for(language) if language else translations_for(get_language())


def unconfirmed_mark(kind: UpdateSource | None, language: str | None = None) -> str:
    """The mark by an unconfirmed status ("carried over, not confirmed"), translated; "" for
    a confirmed one. `kind` is what app.readmodel.unconfirmed says."""
    if kind is None:
        return ""
    return _translations(language).gettext(UNCONFIRMED_STYLES[kind].mark)


def unconfirmed_note(
    kind: UpdateSource, count: int, total: int, language: str | None = None
) -> str:
    """The note that explains a mark, with the number of activities that have it."""
    style = UNCONFIRMED_STYLES[kind]
    text = _translations(language).ngettext(style.note, style.note_plural, count)
    return text % {"num": count, "total": total}
