"""Accounts: users, passwords (Argon2id), sign-in with throttling, sessions, API tokens, and the
links that let a person choose a password (a reset they ask for, or an admin's invitation).

Everything lives in the database, so any number of app processes can serve one database.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.accounts.models import (
    AccountToken,
    ApiToken,
    LoginAttempt,
    Role,
    TokenPurpose,
    User,
    UserOrganisation,
    UserSession,
)
from app.clock import as_utc, utc_now
from app.db import WRITES, write_at_once
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
# Requests for a reset link, per e-mail address (known or not) and per client address.
RESETS_PER_ACCOUNT = 3
RESETS_PER_ADDRESS = 10
# Links that stopped working are kept this long (so a late click hears why), then deleted.
KEEP_SPENT_LINKS = timedelta(days=30)


class SignInFailed(DomainError):
    status_code = 400


class SignInThrottled(DomainError):
    status_code = 429


class WrongPassword(DomainError):
    """The current password, asked for before a new one is set, is not the account's."""

    status_code = 422


class ResetThrottled(DomainError):
    status_code = 429


class InvalidLink(DomainError):
    """A link to choose a password that does not (or no longer) work."""

    status_code = 400


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


def _check_password(password: str, again: str | None = None) -> None:
    """A password long enough (and, when it was typed twice, the same both times)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            gettext("A password needs at least %(count)d characters")
            % {"count": MIN_PASSWORD_LENGTH}
        )
    if again is not None and again != password:
        raise InvalidInput(
            gettext("The two new passwords are not the same. Type the same password twice.")
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


def find_active_user(session: Session, email: str) -> User | None:
    """The active account with this e-mail address, if there is one."""
    return session.scalar(
        select(User).where(col(User.email) == _normalise_email(email), col(User.active).is_(True))
    )


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    organisation_codes: list[str] | None = None,
) -> User:
    """A new account. Without a password (None) nobody can sign in with it until its person
    chooses one through a link (an invitation, see issue_account_token)."""
    email = _normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput(gettext("%(email)s is not an e-mail address") % {"email": email})
    if not name.strip():
        raise InvalidInput(gettext("A name is required"))
    if session.scalar(select(func.count()).select_from(User).where(col(User.email) == email)):
        raise InvalidInput(gettext("An account with this e-mail address already exists"))
    if password is not None:
        _check_password(password)
    organisations = _organisations_by_code(session, organisation_codes or [])
    if role == Role.editor and not organisations:
        raise InvalidInput(gettext("An editor needs at least one organisation"))
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=password_hasher.hash(password) if password is not None else "",
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
    """Sign the user out everywhere, revoke their tokens and spend their links to choose a
    password (reactivating the account does not bring those back); history keeps their name."""
    user.active = False
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))
    _spend_links(session, id_of(user))
    for token in session.scalars(
        select(ApiToken).where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
    ):
        token.revoked_at = utc_now()
    session.flush()


def set_password(
    session: Session,
    user: User,
    password: str,
    *,
    password_again: str | None = None,
    keep_session: str | None = None,
) -> None:
    """A new password. Every session of the account ends, except the one whose token is
    `keep_session` (the browser that set it), and every link still out to choose a password
    is spent: whoever held the old password, or a link, is out."""
    _check_password(password, password_again)
    user.password_hash = password_hasher.hash(password)
    ended = delete(UserSession).where(col(UserSession.user_id) == user.id)
    if keep_session:
        ended = ended.where(col(UserSession.token_hash) != hash_token(keep_session))
    session.execute(ended)
    _spend_links(session, id_of(user))
    session.flush()


def _spend_links(session: Session, user_id: int) -> None:
    session.execute(
        update(AccountToken)
        .where(col(AccountToken.user_id) == user_id, col(AccountToken.used_at).is_(None))
        .values(used_at=utc_now())
    )


def change_password(
    session: Session,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    new_password_again: str,
    keep_session: str | None,
) -> User:
    """A signed-in user's own change: the current password first. A wrong one counts as a
    failed sign-in of the account (and is throttled the same way, see _take_attempt), so a
    browser left signed in cannot be used to guess it. Commits the session (the attempt)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(gettext("No such user"))
    attempt = _take_attempt(session, {f"account:{user.email}": FAILURES_PER_ACCOUNT})
    if attempt is None:
        raise SignInThrottled(
            gettext("Too many wrong passwords. Wait a few minutes and try again.")
        )
    verified_hash = user.password_hash if user.has_password else None
    session.commit()
    valid = _verify_outside_transaction(verified_hash, current_password)
    if not (valid and _unchanged(session, user, verified_hash)):
        raise WrongPassword(gettext("Your current password is not correct."))
    # The right current password is no failure.
    _forget_attempt(session, attempt)
    set_password(
        session,
        user,
        new_password,
        password_again=new_password_again,
        keep_session=keep_session,
    )
    return user


