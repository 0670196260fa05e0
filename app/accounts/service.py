"""Accounts: users, passwords (Argon2id), sign-in with throttling, sessions, API tokens.

Everything lives in the database, so any number of app processes can serve one database.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from app.accounts.models import ApiToken, LoginAttempt, Role, User, UserOrganisation, UserSession
from app.clock import utc_now
from app.errors import DomainError, InvalidInput, NotFound
from app.i18n import gettext
from app.ids import id_of
from app.programmes.models import Organisation

# Argon2id with the library's current recommended parameters.
password_hasher = PasswordHasher()
# Verified against when the account does not exist, so both cases take as long.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)


class SignInFailed(DomainError):
    status_code = 400


class SignInThrottled(DomainError):
    status_code = 429


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as the request sees it."""

    id: int
    email: str
    name: str
    role: Role
    organisation_ids: frozenset[int]

    def at_least(self, role: Role) -> bool:
        return self.role.at_least(role)

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            gettext("A password needs at least %(count)d characters")
            % {"count": MIN_PASSWORD_LENGTH}
        )


def _organisations_by_code(session: Session, codes: list[str]) -> list[Organisation]:
    found = {
        o.code: o
        for o in session.scalars(select(Organisation).where(col(Organisation.code).in_(codes)))
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise InvalidInput(
            gettext("Unknown organisation: %(codes)s") % {"codes": ", ".join(unknown)}
        )
    return [found[code] for code in codes]


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(col(User.email) == _normalise_email(email)))
    if user is None:
        raise NotFound(gettext("No account with e-mail address %(email)s") % {"email": email})
    return user


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    organisation_codes: list[str] | None = None,
) -> User:
    email = _normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput(gettext("%(email)s is not an e-mail address") % {"email": email})
    if not name.strip():
        raise InvalidInput(gettext("A name is required"))
    if session.scalar(select(func.count()).select_from(User).where(col(User.email) == email)):
        raise InvalidInput(gettext("An account with this e-mail address already exists"))
    _check_password(password)
    organisations = _organisations_by_code(session, organisation_codes or [])
    if role == Role.editor and not organisations:
        raise InvalidInput(gettext("An editor needs at least one organisation"))
    user = User(
        email=email, name=name.strip(), role=role, password_hash=password_hasher.hash(password)
    )
    session.add(user)
    session.flush()
    for organisation in organisations:
        session.add(UserOrganisation(user_id=id_of(user), organisation_id=id_of(organisation)))
    session.flush()
    return user


def set_role(
    session: Session, user: User, *, role: Role, organisation_codes: list[str] | None = None
) -> None:
    if organisation_codes is not None:
        organisations = _organisations_by_code(session, organisation_codes)
        session.execute(delete(UserOrganisation).where(col(UserOrganisation.user_id) == user.id))
        for organisation in organisations:
            session.add(UserOrganisation(user_id=id_of(user), organisation_id=id_of(organisation)))
    session.flush()
    if role == Role.editor and not user_organisation_ids(session, id_of(user)):
        raise InvalidInput(gettext("An editor needs at least one organisation"))
    user.role = role
    session.flush()


def user_organisation_ids(session: Session, user_id: int) -> frozenset[int]:
    return frozenset(
        session.scalars(
            select(col(UserOrganisation.organisation_id)).where(
                col(UserOrganisation.user_id) == user_id
            )
        )
    )


def user_organisation_codes(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(
            select(col(Organisation.code))
            .join(UserOrganisation, col(UserOrganisation.organisation_id) == Organisation.id)
            .where(col(UserOrganisation.user_id) == user_id)
            .order_by(col(Organisation.code))
        )
    )


def deactivate(session: Session, user: User) -> None:
    """Sign the user out everywhere and revoke their tokens; history keeps their name."""
    user.active = False
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    for token in session.scalars(
        select(ApiToken).where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
    ):
        token.revoked_at = utc_now()
    session.flush()


