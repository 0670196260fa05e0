"""The templates' url_for (app/urls.py) answers what Starlette's request.url_for answers, for
every named route of the app, and refuses what it refuses."""

from __future__ import annotations

import re

import pytest
from starlette.requests import Request
from starlette.routing import NoMatchFound

from app.config import Settings
from app.main import create_app
from app.permissions import iter_routes
from app.urls import url_for_request


def _request(app: object, root_path: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("example.org", 8080),
            "path": "/",
            "root_path": root_path,
            "query_string": b"",
            "headers": [(b"host", b"example.org:8080")],
            "app": app,
            "router": app.router,  # type: ignore[attr-defined]
        }
    )


@pytest.mark.parametrize("root_path", ["", "/behind-a-proxy"])
def test_every_named_route_gets_the_url_starlette_gives(settings: Settings, root_path: str) -> None:
    app = create_app(settings)
    try:
        request = _request(app, root_path)
        routes = [route for route in iter_routes(app.routes) if getattr(route, "name", None)]
        assert len(routes) > 50
        for route in routes:
            path = getattr(route, "path", "")
            params = {name: f"{name}-1" for name in re.findall(r"{(\w+)(?::\w+)?}", path)}
            if route.name == "static":  # type: ignore[attr-defined]
                params = {"path": "vendor/htmx/htmx.min.js"}
            expected = request.url_for(route.name, **params)  # type: ignore[attr-defined]
            assert url_for_request(request, route.name, **params) == expected  # type: ignore[attr-defined]
            assert str(expected).startswith(f"http://example.org:8080{root_path}/")
    finally:
        app.state.engine.dispose()


def test_unknown_names_and_wrong_parameters_are_refused_as_starlette_refuses(
    settings: Settings,
) -> None:
    app = create_app(settings)
    try:
        request = _request(app)
        for name, params in (("no_such_route", {}), ("activity", {}), ("activity", {"x": 1})):
            with pytest.raises(NoMatchFound):
                request.url_for(name, **params)
            with pytest.raises(NoMatchFound):
                url_for_request(request, name, **params)
    finally:
        app.state.engine.dispose()
