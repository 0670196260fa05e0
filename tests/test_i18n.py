"""Every message in the code and templates has a Dutch translation."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT
from app.i18n import LOCALE_DIR


def test_dutch_catalogue_translates_every_message(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "-o",
            str(template),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (LOCALE_DIR / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        dutch = {
            (m.id if isinstance(m.id, str) else m.id[0]): m.string
            for m in read_po(handle, locale="nl")
            if m.id
        }
    missing = sorted(message for message in extracted if not dutch.get(message))
    assert not missing, f"untranslated (run `make translations` and translate): {missing}"


def test_dutch_catalogue_has_each_message_once() -> None:
    # Babel reads a second entry over the first without a word: two translations of one
    # message would differ unseen. Each msgid starts a line of its own, plurals included.
    catalogue = (LOCALE_DIR / "nl" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    entries = re.findall(r'^msgid ((?:".*"\n)+)', catalogue, flags=re.M)
    assert len(entries) > 100
    twice = sorted(entry for entry, count in Counter(entries).items() if count > 1)
    assert not twice, f"messages.po holds these more than once: {twice}"
