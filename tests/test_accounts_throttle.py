"""The sign-in throttle under attack, against real `voortgang serve` processes: parallel guesses
spread over two processes on one database, and forwarded addresses that change every time."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.accounts.models import LoginAttempt
from app.accounts.service import (
    FAILURES_PER_ACCOUNT,
    FAILURES_PER_ADDRESS,
    RESETS_PER_ACCOUNT,
)
from app.clock import utc_now
from app.config import Settings
from tests.factories import PASSWORD, create_user, csrf_from
from tests.processes import AppProcess

GUESSES = 30
WRONG_PASSWORD = "niet juist"  # the sign-in form's answer to a checked, wrong password (nl)
THROTTLED = "Te veel mislukte inlogpogingen"


@pytest.fixture
def two_processes(database_url: str) -> Iterator[list[AppProcess]]:
    """Two app processes on the test's database (the accounts are made before they start)."""
    with ExitStack() as stack:
        yield [stack.enter_context(AppProcess(database_url)) for _ in range(2)]


def _client(app: AppProcess, page: str) -> tuple[httpx.Client, str]:
    """A client of its own (cookies, CSRF token) that has opened a form page; close it."""
    client = httpx.Client(base_url=app.url, timeout=120)
    return client, csrf_from(client.get(page).text)


@contextmanager
def _one_client(app: AppProcess, page: str) -> Iterator[tuple[httpx.Client, str]]:
    client, token = _client(app, page)
    try:
        yield client, token
    finally:
        client.close()