def _verify_outside_transaction(password_hash: str | None, password: str) -> bool:
    """Does the password match the hash (None: a dummy hash, so that every answer takes as
    long)? Called after a commit, before the next query: the slow hash runs while the
    request holds no transaction, so on SQLite no other writer waits for it (a request that
    may write holds the one write lock from its first query to its commit)."""
    try:
        password_hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def _unchanged(session: Session, user: User, verified_hash: str | None) -> bool:
    """Is the account, read again in the transaction that goes on, still active with the
    password that was verified outside it (not deactivated or given a new password
    meanwhile)?"""
    session.refresh(user)
    return user.active and user.has_password and user.password_hash == verified_hash


def _recent_attempts(session: Session, key: str, now: datetime) -> int:
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


def _take_attempt(session: Session, limits: dict[str, int]) -> list[int] | None:
    """Record an attempt under each key and commit it, then count each key's attempts of the
    last THROTTLE_WINDOW, this one included. Within every limit the attempt may go on: the
    ids of its rows are returned, and they stay as a failure unless _forget_attempt takes them
    out. Over a limit its rows are taken out again (a refused attempt does not count), that is
    committed, and None is returned.

    The commit before the count is what makes the throttle hold for attempts in parallel, in
    any number of processes: of the attempts that go on, the k-th to commit counts at least k,
    so no more than the limit go on. (Counting first and recording after the password check
    let 30 parallel guesses all through.) It is why this service commits, and does it first:
    the request's session has only read before it, and the attempt must be committed whatever
    happens to the rest of the request. A refused attempt's rows are taken out and that is
    committed at once too: until then they count against every attempt in parallel (and a
    refused request rolls back).

    (Not a transaction of its own on a second connection: the request holds its connection,
    on SQLite a writing request the write lock too, which that connection would wait for.)"""
    now = utc_now()
    attempts = [LoginAttempt(key=key, attempted_at=now) for key in limits]
    session.add_all(attempts)
    session.flush()
    ids = [id_of(attempt) for attempt in attempts]
    session.commit()
    if all(_recent_attempts(session, key, now) <= limit for key, limit in limits.items()):
        return ids
    _forget_attempt(session, ids)
    session.commit()
    return None


def _forget_attempt(session: Session, ids: list[int]) -> None:
    """Take an attempt's rows out: it was refused, or it was not a failure."""
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.id).in_(ids)))
    session.flush()


def authenticate(session: Session, *, email: str, password: str, address: str) -> User:
    """The user for these credentials, or SignInFailed / SignInThrottled. The messages never
    tell whether the account exists. The attempt is committed before the password is checked
    (see _take_attempt); a failure stays counted, a success clears the account's failures."""
    account_key = f"account:{_normalise_email(email)}"
    attempt = _take_attempt(
        session,
        {account_key: FAILURES_PER_ACCOUNT, f"address:{address}": FAILURES_PER_ADDRESS},
    )
    if attempt is None:
        raise SignInThrottled(
            gettext("Too many failed sign-in attempts. Wait a few minutes and try again.")
        )
    user = session.scalar(select(User).where(col(User.email) == _normalise_email(email)))
    verified_hash = user.password_hash if user and user.has_password else None
    # The hash is checked with no transaction open (see _verify_outside_transaction).
    session.commit()
    # An unknown account, or one without a password yet, is verified against a dummy hash:
    # every answer takes as long.
    valid = _verify_outside_transaction(verified_hash, password)
    valid = valid and user is not None and user.active and _unchanged(session, user, verified_hash)
    if not valid or user is None:
        raise SignInFailed(gettext("The e-mail address or password is not correct."))
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    # A success is no failure of its address, and clears the account's failures.
    _forget_attempt(session, attempt)
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.key) == account_key))
    return user


def note_reset_request(session: Session, *, email: str, address: str) -> None:
    """Count a request for a reset link, or refuse it (ResetThrottled) when this e-mail
    address or this client asked too often lately. E-mail addresses without an account are
    counted the same, so the answer never tells whether one exists. The request is committed
    before it is counted, so parallel requests cannot all pass (see _take_attempt)."""
    limits = {
        f"reset:account:{_normalise_email(email)}": RESETS_PER_ACCOUNT,
        f"reset:address:{address}": RESETS_PER_ADDRESS,
    }
    if _take_attempt(session, limits) is None:
        raise ResetThrottled(
            gettext(
                "A new password was asked for too often. Wait a few minutes and try again, "
                "and look in your mail (and its spam folder) for the links already sent."
            )
        )


