"""Users, their organisations, sign-in sessions, throttling records, API tokens and the links
that let a person choose a password (a reset or an invitation)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText


class Role(StrEnum):
    """Roles in increasing order of what they may do; each includes the ones before it."""

    viewer = "viewer"
    editor = "editor"
    coordinator = "coordinator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


# Every request's route rule asks (list(Role).index costs more than the rest of the check).
_ROLE_RANKS = {role: rank for rank, role in enumerate(Role)}


class UserBase(SQLModel):
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_column=Column(String(20), nullable=False))


class User(UserBase, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    # Empty while an invited person has not chosen a password yet: nothing signs in with it.
    password_hash: str = Field(max_length=300)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class UserOrganisation(SQLModel, table=True):
    __tablename__ = "user_organisation"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    organisation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True
        )
    )


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LoginAttempt(SQLModel, table=True):
    """What is throttled, per account and per client address: failed sign-ins (and wrong
    current passwords on the account page), and requests for a password reset link."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "attempted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # "account:<email>" or "address:<ip>" (sign-in); "reset:account:<email>" or
    # "reset:address:<ip>" (reset links)
    key: str = Field(max_length=300)
    attempted_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # The first characters, so a person can tell tokens apart; not enough to use one.
    prefix: str = Field(max_length=12)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class TokenPurpose(StrEnum):
    """What a link that lets a person choose a password is for."""

    reset = "reset"  # asked for on "Forgot your password?"
    invitation = "invitation"  # sent when an admin creates the account


class AccountToken(SQLModel, table=True):
    """A link that lets a person choose a password: the e-mail holds a random token, only its
    hash is stored. It works once (used_at) and until expires_at."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    purpose: TokenPurpose = Field(sa_column=Column(EnumText(TokenPurpose), nullable=False))
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Set when the link was used, or spent unused because a new password was set another way.
    used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
