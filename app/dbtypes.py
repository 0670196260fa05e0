"""What every table model shares: the constraint naming convention and the column types.

Imports nothing of the app's domains. The package imports this module first (see
`app/__init__.py`), so the naming convention is on the metadata before any model module
defines a table, whichever module is imported first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import MetaData, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as plain text (no database enum type to migrate), read back as the
    enum member, so code and templates never meet a bare string."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum
        # Members by value: a dictionary lookup per value read (whole tables read thousands).
        self._members = {member.value: member for member in enum}

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Any) -> StrEnum | None:
        if value is None:
            return None
        member = self._members.get(value)
        return member if member is not None else self.enum(value)  # else: the enum's error
