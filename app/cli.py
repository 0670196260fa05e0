"""The `voortgang` command."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import inspect, select, text
from sqlmodel import Session, col

from app import (
    models,  # noqa: F401  (every table known before the first flush)
    readmodel,
)
from app.accounts import service as accounts
from app.accounts.models import ApiToken, Role, User
from app.accounts.service import as_current_user, get_user_by_email
from app.activities.presentation import status_label
from app.audit import service as audit
from app.audit.models import AuditAction, AuditSource
from app.clock import programme_today
from app.config import PROJECT_ROOT, Environment, get_settings
from app.db import engine_for, make_engine, transaction
from app.errors import DomainError
from app.exports import service as exports
from app.ids import id_of
from app.imports import service as imports
from app.imports.parsing import ImportFileError, read_sheet
from app.imports.service import ApplyResult
from app.jobs import service as jobs
from app.jobs.models import JobState
from app.monitor.seeding import MONITOR_SEED_DIR, load_monitor_files, monitor_seed_files
from app.periods.models import PeriodState, ReportingPeriod
from app.public import documents
from app.readmodel import PeriodRow, ProgrammeRow
from app.recommendations.seeding import (
    RECOMMENDATION_SEED_DIR,
    load_recommendation_files,
    recommendation_seed_files,
)
from app.reminders import service as reminders
from app.reminders.service import ReminderReport, send_reminders
from app.seeding.service import SeedError, load_seed_file
from app.text import control_character_problem

T = TypeVar("T")
log = logging.getLogger(__name__)


def _text(value: T) -> T:
    """Every text argument may end up in the database: one with a control character (see
    app/text.py) is refused before the command runs, naming its option (the callback of
    each text parameter; a repeated option gives a list)."""
    for item in value if isinstance(value, list) else [value]:
        problem = None if item is None else control_character_problem(str(item))
        if problem is not None:
            raise typer.BadParameter(problem)
    return value


cli = typer.Typer(
    help="Voortgang: progress tracker for government programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
user_cli = typer.Typer(help="User accounts.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")
token_cli = typer.Typer(help="API tokens.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")
reminders_cli = typer.Typer(
    help="Planned reminders: send those that are due (from cron), show a period's plan.",
    no_args_is_help=True,
)
cli.add_typer(reminders_cli, name="reminders")


@cli.callback()
def _from_the_command_line(context: typer.Context) -> None:
    # What a command changes is audited as coming from the command line (an import's
    # changes as an import).
    context.with_resource(audit.recording_from(AuditSource.cli))


DEV_ACCOUNT_EMAIL = "beheerder@voortgang.local"

DEFAULT_SEED = PROJECT_ROOT / "seed" / "samen-tegen-mensenhandel.yaml"


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


def run_alembic(action: str, revision: str, database_url: str | None = None) -> None:
    """Run an Alembic command on the configured database (or the given URL)."""
    url = database_url or get_settings().database_url
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def _migrate(action: str, revision: str) -> None:
    try:
        run_alembic(action, revision)
    except CommandError as error:
        typer.echo(f"voortgang db {action}: {error}", err=True)
        raise typer.Exit(code=1) from None


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision", callback=_text)] = "head",
) -> None:
    """Create or update the schema to the latest migration (or REVISION)."""
    _migrate("upgrade", revision)
    typer.echo(f"Database at {revision}.")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision: an id, base, or -1 after --", callback=_text)
    ],
) -> None:
    """Undo migrations down to REVISION (`voortgang db downgrade -- -1` undoes the last one)."""
    _migrate("downgrade", revision)
    typer.echo(f"Database at {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""

    engine = make_engine(get_settings().database_url)
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            typer.echo("No schema yet: run `voortgang db upgrade`.")
            return
        typer.echo(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())


@cli.command()
def seed(
    file: Annotated[
        Path,
        typer.Argument(
            help="Seed file (YAML, see seed/README.md)", show_default=True, callback=_text
        ),
    ] = DEFAULT_SEED,
    monitor: Annotated[
        Path | None,
        typer.Option(
            help="Folder of monitor seed files (*.yaml, see seed/README.md) loaded with the "
            "programme; by default seed/monitor/ when FILE is the default programme, none "
            "for another FILE",
            callback=_text,
        ),
    ] = None,
    recommendations: Annotated[
        Path | None,
        typer.Option(
            help="Folder of recommendation seed files (*.yaml, see seed/README.md) loaded after "
            "the monitor; by default seed/recommendations/ when FILE is the default programme, "
            "none for another FILE",
            callback=_text,
        ),
    ] = None,
) -> None:
    """Load a programme from a seed file, the monitor's key figures (seed/monitor/) and the
    Rapporteur's recommendations (seed/recommendations/).

    Running it twice changes nothing; a bad file is refused with the places that are wrong,
    and the database is left as it was (the programme, every monitor file and every
    recommendation file load in one transaction).
    """

    settings = get_settings()
    engine = engine_for(settings)
    if monitor is None and file.resolve() == DEFAULT_SEED.resolve():
        monitor = MONITOR_SEED_DIR
    monitor_files = monitor_seed_files(monitor) if monitor is not None else []
    if monitor is not None and not monitor_files:
        typer.echo(f"{monitor}: no monitor seed files (*.yaml) there.", err=True)
        raise typer.Exit(code=1)
    if recommendations is None and file.resolve() == DEFAULT_SEED.resolve():
        recommendations = RECOMMENDATION_SEED_DIR
    recommendation_files = (
        recommendation_seed_files(recommendations) if recommendations is not None else []
    )
    if recommendations is not None and not recommendation_files:
        typer.echo(f"{recommendations}: no recommendation seed files (*.yaml) there.", err=True)
        raise typer.Exit(code=1)
    try:
        with transaction(engine) as session:
            report = load_seed_file(session, file)
            load_monitor_files(session, monitor_files, report)
            load_recommendation_files(session, recommendation_files, report)
    except SeedError as error:
        engine.dispose()
        typer.echo(error.message, err=True)
        raise typer.Exit(code=1) from None
    try:
        if not report.changed:
            typer.echo(f"{file.name}: already loaded, nothing changed.")
        for label, bucket in (("created", report.created), ("updated", report.updated)):
            if bucket:
                summary = ", ".join(f"{count} {kind}" for kind, count in sorted(bucket.items()))
                typer.echo(f"{file.name}: {label} {summary}.")
        # A published report in the seed: its public documents, made here and now.
        _report_documents(documents.prepare(engine, settings=settings))
    finally:
        engine.dispose()


def _report_documents(outcomes: list[documents.Prepared]) -> None:
    failed = 0
    for outcome in outcomes:
        if outcome.state == JobState.done:
            typer.echo(f"public documents of {outcome.period}: ready (job {outcome.job_id})")
        else:
            failed += 1
            typer.echo(
                f"public documents of {outcome.period}: failed (job {outcome.job_id}): "
                f"{outcome.message}",
                err=True,
            )
    if failed:
        raise typer.Exit(code=1)


@cli.command("public-documents")
def public_documents() -> None:
    """Make the public site's documents (summary and table as PDF) that are missing.

    Publishing queues a job that makes them, run by the app process that published, after its
    response (or by a worker). This command runs here whatever is still queued or was
    interrupted (its process stopped) and queues again what is missing (a job that failed, or
    was interrupted JOB_MAX_ATTEMPTS times), then runs it. Safe beside running app processes
    and workers: a job runs where it is claimed first.
    """
    settings = get_settings()
    engine = engine_for(settings)
    try:
        outcomes = documents.prepare(engine, settings=settings)
    finally:
        engine.dispose()
    if not outcomes:
        typer.echo("Every published report has its public documents.")
    _report_documents(outcomes)


@cli.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: the HOST setting)", callback=_text),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: the PORT setting)")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
) -> None:
    """Serve the web app with uvicorn. X-Forwarded-For and X-Forwarded-Proto are believed only
    from the proxies in the FORWARDED_ALLOW_IPS setting (none by default)."""
    # The app (in every worker) reads its settings from the environment: a --host or --port
    # given here is where it is reached when PUBLIC_URL is unset.
    if host:
        os.environ["HOST"] = host
    if port:
        os.environ["PORT"] = str(port)
    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        # X-Forwarded-For and X-Forwarded-Proto only from the proxies in FORWARDED_ALLOW_IPS:
        # believed from anyone, a new address in each request escapes the sign-in throttle.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


@cli.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="One pass: run what is waiting, then stop")
    ] = False,
    poll: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds to wait before looking again when there was nothing to do "
            "(default: the JOB_POLL_SECONDS setting)",
        ),
    ] = None,
) -> None:
    """Run the jobs (exports, bulk updates, public documents, planned reminders) until
    stopped.

    Runs every queued job, and takes up every job whose process stopped (no heartbeat for
    JOB_STALE_SECONDS), up to JOB_MAX_ATTEMPTS attempts; then it is marked failed with the
    reason. Any number of workers and web processes may run beside each other: each job is
    claimed by one. With a worker deployed set JOBS_IN_WEB=false, so that web processes leave
    the jobs to it. SIGTERM or Ctrl-C stops it after the job at hand.
    """
    settings = get_settings()
    if poll is not None:
        settings = settings.model_copy(update={"job_poll_seconds": poll})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def stop_after_the_job_at_hand(signum: int, _frame: object) -> None:
        log.info("%s: stopping after the job at hand", signal.strsignal(signum))
        # From another thread: the handler may interrupt this one inside the event's lock.
        threading.Thread(target=stop.set).start()

    signal.signal(signal.SIGTERM, stop_after_the_job_at_hand)
    signal.signal(signal.SIGINT, stop_after_the_job_at_hand)
    engine = engine_for(settings)
    try:
        ran = jobs.work(engine, settings=settings, stop=stop, once=once)
    finally:
        engine.dispose()
    typer.echo(f"voortgang worker: {ran} jobs run.")


def _in_session(action: Callable[[Session], T]) -> T:
    """Run action(session) in one transaction; domain errors become a message and exit 1."""

    engine = engine_for(get_settings())
    try:
        with transaction(engine) as session:
            return action(session)
    except DomainError as error:
        typer.echo(f"voortgang: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()


def _audit(
    session: Session,
    action: AuditAction,
    user: User,
    summary: str,
    details: dict[str, Any] | None = None,
) -> None:

    audit.record(
        session,
        actor=None,
        actor_label="command line",
        action=action,
        object_type="user",
        object_id=user.id,
        summary=summary,
        details=details or {},
        address="cli",
    )


def _ask_password(password: str | None) -> str:
    return password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_cli.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address (the sign-in name)", callback=_text)],
    name: Annotated[str, typer.Option(help="Full name", callback=_text)],
    role: Annotated[
        str, typer.Option(help="viewer, editor, coordinator or admin", callback=_text)
    ] = "viewer",
    organisation: Annotated[
        list[str] | None, typer.Option(help="Organisation code; repeat for more", callback=_text)
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Password (asked for when left out)", callback=_text)
    ] = None,
) -> None:
    """Create an account."""

    secret = _ask_password(password)

    def action(session: Session) -> User:
        user = accounts.create_user(
            session,
            email=email,
            name=name,
            role=_role(role),
            password=secret,
            organisation_codes=organisation or [],
        )
        _audit(
            session,
            AuditAction.user_create,
            user,
            f"{user.email} ({user.role})",
            {"email": user.email, "role": user.role, "organisations": organisation or []},
        )
        return user

    user = _in_session(action)
    typer.echo(f"Created {user.email} ({Role(user.role).value}).")


def _role(value: str) -> Role:

    try:
        return Role(value)
    except ValueError:
        typer.echo(f"voortgang: unknown role {value!r}; use one of: {', '.join(Role)}", err=True)
        raise typer.Exit(code=1) from None


@user_cli.command("list")
def user_list() -> None:
    """List accounts: e-mail, role, organisations, state."""

    def action(session: Session) -> list[tuple[User, list[str]]]:
        return [
            (user, accounts.user_organisation_codes(session, id_of(user)))
            for user in session.scalars(select(User).order_by(col(User.email)))
        ]

    for user, codes in _in_session(action):
        state = "active" if user.active else "deactivated"
        typer.echo(f"{user.email}\t{user.name}\t{user.role}\t{','.join(codes) or '-'}\t{state}")


@user_cli.command("set-role")
def user_set_role(
    email: Annotated[str, typer.Argument(callback=_text)],
    role: Annotated[
        str, typer.Argument(help="viewer, editor, coordinator or admin", callback=_text)
    ],
    organisation: Annotated[
        list[str] | None,
        typer.Option(
            help="Organisation code; repeat for more (replaces the current ones)", callback=_text
        ),
    ] = None,
) -> None:
    """Change an account's role (and organisations)."""

    def action(session: Session) -> None:
        user = accounts.get_user_by_email(session, email)
        before = user.role
        accounts.set_role(session, user, role=_role(role), organisation_codes=organisation)
        _audit(session, AuditAction.user_set_role, user, f"{user.email}: {before} → {user.role}")

    _in_session(action)
    typer.echo(f"{email} is now {role}.")


