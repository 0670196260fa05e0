"""The update round end to end in a real browser: the coordinator opens the 2022 round, an
editor proposes a change, the coordinator approves it and publishes, and a change to the
published period is refused. Every page on the way passes an axe-core scan."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select
from sqlmodel import Session

from app.activities import service as activities
from app.activities.models import Status
from app.config import Settings
from app.programmes.models import Activity, ActivityOrganisation, Organisation
from tests.browser import WCAG_21_AA, LiveServer, sign_in_page
from tests.factories import PASSWORD, create_user, current_user, open_round
from tests.test_board import SLUG

pytestmark = pytest.mark.browser


@pytest.fixture
def server(seeded_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(seeded_settings) as server:
        with Session(server.app.state.engine) as session:
            server.editor = create_user(session, "editor", ("IND",))  # type: ignore[attr-defined]
            server.coordinator = create_user(session, "coordinator")  # type: ignore[attr-defined]
            server.activity = session.scalars(  # type: ignore[attr-defined]
                select(Activity.id)
                .join(ActivityOrganisation, ActivityOrganisation.activity_id == Activity.id)
                .join(Organisation, Organisation.id == ActivityOrganisation.organisation_id)
                .where(Organisation.code == "IND")
                .order_by(Activity.id)
            ).first()
        yield server


def _signed_in(browser, server, email):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_page(page, server.url, email, PASSWORD)
    return context, page, errors


def _no_violations(axe: Axe, page) -> None:  # type: ignore[no-untyped-def]
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, (page.url, results.generate_report())


def test_open_propose_approve_publish_then_changes_are_refused(browser, server) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    activity = server.activity
    coordinator, coordinator_page, coordinator_errors = _signed_in(
        browser, server, server.coordinator
    )
    page = coordinator_page

    # The coordinator creates the 2022 period and opens the round.
    page.goto(f"{server.url}/programmes/{SLUG}/periods")
    _no_violations(axe, page)
    page.fill("#period-name", "Voortgangsrapportage 2022")
    page.fill("#period-reference", "2022-11-01")
    page.fill("#period-deadline", "2022-11-15")
    page.get_by_role("button", name="Aanmaken als concept").click()
    page.wait_for_url("**done=created")
    period_url = page.url.split("?")[0]
    _no_violations(axe, page)
    page.get_by_role("button", name="Uitvraag openen").click()
    page.wait_for_url("**done=open")
    assert "De uitvraag is geopend" in page.locator("#period-done").inner_text()
    assert page.locator("#count-not-updated").inner_text() == "128"

    # The editor lands on the board with a to-do list and proposes a change in place.
    editor, editor_page, editor_errors = _signed_in(browser, server, server.editor)
    todo = editor_page.locator("#todo")
    todo.wait_for()
    assert "Voortgangsrapportage 2022" in todo.inner_text()
    _no_violations(axe, editor_page)
    editor_page.goto(f"{server.url}/activities/{activity}")
    editor_page.wait_for_function("() => window.htmx !== undefined")
    assert editor_page.get_by_text("nog niet bijgewerkt voor deze periode").count() == 1
    editor_page.get_by_role("link", name="Stand van zaken wijzigen").click()
    editor_page.locator(f"#status-{activity}").wait_for()
    _no_violations(axe, editor_page)
    editor_page.select_option(f"#status-{activity}", "delayed")
    editor_page.fill(f"#explanation-{activity}", "Vertraagd: de aanbesteding loopt uit tot 2023.")
    editor_page.get_by_role("button", name="Opslaan").click()
    editor_page.wait_for_selector(f"#activity-{activity}-current .status--delayed")
    assert (
        "voorstel, wacht op beoordeling"
        in editor_page.locator(f"#activity-{activity}-current").inner_text()
    )
    editor_page.goto(f"{server.url}{period_url.removeprefix(server.url)}/todo")
    _no_violations(axe, editor_page)

    # The coordinator reviews: the proposal sits beside last year's text, flagged.
    page.goto(f"{period_url}/review")
    proposal = page.locator(".proposal")
    assert proposal.count() == 1
    assert "aanbesteding" in proposal.locator("ins").all_inner_texts()
    assert "Status achteruitgegaan" in proposal.inner_text()
    _no_violations(axe, page)
    proposal.get_by_role("button", name="Goedkeuren").click()
    page.wait_for_url("**done=approve")
    assert page.locator(".proposal").count() == 0
    _no_violations(axe, page)
    page.goto(f"{period_url}/progress")
    _no_violations(axe, page)

    # Close the round and publish.
    page.goto(period_url)
    page.get_by_role("button", name="Uitvraag sluiten voor beoordeling").click()
    page.wait_for_url("**done=review")
    page.get_by_role("link", name="Controleren en publiceren…").click()
    page.wait_for_url("**/publish")
    _no_violations(axe, page)
    page.get_by_label("Ik publiceer met 127 activiteiten die niet zijn bijgewerkt").check()
    page.get_by_role("button", name="Definitief publiceren").click()
    page.wait_for_url("**done=publish")
    assert "Gepubliceerd" in page.locator(".period-state").first.inner_text()
    _no_violations(axe, page)

    # The editor can no longer change it: no change link, and a direct try is refused.
    editor_page.goto(f"{server.url}/activities/{activity}")
    current = editor_page.locator(f"#activity-{activity}-current")
    assert "Vertraagd: de aanbesteding loopt uit tot 2023." in current.inner_text()
    assert current.get_by_role("link", name="Stand van zaken wijzigen").count() == 0
    assert "gepubliceerd en kan niet meer veranderen" in current.inner_text()
    response = editor_page.goto(f"{server.url}/activities/{activity}/edit?context=page")
    assert response is not None and response.status == 409
    assert (
        "is gepubliceerd en kan niet meer veranderen"
        in editor_page.locator("#error-message").inner_text()
    )
    _no_violations(axe, editor_page)

    # A correction needs a reason, which the period page then shows.
    page.goto(period_url)
    page.fill("#reason-correct", "Typefout in de toelichting van activiteit 1.")
    page.get_by_role("button", name="Correctie starten").click()
    page.wait_for_url("**done=correct")
    assert "Typefout in de toelichting" in page.locator(".corrections").inner_text()
    page.goto(f"{period_url}?lang=en")
    _no_violations(axe, page)

    coordinator.close()
    editor.close()
    assert not coordinator_errors and not editor_errors


def test_the_approve_button_is_absent_on_ones_own_proposal(browser, server) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    with Session(server.app.state.engine) as session:
        other_coordinator = create_user(session, "coordinator")
        period_id = open_round(session)
        author = current_user(session, server.coordinator)
        current = activities.latest_update(
            session, activity_id=server.activity, period_id=period_id
        )
        assert current is not None
        proposal = activities.record_status(
            session,
            activity_id=server.activity,
            period_id=period_id,
            status=Status.completed,
            explanation="Afgerond in 2022: het protocol is vastgesteld.",
            author=author,
            based_on_version=current.version,
        )
        proposal_id = proposal.id
        session.commit()
        title = session.get(Activity, server.activity).title  # type: ignore[union-attr]

    # The coordinator who wrote it sees it, but no approve button and no box to select it.
    context, page, errors = _signed_in(browser, server, server.coordinator)
    page.goto(f"{server.url}/periods/{period_id}/review")
    card = page.locator(f"#proposal-{proposal_id}")
    assert card.is_visible()
    # (Button names read "Goedkeuren: <title>"; a name matches by its words.)
    assert card.get_by_role("button", name="Goedkeuren").count() == 0
    assert card.get_by_role("checkbox").count() == 0
    assert page.get_by_role("button", name="Geselecteerde voorstellen goedkeuren").count() == 0
    assert "Vier ogen" in card.locator(f"#own-proposal-{proposal_id}").inner_text()
    assert card.get_by_role("button", name="Terugsturen").is_visible()
    _no_violations(axe, page)
    context.close()

    # Another coordinator is offered it, and approving works.
    context, page, other_errors = _signed_in(browser, server, other_coordinator)
    page.goto(f"{server.url}/periods/{period_id}/review")
    card = page.locator(f"#proposal-{proposal_id}")
    approve = card.get_by_role("button", name="Goedkeuren")
    assert title in approve.inner_text()
    assert approve.is_visible()
    assert card.locator(f"#own-proposal-{proposal_id}").count() == 0
    approve.click()
    page.wait_for_url("**done=approve")
    assert page.locator(f"#proposal-{proposal_id}").count() == 0
    context.close()
    assert not errors and not other_errors


def test_a_coordinator_plans_a_reminder_on_the_period_page(browser, server) -> None:  # type: ignore[no-untyped-def]
    axe = Axe()
    with Session(server.app.state.engine) as session:
        period_id = open_round(session)  # deadline 15 November 2022
    context, page, errors = _signed_in(browser, server, server.coordinator)
    page.goto(f"{server.url}/periods/{period_id}")
    section = page.locator("#reminders")
    assert "Er zijn geen herinneringen gepland." in section.inner_text()
    assert "Voor deze periode zijn nog geen herinneringen verstuurd." in section.inner_text()
    page.get_by_label("Herinnering plannen, dagen voor de uiterste datum").fill("7")
    page.get_by_role("button", name="Herinnering plannen").click()
    page.wait_for_url("**done=reminder-planned")
    assert "De herinnering is gepland." in page.locator("#period-done").inner_text()
    planned = page.locator("#planned-reminders li")
    assert planned.count() == 1
    assert "7 dagen voor de uiterste datum" in planned.inner_text()
    assert "8 november 2022" in planned.inner_text()
    _no_violations(axe, page)
    # Planned twice: refused with the reason, and nothing changes.
    page.get_by_label("Herinnering plannen, dagen voor de uiterste datum").fill("7")
    page.get_by_role("button", name="Herinnering plannen").click()
    assert "al gepland" in page.locator("#period-error").inner_text()
    assert page.locator("#planned-reminders li").count() == 1
    # At phone width the section does not scroll sideways.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{server.url}/periods/{period_id}")
    assert page.evaluate(
        "() => { const s = document.querySelector('#planned-reminders');"
        " return s.scrollWidth <= s.clientWidth; }"
    )
    page.get_by_role("button", name="Van de planning halen").click()
    page.wait_for_url("**done=reminder-unplanned")
    assert page.locator("#planned-reminders li").count() == 0
    context.close()
    assert not errors