def reset_password(session: Session, user: User, password: str) -> None:
    _check_password(password)
    user.password_hash = password_hasher.hash(password)
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    session.flush()


def _recent_failures(session: Session, key: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                col(LoginAttempt.key) == key, col(LoginAttempt.attempted_at) > now - THROTTLE_WINDOW
            )
        )
        or 0
    )


def authenticate(session: Session, *, email: str, password: str, address: str) -> User:
    """The user for these credentials, or SignInFailed / SignInThrottled. The messages never
    tell whether the account exists. Failures are recorded (the caller commits them)."""
    now = utc_now()
    account_key = f"account:{_normalise_email(email)}"
    address_key = f"address:{address}"
    if (
        _recent_failures(session, account_key, now) >= FAILURES_PER_ACCOUNT
        or _recent_failures(session, address_key, now) >= FAILURES_PER_ADDRESS
    ):
        raise SignInThrottled(
            gettext("Too many failed sign-in attempts. Wait a few minutes and try again.")
        )
    user = session.scalar(select(User).where(col(User.email) == _normalise_email(email)))
    try:
        password_hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        valid = user is not None and user.active
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid or user is None:
        session.add(LoginAttempt(key=account_key, attempted_at=now))
        session.add(LoginAttempt(key=address_key, attempted_at=now))
        session.flush()
        raise SignInFailed(gettext("The e-mail address or password is not correct."))
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.key) == account_key))
    return user


def start_session(
    session: Session, user: User, *, lifetime: timedelta, replaces: str | None = None
) -> str:
    """A new session (a new id at every sign-in); returns the token for the cookie."""
    if replaces:
        end_session(session, replaces)
    token = secrets.token_urlsafe(32)
    now = utc_now()
    session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=id_of(user),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    # Housekeeping: expired sessions of anyone.
    session.execute(delete(UserSession).where(col(UserSession.expires_at) < now))
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(col(UserSession.token_hash) == hash_token(token)))
    session.flush()


def _current_user(session: Session, user: User) -> CurrentUser:
    return CurrentUser(
        id=id_of(user),
        email=user.email,
        name=user.name,
        role=Role(user.role),
        organisation_ids=user_organisation_ids(session, id_of(user)),
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def session_user(session: Session, token: str) -> tuple[CurrentUser, datetime] | None:
    """The active user a session token belongs to, with the session's expiry."""
    row = session.execute(
        select(User, col(UserSession.expires_at))
        .join(UserSession, col(UserSession.user_id) == User.id)
        .where(col(UserSession.token_hash) == hash_token(token))
    ).first()
    if row is None or not row[0].active:
        return None
    user, expires_at = row
    return _current_user(session, user), _aware(expires_at)


def create_api_token(
    session: Session, user: User | CurrentUser, *, name: str
) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(gettext("A token needs a name of at most 100 characters"))
    secret = "vg_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=id_of(user), name=name, token_hash=hash_token(secret), prefix=secret[:10]
    )
    session.add(token)
    session.flush()
    return token, secret


def revoke_api_token(session: Session, user: CurrentUser | User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(gettext("No such token"))
    if token.revoked_at is None:
        token.revoked_at = utc_now()
    session.flush()
    return token


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(col(ApiToken.user_id) == user_id)
            .order_by(col(ApiToken.created_at))
        )
    )


def user_for_api_token(session: Session, secret: str) -> CurrentUser | None:
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, col(ApiToken.user_id) == User.id)
        .where(col(ApiToken.token_hash) == hash_token(secret))
    ).first()
    if row is None:
        return None
    user, token = row
    if token.revoked_at is not None or not user.active:
        return None
    token.last_used_at = utc_now()
    return _current_user(session, user)


def as_current_user(session: Session, user: User) -> CurrentUser:
    """An account as a request would see it (for the command line and tests)."""
    return _current_user(session, user)