@user_cli.command("deactivate")
def user_deactivate(email: Annotated[str, typer.Argument(callback=_text)]) -> None:
    """Deactivate an account: it can no longer sign in; its sessions and tokens end."""

    def action(session: Session) -> None:
        user = accounts.get_user_by_email(session, email)
        accounts.deactivate(session, user)
        _audit(session, AuditAction.user_deactivate, user, user.email)

    _in_session(action)
    typer.echo(f"{email} is deactivated.")


@user_cli.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(callback=_text)],
    password: Annotated[
        str | None, typer.Option(help="New password (asked for when left out)", callback=_text)
    ] = None,
) -> None:
    """Set a new password; the account is signed out everywhere."""

    secret = _ask_password(password)

    def action(session: Session) -> None:
        user = accounts.get_user_by_email(session, email)
        accounts.set_password(session, user, secret)
        _audit(session, AuditAction.user_reset_password, user, user.email)

    _in_session(action)
    typer.echo(f"Password of {email} changed.")


@cli.command("dev-account")
def dev_account() -> None:
    """Development only: create (or reset) a local administrator and print how to sign in."""

    settings = get_settings()
    if settings.environment == Environment.production:
        typer.echo("voortgang: dev-account is not available in production.", err=True)
        raise typer.Exit(code=1)
    password = secrets.token_urlsafe(12)

    def action(session: Session) -> None:

        user = session.scalar(select(User).where(col(User.email) == DEV_ACCOUNT_EMAIL))
        if user is None:
            user = accounts.create_user(
                session,
                email=DEV_ACCOUNT_EMAIL,
                name="Beheerder (ontwikkeling)",
                role=Role.admin,
                password=password,
            )
        else:
            accounts.set_password(session, user, password)
            user.active = True

    _in_session(action)
    typer.echo(
        f"\n  Sign in at {settings.public_url}/sign-in"
        f"\n  e-mail:   {DEV_ACCOUNT_EMAIL}\n  password: {password}\n"
    )


