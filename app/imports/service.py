"""Bulk update by spreadsheet: a dry run that says per row what it would do, and applying all
rows or none, each change through `record_status` (versioned, audited and reviewed like an
edit on the web page, recorded as imported).

The rules are the editing rules: a row changes an activity only if the user may edit it, the
period accepts changes from them, and nobody saved a newer version since the export the file
was made from. Rows that change nothing are never refused for these reasons, so an editor can
send back a whole export with only their own activities changed.

A row sent back unchanged for an activity still as carried over into the period, at the
version the file names, confirms it unchanged (as the button on the activity's page does),
when the user may change it now; for anyone else's activity it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from app import readmodel
from app.accounts.models import User
from app.accounts.service import CurrentUser, as_current_user
from app.activities.models import BASELINE_SOURCES, Status, StatusUpdate, UpdateSource
from app.activities.policy import ACTIVITY_POLICY, ActivitySubject
from app.activities.presentation import STATUS_STYLES
from app.activities.service import (
    FieldErrors,
    confirm_unchanged,
    record_status,
    validate_status_form,
)
from app.audit import service as audit
from app.audit.models import AuditAction, AuditSource
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.exports.columns import KEYS
from app.i18n import gettext, ngettext
from app.ids import id_of
from app.imports import parsing
from app.imports.parsing import SheetRow
from app.jobs import service as jobs
from app.jobs.models import Job, JobState, StoredFile
from app.periods.models import PeriodKind, PeriodState, ReportingPeriod
from app.periods.service import get_period
from app.policy import ErrorKind, Reason
from app.programmes.models import Activity, Result
from app.text import control_character_problem, normalise_newlines

CHANGE = "change"
CONFIRM = "confirm"  # sent back unchanged: confirms the period's starting point
UNCHANGED = "unchanged"
REFUSED = "refused"
OUTCOMES = (CHANGE, CONFIRM, UNCHANGED, REFUSED)

PREVIEW_JOB = "import_preview"
APPLY_JOB = "import_apply"
# Longer uploaded file names are shortened (a stored file's name has at most 300 characters).
MAX_FILENAME_LENGTH = 200
# Refusals named in the message of an apply that found the data changed since the preview.
REFUSALS_IN_MESSAGE = 10
# Lines of a preview on one page of its result (a file has up to parsing.MAX_ROWS rows).
PREVIEW_PAGE_LINES = 100


class ImportRefused(DomainError):
    """The import cannot be applied (as a whole); nothing was changed."""

    status_code = 409


@dataclass
class Problem:
    column: str  # as the file names it ("Toelichting (K)"); empty for the row as a whole
    message: str


@dataclass
class PreviewLine:
    """What one row of the file does. JSON-serialisable (the preview job keeps it)."""

    row: int
    activity_id: int | None
    activity: str
    outcome: str = UNCHANGED
    status_from: str | None = None
    status_to: str | None = None
    # The new explanation of a change; the old one only when it changes.
    explanation: str | None = None
    explanation_from: str | None = None
    # The version the row was exported from: what a change is based on.
    based_on_version: int | None = None
    note: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def status_changed(self) -> bool:
        return self.status_from != self.status_to

    @property
    def explanation_changed(self) -> bool:
        return self.explanation_from is not None


class _Outcome(Protocol):
    outcome: str


LineT = TypeVar("LineT", bound=_Outcome)


class Outcomes(Generic[LineT]):
    """What a preview's lines come to, per outcome: the status import's `Preview` and the
    figure sheet's (app/monitor/figuresheet.py). A subclass has the `lines` and names its
    `outcomes` (those its counts list)."""

    lines: list[LineT]
    outcomes: ClassVar[tuple[str, ...]] = OUTCOMES

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def changes(self) -> list[LineT]:
        return [line for line in self.lines if line.outcome == CHANGE]

    @property
    def refused(self) -> list[LineT]:
        return [line for line in self.lines if line.outcome == REFUSED]

    def counts(self) -> dict[str, int]:
        return {outcome: self.count(outcome) for outcome in self.outcomes}


@dataclass
class Preview(Outcomes[PreviewLine]):
    period_id: int
    period: str
    lines: list[PreviewLine]

    @property
    def confirmations(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.outcome == CONFIRM]

    @property
    def applicable(self) -> list[PreviewLine]:
        """What applying writes: the changes and the confirmations, in the file's order."""
        return [line for line in self.lines if line.outcome in (CHANGE, CONFIRM)]

    def summary(self) -> str:
        return gettext(
            "Rows: %(rows)d; changes: %(change)d; confirmed unchanged: %(confirm)d; "
            "unchanged: %(unchanged)d; refused: %(refused)d."
        ) % {"rows": len(self.lines), **self.counts()}

    def as_result(self) -> dict[str, Any]:
        """For the preview job's result page (and JSON): the lines as the page shows them,
        the refused first, then the changes, the confirmations and the rows that change
        nothing (each in the file's order), with only what the page shows of each."""
        order = {outcome: rank for rank, outcome in enumerate((REFUSED, CHANGE, CONFIRM))}
        lines = sorted(self.lines, key=lambda line: order.get(line.outcome, len(order)))
        return {
            "period_id": self.period_id,
            "period": self.period,
            "counts": self.counts(),
            "rows": len(self.lines),
            "lines": [_line_result(line) for line in lines],
        }


