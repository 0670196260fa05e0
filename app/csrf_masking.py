"""The CSRF token as pages print it: masked afresh for every response (against BREACH).

asgi-csrf's token is the value of the csrftoken cookie, the same on every page for as long as
the cookie lives. Compressed pages that hold it and also show what a request put in them (the
search words, the query string in the language switch) would let someone who sees the sizes
of the encrypted responses guess it a character at a time: the BREACH attack. A page therefore
prints the token masked with a one-time pad (as Django and Rails do): the pad, then the token
XOR the pad. Every response prints another value, so compression has nothing to find; the
CSRF middleware (app/main.py) unmasks what a form or header sends before asgi-csrf compares
it with the cookie. The plain token (the cookie's value, as the API documentation sends it)
is still accepted.
"""

from __future__ import annotations

import base64
import binascii
import secrets

PREFIX = "m."


def mask_token(token: str) -> str:
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    masked = bytes(a ^ b for a, b in zip(raw, pad, strict=True))
    return PREFIX + base64.urlsafe_b64encode(pad + masked).decode().rstrip("=")


def unmask_token(value: str) -> str:
    """The token a masked value stands for; anything else as it came (asgi-csrf refuses what
    does not match the cookie)."""
    if not value.startswith(PREFIX):
        return value
    encoded = value.removeprefix(PREFIX)
    try:
        both = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return value
    if len(both) % 2:
        return value
    half = len(both) // 2
    raw = bytes(a ^ b for a, b in zip(both[:half], both[half:], strict=True))
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return value