@token_cli.command("create")
def token_create(
    email: Annotated[str, typer.Argument(callback=_text)],
    name: Annotated[str, typer.Option(help="What the token is for", callback=_text)],
) -> None:
    """Create an API token for an account and print it (it is shown only once)."""

    def action(session: Session) -> str:
        user = accounts.get_user_by_email(session, email)
        token, secret = accounts.create_api_token(session, user, name=name)
        _audit(session, AuditAction.token_create, user, f"{user.email}: {token.name}")
        return secret

    typer.echo(_in_session(action))


@token_cli.command("list")
def token_list(email: Annotated[str, typer.Argument(callback=_text)]) -> None:
    """List an account's tokens (id, name, prefix, state)."""

    def action(session: Session) -> list[ApiToken]:
        user = accounts.get_user_by_email(session, email)
        return accounts.list_api_tokens(session, id_of(user))

    for token in _in_session(action):
        state = "revoked" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.name}\t{token.prefix}…\t{state}")


@token_cli.command("revoke")
def token_revoke(email: Annotated[str, typer.Argument(callback=_text)], token_id: int) -> None:
    """Revoke one of an account's tokens."""

    def action(session: Session) -> None:
        user = accounts.get_user_by_email(session, email)
        token = accounts.revoke_api_token(session, user, token_id)
        _audit(session, AuditAction.token_revoke, user, f"{user.email}: {token.name}")

    _in_session(action)
    typer.echo(f"Token {token_id} revoked.")


