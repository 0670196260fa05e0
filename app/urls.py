"""`url_for` for the templates, by a look-up of the route's name instead of a search.

Starlette's `url_for` asks every route of the app in turn whether it has the name, and each
one that has not says so by raising an exception: with a hundred routes, each link a page
prints cost about as much as the rest of the page's header together. The answer is the same:
the routes with the name, in the app's order, are asked in that order; a name the index does
not know is asked of the whole app, as Starlette does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import pass_context
from starlette.datastructures import URL, URLPath
from starlette.requests import Request
from starlette.routing import BaseRoute, NoMatchFound, Router


def _leaves(routes: list[BaseRoute]) -> Iterator[Any]:
    """Every route in the order the app searches them; FastAPI's included routers as the
    routes they hold (with their prefixes applied)."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        else:
            yield route


class RouteIndex:
    """The app's routes by name. Built at the first link (create_app adds every route
    before the app serves anything). None when a route without a name could answer any name
    (a nameless mount): then every name is searched the usual way."""

    def __init__(self, router: Router) -> None:
        self.router = router
        by_name: dict[str, list[Any]] = {}
        usable = True
        for leaf in _leaves(router.routes):
            name = getattr(leaf, "name", None)
            if not isinstance(name, str):
                usable = False
                break
            by_name.setdefault(name, []).append(leaf)
        self.by_name: dict[str, list[Any]] | None = by_name if usable else None

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        candidates = self.by_name.get(name) if self.by_name is not None else None
        if candidates:
            for candidate in candidates:
                try:
                    path: URLPath = candidate.url_path_for(name, **path_params)
                    return path
                except NoMatchFound:
                    pass
        return self.router.url_path_for(name, **path_params)


def route_index(request: Request, router: Router) -> RouteIndex:
    """The index of the app's router, kept on the app."""
    state = request.app.state
    index: RouteIndex | None = getattr(state, "route_index", None)
    if index is None or index.router is not router:
        index = state.route_index = RouteIndex(router)
    return index


def url_for_request(request: Request, name: str, /, **path_params: Any) -> URL:
    """What `request.url_for(name, **path_params)` answers."""
    router = request.scope.get("router")
    if not isinstance(router, Router):
        return request.url_for(name, **path_params)
    path = route_index(request, router).url_path_for(name, **path_params)
    return path.make_absolute_url(base_url=request.base_url)


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    """The templates' `url_for` (as Starlette's: the request is the template's)."""
    return url_for_request(context["request"], name, **path_params)
