"""What people see, in a real browser at a phone's width (375 px) and a desktop's (1280 px):
no page scrolls sideways, a list's rows are cards with the status and the edit button in
view, the review page's badges keep their colour, the reply box under a sent-back proposal
has room, the comparison matrix fits, and the "in review" state has a symbol that draws."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import Engine
from sqlmodel import Session

from app.activities import service as activities
from app.activities.models import Status
from app.activities.presentation import STATUS_STYLES
from app.config import Settings
from app.periods import service as periods
from app.review import service as review
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, UpdateRound, create_user, update_round
from tests.test_board import SLUG

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Scene:
    url: str
    engine: Engine
    round: UpdateRound
    proposal: int  # an activity with a proposal awaiting review
    sent_back: int  # an activity whose proposal was sent back


@pytest.fixture
def scene(seeded_settings: Settings) -> Iterator[Scene]:
    """A 2022 round with three proposals by a police editor, one sent back."""
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            rnd = update_round(session)
            first, second, third = rnd.activities[:3]
            updates = {
                activity_id: activities.record_status(
                    session,
                    activity_id=activity_id,
                    period_id=rnd.period_id,
                    status=status,
                    explanation="De planning is aangepast na overleg met de ketenpartners.",
                    author=rnd.editor,
                    based_on_version=1,
                )
                for activity_id, status in (
                    (first, Status.delayed),
                    (second, Status.completed),
                    (third, Status.in_consultation),
                )
            }
            review.send_back(
                session,
                status_update_id=updates[third].id,
                reviewer=rnd.coordinator,
                comment="Graag een datum noemen waarop dit klaar is.",
            )
            session.commit()
        yield Scene(server.url, server.app.state.engine, rnd, proposal=first, sent_back=third)


def _page(browser, scene: Scene, email: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport=viewport)
    page = context.new_page()
    sign_in_page(page, scene.url, email, PASSWORD)
    return context, page


def _page_width(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _within_width(page, locator) -> None:  # type: ignore[no-untyped-def]
    """The element is shown, and whole inside the viewport's width."""
    assert locator.is_visible(), locator
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0, locator
    assert box["x"] + box["width"] <= page.viewport_size["width"], (locator, box)


def test_at_phone_width_no_page_scrolls_sideways(browser, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    pages = [
        f"/programmes/{SLUG}",
        f"/programmes/{SLUG}/activities",
        f"/activities/{scene.proposal}",
        f"/periods/{scene.round.period_id}/review",
        f"/programmes/{SLUG}/periods",
        f"/periods/{scene.round.period_id}",
        f"/programmes/{SLUG}/compare",
    ]
    context, page = _page(browser, scene, scene.round.coordinator_email, PHONE)
    axe = Axe()
    for path in pages:
        page.goto(scene.url + path)
        assert _page_width(page) <= 375, (path, _page_width(page))
        # The header holds the brand, the account menu, the language switch and the main
        # navigation, wrapped.
        for part in (".site-header__brand", ".account-menu", ".language-switch", ".main-nav"):
            _within_width(page, page.locator(part))
        results = axe.run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (path, results.generate_report())
    context.close()


def test_at_phone_width_a_list_row_is_a_card_with_its_status_and_edit_button(
    browser, scene: Scene
) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, scene.round.coordinator_email, PHONE)
    page.goto(f"{scene.url}/programmes/{SLUG}/activities")
    rows = page.locator("table.activity-table tbody tr")
    assert rows.count() == 128
    first = rows.first
    status = first.locator("td[id$='-status'] .status")
    edit = first.locator("a.edit-link")
    for element in (status, edit):
        _within_width(page, element)
    # Each cell on its own line, named by its column (the table's header row is there for
    # screen readers, out of sight).
    cells = first.locator("td")
    assert cells.count() == 5
    labels = [
        cells.nth(index).evaluate("cell => getComputedStyle(cell, '::before').content")
        for index in range(cells.count())
    ]
    assert labels == [
        '"Resultaat: "',
        '"Nr.: "',
        '"Activiteit: "',
        '"Stand van zaken: "',
        '"Toelichting: "',
    ]
    assert page.locator("table.activity-table thead").bounding_box()["height"] <= 1
    # The edit button works from the card: the form takes the row's place.
    edit.click()
    form = page.locator(f"#activity-{scene.proposal} form")
    form.wait_for()
    _within_width(page, form.locator("select[name=status]"))
    assert _page_width(page) <= 375

    # On the activity's own page, its status and the button to change it.
    page.goto(f"{scene.url}/activities/{scene.proposal}")
    _within_width(page, page.locator(f"#activity-{scene.proposal}-status .status"))
    _within_width(page, page.get_by_role("link", name="Stand van zaken wijzigen"))
    context.close()


def test_at_desktop_width_the_list_is_a_table(browser, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, scene.round.coordinator_email, DESKTOP)
    page.goto(f"{scene.url}/programmes/{SLUG}/activities")
    header = page.locator("table.activity-table thead th")
    assert header.count() == 5 and header.first.is_visible()
    assert (
        page.locator("table.activity-table tbody tr").first.evaluate(
            "row => getComputedStyle(row).display"
        )
        == "table-row"
    )
    assert page.locator("table.activity-table tbody td").first.evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    ) in ("none", "normal")
    context.close()


ADMIN_TABLES = {
    "/admin/users": "#users-table",
    "/admin/audit": "#audit-table",
    "/admin/organisations": "#organisations-table",
}


@pytest.fixture
def admin_email(scene: Scene) -> str:
    with Session(scene.engine) as session:
        return create_user(session, "admin")