# Paragraphs as single lines: the help formatter keeps line breaks as they are written.
REMIND_HELP = (
    "Remind editors of the activities that still wait for them in the update round.\n\n"
    "Every active editor of an organisation with open activities (not yet updated, or sent "
    "back by the reviewer; in review only the latter) gets one message listing them, with "
    "links and the deadline. One line per recipient says whether it was sent and, if not, why; "
    "organisations with open activities and no active editor are listed too. Exits 1 when a "
    "message could not be sent, or when nobody could be reminded of open activities.\n\n"
    "Where messages go is set by MAIL_BACKEND: console (the default in development) prints "
    "them; folder writes each as an .eml file into MAIL_FOLDER; smtp (the default in "
    "production) sends them through SMTP_HOST and SMTP_PORT, with STARTTLS unless "
    "SMTP_STARTTLS=false, signing in when SMTP_USERNAME (and SMTP_PASSWORD) are set. "
    "MAIL_FROM is the sender; links in the messages start with PUBLIC_URL (unset: the HOST "
    "and PORT the app is served on)."
)


@cli.command(help=REMIND_HELP)
def remind(
    programme: Annotated[
        str | None,
        typer.Option(help="Programme slug (default: the only programme)", callback=_text),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="Period id or name (default: the period open for updates or in review)",
            callback=_text,
        ),
    ] = None,
) -> None:
    """Mail every editor the activities that still wait for them (see REMIND_HELP)."""

    settings = get_settings()

    def action(session: Session) -> ReminderReport:
        programme_row = _choose_programme(session, programme)
        period_row = _choose_round(session, programme_row, period)
        return send_reminders(
            session,
            settings=settings,
            programme_id=programme_row.id,
            period=period_row,
            actor=None,
            address="cli",
        )

    report = _in_session(action)
    typer.echo(
        f"{report.period.name}: {report.open_activities} open activities, "
        f"mail backend {settings.effective_mail_backend}."
    )
    for reminder in report.reminders:
        where = f"{reminder.email} ({', '.join(reminder.organisations)}, "
        where += f"{reminder.activities} open)"
        typer.echo(
            f"sent      {where}" if reminder.sent else f"FAILED    {where}: {reminder.error}"
        )
    for organisation in report.without_editors:
        typer.echo(
            f"nobody    {organisation.code} ({organisation.name}, {organisation.activities} "
            "open): no active editor to remind"
        )
    typer.echo(f"{len(report.sent)} sent, {len(report.failed)} failed.")
    if report.failed:
        typer.echo(f"voortgang: {len(report.failed)} reminders could not be sent.", err=True)
        raise typer.Exit(code=1)
    if not report.complete:
        typer.echo("voortgang: open activities, but no active editor to remind.", err=True)
        raise typer.Exit(code=1)


