"""Administration: user accounts as an admin creates and changes them (each change in the audit
log), and what the admin pages list."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts import password_mail
from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.config import Settings
from app.errors import InvalidInput, NotFound
from app.i18n import gettext
from app.ids import id_of
from app.programmes.models import Organisation


def users_with_organisations(session: Session) -> list[tuple[User, list[str]]]:
    """Every account, by name, with the codes of its organisations."""
    users = session.scalars(select(User).order_by(col(User.name)))
    return [(user, accounts.user_organisation_codes(session, id_of(user))) for user in users]


def organisation_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every organisation, by name: the options of an organisation field."""
    rows = session.execute(
        select(col(Organisation.code), col(Organisation.name)).order_by(col(Organisation.name))
    )
    return [(code, name) for code, name in rows]


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(col(Organisation.name))))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(gettext("No such user"))
    return user


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(gettext("Unknown role %(role)s") % {"role": repr(value)}) from None


def create_user(
    session: Session,
    *,
    settings: Settings,
    admin: CurrentUser,
    email: str,
    name: str,
    role: str,
    organisation_codes: list[str],
    address: str,
) -> tuple[User, str]:
    """A new account without a password, and an invitation to its person to choose one.
    Returns the account and "" when the invitation went out, else why not (the account is
    created all the same; the invitation can be sent again)."""
    user = accounts.create_user(
        session,
        email=email,
        name=name,
        role=parse_role(role),
        password=None,
        organisation_codes=organisation_codes,
    )
    audit.record(
        session,
        actor=admin,
        action=AuditAction.user_create,
        object_type="user",
        object_id=user.id,
        summary=f"{user.email} ({user.role})",
        details={"email": user.email, "role": user.role, "organisations": organisation_codes},
        address=address,
    )
    error = password_mail.send_invitation(
        session, settings=settings, user=user, inviter=admin, address=address
    )
    return user, error


def invite_again(
    session: Session, *, settings: Settings, admin: CurrentUser, user_id: int, address: str
) -> tuple[User, str]:
    """A new invitation for an account whose person has not chosen a password yet (the
    first was lost, could not be sent or has expired); returns it with "" or why not."""
    user = get_user(session, user_id)
    error = password_mail.send_invitation(
        session, settings=settings, user=user, inviter=admin, address=address
    )
    return user, error


def change_role(
    session: Session,
    *,
    admin: CurrentUser,
    user_id: int,
    role: str,
    organisation_codes: list[str],
    address: str,
) -> User:
    user = get_user(session, user_id)
    before = {
        "role": user.role,
        "organisations": accounts.user_organisation_codes(session, user_id),
    }
    accounts.set_role(session, user, role=parse_role(role), organisation_codes=organisation_codes)
    after = {
        "role": user.role,
        "organisations": accounts.user_organisation_codes(session, user_id),
    }
    audit.record(
        session,
        actor=admin,
        action=AuditAction.user_set_role,
        object_type="user",
        object_id=user.id,
        summary=f"{user.email}: {before['role']} → {after['role']}",
        details={"from": before, "to": after},
        address=address,
    )
    return user


def deactivate_user(session: Session, *, admin: CurrentUser, user_id: int, address: str) -> User:
    user = get_user(session, user_id)
    if user.id == admin.id:
        raise InvalidInput(gettext("You cannot deactivate your own account."))
    accounts.deactivate(session, user)
    audit.record(
        session,
        actor=admin,
        action=AuditAction.user_deactivate,
        object_type="user",
        object_id=user.id,
        summary=user.email,
        address=address,
    )
    return user
