"""The app's structure, read from its source with `ast`: no import cycles among its modules, no
import inside a function (bar a short list of heavy libraries loaded where they are used), and
no route that runs a query or commits (routes call services).

Every checker here reads source text, so each is also tried on a small sample it must flag.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app"

WEASYPRINT = (
    "WeasyPrint takes over a second to import, on top of the app, and loads native libraries"
    " (Pango); only rendering a PDF needs it"
)
# Imports that stay inside a function, by (module, imported top-level package), with the
# reason. Dodging an import cycle is never one: fix the design instead.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("app.exports.pdf", "weasyprint"): WEASYPRINT,
    ("app.public.summary_pdf", "weasyprint"): WEASYPRINT,
}

# What a route must leave to a service: building or running a query, writing, committing.
STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
SESSION_CALLS = frozenset(
    {"execute", "scalars", "scalar", "get", "exec", "add", "add_all", "delete", "merge", "flush"}
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    target: str  # the imported module, as written (resolved for relative imports)
    names: tuple[str, ...]  # for `from target import a, b`: a, b
    in_function: bool


def module_name(path: Path, root: Path = PROJECT_ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_sources() -> dict[str, str]:
    return {module_name(path): path.read_text() for path in sorted(APP.rglob("*.py"))}


def imports_in(module: str, source: str, *, is_package: bool = False) -> Iterator[Import]:
    """Every import statement of a module, at any depth, and whether a function holds it."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, child.lineno, alias.name, (), in_function)
            elif isinstance(child, ast.ImportFrom):
                target = child.module or ""
                if child.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    base = package[: len(package) - child.level + 1]
                    target = ".".join([*base, *([target] if target else [])])
                names = tuple(alias.name for alias in child.names)
                yield Import(module, child.lineno, target, names, in_function)
            yield from walk(child, inside)

    yield from walk(ast.parse(source), False)


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module → the app modules it imports (at module level or in a function). `from a import
    b` imports the module a.b where there is one, else the module a."""

    def known(name: str) -> str | None:
        while name and name not in sources:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {module: set() for module in sources}
    for module, source in sources.items():
        is_package = module == "app" or f"{module}.__init__" in sources
        for found in imports_in(module, source, is_package=is_package):
            targets = [f"{found.target}.{name}" for name in found.names] or [found.target]
            for target in targets:
                imported = known(target)
                if imported is not None and imported != module:
                    graph[module].add(imported)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or around (Tarjan's strongly
    connected components with more than one member)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def function_imports(sources: dict[str, str]) -> list[Import]:
    return [
        found
        for module, source in sources.items()
        for found in imports_in(module, source)
        if found.in_function
    ]


def _receiver_is_session(node: ast.expr) -> bool:
    """`session.x(...)` or `anything.session.x(...)`."""
    return (isinstance(node, ast.Name) and node.id == "session") or (
        isinstance(node, ast.Attribute) and node.attr == "session"
    )


def queries_in(source: str) -> list[tuple[int, str]]:
    """(line, what) for every query built or run, every write and every commit."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in STATEMENT_BUILDERS:
            found.append((node.lineno, f"{function.id}("))
        elif isinstance(function, ast.Attribute):
            if function.attr == "commit":
                found.append((node.lineno, ".commit("))
            elif function.attr in SESSION_CALLS and _receiver_is_session(function.value):
                found.append((node.lineno, f"session.{function.attr}("))
            elif function.attr in STATEMENT_BUILDERS and (
                isinstance(function.value, ast.Name)
                and function.value.id in ("sqlalchemy", "sqlmodel", "sa")
            ):
                found.append((node.lineno, f"{function.value.id}.{function.attr}("))
    return sorted(found)


# -- the checkers, on samples ----------------------------------------------------------------


def test_cycle_checker_finds_a_cycle_through_a_function_import() -> None:
    sources = {
        "app": "",
        "app.a": "from app import b\n",
        "app.b": "def f() -> None:\n    from app.c import thing\n",
        "app.c": "import app.a\nthing = 1\n",
        "app.d": "from app.a import b\n",
    }
    assert cycles(import_graph(sources)) == [["app.a", "app.b", "app.c"]]
    assert cycles(import_graph({**sources, "app.c": "thing = 1\n"})) == []


def test_function_import_checker_finds_imports_at_any_depth() -> None:
    source = (
        "import json\n"
        "def f() -> None:\n"
        "    if True:\n"
        "        from app.b import thing\n"
        "class C:\n"
        "    def method(self) -> None:\n"
        "        import weasyprint\n"
    )
    found = function_imports({"app.a": source})
    assert [(item.line, item.target) for item in found] == [(4, "app.b"), (7, "weasyprint")]


def test_relative_imports_are_resolved() -> None:
    sources = {
        "app": "",
        "app.x": "",
        "app.x.y": "from . import z\n",
        "app.x.z": "from .y import q\n",
    }
    assert cycles(import_graph(sources)) == [["app.x.y", "app.x.z"]]


def test_route_checker_flags_queries_writes_and_commits() -> None:
    source = (
        "from sqlalchemy import select\n"
        "def route(session, reads, request):\n"
        "    users = session.scalars(select(User))\n"
        "    row = session.execute(statement).one()\n"
        "    one = session.scalar(statement)\n"
        "    user = reads.session.get(User, 1)\n"
        "    session.add(user)\n"
        "    session.exec(statement)\n"
        "    session.commit()\n"
        "    sqlalchemy.select(User)\n"
        "    request.query_params.get('page')\n"
        "    {}.update(a=1)\n"
        "    return service.users(session)\n"
    )
    assert queries_in(source) == [
        (3, "select("),
        (3, "session.scalars("),
        (4, "session.execute("),
        (5, "session.scalar("),
        (6, "session.get("),
        (7, "session.add("),
        (8, "session.exec("),
        (9, ".commit("),
        (10, "sqlalchemy.select("),
    ]


# -- the app ---------------------------------------------------------------------------------


def test_the_checkers_read_the_whole_app() -> None:
    sources = app_sources()
    assert {"app", "app.main", "app.db", "app.admin.routes", "app.admin.service"} <= set(sources)
    graph = import_graph(sources)
    assert {"app.models", "app.admin.routes"} <= graph["app.main"]
    assert "app.admin.service" in graph["app.admin.routes"]
    assert len(list(APP.rglob("routes.py"))) >= 10


def test_no_import_cycles_among_app_modules() -> None:
    assert cycles(import_graph(app_sources())) == []


def test_no_imports_inside_functions() -> None:
    found = function_imports(app_sources())
    unexplained = [
        f"{item.module}:{item.line} imports {item.target}"
        for item in found
        if (item.module, item.target.split(".")[0]) not in LAZY_IMPORTS
    ]
    assert unexplained == []
    used = {(item.module, item.target.split(".")[0]) for item in found}
    assert set(LAZY_IMPORTS) - used == set(), "an allowed lazy import is gone: drop it here"


@pytest.mark.parametrize("path", sorted(APP.rglob("routes.py")), ids=lambda path: module_name(path))
def test_routes_leave_queries_and_commits_to_services(path: Path) -> None:
    assert queries_in(path.read_text()) == []
