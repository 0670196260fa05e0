"""Word-level differences between two explanations, as escaped HTML with <del>/<ins>."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\s+|[^\s]+")


def explanation_diff(old: str, new: str) -> Markup:
    before = _TOKENS.findall(old)
    after = _TOKENS.findall(new)
    parts: list[str] = []
    for operation, a1, a2, b1, b2 in SequenceMatcher(
        None, before, after, autojunk=False
    ).get_opcodes():
        if operation == "equal":
            parts.append(escape("".join(after[b1:b2])))
            continue
        if operation in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(before[a1:a2]))}</del>")
        if operation in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(after[b1:b2]))}</ins>")
    # Every text was escaped as it went in (f-strings: Markup.format costs far more).
    return Markup("".join(parts))