def test_at_phone_width_the_admin_lists_are_cards(browser, scene: Scene, admin_email: str) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, admin_email, PHONE)
    axe = Axe()
    for path, table in ADMIN_TABLES.items():
        page.goto(scene.url + path)
        assert _page_width(page) <= 375, (path, _page_width(page))
        for part in (".site-header__brand", ".account-menu", ".language-switch", ".main-nav"):
            _within_width(page, page.locator(part))
        rows = page.locator(f"{table} tbody tr")
        assert rows.count() >= 2, path
        # Every row a card inside the screen, each cell named by its column.
        for index in range(min(rows.count(), 5)):
            _within_width(page, rows.nth(index))
        cells = rows.first.locator("td")
        labels = [
            cells.nth(index).evaluate("cell => getComputedStyle(cell, '::before').content")
            for index in range(cells.count())
        ]
        assert cells.count() >= 2 and all(label.endswith(': "') for label in labels), (path, labels)
        assert page.locator(f"{table} thead").bounding_box()["height"] <= 1, path
        results = axe.run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, (path, results.generate_report())
    # The admin reaches the board and the periods from here.
    main_nav = page.locator(".main-nav")
    assert main_nav.get_by_role("link", name="Overzichtsbord").is_visible()
    main_nav.get_by_role("link", name="Rapportageperiodes").click()
    page.wait_for_url(f"**/programmes/{SLUG}/periods")
    context.close()


def test_at_desktop_width_the_admin_lists_are_tables(
    browser, scene: Scene, admin_email: str
) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, admin_email, DESKTOP)
    for path, table in ADMIN_TABLES.items():
        page.goto(scene.url + path)
        assert _page_width(page) <= 1280, (path, _page_width(page))
        assert page.locator(f"{table} thead th").first.is_visible(), path
        display = page.locator(f"{table} tbody tr").first.evaluate(
            "row => getComputedStyle(row).display"
        )
        assert display == "table-row", path
    # The header's rows: the brand, the account and the languages on the first, the
    # navigation under them.
    brand = page.locator(".site-header__brand").bounding_box()
    languages = page.locator(".language-switch").bounding_box()
    navigation = page.locator(".main-nav").bounding_box()
    assert abs(brand["y"] - languages["y"]) < 10 and navigation["y"] > brand["y"] + 10
    context.close()


def test_the_review_page_shows_every_status_in_its_colour(browser, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, scene.round.coordinator_email, DESKTOP)
    page.goto(f"{scene.url}/periods/{scene.round.period_id}/review")
    proposals = page.locator("article.proposal")
    assert proposals.count() == 3
    symbols = page.locator("article.proposal .compare-columns .status__symbol")
    assert symbols.count() == 6  # previous period and proposal, per proposal
    for index in range(symbols.count()):
        badge = symbols.nth(index).locator("xpath=..")
        status = Status(badge.get_attribute("class").split("status--")[1])
        colour = symbols.nth(index).evaluate("node => getComputedStyle(node).backgroundColor")
        hex_colour = STATUS_STYLES[status].colour
        expected = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert colour == "rgb({}, {}, {})".format(*expected), (index, status, colour)
    proposed = page.locator(
        f"#proposal-{_proposal_id(page, scene.proposal)} .compare-columns > div"
    ).nth(1)
    assert proposed.locator(".status--delayed").is_visible()
    context.close()


def _proposal_id(page, activity_id: int) -> str:  # type: ignore[no-untyped-def]
    link = page.locator(f"article.proposal h3 a[href^='/activities/{activity_id}?']")
    return link.locator("xpath=ancestor::article").get_attribute("id").removeprefix("proposal-")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_the_reply_box_under_a_sent_back_proposal_has_room(browser, scene: Scene, viewport) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, scene.round.editor_email, viewport)
    page.goto(f"{scene.url}/activities/{scene.sent_back}")
    returned = page.locator("#returned")
    box = page.get_by_label("Uw antwoord")
    assert returned.is_visible() and box.is_visible()
    # The box spans the note (up to a readable width), under the reviewer's comment.
    note_width = returned.bounding_box()["width"]
    width = box.bounding_box()["width"]
    assert width >= min(note_width * 0.8, 600), (width, note_width)
    assert (
        box.bounding_box()["y"] > returned.get_by_text("Graag een datum noemen").bounding_box()["y"]
    )
    assert _page_width(page) <= viewport["width"]
    context.close()


def test_the_comparison_matrix_fits_at_1280(browser, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    context, page = _page(browser, scene, scene.round.coordinator_email, DESKTOP)
    page.goto(f"{scene.url}/programmes/{SLUG}/compare")
    matrix = page.locator("#status-matrix")
    assert matrix.locator("thead th").count() == 10  # corner, 7 statuses, no status, total
    scroller = matrix.locator("xpath=..")
    scroll_width, client_width = scroller.evaluate("node => [node.scrollWidth, node.clientWidth]")
    assert scroll_width <= client_width, (scroll_width, client_width)
    _within_width(page, matrix.locator("thead th").last)
    context.close()


def test_the_in_review_state_has_a_drawn_symbol(browser, scene: Scene) -> None:  # type: ignore[no-untyped-def]
    with Session(scene.engine) as session:
        periods.move_period(
            session, period_id=scene.round.period_id, move="review", actor=scene.round.coordinator
        )
        session.commit()
    context, page = _page(browser, scene, scene.round.coordinator_email, DESKTOP)
    page.goto(f"{scene.url}/periods/{scene.round.period_id}")
    state = page.locator(".period-state--in_review").first
    assert state.inner_text().strip() == "In beoordeling"
    icon = state.locator(".period-state__symbol svg")
    box = icon.bounding_box()
    assert box is not None and box["width"] >= 10 and box["height"] >= 10
    assert icon.locator("path").count() == 1
    context.close()
