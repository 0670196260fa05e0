"""Search in the published reports: activity titles, result titles and explanations, as they
counted for each published report (app/public/service.py reads them; nothing of a draft, an
open round or a round in review is ever in the index).

The index is the published rows, read once per data revision (the route keeps it in the
revision cache, so a publication shows in the results at once), and searched in Python: at
this size (hundreds of rows per report) a scan is quick, and it is the same on SQLite and
PostgreSQL. Matching ignores case and accents ("coordinatie" finds "coördinatie"); every word
of the query must occur in the activity's title, its result's title or its explanation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlmodel import Session

from app.errors import InvalidInput
from app.i18n import gettext
from app.public import service
from app.readmodel import ActivityRow, PeriodRow, ProgrammeRow

MAX_QUERY_LENGTH = 200
MAX_WORDS = 10
PAGE_SIZE = 20
# Characters of an explanation shown on either side of its first match.
CONTEXT = 90


class Folded:
    """A text folded for matching (case and accents away), with the position in the original
    text of every folded character, so a match can be marked in the original."""

    def __init__(self, text: str) -> None:
        self.text = text
        folded: list[str] = []
        origin: list[int] = []
        for index, character in enumerate(text):
            for part in fold(character):
                folded.append(part)
                origin.append(index)
        self.folded = "".join(folded)
        self.origin = origin

    def spans(self, words: list[str]) -> list[tuple[int, int]]:
        """Where the words occur in the original text, merged and in order."""
        found: list[tuple[int, int]] = []
        for word in words:
            start = self.folded.find(word)
            while start >= 0:
                end = start + len(word) - 1
                found.append((self.origin[start], self.origin[end] + 1))
                start = self.folded.find(word, start + 1)
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged


def fold(text: str) -> str:
    """Lower case without accents: "Coördinatie" → "coordinatie"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def highlight(
    text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None
) -> Markup:
    """The text from start to end, escaped, with the spans marked."""
    end = len(text) if end is None else end
    pieces: list[str] = []
    position = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        pieces.append(str(escape(text[position:span_start])))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        position = span_end
    pieces.append(str(escape(text[position:end])))
    return Markup("".join(pieces))


@dataclass(frozen=True)
class IndexedRow:
    row: ActivityRow
    title: Folded
    result_title: Folded
    explanation: Folded


@dataclass(frozen=True)
class IndexedReport:
    programme: ProgrammeRow
    period: PeriodRow
    rows: list[IndexedRow]


def build_index(session: Session) -> list[IndexedReport]:
    """Every published report's rows, newest report first per programme."""
    return [
        IndexedReport(
            item.programme,
            period,
            [
                IndexedRow(
                    row, Folded(row.title), Folded(row.result_title), Folded(row.explanation or "")
                )
                for row in service.period_rows(session, item.programme, period)
            ],
        )
        for item in service.programmes_with_reports(session)
        for period in item.periods
    ]


@dataclass(frozen=True)
class Hit:
    row: ActivityRow
    title: Markup
    result_title: Markup
    # The part of the explanation around its first match ("" when it has none).
    explanation: Markup


@dataclass
class ReportHits:
    programme: ProgrammeRow
    period: PeriodRow
    hits: list[Hit]


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    reports: int  # how many reports have a hit
    page: int
    pages: int
    groups: list[ReportHits]


def words_of(query: str) -> list[str]:
    """The folded words of a query; InvalidInput for one that is too long."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            gettext(
                "The search text is %(length)d characters long; use at most %(max)d characters."
            )
            % {"length": len(query), "max": MAX_QUERY_LENGTH}
        )
    words = list(dict.fromkeys(word for word in fold(query).split() if word))
    if len(words) > MAX_WORDS:
        raise InvalidInput(
            gettext("Search for at most %(max)d words at a time.") % {"max": MAX_WORDS}
        )
    return words


def _excerpt(indexed: Folded, words: list[str]) -> Markup:
    spans = indexed.spans(words)
    if not spans:
        return Markup("")
    text = indexed.text
    start = max(0, spans[0][0] - CONTEXT)
    end = min(len(text), spans[0][1] + CONTEXT)
    # Cut at a space, not inside a word.
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space > 0 else end
    body = highlight(text, spans, start, end)
    return Markup("{}{}{}").format("… " if start > 0 else "", body, " …" if end < len(text) else "")


def search(index: list[IndexedReport], query: str, *, page: int = 1) -> SearchResult:
    """The hits of the query, grouped per report, PAGE_SIZE a page."""
    words = words_of(query)
    found: list[tuple[IndexedReport, IndexedRow]] = []
    if words:
        for report in index:
            for indexed in report.rows:
                texts = (
                    indexed.title.folded,
                    indexed.result_title.folded,
                    indexed.explanation.folded,
                )
                if all(any(word in text for text in texts) for word in words):
                    found.append((report, indexed))
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    groups: list[ReportHits] = []
    for report, indexed in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        if not groups or groups[-1].period.id != report.period.id:
            groups.append(ReportHits(report.programme, report.period, []))
        groups[-1].hits.append(
            Hit(
                indexed.row,
                highlight(indexed.title.text, indexed.title.spans(words)),
                highlight(indexed.result_title.text, indexed.result_title.spans(words)),
                _excerpt(indexed.explanation, words),
            )
        )
    return SearchResult(
        query=query,
        total=len(found),
        reports=len({report.period.id for report, _ in found}),
        page=page,
        pages=pages,
        groups=groups,
    )
