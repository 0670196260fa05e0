"""tests/processes.py itself: an AppProcess is ready when its own child listens, not when
something answers on the port it picked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests import processes
from tests.processes import AppProcess


class _Imposter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        body = b"not voortgang"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def imposter() -> Iterator[int]:
    """Another server (another test's, say) on a port: its number."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imposter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_app_process_whose_port_was_taken_meanwhile_starts_on_another(
    seeded_database_url: str, imposter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The port picked is taken by another server before the child binds it: the start
    does not take that server for ours (before, it was ready as soon as something answered
    /public/), but starts again on another port."""
    free_port = processes.free_port
    ports = iter([imposter])
    monkeypatch.setattr(processes, "free_port", lambda: next(ports, None) or free_port())
    with AppProcess(seeded_database_url) as app:
        assert app.port != imposter
        assert app.process is not None and app.process.poll() is None
        answer = httpx.get(app.url + "/public/", timeout=10)
        assert answer.status_code == 200 and "Voortgang" in answer.text
