"""The OpenAPI schema says what the API does: schemathesis, with every one of its checks,
against a real `voortgang serve` with a real API token. Every status an operation answers is
documented with its body, and what the schema allows is accepted, what it refuses is refused.

Bounded and derandomised so CI is stable: 30 examples per operation, a fixed seed, one worker,
no example database; the whole run takes about 15 seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import Session

from app.accounts.service import create_api_token, get_user_by_email
from tests.factories import create_user, open_round
from tests.processes import AppProcess

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))

# The comparison refuses two periods that JSON Schema cannot tell apart from a good pair: the
# same period twice, or a `from` with no period before it. Its 422 says so (documented); every
# other operation must accept every request its schema allows.
CONFIG = """
[[operations]]
include-path = "/api/v1/programmes/{programme}/compare"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "422"]
"""


def test_schemathesis_finds_nothing_the_schema_does_not_say(
    seeded_database_url: str, seeded_session: Session, tmp_path: Path
) -> None:
    # Two periods (the published 2021 report and an open round), so that changes are
    # accepted and the comparison has a pair; a coordinator may change every activity.
    open_round(seeded_session)
    email = create_user(seeded_session, "coordinator")
    _, secret = create_api_token(
        seeded_session, get_user_by_email(seeded_session, email), name="schemathesis"
    )
    seeded_session.commit()
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    with AppProcess(seeded_database_url) as app:
        run = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                f"{app.url}/api/openapi.json",
                "--header",
                f"Authorization: Bearer {secret}",
                "--checks",
                "all",
                "--max-examples",
                "30",
                "--seed",
                "1",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "20",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "Tested: 4" in run.stdout, run.stdout[-5000:]
