"""Settings, read from the environment (and an optional `.env` file)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "development-only-secret-change-me"


class Environment(StrEnum):
    development = "development"
    production = "production"


class MailBackend(StrEnum):
    """Where outgoing mail goes: printed, written as .eml files, or sent over SMTP."""

    console = "console"
    folder = "folder"
    smtp = "smtp"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'voortgang.db'}"
    # Database connections each process keeps (PostgreSQL, and SQLite's pool): at most this
    # many requests use the database at once, the others wait for their turn.
    database_pool_size: int = Field(default=10, ge=1)
    # Seconds a request waits for its turn, a connection or SQLite's write lock before it is
    # answered with 503 and Retry-After.
    database_timeout: float = Field(default=10, gt=0)
    secret_key: str = DEFAULT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    # Rows per page on the activity list; the real programme fits on one page.
    page_size: int = 250
    # Echo SQL statements (debugging).
    sql_echo: bool = False
    # FastAPI's own OpenTelemetry spans, metrics and logs of each request, for a deployment
    # that configures an OpenTelemetry provider. Off, no request looks for one (that look is
    # about a tenth of a 304's work).
    opentelemetry: bool = False
    # How long a sign-in lasts.
    session_hours: int = 12
    # How long a link to choose a password works: one asked for on "Forgot your password?",
    # and the invitation an admin's new account sends.
    password_reset_minutes: int = 60
    invitation_days: int = 7
    # Entries in the per-process cache of pages and counts (keyed by the data revision);
    # 0 turns it off.
    cache_size: int = 256
    # Outgoing mail (reminders, links to choose a password). None: smtp in production,
    # console in development.
    mail_backend: MailBackend | None = None
    # The folder backend writes each message here as an .eml file.
    mail_folder: Path = PROJECT_ROOT / "data" / "mail"
    smtp_host: str = ""
    smtp_port: int = 587
    # Sign in to the SMTP server when a user name is set.
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # Upgrade the connection with STARTTLS before signing in and sending.
    smtp_starttls: bool = True
    # Seconds to wait for the SMTP server before a message counts as failed.
    smtp_timeout: float = 10
    mail_from: str = "voortgang@localhost"
    # Where users reach the app; links in messages start with it. Unset: the address
    # `voortgang serve` listens on (HOST and PORT); production needs it set.
    public_url: str = ""
    _public_url_given: bool = PrivateAttr(default=False)
    # Jobs (exports, imports, public documents, planned reminders; app/jobs/). True: web
    # processes run the jobs they submit after the response, as `voortgang worker` would, and
    # take up abandoned ones; false where a `voortgang worker` runs them.
    jobs_in_web: bool = True
    # A running job that has not reported for this long was interrupted (its process
    # stopped) and is taken up again; web processes also take up a queued job this old.
    job_stale_seconds: float = Field(default=120, gt=0)
    # Claims of one job, its first run included, before an interrupted job is marked failed.
    job_max_attempts: int = Field(default=3, ge=1)
    # How long `voortgang worker` waits before it looks again when there was nothing to do.
    job_poll_seconds: float = Field(default=2, gt=0)
    # Jobs a web process runs at once after its responses (more wait, queued, for a run to
    # end). None: half of app.db's BACKGROUND_CONNECTIONS (each job holds two).
    job_concurrency: int | None = Field(default=None, ge=1)
    # Tests only: a job whose work is done (written, not committed) waits while this file
    # exists, so that a test can stop its process in the middle of the job.
    job_hold_file: Path | None = None
    # The proxies whose X-Forwarded-For and X-Forwarded-Proto `voortgang serve` believes:
    # comma-separated addresses or networks ("127.0.0.1", "10.0.0.0/8"), or "*" for any.
    # Empty: none, the address a request comes from is the client's.
    forwarded_allow_ips: str = ""

    @property
    def trusted_proxies(self) -> list[str]:
        """FORWARDED_ALLOW_IPS as a list for uvicorn (empty: no forwarded header is believed)."""
        items = [item.strip() for item in self.forwarded_allow_ips.split(",") if item.strip()]
        # uvicorn trusts everyone only for a "*" on its own; in a list it is a host name.
        return ["*"] if "*" in items else items

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_forwarded_allow_ips(cls, value: str) -> str:
        # uvicorn takes what it cannot parse for a host name, without a word: a typo would
        # leave the proxy untrusted, and every client counted as the proxy's address.
        for item in value.split(","):
            if item.strip() not in ("", "*"):
                try:
                    ipaddress.ip_network(item.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"FORWARDED_ALLOW_IPS: {item.strip()!r} is not an IP address or network "
                        "(for example 127.0.0.1 or 10.0.0.0/8)"
                    ) from None
        return value

    @property
    def effective_mail_backend(self) -> MailBackend:
        if self.mail_backend is not None:
            return self.mail_backend
        if self.environment == Environment.production:
            return MailBackend.smtp
        return MailBackend.console

    @property
    def secure_cookies(self) -> bool:
        """Production runs behind HTTPS: cookies are only sent over it, and browsers are told
        to reach the app over nothing else (Strict-Transport-Security)."""
        return self.environment == Environment.production

    def check_production_ready(self) -> None:
        if self.environment != Environment.production:
            return
        if not self.secret_key or self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production, for example the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if not self._public_url_given:
            raise RuntimeError(
                "PUBLIC_URL must be set in production to the address users reach the app on, "
                "for example https://voortgang.example.nl: links in messages start with it, "
                "and behind a proxy with HTTPS it is not the address the server listens on."
            )
        if self.effective_mail_backend == MailBackend.smtp and not self.smtp_host:
            raise RuntimeError(
                "SMTP_HOST must be set in production: reminders are sent over SMTP "
                "(MAIL_BACKEND is smtp by default in production). Set SMTP_HOST, and SMTP_PORT, "
                "SMTP_USERNAME and SMTP_PASSWORD as your mail server needs, or set "
                "MAIL_BACKEND=folder to write the messages to MAIL_FOLDER instead."
            )

    @model_validator(mode="after")
    def _normalise_database_url(self) -> Settings:
        # Accept the libpq-style URL that PostgreSQL tooling hands out and use psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if self.database_url.startswith(prefix):
                self.database_url = "postgresql+psycopg://" + self.database_url[len(prefix) :]
        return self

    @model_validator(mode="after")
    def _derive_public_url(self) -> Settings:
        # Unset: where `voortgang serve` listens, so that links in messages reach this app
        # (PORT=18100 links to port 18100). A wildcard address is reached on this machine.
        self._public_url_given = bool(self.public_url.strip())
        if self._public_url_given:
            self.public_url = self.public_url.strip().rstrip("/")
        else:
            host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
            host = "[::1]" if host == "::" else f"[{host}]" if ":" in host else host
            self.public_url = f"http://{host}:{self.port}"
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    return Settings()
