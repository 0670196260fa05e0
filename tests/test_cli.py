"""The `voortgang` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from app.cli import DEFAULT_SEED
from tests.cli import run_cli


def run(*args: str, database_url: str) -> Result:
    return run_cli(*args, env={"DATABASE_URL": database_url})


def test_the_installed_command_runs(database_url: str) -> None:
    """The one test that starts `voortgang` as its own process: the entry point that
    `pip install` writes calls the command, which reads its settings from the environment."""
    command = Path(sys.executable).with_name("voortgang")
    if not command.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{command} is missing: install the app (pip install -e .)")
        pytest.skip("the voortgang command is not installed (pip install -e .)")
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [str(command), "db", "current"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip() == run("db", "current", database_url=database_url).stdout.strip() != ""
    )
    assert "No schema yet" not in done.stdout


def test_help_on_every_command(database_url: str) -> None:
    for args in ([], ["db"], ["db", "upgrade"], ["db", "downgrade"], ["seed"], ["serve"]):
        result = run(*args, "--help", database_url=database_url)
        assert result.exit_code == 0, result.stderr
        assert "Usage" in result.stdout


def test_upgrade_then_seed_twice(databases) -> None:  # type: ignore[no-untyped-def]
    url = databases.new("empty")
    assert "No schema yet" in run("db", "current", database_url=url).stdout
    assert run("db", "upgrade", database_url=url).exit_code == 0
    first = run("seed", database_url=url)
    assert first.exit_code == 0, first.stderr
    assert "128 activities" in first.stdout
    second = run("seed", database_url=url)
    assert second.exit_code == 0
    assert "nothing changed" in second.stdout


def test_bad_seed_file_exits_non_zero_with_the_place(database_url: str, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))
    data["action_lines"][0]["themes"][0]["results"][0]["activities"][0]["status"] = "klaar"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run("seed", str(bad), database_url=database_url)
    assert result.exit_code == 1
    assert "result 1 → activity '1' → status: unknown status 'klaar'" in result.stderr
    assert "nothing was loaded" in result.stderr
    missing = run("seed", str(tmp_path / "absent.yaml"), database_url=database_url)
    assert missing.exit_code == 1
    assert "cannot be read" in missing.stderr


def test_user_commands(database_url: str) -> None:
    create = run(
        "user",
        "create",
        "--email",
        "Ed@Example.nl",
        "--name",
        "Ed",
        "--role",
        "viewer",
        "--password",
        "a long enough password",
        database_url=database_url,
    )
    assert create.exit_code == 0, create.stderr
    listing = run("user", "list", database_url=database_url)
    assert "ed@example.nl\tEd\tviewer\t-\tactive" in listing.stdout
    assert (
        run("user", "set-role", "ed@example.nl", "coordinator", database_url=database_url).exit_code
        == 0
    )
    assert "\tcoordinator\t" in run("user", "list", database_url=database_url).stdout
    bad_role = run("user", "set-role", "ed@example.nl", "king", database_url=database_url)
    assert bad_role.exit_code == 1 and "unknown role 'king'" in bad_role.stderr
    short = run(
        "user", "reset-password", "ed@example.nl", "--password", "kort", database_url=database_url
    )
    assert short.exit_code == 1 and "12" in short.stderr
    assert (
        run(
            "user",
            "reset-password",
            "ed@example.nl",
            "--password",
            "another long password",
            database_url=database_url,
        ).exit_code
        == 0
    )
    token = run("token", "create", "ed@example.nl", "--name", "ci", database_url=database_url)
    assert token.exit_code == 0 and token.stdout.startswith("vg_")
    assert "\tci\tvg_" in run("token", "list", "ed@example.nl", database_url=database_url).stdout
    assert run("user", "deactivate", "ed@example.nl", database_url=database_url).exit_code == 0
    assert "\tdeactivated" in run("user", "list", database_url=database_url).stdout
    assert "\trevoked" in run("token", "list", "ed@example.nl", database_url=database_url).stdout
    missing = run("user", "deactivate", "nobody@example.nl", database_url=database_url)
    assert missing.exit_code == 1 and "nobody@example.nl" in missing.stderr


def test_dev_account_prints_how_to_sign_in(database_url: str) -> None:
    result = run("dev-account", database_url=database_url)
    assert result.exit_code == 0
    assert "beheerder@voortgang.local" in result.stdout and "password:" in result.stdout
    env_production = {"ENVIRONMENT": "production", "SECRET_KEY": "z" * 40}
    refused = run_cli("dev-account", env={"DATABASE_URL": database_url, **env_production})
    assert refused.exit_code == 1
    assert "not available in production" in refused.stderr
