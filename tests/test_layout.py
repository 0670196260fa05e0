"""One status badge: its markup comes from one macro, its look from one stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.activities.presentation import STATUS_STYLES
from app.config import PROJECT_ROOT
from app.web import status_stylesheet
from tests.test_board import SLUG

TEMPLATES = PROJECT_ROOT / "templates"
BADGE_MACRO = TEMPLATES / "_partials.html"
BADGE_STYLESHEET = TEMPLATES / "status.css"
# What makes a badge look like one; a page may still adapt a badge to its layout (let it wrap
# in a narrow column, keep its colour in print) with other properties.
BADGE_LOOK = {"background", "background-color", "color", "border", "border-radius", "min-width"}


def _files(root: Path, *patterns: str) -> dict[Path, str]:
    return {
        path: path.read_text()
        for pattern in patterns
        for path in sorted(root.rglob(pattern))
        if "vendor" not in path.parts
    }


def _rules(css: str) -> list[tuple[str, set[str]]]:
    """(selector, property names) of every rule that holds declarations."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [
        (selector.strip(), {d.split(":")[0].strip() for d in body.split(";") if ":" in d})
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
    ]


# -- the status badge ------------------------------------------------------------------------


def test_one_macro_writes_the_status_badge_markup() -> None:
    sources = _files(TEMPLATES, "*.html") | _files(PROJECT_ROOT / "app", "*.py")
    assert BADGE_MACRO in sources and len(sources) > 50
    writers = {path: text.count("status__symbol") for path, text in sources.items()}
    assert {path: count for path, count in writers.items() if count} == {BADGE_MACRO: 1}


def test_one_stylesheet_gives_the_status_badge_its_look() -> None:
    stylesheets = _files(PROJECT_ROOT / "static", "*.css") | _files(TEMPLATES, "*.css")
    stylesheets[BADGE_STYLESHEET] = status_stylesheet()  # a template: as it is served
    for path, html in _files(TEMPLATES, "*.html").items():
        stylesheets[path] = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
    assert len(stylesheets) > 5
    styling = {
        path
        for path, css in stylesheets.items()
        for selector, properties in _rules(css)
        if re.search(r"\.status(__symbol|--)", selector) and properties & BADGE_LOOK
    }
    assert styling == {BADGE_STYLESHEET}


def test_the_badge_stylesheet_has_every_status_colour_and_is_served(client: TestClient) -> None:
    css = status_stylesheet()
    for status, style in STATUS_STYLES.items():
        rule = f".status--{status.value} .status__symbol {{ background: {style.colour}; "
        assert rule + f"color: {style.ink}; }}" in css, status
    response = client.get("/assets/status.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert response.text == css


def test_the_symbol_only_badge_is_labelled_beside_it(seeded_client: TestClient) -> None:
    page = BeautifulSoup(seeded_client.get(f"/programmes/{SLUG}/activities").text, "html.parser")
    labels = page.select(".status-filter label")
    assert len(labels) == len(STATUS_STYLES)
    for label in labels:
        badge = label.select_one(".status")
        assert badge is not None and badge.select_one(".status__symbol[aria-hidden=true]")
        assert badge.get_text(strip=True) == badge.select_one(".status__symbol").get_text()
        assert label.get_text(" ", strip=True).removeprefix(badge.get_text()).strip()