SEND_DUE_HELP = (
    "Send the planned reminders whose day has come, for every programme.\n\n"
    "Coordinators plan reminders on a period's page, in days before its deadline. Run this "
    "command regularly, for example every hour from cron (`0 * * * * voortgang reminders "
    "send-due`): each planned reminder goes out once, on its day or at the first check after "
    "it (only the latest that is due, so editors get one message), while the period is open "
    "for updates or in review and its deadline has not passed. Several servers may run it at "
    "the same time: a reminder one of them claimed is skipped by the others. Each sending is a "
    "job, shown with its outcome on the period's page. Mail settings as for `voortgang "
    "remind`. Exits 1 when a reminder could not be sent."
)


@reminders_cli.command("send-due", help=SEND_DUE_HELP)
def reminders_send_due(
    on: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Check as on this day, YYYY-MM-DD (default: today in the Netherlands)",
            callback=_text,
        ),
    ] = None,
) -> None:
    """Send the planned reminders that are due (see SEND_DUE_HELP)."""
    settings = get_settings()
    try:
        today = date.fromisoformat(on) if on else programme_today()
    except ValueError:
        typer.echo(f"voortgang: --date {on!r} is not a date (use YYYY-MM-DD).", err=True)
        raise typer.Exit(code=1) from None
    engine = engine_for(settings)
    try:
        outcomes = reminders.send_due(engine, settings=settings, today=today)
    finally:
        engine.dispose()
    if not outcomes:
        typer.echo(f"{today}: no planned reminder is due.")
        return
    failed = 0
    for outcome in outcomes:
        planned = f"{outcome.period}, due {outcome.due_on} ({outcome.days_before} days before)"
        if outcome.state == JobState.done and not outcome.failed:
            typer.echo(f"sent      {planned}: {outcome.sent} messages (job {outcome.job_id})")
        else:
            failed += 1
            reason = outcome.message or f"{outcome.failed} messages not sent"
            typer.echo(f"FAILED    {planned}: {reason} (job {outcome.job_id})")
    if failed:
        typer.echo(f"voortgang: {failed} planned reminders did not all go out.", err=True)
        raise typer.Exit(code=1)


