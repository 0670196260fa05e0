"""Text as the app accepts it: every character but the control characters, of which only tab,
line feed and carriage return (browsers send a textarea's line breaks as CRLF).

PostgreSQL cannot store a NUL character at all and the others are invisible in every page and
export, so text with one is refused where it comes in, with the field or cell it is in: the
API and the forms through the `Text` type, imports, the command line and the seed file through
`control_character_problem`. Stored text has its line breaks as LF: `normalise_newlines`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from app.i18n import gettext

# C0 controls but tab, LF and CR; DEL and the C1 controls; lone surrogates (which no
# database encoding takes; pydantic's own str validation refuses them from JSON and forms).
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as a JSON Schema pattern, which ECMA 262 and Python's re read alike (without
# the surrogates, which a JSON Schema string cannot hold on its own).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# Text that is more than white space (a required explanation, stored stripped): the same rule
# with one character that is neither a control nor white space (Python's re reads `\s` as
# str.strip() does; ECMA 262 also counts U+FEFF).
FILLED_TEXT_PATTERN = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*"
    r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
)
_LINE_BREAK = re.compile(r"\r\n?")
# A spreadsheet cell whose text starts with one of these would run as a formula when the file
# is opened (tab and CR too: some spreadsheets skip them before reading a formula); every
# spreadsheet and CSV the app writes prefixes such text with an apostrophe (`neutralise`), and
# the importer takes that apostrophe off again.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def control_character_problem(text: str) -> str | None:
    """What is wrong with the text, in the user's language, or None when nothing is."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return gettext(
        "This text contains a control character (U+%(code)04X) at position %(position)d; "
        "only tabs and line breaks are allowed. Remove it and try again."
    ) % {"code": ord(found.group()), "position": found.start() + 1}


def neutralise(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula: "=SUM(1,2)" → "'=SUM(1,2)"."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def normalise_newlines(text: str) -> str:
    """Line breaks as LF, whether they came as CRLF (browsers) or CR."""
    return _LINE_BREAK.sub("\n", text)


def _refuse_control_characters(value: object) -> object:
    # Before the str validation; what is not a string is left to it.
    problem = control_character_problem(value) if isinstance(value, str) else None
    if problem is not None:
        # The message is in the request's language; its loc names the field.
        raise PydanticCustomError("control_character", problem)
    return value


def _refuse_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", gettext("Write an explanation."))
    return value


class TextRule:
    """The control-character check of a text field, before its str validation, with the rule
    in the JSON schema (OpenAPI) so that clients and schema-based testers know it.

    A length limit goes before it (`Annotated[str, Form(max_length=200), TEXT]`): pydantic
    applies constraints in order, and one after a validator is checked by a generic
    validator with a generic message ("Value should have at most 200 items after
    validation") instead of str's own ("String should have at most 200 characters")."""

    def __init__(self, *, filled: bool = False) -> None:
        self.filled = filled
        self.pattern = FILLED_TEXT_PATTERN if filled else TEXT_PATTERN

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        if self.filled:
            schema = core_schema.no_info_after_validator_function(_refuse_blank, schema)
        return core_schema.no_info_before_validator_function(_refuse_control_characters, schema)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema: dict[str, Any] = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


TEXT = TextRule()
# A text field of the API, a form or a query string: refused (422) with a control character.
# With a length limit: `Annotated[str, Form(max_length=N), TEXT]` (see TextRule).
Text = Annotated[str, TEXT]
# A required explanation: refused also when it is only white space (a length limit goes
# before it, as with Text).
FILLED_TEXT = TextRule(filled=True)
FilledText = Annotated[str, FILLED_TEXT]
