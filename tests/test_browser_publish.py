"""Publishing in a real browser, on a desktop and on a phone: the period page leads to the
confirmation page, which shows the counts, refuses to publish until the coordinator has made
the choice, and then publishes. Every page on the way passes an axe-core scan and none
scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from app.config import Settings
from app.periods.models import PeriodState, ReportingPeriod
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD
from tests.test_publishing import _in_review

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine, expire_on_commit=False) as session:
            world = _in_review(session)
            server.coordinator = world.round.coordinator_email  # type: ignore[attr-defined]
            server.period_id = world.period_id  # type: ignore[attr-defined]
        yield server


def _no_violations(axe: Axe, page) -> None:  # type: ignore[no-untyped-def]
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (page.url, results.generate_report())


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    """The page's content does not stick out sideways (a wide table may scroll inside its
    own box). The site header is the frame's, not this page's."""
    overflow = page.evaluate(
        "() => { const main = document.querySelector('main');"
        " return main.scrollWidth - main.clientWidth; }"
    )
    assert overflow <= 0, (page.url, overflow)


@pytest.mark.parametrize("width", [1280, 375])
def test_publishing_asks_for_the_choice_and_then_publishes(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, server.coordinator, PASSWORD)
    period_url = f"{server.url}/periods/{server.period_id}"

    page.goto(period_url)
    _fits(page)
    # The way forward and the way back do not look alike, nor sit together.
    publish = page.get_by_role("link", name="Controleren en publiceren…")
    reopen = page.get_by_role("button", name="Uitvraag heropenen")
    assert publish.is_visible() and reopen.is_visible()
    assert publish.evaluate("e => getComputedStyle(e).backgroundColor") != reopen.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert publish.bounding_box()["y"] < reopen.bounding_box()["y"]  # type: ignore[index]
    assert page.get_by_role("heading", name="Of een stap terug").is_visible()
    # Labelled distinctly, styled as the primary and a secondary action, and apart: the step
    # back sits in its own box under a rule, well below the way forward.
    assert publish.inner_text().strip() != reopen.inner_text().strip()
    assert "primary-action" in (publish.get_attribute("class") or "")
    assert "secondary-action" in (reopen.get_attribute("class") or "")
    assert publish.evaluate("e => getComputedStyle(e).color") != reopen.evaluate(
        "e => getComputedStyle(e).color"
    )
    back = page.locator("#step-back")
    assert back.evaluate("e => parseFloat(getComputedStyle(e).borderTopWidth)") >= 1
    assert page.locator("#step-forward #step-reopen-round").count() == 0
    forward_box = page.locator("#step-forward").bounding_box()
    back_box = back.bounding_box()
    assert forward_box is not None and back_box is not None
    assert back_box["y"] >= forward_box["y"] + forward_box["height"] + 16
    publish.click()
    page.wait_for_url("**/publish")
    _fits(page)
    _no_violations(axe, page)

    summary = page.locator("#publication-summary")
    assert "125" in summary.locator('[data-count="not_updated"]').inner_text()
    police = page.locator('#publication-by-organisation tr[data-organisation="Politie"]')
    assert police.locator('[data-column="changed"]').inner_text() == "2"
    # The activities that were not updated are a click away.
    items = page.locator("#not-updated-items li")
    assert items.count() == 125 and not items.first.is_visible()
    page.get_by_text("Toon de 125 activiteiten die niet zijn bijgewerkt").click()
    assert items.first.is_visible()
    _fits(page)

    # On the confirmation page too: publishing is the one button, going back a plain link.
    final = page.get_by_role("button", name="Definitief publiceren")
    cancel = page.get_by_role("link", name="Niet publiceren, terug naar de periode")
    assert final.is_visible() and cancel.is_visible()
    assert final.evaluate("e => getComputedStyle(e).backgroundColor") != cancel.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )

    # Publishing without the choice: refused, with the reason, and nothing published.
    page.get_by_role("button", name="Definitief publiceren").click()
    page.wait_for_load_state()
    error = page.locator("#publish-error")
    assert "125 activiteiten zijn niet bijgewerkt" in error.inner_text()
    assert "2 voorstellen zijn niet goedgekeurd" in error.inner_text()
    _no_violations(axe, page)
    with Session(server.app.state.engine) as session:
        period = session.get(ReportingPeriod, server.period_id)
        assert period is not None and period.state == PeriodState.in_review

    # With the choice made: published.
    page.get_by_label("Ik publiceer met 125 activiteiten die niet zijn bijgewerkt").check()
    page.get_by_label("Ik publiceer zonder 2 voorstellen die niet zijn goedgekeurd").check()
    page.get_by_role("button", name="Definitief publiceren").click()
    page.wait_for_url("**done=publish")
    assert "Gepubliceerd" in page.locator(".period-state").first.inner_text()
    _fits(page)
    _no_violations(axe, page)
    context.close()
    assert not errors