@reminders_cli.command("show")
def reminders_show(
    programme: Annotated[
        str | None,
        typer.Option(help="Programme slug (default: the only programme)", callback=_text),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="Period id or name (default: the period open for updates or in review)",
            callback=_text,
        ),
    ] = None,
) -> None:
    """Show a period's planned reminders and when its reminders last went out."""

    def action(session: Session) -> tuple[PeriodRow, reminders.ReminderOverview]:
        period_row = _choose_round(session, _choose_programme(session, programme), period)
        return period_row, reminders.overview(
            session, period_id=period_row.id, today=programme_today()
        )

    period_row, overview = _in_session(action)
    deadline = overview.deadline.isoformat() if overview.deadline else "none"
    typer.echo(f"{period_row.name}: deadline {deadline}.")
    for planned in overview.planned:
        due = planned.due_on.isoformat() if planned.due_on else "-"
        typer.echo(f"planned   {planned.days_before} days before: {due}, {planned.state}")
    if not overview.planned:
        typer.echo("No reminders are planned.")
    for sent in overview.recent:
        run = sent.run
        when = (run.finished_at or run.created_at).strftime("%Y-%m-%d %H:%M")
        how = f"planned for {run.due_on}" if run.due_on else f"by hand ({run.actor})"
        outcome = f"{run.sent} sent, {run.failed} failed" if run.finished_at else "not finished"
        typer.echo(f"sent      {when} UTC, {how}: {outcome}")


