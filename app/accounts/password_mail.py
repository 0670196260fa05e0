"""The e-mails that let a person choose a password: the reset link asked for on "Forgot your
password?", and the invitation an admin's new account sends. Both are sent through app/mail.py
(printed, written to a folder or sent over SMTP, as the settings say)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import mail
from app.accounts import service as accounts
from app.accounts.models import TokenPurpose, User
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.config import Settings
from app.db import transaction
from app.errors import InvalidInput
from app.i18n import DEFAULT_LANGUAGE, gettext, translations_for

log = logging.getLogger(__name__)

# The path of the page a link opens (app/accounts/routes.py: set_password_form).
SET_PASSWORD_PATH = "/password/set"


def password_link(settings: Settings, secret: str) -> str:
    return f"{settings.public_url.rstrip('/')}{SET_PASSWORD_PATH}?token={secret}"


def reset_text(settings: Settings, *, user: User, secret: str, language: str) -> tuple[str, str]:
    """The subject and plain-text body of a reset link, in the language it was asked in."""
    text = translations_for(language)
    minutes = settings.password_reset_minutes
    lines = [
        text.gettext("Dear %(name)s,") % {"name": user.name},
        "",
        text.gettext(
            "Someone, hopefully you, asked for a new password for the Voortgang account "
            "%(email)s. Choose one with this link:"
        )
        % {"email": user.email},
        "",
        password_link(settings, secret),
        "",
        text.ngettext(
            "The link works once, for %(count)d minute.",
            "The link works once, for %(count)d minutes.",
            minutes,
        )
        % {"count": minutes},
        text.gettext(
            "If you did not ask for this, ignore this message: your password stays as it is."
        ),
    ]
    subject = text.gettext("A new password for Voortgang")
    return subject, "\n".join(lines) + "\n"


def invitation_text(
    settings: Settings, *, user: User, inviter: str, secret: str
) -> tuple[str, str]:
    """The subject and plain-text body of an invitation. The new user's language is not known
    yet: it is written in the app's default language (Dutch), as reminders are."""
    text = translations_for(DEFAULT_LANGUAGE)
    days = settings.invitation_days
    base = settings.public_url.rstrip("/")
    lines = [
        text.gettext("Dear %(name)s,") % {"name": user.name},
        "",
        text.gettext(
            "%(inviter)s has made an account for you in Voortgang, with %(email)s as the "
            "address you sign in with. Choose your password with this link:"
        )
        % {"inviter": inviter, "email": user.email},
        "",
        password_link(settings, secret),
        "",
        text.ngettext(
            "The link works once, for %(count)d day.",
            "The link works once, for %(count)d days.",
            days,
        )
        % {"count": days},
        text.gettext("After that you sign in at %(url)s.") % {"url": f"{base}/sign-in"},
        text.gettext(
            "If the link has expired, ask for a new one with “Forgot your password?” on that page."
        ),
    ]
    subject = text.gettext("Your account for Voortgang")
    return subject, "\n".join(lines) + "\n"


def _send(settings: Settings, user: User, subject: str, body: str) -> str:
    """Send one message; "" when it went out, else why not."""
    try:
        mail.send(
            settings,
            mail.build_message(
                settings, to_address=user.email, to_name=user.name, subject=subject, body=body
            ),
        )
    except mail.MailError as error:
        log.warning("mail to %s could not be sent: %s", user.email, error.reason)
        return error.reason
    return ""


def send_reset_link(
    session: Session, *, settings: Settings, email: str, address: str, language: str
) -> None:
    """Mail a reset link to the active account with this e-mail address; for any other
    address, do nothing. The outcome (sent, or why not) goes into the audit log."""
    user = accounts.find_active_user(session, email)
    if user is None:
        return
    secret = accounts.issue_account_token(
        session,
        user,
        purpose=TokenPurpose.reset,
        lifetime=timedelta(minutes=settings.password_reset_minutes),
    )
    subject, body = reset_text(settings, user=user, secret=secret, language=language)
    error = _send(settings, user, subject, body)
    audit.record(
        session,
        actor=None,
        actor_label=f"{user.name} <{user.email}>",
        action=AuditAction.user_password_reset_requested,
        object_type="user",
        object_id=user.id,
        summary=user.email if not error else f"{user.email}: {error}",
        details={"sent": not error, **({"reason": error} if error else {})},
        address=address,
    )


def send_reset_link_after_response(
    engine: Engine, settings: Settings, *, email: str, address: str, language: str
) -> None:
    """Run after the answer has gone out (a background task), in a transaction of its own:
    the answer is then the same, and as quick, whether the address has an account or not."""
    with transaction(engine) as session:
        send_reset_link(session, settings=settings, email=email, address=address, language=language)


def send_invitation(
    session: Session, *, settings: Settings, user: User, inviter: CurrentUser, address: str
) -> str:
    """Mail the person of a new account a link to choose their password. Returns "" when it
    went out, else why not: the account stays, and the invitation can be sent again."""
    if not user.active:
        raise InvalidInput(
            gettext("%(email)s is deactivated: it gets no invitation.") % {"email": user.email}
        )
    if user.has_password:
        raise InvalidInput(
            gettext(
                "%(email)s has chosen a password already. A forgotten one is reset with "
                "“Forgot your password?” on the sign-in page."
            )
            % {"email": user.email}
        )
    secret = accounts.issue_account_token(
        session,
        user,
        purpose=TokenPurpose.invitation,
        lifetime=timedelta(days=settings.invitation_days),
    )
    subject, body = invitation_text(settings, user=user, inviter=inviter.name, secret=secret)
    error = _send(settings, user, subject, body)
    audit.record(
        session,
        actor=inviter,
        action=AuditAction.user_invite,
        object_type="user",
        object_id=user.id,
        summary=user.email if not error else f"{user.email}: {error}",
        details={"sent": not error, **({"reason": error} if error else {})},
        address=address,
    )
    return error
