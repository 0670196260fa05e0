"""Outgoing mail: build a message, and send it the way the settings say.

`console` prints the message (development), `folder` writes it as an .eml file that any mail
program opens, `smtp` hands it to a mail server. Whatever goes wrong comes back as a MailError
with a reason a person can act on, never as silence.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from app.config import MailBackend, Settings


class MailError(Exception):
    """A message could not be delivered to the backend; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def build_message(
    settings: Settings, *, to_address: str, to_name: str, subject: str, body: str
) -> EmailMessage:
    """A plain-text message from the configured sender. An address that cannot be written in
    a header is a MailError, so it is reported like any other failed send."""
    message = EmailMessage()
    try:
        message["From"] = settings.mail_from
        message["To"] = Address(display_name=to_name, addr_spec=to_address)
    except (ValueError, IndexError) as error:
        raise MailError(f"invalid address {to_address!r}: {error}") from None
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # The sender's domain, not the machine's name: looking that up can stall on a bad resolver.
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "localhost")
    # Quoted-printable keeps every line 7-bit, so no server needs 8BITMIME for Dutch text.
    message.set_content(body, cte="quoted-printable")
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    backend = settings.effective_mail_backend
    if backend == MailBackend.console:
        _print(message)
    elif backend == MailBackend.folder:
        _write(settings, message)
    else:
        _send_smtp(settings, message)


def _print(message: EmailMessage) -> None:
    lines = ["----- mail (console backend: printed, not sent) -----"]
    lines += [f"{name}: {value}" for name, value in message.items()]
    lines += ["", message.get_content().rstrip("\n"), "----- end of mail -----"]
    print("\n".join(lines), flush=True)


def _write(settings: Settings, message: EmailMessage) -> None:
    folder = settings.mail_folder
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / name).open("xb") as handle:
            handle.write(message.as_bytes())
    except OSError as error:
        raise MailError(
            f"cannot write to the mail folder {folder}: {error.strerror or error}"
        ) from None


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    host, port = settings.smtp_host, settings.smtp_port
    if not host:
        raise MailError("SMTP_HOST is not set, so there is no mail server to send to")
    where = f"{host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=settings.smtp_timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise MailError(f"{where} refused the recipient: {_refusals(error.recipients)}") from None
    except smtplib.SMTPSenderRefused as error:
        reply = f"{error.smtp_code} {_text(error.smtp_error)}"
        raise MailError(f"{where} refused the sender {error.sender}: {reply}") from None
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(
            f"{where} refused the sign-in of {settings.smtp_username}: "
            f"{error.smtp_code} {_text(error.smtp_error)}"
        ) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"{where} answered {error.smtp_code} {_text(error.smtp_error)}") from None
    except smtplib.SMTPException as error:
        raise MailError(f"{where}: {error}") from None
    except ssl.SSLError as error:
        raise MailError(f"TLS with {where} failed: {error.reason or error}") from None
    except TimeoutError:
        raise MailError(
            f"{where} did not answer within {settings.smtp_timeout:g} seconds"
        ) from None
    except OSError as error:
        raise MailError(f"cannot connect to {where}: {error.strerror or error}") from None
    if refused:
        raise MailError(f"{where} refused the recipient: {_refusals(refused)}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {_text(reply)})" for address, (code, reply) in recipients.items()
    )