def _choose_programme(session: Session, slug: str | None) -> ProgrammeRow:

    if slug:
        return readmodel.get_programme(session, slug)
    programmes = readmodel.list_programmes(session)
    if len(programmes) == 1:
        return programmes[0]
    if not programmes:
        typer.echo("voortgang: no programme loaded yet; run `voortgang seed`.", err=True)
    else:
        slugs = ", ".join(programme.slug for programme in programmes)
        typer.echo(f"voortgang: several programmes; choose one with --programme: {slugs}", err=True)
    raise typer.Exit(code=1)


def _choose_round(session: Session, programme: ProgrammeRow, wanted: str | None) -> PeriodRow:
    """The named (or numbered) period, or else the one open for updates, or else in review."""

    periods = readmodel.list_periods(session, programme.id)
    if wanted:
        for period in periods:
            if period.name == wanted or str(period.id) == wanted:
                return period
        names = ", ".join(f"{period.id} ({period.name})" for period in periods) or "none"
        typer.echo(
            f"voortgang: no period {wanted!r} in {programme.slug}; there are: {names}", err=True
        )
        raise typer.Exit(code=1)
    for state in (PeriodState.open, PeriodState.in_review):
        for period in periods:
            if period.state == state:
                return period
    typer.echo(
        f"voortgang: no period of {programme.slug} is open for updates or in review; "
        "give one with --period.",
        err=True,
    )
    raise typer.Exit(code=1)