def _line_result(line: PreviewLine) -> dict[str, Any]:
    if line.outcome == UNCHANGED:
        shown = ("row", "activity_id", "activity", "outcome", "note")
        return {key: getattr(line, key) for key in shown}
    return {key: value for key, value in asdict(line).items() if value not in (None, "", [])} | {
        "explanation_changed": line.explanation_changed
    }


@dataclass
class PreviewPage:
    """One page of a preview's lines, as the result page shows them."""

    number: int  # from 1
    pages: int
    first: int  # the position of its first line among all, from 1
    last: int
    total: int
    lines: list[dict[str, Any]]  # that change or confirm something, or are refused
    unchanged: list[dict[str, Any]]


def preview_page(result: Mapping[str, Any], page: str | None) -> PreviewPage:
    """The lines of a preview job's result on one page (`page` as the query gives it; a
    page that is not there shows the nearest one)."""
    lines = result.get("lines", [])
    pages = max(1, -(-len(lines) // PREVIEW_PAGE_LINES))
    try:
        number = min(max(int(page or 1), 1), pages)
    except ValueError:
        number = 1
    start = (number - 1) * PREVIEW_PAGE_LINES
    shown = lines[start : start + PREVIEW_PAGE_LINES]
    return PreviewPage(
        number,
        pages,
        start + 1 if shown else 0,
        start + len(shown),
        len(lines),
        [line for line in shown if line["outcome"] != UNCHANGED],
        [line for line in shown if line["outcome"] == UNCHANGED],
    )


@dataclass
class ApplyResult:
    preview: Preview
    applied: list[StatusUpdate]  # empty when anything was refused


def _normalise(text: str) -> str:
    """Explanations compare as the edit form stores them."""
    return normalise_newlines(text).strip()


def _period_row(period: ReportingPeriod) -> readmodel.PeriodRow:
    return readmodel.PeriodRow(
        id_of(period),
        period.name,
        period.reference_date,
        PeriodState(period.state),
        period.deadline,
    )


def _activity_text(row: readmodel.ActivityRow) -> str:
    number = f"{row.result_number}.{row.label}" if row.label else str(row.result_number)
    return f"{number} {row.title}"


class _Checker:
    """Checks the rows of one file against one period, with the data read once."""

    def __init__(
        self,
        session: Session,
        period: ReportingPeriod,
        user: CurrentUser,
        rows: Sequence[SheetRow],
        columns: Mapping[str, str] | None,
    ) -> None:
        self.session = session
        self.period = period
        self.user = user
        self.columns = {key: parsing.column_name(key) for key in KEYS} | dict(columns or {})
        listing = readmodel.list_activities(session, period.programme_id, _period_row(period))
        self.activities = {row.id: row for row in listing.rows}
        # Whose newest version was sent back: during review an editor may change those.
        self.sent_back = readmodel.sent_back_ids(session, id_of(period))
        self.first_row: dict[int, int] = {}
        # The ids and versions the file names, for what must be read once for all rows.
        wanted: set[int] = set()
        stale: set[int] = set()  # named with another version than the current one
        for row in rows:
            try:
                activity_id = parsing.parse_whole_number(row.values.get("activity_id", ""))
            except ValueError:
                continue
            wanted.add(activity_id)
            shown = self.activities.get(activity_id)
            try:
                version = parsing.parse_whole_number(row.values.get("version", ""))
            except ValueError:
                continue
            if shown is not None and version != shown.version:
                stale.add(activity_id)
        # Every version of the stale activities in the period: what a row exported before
        # someone saved says is compared with the version it was exported at.
        self.versions: dict[tuple[int, int], readmodel.StatusText] = {}
        if stale:
            self.versions = {
                (activity_id, version): readmodel.StatusText(Status(status), explanation)
                for activity_id, version, status, explanation in session.execute(
                    select(
                        col(StatusUpdate.activity_id),
                        col(StatusUpdate.version),
                        col(StatusUpdate.status),
                        col(StatusUpdate.explanation),
                    ).where(
                        col(StatusUpdate.period_id) == period.id,
                        col(StatusUpdate.activity_id).in_(stale),
                    )
                )
            }
        unknown = list(wanted - set(self.activities))
        self.programme_of: dict[int, int] = {}
        if unknown:
            self.programme_of = dict(
                session.execute(
                    select(col(Activity.id), col(Result.programme_id))
                    .join(Result, col(Result.id) == col(Activity.result_id))
                    .where(col(Activity.id).in_(unknown))
                ).all()
            )

    def problem(self, key: str, message: str) -> Problem:
        return Problem(self.columns[key], message)

    def check(self, row: SheetRow) -> PreviewLine:
        values = row.values
        line = PreviewLine(row=row.number, activity_id=None, activity=values.get("activity", ""))
        raw_id = values.get("activity_id", "").strip()
        if not raw_id:
            return self.refuse(
                line,
                self.problem(
                    "activity_id",
                    gettext(
                        "No activity id: this column says which activity the row is about. "
                        "Copy the row from an export."
                    ),
                ),
            )
        try:
            activity_id = parsing.parse_whole_number(raw_id)
        except ValueError:
            return self.refuse(
                line,
                self.problem(
                    "activity_id",
                    gettext("%(value)s is not an activity id.") % {"value": repr(raw_id)},
                ),
            )
        line.activity_id = activity_id
        if activity_id in self.first_row:
            return self.refuse(
                line,
                self.problem(
                    "activity_id",
                    gettext("Activity %(id)s is also in row %(row)s; give each activity one row.")
                    % {"id": activity_id, "row": self.first_row[activity_id]},
                ),
            )
        self.first_row[activity_id] = row.number
        current = self.activities.get(activity_id)
        if current is None:
            return self.refuse(line, self.problem("activity_id", self.unknown(activity_id)))
        line.activity = _activity_text(current)

        problems: list[Problem] = []
        raw_version = values.get("version", "").strip()
        version: int | None = None
        if raw_version:
            try:
                version = parsing.parse_whole_number(raw_version)
            except ValueError:
                problems.append(
                    self.problem(
                        "version",
                        gettext(
                            "%(value)s is not a version number. Leave this column as the "
                            "export wrote it."
                        )
                        % {"value": repr(raw_version)},
                    )
                )
        line.based_on_version = version
        if problems:
            # Before anything else: a row that is otherwise unchanged would be confirmed
            # without the version it names being checked.
            return self.refuse(line, *problems)
        raw_status = values.get("status", "").strip()
        raw_explanation = values.get("explanation", "")
        if not raw_status and not raw_explanation.strip() and not raw_version:
            # Exported without a status, and left that way.
            line.note = gettext("No status in the file: nothing changes.")
            return line
        parsed = parsing.parse_status(raw_status) if raw_status else None
        if (parsed, _normalise(raw_explanation)) == (
            current.status,
            _normalise(current.explanation),
        ):
            # As it is now (whatever the rules would say about it as a new version), which
            # for the period's starting point is a confirmation.
            line.status_from = line.status_to = current.status.value if current.status else None
            return self.confirmation(line, current, version)
        if version is not None and version != current.version:
            exported = self.versions.get((activity_id, version))
            if exported is not None and (parsed, _normalise(raw_explanation)) == (
                exported.status,
                _normalise(exported.explanation),
            ):
                # The row is as exported: it does not undo what someone saved since.
                line.status_from = line.status_to = current.status.value if current.status else None
                line.note = gettext(
                    "Changed by someone else since the export (now version %(version)s); this "
                    "row leaves that as it is."
                ) % {"version": current.version}
                return line
        status: Status | None
        try:
            status, explanation = validate_status_form(
                parsed.value if parsed else raw_status, raw_explanation
            )
        except FieldErrors as invalid:
            status, explanation = parsed, _normalise(raw_explanation)
            if "status" in invalid.errors:
                message = invalid.errors["status"]
                if raw_status:
                    message = gettext("Unknown status %(value)s; use one of: %(statuses)s.") % {
                        "value": repr(raw_status),
                        "statuses": "; ".join(
                            gettext(style.label) for style in STATUS_STYLES.values()
                        ),
                    }
                problems.append(self.problem("status", message))
            if "explanation" in invalid.errors:
                problems.append(self.problem("explanation", invalid.errors["explanation"]))
        if problems:
            return self.refuse(line, *problems)
        assert status is not None

        line.status_from = current.status.value if current.status else None
        line.status_to = status.value
        if version != current.version:
            return self.refuse(
                line,
                self.problem(
                    "version",
                    gettext(
                        "Someone changed this activity after the export was made (the file has "
                        "version %(file)s, it is now at version %(current)s). Export again, or "
                        "make this change on the activity's page."
                    )
                    % {
                        "file": version if version is not None else "-",
                        "current": current.version if current.version is not None else "-",
                    },
                ),
            )
        decision = ACTIVITY_POLICY.change(
            self.user,
            ActivitySubject.of(
                activity_id,
                (organisation.id for organisation in current.organisations),
                sent_back=activity_id in self.sent_back,
            ),
            self.period,
        )
        # What the period refuses first, then whose activity it is (in the file's terms).
        for refusal in decision.refusals:
            if refusal.kind == ErrorKind.period_closed:
                problems.append(Problem("", refusal.message))
        if any(refusal.kind == ErrorKind.forbidden for refusal in decision.refusals):
            problems.append(
                Problem(
                    "",
                    gettext(
                        "Not your organisation: only editors of %(organisations)s (or a "
                        "coordinator) may change this activity."
                    )
                    % {"organisations": ", ".join(o.code for o in current.organisations) or "-"},
                )
            )
        if problems:
            return self.refuse(line, *problems)
        line.outcome = CHANGE
        line.explanation = explanation
        if _normalise(current.explanation) != explanation:
            line.explanation_from = current.explanation
        return line

    def confirmation(
        self, line: PreviewLine, current: readmodel.ActivityRow, version: int | None
    ) -> PreviewLine:
        """A row as the activity is now: it confirms the period's starting point when the user
        may change the activity now and the row names its version; else it changes nothing."""
        if current.source not in BASELINE_SOURCES or current.version is None:
            return line  # updated for the period already (or no status): nothing to confirm
        decision = ACTIVITY_POLICY.change(
            self.user,
            ActivitySubject.of(
                current.id,
                (organisation.id for organisation in current.organisations),
                sent_back=current.id in self.sent_back,
            ),
            self.period,
        )
        if not decision:
            return line  # someone else's to confirm (a whole export sent back)
        if version != current.version:
            line.note = gettext(
                "Not confirmed: the file has version %(file)s, the activity is at version "
                "%(current)s. Export again to confirm it."
            ) % {"file": version if version is not None else "-", "current": current.version}
            return line
        line.outcome = CONFIRM
        line.based_on_version = current.version
        line.note = gettext(
            "As carried over from the previous period; the row confirms it for this one."
        )
        return line

    def unknown(self, activity_id: int) -> str:
        programme_id = self.programme_of.get(activity_id)
        if programme_id is None:
            return gettext("There is no activity %(id)s.") % {"id": activity_id}
        if programme_id != self.period.programme_id:
            return gettext("Activity %(id)s is not part of this programme.") % {"id": activity_id}
        # In the programme but not in the period's listing: retired from it.
        return ACTIVITY_POLICY.wording(
            Reason.retired, ActivitySubject.of(activity_id, (), retired=True), self.period
        )

    @staticmethod
    def refuse(line: PreviewLine, *problems: Problem) -> PreviewLine:
        line.outcome = REFUSED
        line.status_from = line.status_to = None
        line.problems.extend(problems)
        return line


def preview(
    session: Session,
    *,
    period_id: int,
    rows: Sequence[SheetRow],
    user: CurrentUser,
    columns: Mapping[str, str] | None = None,
) -> Preview:
    """A dry run: per row, the change it makes, or that it changes nothing, or why it is
    refused. Changes nothing. `columns` names the columns as the file does, for messages."""
    period = get_period(session, period_id)
    checker = _Checker(session, period, user, rows, columns)
    return Preview(period_id, period.name, [checker.check(row) for row in rows])


def leave_unconfirmed(checked: Preview) -> None:
    """The changes only, as the user chose: the rows that would confirm an activity
    unchanged change nothing."""
    for line in checked.confirmations:
        line.outcome = UNCHANGED
        line.note = gettext("Not confirmed: you applied the changes only.")


def apply(
    session: Session,
    *,
    period_id: int,
    rows: Sequence[SheetRow],
    user: CurrentUser,
    address: str,
    filename: str = "",
    columns: Mapping[str, str] | None = None,
    progress: jobs.Progress | None = None,
    confirm: bool = True,
) -> ApplyResult:
    """All rows or none. Everything is checked again (the data may have changed since the
    preview); if any row is refused nothing is written and the refusals are in the result.
    Otherwise every change goes through record_status and every confirmation through
    confirm_unchanged (versioned, audited, source "imported"), and the import as a whole is
    audited too. `confirm=False` applies the changes only: rows that would confirm an
    activity change nothing. A change refused while writing (someone saved
    at the same moment) undoes the others and raises ImportRefused."""
    checked = preview(session, period_id=period_id, rows=rows, user=user, columns=columns)
    if not confirm:
        leave_unconfirmed(checked)
    if checked.refused or not checked.applicable:
        return ApplyResult(checked, [])
    if progress:
        count = len(checked.applicable)
        progress(
            60,
            ngettext("Applying %(num)d row…", "Applying %(num)d rows…", count) % {"num": count},
        )
    applied: list[StatusUpdate] = []
    line: PreviewLine | None = None
    try:
        with session.begin_nested(), audit.recording_from(AuditSource.import_):
            for line in checked.applicable:
                assert line.activity_id is not None and line.status_to
                if line.outcome == CONFIRM:
                    assert line.based_on_version is not None
                    applied.append(
                        confirm_unchanged(
                            session,
                            activity_id=line.activity_id,
                            period_id=period_id,
                            based_on_version=line.based_on_version,
                            author=user,
                            source=UpdateSource.imported,
                            address=address,
                        )
                    )
                    continue
                assert line.explanation
                applied.append(
                    record_status(
                        session,
                        activity_id=line.activity_id,
                        period_id=period_id,
                        status=Status(line.status_to),
                        explanation=line.explanation,
                        author=user,
                        based_on_version=line.based_on_version,
                        source=UpdateSource.imported,
                        address=address,
                    )
                )
            audit.record(
                session,
                actor=user,
                action=AuditAction.status_import,
                object_type="period",
                object_id=period_id,
                summary=gettext(
                    "%(file)s: %(changes)d changes, %(confirmations)d confirmed unchanged in "
                    "%(period)s"
                )
                % {
                    "file": filename or "-",
                    "changes": len(checked.changes),
                    "confirmations": len(checked.confirmations),
                    "period": checked.period,
                },
                details={
                    "filename": filename,
                    "rows": len(checked.lines),
                    **{
                        key: [
                            {
                                "row": line.row,
                                "activity_id": update.activity_id,
                                "version": update.version,
                            }
                            for line, update in zip(checked.applicable, applied, strict=True)
                            if line.outcome == outcome
                        ]
                        for key, outcome in (("changed", CHANGE), ("confirmed", CONFIRM))
                    },
                    "unchanged": checked.count(UNCHANGED),
                },
                address=address,
            )
    except DomainError as error:
        assert line is not None
        raise ImportRefused(
            gettext("Nothing was changed. Row %(row)s (activity %(id)s): %(reason)s")
            % {"row": line.row, "id": line.activity_id, "reason": error.message}
        ) from error
    return ApplyResult(checked, applied)


def refusals_message(checked: Preview) -> str:
    """The refused rows in one message (the first few), for a job that failed and the CLI."""
    refused = checked.refused
    described = [
        gettext("row %(row)s: %(reasons)s")
        % {
            "row": line.row,
            "reasons": " ".join(
                f"{problem.column}: {problem.message}" if problem.column else problem.message
                for problem in line.problems
            ),
        }
        for line in refused[:REFUSALS_IN_MESSAGE]
    ]
    if len(refused) > REFUSALS_IN_MESSAGE:
        described.append(gettext("and %(num)d more") % {"num": len(refused) - REFUSALS_IN_MESSAGE})
    return (
        ngettext(
            "Nothing was changed: %(num)d row is refused.",
            "Nothing was changed: %(num)d rows are refused.",
            len(refused),
        )
        % {"num": len(refused)}
        + " "
        + "; ".join(described)
    )


# -- jobs: the preview and the apply run outside the request -------------------------------


def upload_name(filename: str) -> str:
    """The name an uploaded file is kept under: its last part, refused with a control
    character, shortened (its extension kept: it says the format) past MAX_FILENAME_LENGTH."""
    name = PurePath(filename).name
    problem = control_character_problem(name)
    if problem is not None:
        raise parsing.ImportFileError(
            gettext("The file name %(name)s: %(problem)s")
            % {"name": repr(name), "problem": problem}
        )
    if len(name) > MAX_FILENAME_LENGTH:
        suffix = PurePath(name).suffix[:10]
        name = name[: MAX_FILENAME_LENGTH - len(suffix) - 1] + "…" + suffix
    return name


def store_and_preview(
    session: Session,
    *,
    content: bytes,
    name: str,
    layout: parsing.Layout,
    user: CurrentUser,
    kind: str,
    params: dict[str, Any],
    reread: Callable[[], object] = lambda: None,
) -> Job:
    """Check an upload enough to refuse a bad one at once (format, size, the columns of
    `layout`), keep it (as `name`: upload_name) and queue its dry run, a job of `kind` with
    `params` and the stored file's id. The request has only read so far: its transaction ends
    before the file is read (up to MAX_FILE_BYTES), so that on SQLite no other writer waits
    for the write lock meanwhile; `reread` reads again, in the transaction that stores the
    file, what the job is for (refusing it if it went meanwhile)."""
    session.commit()
    sheet = parsing.read_sheet(content, name, header_only=True, layout=layout)
    reread()
    stored = jobs.store_file(
        session,
        filename=name,
        media_type=parsing.MEDIA_TYPES[sheet.format],
        content=content,
        user_id=user.id,
    )
    return jobs.submit(session, kind=kind, params={"file_id": stored.id, **params}, user=user)


def submit_preview(
    session: Session,
    *,
    period_id: int,
    content: bytes,
    filename: str,
    user: CurrentUser,
    language: str,
) -> Job:
    """Check the file enough to refuse a bad one at once (format, size, columns), keep it,
    and queue the dry run."""
    period = get_period(session, period_id)
    if period.kind == PeriodKind.monitor:
        raise InvalidInput(
            gettext(
                "%(period)s is a monitor edition: its figures are imported with the edition's"
                " figure sheet, not with the status import."
            )
            % {"period": period.name}
        )
    name = upload_name(filename)
    return store_and_preview(
        session,
        content=content,
        name=name,
        layout=parsing.STATUS_LAYOUT,
        user=user,
        kind=PREVIEW_JOB,
        params={
            "period_id": period.id,
            "filename": name,
            "language": language,
            "title": gettext("Bulk update of %(period)s: preview of %(file)s")
            % {"period": period.name, "file": name},
        },
        reread=lambda: get_period(session, period_id),
    )


def submit_apply(
    session: Session,
    *,
    preview_job_id: int,
    user: CurrentUser,
    language: str,
    address: str,
    confirm: bool = True,
) -> Job:
    """Queue applying a finished preview without refusals: for whoever made the preview, or a
    coordinator. A preview is applied once."""
    return queue_apply(
        session,
        preview_job_id=preview_job_id,
        user=user,
        preview_kind=PREVIEW_JOB,
        apply_kind=APPLY_JOB,
        not_a_preview=gettext("Job %(id)s is not a preview of a bulk update."),
        applies=lambda counts: bool(counts.get(CHANGE) or (confirm and counts.get(CONFIRM))),
        params=lambda previewed, result: {
            "file_id": previewed.params["file_id"],
            "period_id": previewed.params["period_id"],
            "filename": previewed.params["filename"],
            "preview_job_id": previewed.id,
            "confirm": confirm,
            "language": language,
            "address": address,
            "title": gettext("Bulk update of %(period)s: applying %(file)s")
            % {"period": result.get("period", ""), "file": previewed.params["filename"]},
        },
    )


def queue_apply(
    session: Session,
    *,
    preview_job_id: int,
    user: CurrentUser,
    preview_kind: str,
    apply_kind: str,
    not_a_preview: str,
    applies: Callable[[dict[str, int]], bool],
    params: Callable[[Job, dict[str, Any]], dict[str, Any]],
) -> Job:
    """Queue the apply job (`apply_kind`, with `params(preview, its result)`) of a finished
    preview job of `preview_kind` without refusals, once: the one machinery of the status
    import and the monitor's figure sheet. `not_a_preview` (with %(id)s) refuses a job of
    another kind; `applies(counts)` says whether the preview changes anything."""
    previewed = jobs.get_job(session, preview_job_id, user)
    if previewed.kind != preview_kind:
        raise NotFound(not_a_preview % {"id": previewed.id})
    result = previewed.result or {}
    if previewed.state != JobState.done:
        raise ImportRefused(gettext("The preview has not finished; wait for it, then apply."))
    if result.get("apply_job_id"):
        raise ImportRefused(gettext("These changes were already submitted to be applied."))
    counts = result.get("counts", {})
    if counts.get(REFUSED):
        raise ImportRefused(
            gettext(
                "Rows of this file are refused, so nothing can be applied. Correct them and "
                "upload the file again."
            )
        )
    if not applies(counts):
        raise InvalidInput(gettext("Nothing to apply: no row changes anything."))
    job = jobs.submit(session, kind=apply_kind, params=params(previewed, result), user=user)
    previewed.result = {**result, "apply_job_id": job.id}  # a new dict: the JSON is saved
    session.flush()
    return job


def job_user(session: Session, job: Job) -> CurrentUser:
    account = session.get(User, job.created_by_id) if job.created_by_id else None
    if account is None or not account.active:
        raise Forbidden(
            gettext("The account that started this import can no longer change anything.")
        )
    return as_current_user(session, account)


def job_sheet(
    session: Session,
    job: Job,
    progress: jobs.Progress,
    *,
    layout: parsing.Layout = parsing.STATUS_LAYOUT,
) -> parsing.Sheet:
    """The sheet of a preview or apply job's stored file (of the status import, or `layout`)."""
    progress(10, gettext("Reading the file…"))
    stored = session.get(StoredFile, job.params["file_id"])
    if stored is None:
        raise NotFound(gettext("File %(id)s does not exist") % {"id": job.params["file_id"]})
    return parsing.read_sheet(stored.content, job.params["filename"], layout=layout)


@jobs.handler(PREVIEW_JOB)
def _preview_job(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    user = job_user(session, job)
    sheet = job_sheet(session, job, progress)
    count = len(sheet.rows)
    progress(
        40,
        ngettext("Checking %(num)d row…", "Checking %(num)d rows…", count) % {"num": count},
    )
    checked = preview(
        session,
        period_id=job.params["period_id"],
        rows=sheet.rows,
        user=user,
        columns=sheet.columns,
    )
    return jobs.Outcome(
        result=checked.as_result() | {"filename": job.params["filename"]},
        message=checked.summary(),
    )


def _applied_message(changes: int, confirmations: int) -> str:
    message = ngettext("%(num)d change applied.", "%(num)d changes applied.", changes) % {
        "num": changes
    }
    if confirmations:
        message += " " + ngettext(
            "%(num)d activity confirmed unchanged.",
            "%(num)d activities confirmed unchanged.",
            confirmations,
        ) % {"num": confirmations}
    return message


@jobs.handler(APPLY_JOB)
def _apply_job(session: Session, job: Job, progress: jobs.Progress) -> jobs.Outcome:
    user = job_user(session, job)
    sheet = job_sheet(session, job, progress)
    progress(30, gettext("Checking every row again…"))
    outcome = apply(
        session,
        period_id=job.params["period_id"],
        rows=sheet.rows,
        user=user,
        address=job.params.get("address", ""),
        filename=job.params["filename"],
        columns=sheet.columns,
        progress=progress,
        confirm=job.params.get("confirm", True),
    )
    checked = outcome.preview
    if checked.refused:
        raise ImportRefused(refusals_message(checked))
    applied = len(outcome.applied)
    return jobs.Outcome(
        result={
            "period_id": checked.period_id,
            "period": checked.period,
            "filename": job.params["filename"],
            "preview_job_id": job.params.get("preview_job_id"),
            "applied": applied,
            "changed": len(checked.changes),
            "confirmed": len(checked.confirmations),
            "unchanged": checked.count(UNCHANGED),
            "changes": [
                {
                    "row": line.row,
                    "activity_id": line.activity_id,
                    "activity": line.activity,
                    "outcome": line.outcome,
                }
                for line in checked.applicable
            ],
        },
        message=_applied_message(len(checked.changes), len(checked.confirmations)),
    )