def issue_account_token(
    session: Session, user: User, *, purpose: TokenPurpose, lifetime: timedelta
) -> str:
    """A new link to choose a password; returns its secret for the e-mail (only its hash is
    stored)."""
    secret = secrets.token_urlsafe(32)
    now = utc_now()
    session.add(
        AccountToken(
            user_id=id_of(user),
            purpose=purpose,
            token_hash=hash_token(secret),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    # Housekeeping: links of anyone that stopped working long ago.
    session.execute(
        delete(AccountToken).where(col(AccountToken.expires_at) < now - KEEP_SPENT_LINKS)
    )
    session.flush()
    return secret


def account_token_holder(session: Session, secret: str) -> tuple[AccountToken, User]:
    """The link's token and its account while the link works; InvalidLink saying why not."""
    row = (
        session.execute(
            select(AccountToken, User)
            .join(User, col(User.id) == AccountToken.user_id)
            .where(col(AccountToken.token_hash) == hash_token(secret))
        ).first()
        if secret
        else None
    )
    if row is None or not row[1].active:
        raise InvalidLink(
            gettext(
                "This link does not work. Copy the whole link from the e-mail, or ask for a "
                "new one."
            )
        )
    token, user = row
    if token.used_at is not None:
        raise InvalidLink(
            gettext(
                "This link has been used already, or a new password has been set since it was "
                "sent. Sign in with your password, or ask for a new link."
            )
        )
    if as_utc(token.expires_at) <= utc_now():
        raise InvalidLink(gettext("This link has expired. Ask for a new one."))
    return token, user


def use_account_token(
    session: Session, *, secret: str, password: str, password_again: str
) -> tuple[AccountToken, User]:
    """Set the password a link lets its holder choose. The link works once, also when two
    requests race (a compare-and-set on used_at); every session of the account ends."""
    token, user = account_token_holder(session, secret)
    _check_password(password, password_again)
    claimed = session.execute(
        update(AccountToken)
        .where(col(AccountToken.id) == token.id, col(AccountToken.used_at).is_(None))
        .values(used_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
        raise InvalidLink(gettext("This link has been used already. Sign in with your password."))
    set_password(session, user, password)
    return token, user


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


# A session's user with the session's expiry, a row per organisation of the user (one row with
# none when they have none): every request with a session cookie asks it (when the session
# users' cache has no answer), so it is one Core statement, built once.
_SESSION_USER = (
    select(
        col(User.id),
        col(User.email),
        col(User.name),
        col(User.role),
        col(User.active),
        col(UserSession.expires_at),
        col(UserOrganisation.organisation_id),
    )
    .join(UserSession, col(UserSession.user_id) == User.id)
    .outerjoin(UserOrganisation, col(UserOrganisation.user_id) == User.id)
    .where(col(UserSession.token_hash) == bindparam("token_hash"))
)


def session_user(session: Session, token: str) -> tuple[CurrentUser, datetime] | None:
    """The active user a session token belongs to, with the session's expiry."""
    rows = session.connection().execute(_SESSION_USER, {"token_hash": hash_token(token)}).all()
    if not rows or not rows[0].active:
        return None
    first = rows[0]
    user = CurrentUser(
        id=first.id,
        email=first.email,
        name=first.name,
        role=Role(first.role),
        organisation_ids=frozenset(
            row.organisation_id for row in rows if row.organisation_id is not None
        ),
    )
    return user, as_utc(first.expires_at)


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
    _note_token_use(session, token)
    return _current_user(session, user)


# A token's last use is noted at most this often: a request that reads must not write each
# time (on SQLite every write waits for the one write lock).
TOKEN_USE_PRECISION = timedelta(minutes=1)


def _note_token_use(session: Session, token: ApiToken) -> None:
    now = utc_now()
    if token.last_used_at is not None and now - as_utc(token.last_used_at) < TOKEN_USE_PRECISION:
        return
    # Compare-and-set, so that of concurrent requests one writes.
    noted = (
        update(ApiToken)
        .where(
            col(ApiToken.id) == token.id,
            or_(
                col(ApiToken.last_used_at).is_(None),
                col(ApiToken.last_used_at) < now - TOKEN_USE_PRECISION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    bind = session.get_bind()
    if bind.get_execution_options().get(WRITES, False):
        # A request that may write holds its transaction's locks already (SQLite: the write
        # lock): the note goes with its other writes.
        session.execute(noted)
        return
    # A request that only reads never writes in its own transaction (on SQLite it would take
    # the write lock, and wait for it): the note is a short transaction of its own, on a
    # connection of its own, best effort (skipped when the database is busy).
    assert isinstance(bind, Engine)
    write_at_once(bind, noted)


def as_current_user(session: Session, user: User) -> CurrentUser:
    """An account as a request would see it (for the command line and tests)."""
    return _current_user(session, user)