def _all_at_once(requests: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Send every request at the same moment, each from a thread of its own."""
    start = threading.Barrier(len(requests))

    def send(request: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def _sign_in_request(
    client: httpx.Client, token: str, email: str, password: str, **headers: str
) -> Callable[[], httpx.Response]:
    return lambda: client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrftoken": token, "next": "/"},
        headers=headers,
    )


def _parallel_sign_ins(
    apps: list[AppProcess], emails: list[str], password: str
) -> list[httpx.Response]:
    """One sign-in per e-mail address, all at once, spread over the processes."""
    clients = [_client(apps[number % len(apps)], "/sign-in") for number in range(len(emails))]
    try:
        return _all_at_once(
            [
                _sign_in_request(client, token, email, password)
                for (client, token), email in zip(clients, emails, strict=True)
            ]
        )
    finally:
        for client, _ in clients:
            client.close()


def _attempts(session: Session, key: str) -> int:
    session.rollback()  # a fresh look at what the processes committed
    return (
        session.scalar(
            select(func.count()).select_from(LoginAttempt).where(col(LoginAttempt.key) == key)
        )
        or 0
    )


def _sign_in_once(app: AppProcess, email: str, password: str) -> httpx.Response:
    with _one_client(app, "/sign-in") as (client, token):
        return _sign_in_request(client, token, email, password)()


def test_parallel_guesses_over_two_processes_get_no_more_password_checks_than_the_limit(
    session: Session, two_processes: list[AppProcess]
) -> None:
    email = create_user(session, "viewer")
    responses = _parallel_sign_ins(two_processes, [email] * GUESSES, "a wrong guess 12345")
    answers = Counter(response.status_code for response in responses)
    checked = [response for response in responses if response.status_code == 400]
    assert set(answers) <= {400, 429}, answers
    # Nothing lets more than the limit through. (Not "at least one": when more than the limit
    # are recorded before the first counts, all of them are refused, by design.)
    assert len(checked) <= FAILURES_PER_ACCOUNT, answers
    assert answers[429] == GUESSES - len(checked)
    assert all(WRONG_PASSWORD in response.text for response in checked)
    assert all(THROTTLED in r.text for r in responses if r.status_code == 429)
    # Every checked guess is counted, the refused ones are not.
    assert _attempts(session, f"account:{email}") == len(checked)
    if len(checked) == FAILURES_PER_ACCOUNT:
        assert _sign_in_once(two_processes[1], email, PASSWORD).status_code == 429
    # After the window the right password signs in, in either process.
    session.execute(update(LoginAttempt).values(attempted_at=utc_now() - timedelta(hours=1)))
    session.commit()
    for app in two_processes:
        signed_in = _sign_in_once(app, email, PASSWORD)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"


def test_parallel_guesses_for_many_accounts_get_no_more_checks_than_the_address_limit(
    two_processes: list[AppProcess],
) -> None:
    emails = [f"guess{number}@example.nl" for number in range(GUESSES)]
    responses = _parallel_sign_ins(two_processes, emails, "a wrong guess 12345")
    answers = Counter(response.status_code for response in responses)
    assert set(answers) <= {400, 429}, answers
    assert answers[400] <= FAILURES_PER_ADDRESS, answers  # (all may be refused: see above)
    assert answers[429] == GUESSES - answers[400]


def test_parallel_wrong_current_passwords_are_throttled_like_sign_ins(
    session: Session, two_processes: list[AppProcess]
) -> None:
    email = create_user(session, "viewer")
    clients = []
    for number in range(GUESSES):
        client, token = _client(two_processes[number % 2], "/sign-in")
        assert _sign_in_request(client, token, email, PASSWORD)().status_code == 303
        # A sign-in clears the account's failures; the guesses come after all of them.
        clients.append((client, csrf_from(client.get("/account").text)))
    responses = _all_at_once(
        [
            lambda client=client, token=token: client.post(
                "/account/password",
                data={
                    "current_password": "a wrong guess 12345",
                    "new_password": "a brand new password 1",
                    "new_password_again": "a brand new password 1",
                    "csrftoken": token,
                },
            )
            for client, token in clients
        ]
    )
    for client, _ in clients:
        client.close()
    answers = Counter(response.status_code for response in responses)
    assert set(answers) <= {422, 429}, answers
    assert answers[422] <= FAILURES_PER_ACCOUNT, answers  # (all may be refused: see above)
    assert answers[429] == GUESSES - answers[422]
    assert _attempts(session, f"account:{email}") == answers[422]
    # After the window the right password signs in.
    session.execute(update(LoginAttempt).values(attempted_at=utc_now() - timedelta(hours=1)))
    session.commit()
    signed_in = _sign_in_once(two_processes[0], email, PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"


def test_parallel_requests_for_a_reset_link_are_throttled(
    session: Session, two_processes: list[AppProcess]
) -> None:
    email = create_user(session, "viewer")
    clients = [_client(two_processes[number % 2], "/password/forgot") for number in range(10)]
    responses = _all_at_once(
        [
            lambda client=client, token=token: client.post(
                "/password/forgot", data={"email": email, "csrftoken": token}
            )
            for client, token in clients
        ]
    )
    for client, _ in clients:
        client.close()
    answers = Counter(response.status_code for response in responses)
    assert set(answers) <= {200, 429}, answers
    assert answers[200] <= RESETS_PER_ACCOUNT, answers  # (all may be refused: see above)
    assert _attempts(session, f"reset:account:{email}") == answers[200]
    # After the window a link can be asked for again.
    session.execute(update(LoginAttempt).values(attempted_at=utc_now() - timedelta(hours=1)))
    session.commit()
    with _one_client(two_processes[1], "/password/forgot") as (client, token):
        again = client.post("/password/forgot", data={"email": email, "csrftoken": token})
    assert again.status_code == 200


def _guesses_with_new_forwarded_addresses(app: AppProcess, count: int) -> list[int]:
    """Wrong guesses one after the other, each claiming another client address."""
    with _one_client(app, "/sign-in") as (client, token):
        return [
            _sign_in_request(
                client,
                token,
                f"guess{number}@example.nl",
                "a wrong guess 12345",
                **{"X-Forwarded-For": f"203.0.113.{number}"},
            )().status_code
            for number in range(count)
        ]


def test_a_new_forwarded_address_per_guess_does_not_escape_the_address_limit(
    database_url: str, session: Session
) -> None:
    with AppProcess(database_url) as app:
        answers = _guesses_with_new_forwarded_addresses(app, FAILURES_PER_ADDRESS + 5)
    assert answers == [400] * FAILURES_PER_ADDRESS + [429] * 5
    assert _attempts(session, "address:127.0.0.1") == FAILURES_PER_ADDRESS


def test_the_forwarded_address_counts_behind_a_trusted_proxy(
    database_url: str, session: Session
) -> None:
    with AppProcess(database_url, FORWARDED_ALLOW_IPS="127.0.0.1") as app:
        answers = _guesses_with_new_forwarded_addresses(app, FAILURES_PER_ADDRESS + 5)
        # One forwarded client guessing on its own is held at its own limit.
        with _one_client(app, "/sign-in") as (client, token):
            same_client = [
                _sign_in_request(
                    client,
                    token,
                    f"other{number}@example.nl",
                    "a wrong guess 12345",
                    **{"X-Forwarded-For": "198.51.100.7"},
                )().status_code
                for number in range(FAILURES_PER_ADDRESS + 1)
            ]
    assert answers == [400] * (FAILURES_PER_ADDRESS + 5)
    assert _attempts(session, "address:127.0.0.1") == 0
    assert _attempts(session, "address:203.0.113.0") == 1
    assert same_client == [400] * FAILURES_PER_ADDRESS + [429]


def test_forwarded_allow_ips_takes_addresses_and_networks_only() -> None:
    def trusted(value: str) -> list[str]:
        return Settings(forwarded_allow_ips=value, _env_file=None).trusted_proxies  # type: ignore[call-arg]

    assert trusted("") == []
    assert trusted("127.0.0.1, 10.0.0.0/8,::1") == ["127.0.0.1", "10.0.0.0/8", "::1"]
    assert trusted("*") == ["*"]
    with pytest.raises(ValidationError, match="proxy.local"):
        trusted("127.0.0.1,proxy.local")
