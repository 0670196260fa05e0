"""Typed request dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.config import Settings
from app.db import transaction


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route succeeds, rolled back otherwise.

    Used with scope="function": the commit happens when the route returns, before the response
    is sent. (FastAPI's default scope for a dependency with yield runs its exit code after the
    response is sent: a browser could then follow a redirect before the change was committed
    and see the old state, and a failing commit would follow a response that said "done".)"""
    with transaction(request.app.state.engine) as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
