"""One frame, one status badge, one language switch: every page's head and language switch come
from templates/base.html (the public site extends it), the status badge's markup from one macro
and its look from one stylesheet, and the language switch returns to the page as it was asked
for, query string and all, on internal pages and on the public site's cached ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.activities.presentation import STATUS_STYLES
from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.web import status_stylesheet
from tests.test_board import SLUG
from tests.test_public import seed_period_id

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


# -- one frame -------------------------------------------------------------------------------


def test_every_page_shares_one_head_and_one_language_switch() -> None:
    templates = _files(TEMPLATES, "*.html")
    documents = {path for path, text in templates.items() if "<!doctype" in text.lower()}
    # The PDF renderers' documents are not pages: no header, no language switch.
    pdf_documents = {
        TEMPLATES / "public" / "summary_pdf.html",
        TEMPLATES / "exports" / "table.html",
        TEMPLATES / "exports" / "monitor.html",
    }
    assert documents == {TEMPLATES / "base.html"} | pdf_documents
    public_base = templates[TEMPLATES / "public" / "base.html"]
    assert re.search(r'^{% extends "base.html" %}$', public_base, re.M)
    switches = {path for path, text in templates.items() if "language-switch" in text}
    assert switches == {TEMPLATES / "base.html"}


def test_a_public_page_has_the_frame_without_what_belongs_to_a_session(
    seeded_client: TestClient,
) -> None:
    """Signed in or not, a public page (cached for every visitor) has the internal pages' head
    and header, less the account menu, the CSRF header and the scripts."""
    internal = BeautifulSoup(seeded_client.get(f"/programmes/{SLUG}").text, "html.parser")
    summary = f"/public/{SLUG}/{seed_period_id(seeded_client)}"
    public = BeautifulSoup(seeded_client.get(summary).text, "html.parser")
    assert internal.select_one(".account-menu") and internal.body.has_attr("hx-headers")
    assert internal.select("head script")
    assert not public.select(".account-menu") and not public.body.has_attr("hx-headers")
    assert not public.select("script") and not public.select("#htmx-error")
    sheets = [link["href"] for link in internal.select("head link[rel=stylesheet]")]
    public_sheets = [link["href"] for link in public.select("head link[rel=stylesheet]")]
    assert public_sheets[:-1] == sheets and public_sheets[-1].endswith("/static/public.css")
    assert "public-site" in public.body["class"]
    for page in (internal, public):
        assert page.select_one("a.nl-skip-link[href='#main']") and page.select_one("main#main")
        assert page.select_one("meta[name=viewport]") and page.select_one(".language-switch")


# -- the language switch keeps the query string ----------------------------------------------


def _next(target: str) -> str:
    return quote(target, safe="/")


def _switch(response: object) -> dict[str, str]:
    """The language switch's links: language → where it returns to."""
    html = response.text  # type: ignore[attr-defined]
    links = BeautifulSoup(html, "html.parser").select(".language-switch a[hreflang]")
    targets = {}
    for link in links:
        url = urlsplit(link["href"])
        assert not url.scheme and url.path == f"/language/{link['hreflang']}", link["href"]
        targets[link["hreflang"]] = parse_qs(url.query)["next"][0]
    assert len(targets) == 1, html[:300]  # the other language than the page's
    return targets


def test_internal_switch_keeps_the_filters_in_both_languages(seeded_client: TestClient) -> None:
    board = f"/programmes/{SLUG}/activities?status=delayed&status=completed&q=covid+19"
    dutch = seeded_client.get(board)
    assert _switch(dutch) == {"en": board}
    switched = seeded_client.get(f"/language/en?next={_next(board)}", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == board
    english = seeded_client.get(board)
    page = BeautifulSoup(english.text, "html.parser")
    assert page.html["lang"] == "en"
    assert page.select_one("#filter-status-delayed").has_attr("checked")
    assert page.select_one("#filter-q")["value"] == "covid 19"
    assert _switch(english) == {"nl": board}
    seeded_client.get(f"/language/nl?next={_next(board)}")
    assert BeautifulSoup(seeded_client.get(board).text, "html.parser").html["lang"] == "nl"


def test_the_switch_leaves_out_the_language_of_the_address(seeded_client: TestClient) -> None:
    """`?lang=en` would outvote the language chosen: it is the one parameter not kept."""
    english = seeded_client.get(f"/programmes/{SLUG}/activities?status=delayed&lang=en")
    assert _switch(english) == {"nl": f"/programmes/{SLUG}/activities?status=delayed"}
    assert _switch(seeded_client.get(f"/programmes/{SLUG}?lang=en")) == {
        "nl": f"/programmes/{SLUG}"
    }


@pytest.fixture
def visitor(seeded_settings: Settings) -> Iterator[TestClient]:
    """Someone without an account, on the seeded database."""
    app = create_app(seeded_settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_public_switch_keeps_the_query_string(visitor: TestClient) -> None:
    summary = f"/public/{SLUG}/{seed_period_id(visitor)}"
    assert _switch(visitor.get(summary)) == {"en": summary}
    assert _switch(visitor.get(f"{summary}?from=newsletter")) == {
        "en": f"{summary}?from=newsletter"
    }
    english = visitor.get(f"{summary}?from=newsletter&lang=en")
    assert BeautifulSoup(english.text, "html.parser").html["lang"] == "en"
    assert _switch(english) == {"nl": f"{summary}?from=newsletter"}
    # A page that is not cached (not found) keeps it too.
    assert _switch(visitor.get(f"/public/{SLUG}/999999?from=newsletter")) == {
        "en": f"/public/{SLUG}/999999?from=newsletter"
    }


def test_a_cached_public_page_gets_each_requests_own_switch(visitor: TestClient) -> None:
    table = f"/public/{SLUG}/{seed_period_id(visitor)}/table"
    first = visitor.get(f"{table}?a=1")
    cache = visitor.app.state.cache  # type: ignore[attr-defined]
    cached = len(cache)
    second = visitor.get(f"{table}?b=2&c=%C3%A9")
    assert len(cache) == cached  # the same page, from the cache
    assert _switch(first) == {"en": f"{table}?a=1"}
    assert _switch(second) == {"en": f"{table}?b=2&c=%C3%A9"}
    assert _switch(visitor.get(table)) == {"en": table}
    for response in (first, second):
        assert not re.search("query-[0-9a-f]{32}", response.text)  # no placeholder left
    # Following the link: the same address, in English.
    switched = visitor.get(f"/language/en?next={_next(table + '?b=2')}", follow_redirects=False)
    assert switched.headers["location"] == f"{table}?b=2"
    english = visitor.get(f"{table}?b=2")
    assert BeautifulSoup(english.text, "html.parser").html["lang"] == "en"
    assert _switch(english) == {"nl": f"{table}?b=2"}
