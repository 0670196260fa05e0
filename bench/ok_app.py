"""The ceiling for bench/run.py: a bare ASGI app that answers every request with "ok".

    uvicorn ok_app:app --app-dir bench --port 8000

No framework, no middleware, no database: what uvicorn and the HTTP round trip cost on
their own. A 304 of the app is measured against it.
"""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})
