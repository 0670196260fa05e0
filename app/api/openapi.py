"""The OpenAPI schema of the JSON API, as `/api/openapi.json` serves it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.permissions import SESSION_COOKIE

# How a client authenticates: an API token, or the session of a signed-in browser (the
# interactive documentation). The route rules (app/permissions.py) check them; the schema
# says so, once for every operation.
SECURITY_SCHEMES = {
    "token": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (your account page, or `voortgang token create`): "
        "`Authorization: Bearer vg_…`",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The session of a signed-in browser",
    },
}


def api_schema(app: FastAPI) -> dict[str, Any]:
    """The app's schema (FastAPI builds it once) with the ways to authenticate."""
    schema = app.openapi()
    if "security" not in schema:
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        schema["security"] = [{name: []} for name in SECURITY_SCHEMES]
    return schema