@cli.command("export")
def export_command(
    period: Annotated[str, typer.Option(help="Period id or name", callback=_text)],
    format: Annotated[
        str, typer.Option(help="docx, odt, pdf, xlsx, ods, csv or json", callback=_text)
    ],
    output: Annotated[
        Path, typer.Option(help="File to write (replaced if it exists)", callback=_text)
    ],
    programme: Annotated[
        str | None,
        typer.Option(help="Programme slug (default: the only programme)", callback=_text),
    ] = None,
    action_line: Annotated[int | None, typer.Option(help="Only this action line")] = None,
    organisation: Annotated[
        str | None,
        typer.Option(
            help="Only activities this organisation (code) leads or is in", callback=_text
        ),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(help="Only this status (code); repeat for more", callback=_text),
    ] = None,
    language: Annotated[
        str, typer.Option(help="Language of the document: nl or en", callback=_text)
    ] = "nl",
    organisations: Annotated[
        bool,
        typer.Option(
            help="DOCX, ODT, PDF: print the organisations (names) under each activity; "
            "off: the annex as sent to Parliament. Spreadsheets, CSV and JSON always have them."
        ),
    ] = False,
) -> None:
    """Export a period's progress table to a file.

    A published period is exported as it was published; its export is made once and stored,
    so a second export of it is read from storage. Any other period is exported as it stands,
    marked as a draft. Exits 1 on an unknown period, format, status or language.
    """

    def action(session: Session) -> tuple[str, str, bytes]:
        fmt = exports.get_format(format)
        filters = exports.parse_filters(
            action_line=action_line, organisation=organisation, statuses=status
        )
        record = session.get(ReportingPeriod, int(period)) if period.isdigit() else None
        if record is not None and programme is None:
            period_id = id_of(record)
        else:
            period_id = _choose_round(session, _choose_programme(session, programme), period).id
        return exports.export(
            session,
            period_id=period_id,
            fmt=fmt.key,
            filters=filters,
            language=language,
            organisations=organisations,
        )

    name, _, content = _in_session(action)
    try:
        output.write_bytes(content)
    except OSError as error:
        typer.echo(f"voortgang: {output} cannot be written: {error.strerror}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"{output}: {name}, {len(content):,} bytes.")


@cli.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="XLSX, ODS or CSV in the layout of an export", callback=_text)
    ],
    period: Annotated[str, typer.Option(help="Period id or name", callback=_text)],
    as_email: Annotated[
        str,
        typer.Option(
            "--as", help="E-mail address of the account the changes are made by", callback=_text
        ),
    ],
    programme: Annotated[
        str | None,
        typer.Option(help="Programme slug (default: the only programme)", callback=_text),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Apply the changes (all or none); without it: preview")
    ] = False,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm/--no-confirm",
            help="Rows sent back unchanged for activities still as carried over confirm them "
            "unchanged (--no-confirm: apply the changes only)",
        ),
    ] = True,
) -> None:
    """Bulk update from a spreadsheet: print what each row does, and with --apply apply them.

    An export is the template: only the status and explanation columns change anything, and
    a row that changes nothing is left alone, except that a row sent back unchanged for an
    activity still as carried over into the period confirms it unchanged (not with
    --no-confirm). The same rules as editing in the web app apply,
    checked as the account given with --as (its rights, its organisations). With --apply every
    change is applied or none: when any row is refused nothing changes. Each change is
    recorded as imported, by that account, and audited with the address "cli". Exits 1 when a
    row is refused or the file cannot be read.
    """

    try:
        content = file.read_bytes()
    except OSError as error:
        typer.echo(f"voortgang: {file} cannot be read: {error.strerror}", err=True)
        raise typer.Exit(code=1) from None
    try:
        sheet = read_sheet(content, file.name)
    except ImportFileError as error:
        typer.echo(f"voortgang: {error.message}", err=True)
        raise typer.Exit(code=1) from None

    def action(session: Session) -> ApplyResult:
        account = get_user_by_email(session, as_email)
        user = as_current_user(session, account)
        if not account.active or not user.at_least(Role.editor):
            typer.echo(f"voortgang: {as_email} may not change activities.", err=True)
            raise typer.Exit(code=1)
        period_row = _choose_round(session, _choose_programme(session, programme), period)
        arguments: dict[str, Any] = {"period_id": period_row.id, "rows": sheet.rows, "user": user}
        if apply:
            return imports.apply(
                session,
                **arguments,
                columns=sheet.columns,
                address="cli",
                filename=file.name,
                confirm=confirm,
            )
        checked = imports.preview(session, **arguments, columns=sheet.columns)
        if not confirm:
            imports.leave_unconfirmed(checked)
        return imports.ApplyResult(checked, applied=[])

    outcome = _in_session(action)
    checked = outcome.preview
    for line in checked.lines:
        where = f"row {line.row:<6} {line.activity_id or '-':<6} {line.activity[:60]}"
        if line.outcome == imports.CHANGE:
            what = []
            if line.status_changed:
                what.append(f"{status_label(line.status_from)} → {status_label(line.status_to)}")
            if line.explanation_changed:
                what.append("explanation changed")
            typer.echo(f"{where}\n    change: {'; '.join(what)}")
        elif line.outcome == imports.CONFIRM:
            typer.echo(f"{where}\n    confirmed unchanged")
        elif line.outcome == imports.REFUSED:
            for problem in line.problems:
                column = f"{problem.column}: " if problem.column else ""
                typer.echo(f"{where}\n    REFUSED: {column}{problem.message}")
        else:
            typer.echo(f"{where}\n    unchanged{': ' + line.note if line.note else ''}")
    typer.echo(f"{checked.period}: {checked.summary()}")
    if checked.refused:
        refused = len(checked.refused)
        typer.echo(f"voortgang: {refused} rows refused; nothing was changed.", err=True)
        raise typer.Exit(code=1)
    if apply:
        typer.echo(f"Changes applied: {len(checked.changes) if outcome.applied else 0}.")
        if checked.confirmations and outcome.applied:
            typer.echo(f"Confirmed unchanged: {len(checked.confirmations)}.")
    elif checked.applicable:
        typer.echo("Preview only: run again with --apply to apply these changes.")


def main() -> None:
    cli(prog_name="voortgang")


if __name__ == "__main__":
    main()
