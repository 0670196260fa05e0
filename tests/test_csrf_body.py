"""The CSRF middleware reads a form's body only when asgi-csrf will check it: a request without
cookies or with a bearer token is passed on unread (the app reads it under its own limits)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.types import Message, Receive, Scope, Send

from app.main import CSRFMiddleware

BODY = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n" + b"x" * 100_000 + b"\r\n--b--\r\n"


def _run(headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """(body messages taken before the app ran, status answered)."""
    taken = 0
    seen_by_app: list[int] = []
    status: list[int] = []

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def inner(scope: Scope, receive_: Receive, send: Send) -> None:
        seen_by_app.append(taken)
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    app = CSRFMiddleware(inner, signing_secret="s" * 32)
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/imports",
        "query_string": b"",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b"), *headers],
    }
    # A thread of its own: after a browser test this thread has Playwright's loop running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return (seen_by_app[0] if seen_by_app else -1), status[0]


@pytest.mark.parametrize(
    "headers",
    [[], [(b"authorization", b"Bearer abc")]],
    ids=["no cookies", "bearer token"],
)
def test_a_request_asgi_csrf_does_not_check_is_passed_on_unread(
    headers: list[tuple[bytes, bytes]],
) -> None:
    read_before_app, status = _run(headers)
    assert read_before_app == 0
    assert status == 401


def test_a_cookie_signed_in_form_without_its_token_is_still_refused() -> None:
    read_before_app, status = _run([(b"cookie", b"voortgang_session=x")])
    assert read_before_app == -1  # never reached the app
    assert status == 403
