"""Real app processes for tests of what happens between processes: `voortgang serve` (or any
other `voortgang` command) in a child process of its own, on a free local port, reading its
settings from the environment as in production. `kill()` stops it with SIGKILL, as a crash
would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

VOORTGANG = str(Path(sys.executable).with_name("voortgang"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent


# How many ports a server tries before giving up (another process may take a free one first).
PORT_ATTEMPTS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a child process: this one's, with the database and settings given
    (names as in the README's configuration table, for example PAGE_SIZE="10")."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "TEST_DATABASE_URL")
    }
    environment.update(
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret",
        MAIL_BACKEND="console",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    environment.update(settings)
    return environment


class AppProcess:
    """`voortgang serve` in a child process; use as a context manager.

    >>> with AppProcess(database_url) as app:
    ...     httpx.get(app.url + "/public/")
    """

    def __init__(
        self,
        database_url: str,
        *,
        args: tuple[str, ...] = (),
        startup_timeout: float = 30,
        **settings: str,
    ) -> None:
        self.port = free_port()
        self.environment = process_environment(database_url, **settings)
        self.args = ("serve", "--host", "127.0.0.1", "--port", str(self.port), *args)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        # What the process prints goes to a file, not a pipe: a pipe nobody reads fills up
        # (uvicorn logs every request) and then blocks the server.
        self.output: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        # Closed in stop(): it lives as long as the process.
        self.output = tempfile.TemporaryFile(prefix="voortgang-serve-")  # noqa: SIM115
        self.process = subprocess.Popen(
            [VOORTGANG, *self.args],
            env=self.environment,
            cwd=PROJECT_ROOT,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.process

    def start(self) -> AppProcess:
        """Start the server and wait until it is ours that listens: uvicorn said it runs on
        our port, and the child is alive (something answering on the port could be another
        test's server, which took the port between free_port() and our bind). A port taken
        meanwhile: again on another."""
        deadline = time.monotonic() + self.startup_timeout
        for _ in range(PORT_ATTEMPTS):
            self._spawn()
            assert self.process is not None
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if self._listening():
                    return self
                time.sleep(0.1)
            else:
                self.stop()
                raise RuntimeError("voortgang serve did not answer in time")
            printed = self.stop()
            if "address already in use" not in printed.lower():
                raise RuntimeError(f"voortgang serve stopped at its start:\n{printed}")
            self.port = free_port()
            self.args = tuple(
                str(self.port) if index > 0 and self.args[index - 1] == "--port" else arg
                for index, arg in enumerate(self.args)
            )
        raise RuntimeError(f"voortgang serve found no free port in {PORT_ATTEMPTS} attempts")

    def printed(self) -> str:
        """What the running child printed so far (read without moving the file's offset,
        which the child writes at)."""
        if self.output is None:
            return ""
        return os.pread(self.output.fileno(), 1 << 24, 0).decode(errors="replace")

    def _listening(self) -> bool:
        """Has the child said it listens on our port?"""
        return f"Uvicorn running on {self.url}" in self.printed()

    def kill(self) -> None:
        """SIGKILL the process group, as a crash would: nothing gets to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> str:
        """Stop the process (SIGTERM, then SIGKILL) and return what it printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        output = self._printed()
        self.process = None
        if self.output is not None:
            self.output.close()
            self.output = None
        return output

    def _printed(self) -> str:
        if self.output is None:
            return ""
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CommandProcess(AppProcess):
    """Any other `voortgang` command in a child process of its own, with the environment
    of an AppProcess (`voortgang worker`, say): started, not waited for; `kill()` and
    `stop()` as for the server, `wait()` for its end.

    >>> with CommandProcess(database_url, "worker", JOB_POLL_SECONDS="0.2") as worker:
    ...     ...
    """

    def __init__(self, database_url: str, *args: str, **settings: str) -> None:
        super().__init__(database_url, **settings)
        self.args = args

    def start(self) -> CommandProcess:
        self._spawn()
        return self

    def wait(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the command to end: its exit code and what it printed."""
        assert self.process is not None
        code = self.process.wait(timeout=timeout)
        return code, self.stop()

    def __enter__(self) -> CommandProcess:
        return self.start()
