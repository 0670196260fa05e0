"""Translations: gettext catalogues (Babel) per request, Dutch by default.

Catalogues live in app/locale/<lang>/LC_MESSAGES/messages.po and are read directly with Babel,
so there is no compile step to forget. msgids are English; the Dutch catalogue translates them.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from app.clock import PROGRAMME_TIMEZONE, as_utc

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {"nl": "Nederlands", "en": "English"}
DEFAULT_LANGUAGE = "nl"
# Dates as the text around them writes them: "1 november 2022", "1 November 2022" (British
# order, as GOV.UK does).
DATE_LOCALES = {"nl": "nl_NL", "en": "en_GB"}

_current_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def translations_for(language: str) -> NullTranslations:
    po_file = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def set_language(language: str) -> None:
    _current_language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def get_language() -> str:
    return _current_language.get()


def gettext(message: str) -> str:
    return translations_for(get_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(get_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later, where it is shown."""
    return message


def negotiate_language(query_value: str | None, cookie_value: str | None) -> str:
    for candidate in (query_value, cookie_value):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def format_date(value: date, language: str | None = None) -> str:
    """A date written out in the user's language (or the one given): "15 november 2022"."""
    return babel_format_date(
        value, format="long", locale=DATE_LOCALES.get(language or get_language(), "nl_NL")
    )


def format_datetime(value: datetime, language: str | None = None) -> str:
    """A moment in the user's language, as a clock in the Netherlands shows it:
    "3 december 2026 13:05" (a value without a time zone is UTC, as the database keeps it)."""
    moment = as_utc(value)
    return babel_format_datetime(
        moment,
        format="d MMMM y HH:mm",
        tzinfo=get_timezone(PROGRAMME_TIMEZONE),
        locale=DATE_LOCALES.get(language or get_language(), "nl_NL"),
    )
