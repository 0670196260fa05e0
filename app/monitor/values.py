"""Qualified values: a key figure as its source states it, never a false exact number.

A value has a shape (`Qualifier`): exact, at least (">200"), at most, a range ("5.000–7.500"),
unknown ("recidive onbekend") or suppressed; and two marks that any number may carry:
approximately ("≈95–105", "zo'n 27%") and estimated ("naar schatting 3.000"). The brief's
eight kinds map onto these: "approximately" is `approximate=True`, "estimate" is
`estimate=True` (an estimated range, "naar schatting tussen de 5.000 en 7.500", is both a range
and an estimate). The bounds are numbers, so charts and exports can use them.

`format_value` is the one way a value is printed, in Dutch or English number formats, with the
unit where it is part of how the number is written (€, %, months); every view uses it.
`parse_value` reads what a person types or a spreadsheet holds, in either language, and
what `format_value` prints comes back as the same value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from babel.numbers import format_decimal

from app.i18n import get_language


class Qualifier(StrEnum):
    exact = "exact"
    at_least = "at_least"  # printed ">": an open-ended lower bound
    at_most = "at_most"  # printed "<": an upper bound
    range = "range"
    unknown = "unknown"
    suppressed = "suppressed"  # known to the supplier, not published (small numbers, privacy)


class Unit(StrEnum):
    # things: checks, closures, investigations, cases ("count"; the member is not named
    # count, which is str.count)
    number = "count"
    persons = "persons"  # people: victims, suspects, offenders
    euro = "euro"
    percent = "percent"
    months = "months"


NUMBER_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
WORDS = {
    "nl": {
        Qualifier.unknown: "onbekend",
        Qualifier.suppressed: "afgeschermd",
        "estimate": "naar schatting",
        "month": "maand",
        "months": "maanden",
        "year": "jaar",
        "years": "jaar",
        "and": "en",
    },
    "en": {
        Qualifier.unknown: "unknown",
        Qualifier.suppressed: "suppressed",
        "estimate": "estimated",
        "month": "month",
        "months": "months",
        "year": "year",
        "years": "years",
        "and": "and",
    },
}
RANGE_DASH = "–"  # en dash, as typeset; a hyphen is read too


class InvalidValue(ValueError):
    """A text that is not a qualified value (the message says why)."""


@dataclass(frozen=True)
class QualifiedValue:
    qualifier: Qualifier
    low: float | None = None
    high: float | None = None
    approximate: bool = False
    estimate: bool = False

    def __post_init__(self) -> None:
        q = Qualifier(self.qualifier)
        object.__setattr__(self, "qualifier", q)
        has_low, has_high = self.low is not None, self.high is not None
        wanted = {
            Qualifier.exact: (True, True),
            Qualifier.at_least: (True, False),
            Qualifier.at_most: (False, True),
            Qualifier.range: (True, True),
            Qualifier.unknown: (False, False),
            Qualifier.suppressed: (False, False),
        }[q]
        if (has_low, has_high) != wanted:
            raise InvalidValue(f"a value {q.value} has bounds {wanted}, not {(has_low, has_high)}")
        if q == Qualifier.exact and self.low != self.high:
            raise InvalidValue("an exact value has one number")
        if (
            q == Qualifier.range
            and self.low is not None
            and self.high is not None
            and self.low >= self.high
        ):
            raise InvalidValue("a range goes from its lower to its higher number")
        if q in (Qualifier.unknown, Qualifier.suppressed) and (self.approximate or self.estimate):
            raise InvalidValue("an unknown or suppressed value has no number to qualify")
        for bound in (self.low, self.high):
            if bound is not None and not math.isfinite(bound):
                raise InvalidValue("a bound is a finite number")

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def exact(cls, value: float, **marks: bool) -> QualifiedValue:
        return cls(Qualifier.exact, value, value, **marks)

    @classmethod
    def at_least(cls, value: float, **marks: bool) -> QualifiedValue:
        return cls(Qualifier.at_least, value, None, **marks)

    @classmethod
    def at_most(cls, value: float, **marks: bool) -> QualifiedValue:
        return cls(Qualifier.at_most, None, value, **marks)

    @classmethod
    def between(cls, low: float, high: float, **marks: bool) -> QualifiedValue:
        return cls(Qualifier.range, low, high, **marks)

    @classmethod
    def unknown(cls) -> QualifiedValue:
        return cls(Qualifier.unknown)

    @classmethod
    def suppressed(cls) -> QualifiedValue:
        return cls(Qualifier.suppressed)

    # -- reading --------------------------------------------------------------------------

    @property
    def value(self) -> float | None:
        """The one number of an exact value (approximate or estimated or not), else None."""
        return self.low if self.qualifier == Qualifier.exact else None

    @property
    def has_number(self) -> bool:
        return self.qualifier not in (Qualifier.unknown, Qualifier.suppressed)

    def interval(self) -> tuple[float, float]:
        """The numbers the value allows, for checking that a breakdown adds up: an unknown or
        suppressed part allows anything from 0."""
        low = self.low if self.low is not None else 0.0
        high = self.high if self.high is not None else math.inf
        return (low, high)


def _number(value: float, language: str) -> str:
    if float(value).is_integer():
        return format_decimal(int(value), locale=NUMBER_LOCALES[language])
    return format_decimal(value, locale=NUMBER_LOCALES[language], decimal_quantization=False)


def _with_unit(text: str, unit: Unit | None, language: str) -> str:
    if unit == Unit.percent:
        return f"{text}%"
    if unit == Unit.euro:
        return f"€ {text}" if language == "nl" else f"€{text}"
    return text


def _months(value: float, language: str) -> str:
    words = WORDS[language]
    if not float(value).is_integer() or value < 12:
        return f"{_number(value, language)} {words['month' if value == 1 else 'months']}"
    years, months = divmod(int(value), 12)
    text = f"{years} {words['year' if years == 1 else 'years']}"
    if months:
        text += f" {words['and']} {months} {words['month' if months == 1 else 'months']}"
    return text


def format_value(
    value: QualifiedValue, unit: Unit | str | None = None, language: str | None = None
) -> str:
    """The value as the source prints it: "> 200", "≈ 95–105", "5.000–7.500" ("5,000–7,500"
    in English), "onbekend" ("unknown"), "€ 1.610", "27%", "naar schatting 3.000",
    "1 jaar en 8 maanden". Never a bare number for a bound or an estimate."""
    language = language or get_language()
    if language not in NUMBER_LOCALES:
        language = "nl"
    unit = Unit(unit) if unit is not None else None
    words = WORDS[language]
    if not value.has_number:
        return str(words[value.qualifier])

    def number(amount: float) -> str:
        if unit == Unit.months:
            return _months(amount, language)
        return _with_unit(_number(amount, language), unit, language)

    assert value.low is not None or value.high is not None
    if value.qualifier == Qualifier.exact:
        assert value.low is not None
        text = number(value.low)
    elif value.qualifier == Qualifier.at_least:
        assert value.low is not None
        text = f"> {number(value.low)}"
    elif value.qualifier == Qualifier.at_most:
        assert value.high is not None
        text = f"< {number(value.high)}"
    else:
        assert value.low is not None and value.high is not None
        if unit in (Unit.percent, Unit.euro):
            # "5%–9%" reads as two numbers; "5–9%" as one range.
            plain = f"{_number(value.low, language)}{RANGE_DASH}{_number(value.high, language)}"
            text = _with_unit(plain, unit, language)
        else:
            text = f"{number(value.low)}{RANGE_DASH}{number(value.high)}"
    if value.approximate:
        text = f"≈ {text}"
    if value.estimate:
        text = f"{words['estimate']} {text}"
    return text


# -- parsing --------------------------------------------------------------------------------

_ESTIMATE = re.compile(r"^(naar schatting|geschat|estimated|an estimated|est\.)\s*", re.I)
_APPROXIMATE = re.compile(r"^(≈|~|ca\.|circa|ongeveer|zo['’]n|about|approximately|around)\s*", re.I)
_AT_LEAST = re.compile(r"^(>|≥|>=|meer dan|ruim|minstens|ten minste|more than|at least)\s*", re.I)
_AT_MOST = re.compile(r"^(<|≤|<=|minder dan|hoogstens|ten hoogste|less than|at most)\s*", re.I)
_BETWEEN = re.compile(r"^(tussen( de)?|between)\s+(?P<a>.+?)\s+(en|and)\s+(?P<b>.+)$", re.I)
_RANGE = re.compile(r"^(?P<a>.+?)\s*(?:[–—-]|\bà\b|\bto\b|\btot\b)\s*(?P<b>.+)$")
_MONTHS = re.compile(
    r"^(?P<y>\d+)\s*(jaar|years?)(\s*(en|and)\s*(?P<m>\d+)\s*(maanden|maand|months?))?$", re.I
)


def _parse_number(text: str, language: str) -> float:
    text = text.strip().replace("€", "").replace("%", "").replace(" ", "").replace(" ", "")
    text = re.sub(r"(maanden|maand|months?)$", "", text, flags=re.I)
    if not text:
        raise InvalidValue("a number is missing")
    thousands, decimal = (".", ",") if language == "nl" else (",", ".")
    if not re.fullmatch(
        rf"-?\d{{1,3}}(\{thousands}\d{{3}})*(\{decimal}\d+)?|-?\d+(\{decimal}\d+)?", text
    ):
        raise InvalidValue(f"{text!r} is not a number")
    return float(text.replace(thousands, "").replace(decimal, "."))


def _parse_amount(text: str, language: str) -> float:
    text = text.strip()
    months = _MONTHS.match(text)
    if months:
        return float(int(months["y"]) * 12 + int(months["m"] or 0))
    return _parse_number(text, language)


def parse_value(text: str, language: str | None = None) -> QualifiedValue:
    """Read a value as a person or a source writes it (">200", "> 200", "≈95-105",
    "tussen de 5.000 en 7.500", "naar schatting 3.000", "zo'n 27%", "onbekend", "unknown").
    Numbers are read in the language's format (nl "5.000,5", en "5,000.5"). Raises
    InvalidValue with the reason."""
    language = language or get_language()
    if language not in NUMBER_LOCALES:
        language = "nl"
    rest = " ".join(text.split())
    if not rest:
        raise InvalidValue("the value is empty")
    for qualifier in (Qualifier.unknown, Qualifier.suppressed):
        if rest.lower() in {WORDS["nl"][qualifier], WORDS["en"][qualifier]}:
            return QualifiedValue(qualifier)
    if rest == "?":
        return QualifiedValue.unknown()
    estimate = approximate = False
    match = _ESTIMATE.match(rest)
    if match:
        estimate, rest = True, rest[match.end() :]
    match = _APPROXIMATE.match(rest)
    if match:
        approximate, rest = True, rest[match.end() :]
    marks = {"approximate": approximate, "estimate": estimate}
    match = _AT_LEAST.match(rest)
    if match:
        return QualifiedValue.at_least(_parse_amount(rest[match.end() :], language), **marks)
    match = _AT_MOST.match(rest)
    if match:
        return QualifiedValue.at_most(_parse_amount(rest[match.end() :], language), **marks)
    match = _BETWEEN.match(rest) or _RANGE.match(rest)
    if match and match["a"].strip() and match["b"].strip():
        low, high = _parse_amount(match["a"], language), _parse_amount(match["b"], language)
        return QualifiedValue.between(low, high, **marks)
    return QualifiedValue.exact(_parse_amount(rest, language), **marks)
