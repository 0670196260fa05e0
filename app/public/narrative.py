"""The summary in words, generated from the data, in Dutch or English.

Every number in the text is counted from the published rows (and, for the changes, from the
comparison with the previous published period); the wording follows how a civil servant writes
a progress letter: no sentence opens with a numeral, singular and plural are each written out
(ngettext), "one" is a word, lists end with "en"/"and", and a zero is said as a sentence of its
own ("Geen enkele activiteit is vertraagd.") instead of "0 activiteiten zijn vertraagd".

The texts are Markup: activity titles and period names are escaped, and marked with the
language they are written in when the text around them is in another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from babel.support import NullTranslations
from markupsafe import Markup, escape

from app.activities.models import Status
from app.activities.presentation import STATUS_STYLES
from app.compare.service import Comparison
from app.i18n import translations_for
from app.public.service import CONTENT_LANGUAGE, ON_TRACK
from app.readmodel import ActivityRow, StatusCounts

# A list of activities names at most this many; a longer one names LIST_HEAD of them and
# counts the rest ("‘A’, ‘B’, ‘C’ en 4 andere").
LIST_LIMIT = 5
LIST_HEAD = 3
# Titles longer than this are shortened at a word boundary in running text (the table has
# them in full).
TITLE_LIMIT = 90

Link = Callable[[ActivityRow], str | None]


class _Writer:
    def __init__(self, language: str, link: Link | None) -> None:
        self.language = language
        self.translations: NullTranslations = translations_for(language)
        self.link = link

    # -- translated text ---------------------------------------------------------------------
    def gettext(self, message: str, **values: Any) -> Markup:
        return escape(self.translations.gettext(message)) % values

    def ngettext(self, singular: str, plural: str, num: int, **values: Any) -> Markup:
        return escape(self.translations.ngettext(singular, plural, num)) % {"num": num, **values}

    # -- the programme's own words -----------------------------------------------------------
    def foreign(self, text: str) -> Markup:
        """A text in the content language, marked as such inside a text in another."""
        if self.language == CONTENT_LANGUAGE:
            return escape(text)
        return Markup('<span lang="{0}">{1}</span>').format(CONTENT_LANGUAGE, text)

    def title(self, row: ActivityRow) -> Markup:
        text = row.title
        if len(text) > TITLE_LIMIT:
            text = text[:TITLE_LIMIT].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
        quoted = Markup("‘{0}’").format(self.foreign(text))
        href = self.link(row) if self.link else None
        if href:
            return Markup('<a class="nl-link" href="{0}">{1}</a>').format(href, quoted)
        return quoted

    def join(self, items: Sequence[Markup]) -> Markup:
        if len(items) == 1:
            return items[0]
        return self.gettext(
            "%(items)s and %(last)s", items=Markup(", ").join(items[:-1]), last=items[-1]
        )

    def titles(self, rows: Sequence[ActivityRow]) -> Markup:
        if len(rows) <= LIST_LIMIT:
            return self.join([self.title(row) for row in rows])
        named = Markup(", ").join(self.title(row) for row in rows[:LIST_HEAD])
        return self.ngettext(
            "%(items)s and %(num)d other",
            "%(items)s and %(num)d others",
            len(rows) - LIST_HEAD,
            items=named,
        )

    def status(self, status: Status) -> str:
        return self.translations.gettext(STATUS_STYLES[status].label)


def _count(counts: StatusCounts, statuses: Sequence[Status]) -> int:
    return sum(counts.counts.get(status, 0) for status in statuses)


def _counts(rows: Sequence[ActivityRow]) -> StatusCounts:
    counts = StatusCounts()
    for row in rows:
        counts.counts[row.status] = counts.counts.get(row.status, 0) + 1
    return counts


def _sentences(parts: Sequence[Markup]) -> Markup:
    return Markup(" ").join(parts)


def _main_parts(w: _Writer, counts: StatusCounts, *, explain_on_track: bool) -> list[Markup]:
    """ "zijn er 36 voltooid", "liggen er 72 op koers", "lopen er 10 vertraging op"."""
    parts = []
    completed = _count(counts, (Status.completed,))
    on_track = _count(counts, ON_TRACK)
    delayed = _count(counts, (Status.delayed,))
    if completed:
        parts.append(w.ngettext("one has been completed", "%(num)d have been completed", completed))
    if on_track:
        if explain_on_track:
            parts.append(
                w.ngettext(
                    "one is on track (ongoing or on schedule)",
                    "%(num)d are on track (ongoing or on schedule)",
                    on_track,
                )
            )
        else:
            parts.append(w.ngettext("one is on track", "%(num)d are on track", on_track))
    if delayed:
        parts.append(w.ngettext("one is delayed", "%(num)d are delayed", delayed))
    return parts


def _other_parts(w: _Writer, counts: StatusCounts) -> list[Markup]:
    parts = []
    not_started = _count(counts, (Status.not_started,)) + counts.counts.get(None, 0)
    consultation = _count(counts, (Status.in_consultation,))
    not_applicable = _count(counts, (Status.not_applicable,))
    if not_started:
        parts.append(
            w.ngettext("one has not started yet", "%(num)d have not started yet", not_started)
        )
    if consultation:
        parts.append(
            w.ngettext(
                "one is in (formal) consultation",
                "%(num)d are in (formal) consultation",
                consultation,
            )
        )
    if not_applicable:
        parts.append(
            w.ngettext("one is not applicable", "%(num)d are not applicable", not_applicable)
        )
    return parts


def action_line(counts: StatusCounts, language: str) -> Markup:
    """One or two sentences on the state of one action line."""
    w = _Writer(language, None)
    total = counts.total
    if total == 0:
        return w.gettext("This action line has no activities in this report.")
    if total == 1:
        [status] = [status for status, count in counts.counts.items() if count]
        return w.gettext(
            "This action line has one activity, with the status ‘%(status)s’.",
            status=w.status(status) if status else w.translations.gettext("No status"),
        )
    completed = _count(counts, (Status.completed,))
    if completed == total:
        return w.gettext(
            "All %(num)d activities in this action line have been completed.", num=total
        )
    parts = _main_parts(w, counts, explain_on_track=False) + _other_parts(w, counts)
    sentences = [
        w.gettext(
            "Of the %(total)d activities in this action line, %(parts)s.",
            total=total,
            parts=w.join(parts),
        )
    ]
    if not counts.counts.get(Status.delayed):
        sentences.append(w.gettext("None of them is delayed."))
    return _sentences(sentences)


def state(rows: Sequence[ActivityRow], language: str, link: Link | None = None) -> Markup:
    """The state of affairs of the whole report: what is completed, on track and delayed,
    which activities are delayed and which have not started."""
    w = _Writer(language, link)
    counts = _counts(rows)
    total = counts.total
    if total == 0:
        return w.gettext("This report contains no activities.")
    if total == 1:
        status = rows[0].status
        return w.gettext(
            "This report covers one activity, %(title)s, with the status ‘%(status)s’.",
            title=w.title(rows[0]),
            status=w.status(status) if status else w.translations.gettext("No status"),
        )
    if _count(counts, (Status.completed,)) == total:
        return w.gettext("All %(num)d activities in this report have been completed.", num=total)

    sentences = []
    parts = _main_parts(w, counts, explain_on_track=True)
    if parts:
        sentences.append(
            w.gettext(
                "Of the %(total)d activities in this report, %(parts)s.",
                total=total,
                parts=w.join(parts),
            )
        )
    else:
        sentences.append(w.gettext("This report covers %(num)d activities.", num=total))
    delayed = [row for row in rows if row.status == Status.delayed]
    if delayed:
        sentences.append(
            w.ngettext(
                "The delayed activity is %(list)s.",
                "The delayed activities are %(list)s.",
                len(delayed),
                list=w.titles(delayed),
            )
        )
    else:
        sentences.append(w.gettext("None of the activities is delayed."))
    not_started = [row for row in rows if row.status in (Status.not_started, None)]
    if not_started:
        sentences.append(
            w.ngettext(
                "One activity has not started yet: %(list)s.",
                "There are %(num)d activities that have not started yet: %(list)s.",
                len(not_started),
                list=w.titles(not_started),
            )
        )
    consultation = _count(counts, (Status.in_consultation,))
    if consultation:
        sentences.append(
            w.ngettext(
                "In addition, one activity is in (formal) consultation.",
                "In addition, %(num)d activities are in (formal) consultation.",
                consultation,
            )
        )
    not_applicable = _count(counts, (Status.not_applicable,))
    if not_applicable:
        sentences.append(
            w.ngettext(
                "For one activity the status is ‘not applicable’.",
                "For %(num)d activities the status is ‘not applicable’.",
                not_applicable,
            )
        )
    return _sentences(sentences)


def changes(comparison: Comparison | None, language: str, link: Link | None = None) -> Markup:
    """What changed since the previous published report: how many statuses changed, which
    activities were completed since and in which a delay arose; activities added and gone."""
    w = _Writer(language, link)
    if comparison is None:
        return w.gettext(
            "This is the first published report of the programme, so there is no earlier "
            "report to compare it with."
        )
    previous = w.foreign(comparison.earlier.name)
    changed = comparison.changed
    sentences = []
    if changed:
        sentences.append(
            w.ngettext(
                "Since %(previous)s, the status of one activity has changed.",
                "Since %(previous)s, the status of %(num)d activities has changed.",
                len(changed),
                previous=previous,
            )
        )
        completed = [c.row for c in changed if c.after == Status.completed]
        if completed:
            sentences.append(
                w.ngettext(
                    "Since then, one activity has been completed: %(list)s.",
                    "Since then, %(num)d activities have been completed: %(list)s.",
                    len(completed),
                    list=w.titles(completed),
                )
            )
        else:
            sentences.append(w.gettext("No activity has been completed since then."))
        delayed = [c.row for c in changed if c.after == Status.delayed]
        if delayed:
            sentences.append(
                w.ngettext(
                    "A delay has arisen in one activity: %(list)s.",
                    "Delays have arisen in %(num)d activities: %(list)s.",
                    len(delayed),
                    list=w.titles(delayed),
                )
            )
        else:
            sentences.append(w.gettext("No new delays have arisen."))
    else:
        sentences.append(
            w.gettext(
                "Since %(previous)s, the status of no activity has changed.", previous=previous
            )
        )
    if comparison.added:
        sentences.append(
            w.ngettext(
                "This report includes one new activity.",
                "This report includes %(num)d new activities.",
                len(comparison.added),
            )
        )
    if comparison.retired:
        sentences.append(
            w.ngettext(
                "One activity from %(previous)s is no longer part of the programme.",
                "Of the activities in %(previous)s, %(num)d are no longer part of the programme.",
                len(comparison.retired),
                previous=previous,
            )
        )
    return _sentences(sentences)


def summary(
    rows: Sequence[ActivityRow],
    comparison: Comparison | None,
    language: str,
    link: Link | None = None,
) -> list[Markup]:
    """The narrative as paragraphs: the state of affairs, then the changes."""
    return [state(rows, language, link), changes(comparison, language, link)]
