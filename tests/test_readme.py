"""The README's configuration table names every setting the app reads, and only those."""

from __future__ import annotations

import re

from app.config import PROJECT_ROOT, Settings


def _documented() -> set[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    names: set[str] = set()
    for first_cell in re.findall(r"^\| ([^|]+) \|", readme, flags=re.MULTILINE):
        names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_setting_is_in_the_configuration_table() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - _documented() == set(), "settings missing from README's table"


def test_the_configuration_table_names_no_setting_that_does_not_exist() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    assert _documented() - settings == set(), "README names settings the app does not read"
