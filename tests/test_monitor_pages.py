"""The monitor's internal pages: editions, an edition's figures as printed (breakdowns,
footnotes, chains, sources), an indicator over the editions, the indicators of a result;
entering figures (htmx and plain form) under the edit policy with breakdown and conflict
checks; the coordinator's edition (create, add figures, move); /periods/<id> of an edition."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.jobs.models import Job, StoredFile
from app.main import create_app
from app.monitor import service
from app.monitor.models import Edition, Figure, FigureVersion, Indicator, IndicatorResult
from app.periods.models import PeriodState, ReportingPeriod
from app.programmes.models import Result
from tests.factories import create_user, csrf_from, sign_in
from tests.test_board import SLUG
from tests.test_monitor import DM, MHM, _open_edition


@dataclass
class World:
    app: Any
    edition_id: int
    figures: dict[str, int]
    emails: dict[str, str]

    def client(self, who: str | None) -> TestClient:
        client = TestClient(self.app)
        if who is not None:
            sign_in(client, self.emails[who])
        return client

    def edition(self, title: str) -> int:
        with Session(self.app.state.engine) as session:
            found = session.scalar(select(Edition.id).where(col(Edition.title) == title))
            assert found is not None
            return found


@pytest.fixture
def world(seeded_settings) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """The seeded monitor plus an open edition (a total with a complete breakdown, supplied by
    NRM), and accounts: a viewer, NRM's editor (the supplier), OM's editor, a coordinator."""
    app = create_app(seeded_settings)
    with Session(app.state.engine, expire_on_commit=False) as session:
        edition_id, figures, _, _ = _open_edition(session)
        emails = {
            "viewer": create_user(session, "viewer"),
            "supplier": create_user(session, "editor", ("NRM",)),
            "other": create_user(session, "editor", ("OM",)),
            "coordinator": create_user(session, "coordinator"),
        }
        ids = {key: figure.id or 0 for key, figure in figures.items()}
    yield World(app, edition_id, ids, emails)
    app.state.engine.dispose()


def _text(html: str, selector: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one(selector)
    assert found is not None, selector
    return " ".join(found.get_text(" ").split())


def _form(world: World, who: str, total: str, vergund: str, overig: str, **extra: str) -> dict:
    with Session(world.app.state.engine) as session:
        current = service.current_versions(session, world.figures.values())
    ids = [world.figures[key] for key in ("total", "vergund", "overig")]
    return {
        "figure": [str(fid) for fid in ids],
        "value": [total, vergund, overig],
        "version": [str(current[fid].version if fid in current else 0) for fid in ids],
        "complete": "complete",
        **extra,
    }


def _versions(world: World) -> int:
    with Session(world.app.state.engine) as session:
        return session.scalar(select(func.count()).select_from(FigureVersion)) or 0


# -- reading ---------------------------------------------------------------------------------


def test_the_editions_are_listed_per_programme_and_linked_from_the_menu(world: World) -> None:
    with world.client("viewer") as client:
        board = client.get(f"/programmes/{SLUG}")
        assert f'href="/programmes/{SLUG}/monitor"' in board.text
        page = client.get(f"/programmes/{SLUG}/monitor")
        assert page.status_code == 200
        listed = _text(page.text, "#editions")
        for title in (MHM, DM, "Mensenhandelmonitor 2021"):
            assert title in listed
        assert "Gepubliceerd" in listed and "Open" in listed
        # A viewer is not offered the coordinator's form.
        assert "new-edition-heading" not in page.text


def test_an_edition_prints_its_values_breakdowns_footnotes_chain_and_sources(
    world: World,
) -> None:
    with world.client("viewer") as client:
        page = client.get(f"/monitor/editions/{world.edition(DM)}")
        assert page.status_code == 200
        soup = BeautifulSoup(page.text, "html.parser")
        table = " ".join(soup.select_one("#figures").get_text(" ").split())  # type: ignore[union-attr]
        assert "> 200" in table and "≈ 95–105" in table and "onbekend" in table
        assert "Deze percentages zijn onderschattingen." in _text(page.text, "#edition-notes")
        chain = soup.select_one(".chain")
        assert chain is not None and "geen cohort" in chain.get_text()
        steps = [" ".join(li.get_text(" ").split()) for li in chain.select(".chain__steps li")]
        assert len(steps) == 8 and "> 200" in steps[1] and "145" in steps[3]
        assert "003_9f3265c74006955c.txt" in table
        # A viewer gets no entry link, and the edition's exports.
        assert "/monitor/figures/" not in page.text
        assert f"/monitor/editions/{world.edition(DM)}/export.pdf" in page.text
        # The Rotterdam edition: "waarvan" parts and a complete breakdown marked.
        mhm = client.get(f"/monitor/editions/{world.edition(MHM)}")
        row = _text(mhm.text, "#figures")
        assert "waarvan vergunde branche" in row and "320" in row and "157" in row
        assert "uitsplitsing volledig" in row
        # A footnote stands beside the figure it belongs to.
        with Session(world.app.state.engine) as session:
            note = session.scalar(
                select(Figure.id).where(
                    col(Figure.key) == "verdachten-aangehouden",
                    col(Figure.edition_id) == world.edition(MHM),
                )
            )
        assert "niet alle aangehouden verdachten" in _text(mhm.text, f"#figure-{note}")
        # In English, the numbers and words of the English catalogue.
        client.get("/language/en?next=/")
        english = client.get(f"/monitor/editions/{world.edition(DM)}")
        assert "unknown" in _text(english.text, "#figures")


def test_the_indicator_page_shows_definition_supplier_results_and_the_series(
    world: World,
) -> None:
    with Session(world.app.state.engine) as session:
        indicator = session.scalar(
            select(Indicator).where(col(Indicator.code) == "bestuurlijke-controles")
        )
        result = session.scalar(select(Result).where(col(Result.number) == 1))
        assert indicator and result
        session.add(IndicatorResult(indicator_id=indicator.id or 0, result_id=result.id or 0))
        session.commit()
        indicator_id, result_title = indicator.id, result.title
    with world.client("viewer") as client:
        page = client.get(f"/monitor/indicators/{indicator_id}")
        assert page.status_code == 200
        facts = _text(page.text, ".facts")
        assert "Bestuurlijke controles in het kader" in facts and "aantal" in facts
        assert f"Resultaat 1: {result_title}" in facts
        series = BeautifulSoup(page.text, "html.parser").select("#series tbody tr")
        years = [row.th.get_text(strip=True) for row in series if row.th]
        assert years == ["2020", "2021"]
        assert "477" in series[0].get_text() and MHM in series[0].get_text()
        assert "nog niet ingevuld" in series[1].get_text()
        # The result's page names its indicators.
        result_page = client.get(f"/programmes/{SLUG}/results/1")
        assert f'href="/monitor/indicators/{indicator_id}"' in result_page.text


def test_a_monitor_period_page_leads_to_its_edition(world: World) -> None:
    with Session(world.app.state.engine) as session:
        edition = session.get(Edition, world.edition_id)
        assert edition is not None
        period_id = edition.period_id
    with world.client("viewer") as client:
        response = client.get(f"/periods/{period_id}", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/monitor/editions/{world.edition_id}"


# -- entering figures ------------------------------------------------------------------------


def test_the_supplier_enters_a_total_with_its_parts_without_javascript(world: World) -> None:
    with world.client("supplier") as client:
        edition = client.get(f"/monitor/editions/{world.edition_id}")
        assert f'href="/monitor/figures/{world.figures["total"]}/edit"' in edition.text
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit")
        assert form.status_code == 200
        data = _form(world, "supplier", "> 200", "150", "≈ 95–105", csrftoken=csrf_from(form.text))
        saved = client.post(
            f"/monitor/figures/{world.figures['total']}", data=data, follow_redirects=False
        )
        assert saved.status_code == 303, saved.text[:500]
        page = client.get(saved.headers["location"])
        row = _text(page.text, f"#figure-{world.figures['total']}")
        assert "> 200" in row and "uitsplitsing volledig" in row
        assert "≈ 95–105" in _text(page.text, f"#figure-{world.figures['overig']}")
    assert _versions(world) == 58 + 3


def test_the_form_through_htmx_answers_with_the_form_and_its_outcome(world: World) -> None:
    with world.client("supplier") as client:
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit")
        headers = {"HX-Request": "true", "x-csrftoken": csrf_from(form.text)}
        saved = client.post(
            f"/monitor/figures/{world.figures['total']}",
            data=_form(world, "supplier", "10", "6", "4"),
            headers=headers,
        )
        assert saved.status_code == 200
        assert saved.text.lstrip().startswith(f'<div id="figure-form-{world.figures["total"]}"')
        assert "opgeslagen" in _text(saved.text, "#figure-done")
        # A bad text: what and where, nothing written.
        bad = client.post(
            f"/monitor/figures/{world.figures['total']}",
            data=_form(world, "supplier", "10", "zes", "4"),
            headers=headers,
        )
        assert bad.status_code == 422
        message = _text(bad.text, f"#value-error-{world.figures['vergund']}")
        assert "„zes”" in message and "controles.vergund" in message
        assert 'aria-invalid="true"' in bad.text
    assert _versions(world) == 58 + 3


def test_a_complete_breakdown_that_does_not_add_up_is_refused_naming_the_figure(
    world: World,
) -> None:
    with world.client("supplier") as client:
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit")
        data = _form(world, "supplier", "477", "320", "150", csrftoken=csrf_from(form.text))
        refused = client.post(f"/monitor/figures/{world.figures['total']}", data=data)
        assert refused.status_code == 422
        message = _text(refused.text, "#figure-error")
        assert "controles (477)" in message and "320 + 150" in message
        # What was typed stays in the form.
        assert 'value="150"' in refused.text
        assert _versions(world) == 58
        data["complete"] = "partial"
        assert (
            client.post(f"/monitor/figures/{world.figures['total']}", data=data).status_code == 200
        )


def test_a_concurrent_change_is_refused_with_409_and_nothing_overwritten(world: World) -> None:
    with world.client("supplier") as first, world.client("coordinator") as second:
        form = first.get(f"/monitor/figures/{world.figures['total']}/edit")
        stale = _form(world, "supplier", "10", "6", "4", csrftoken=csrf_from(form.text))
        other = second.get(f"/monitor/figures/{world.figures['total']}/edit")
        second.post(
            f"/monitor/figures/{world.figures['total']}",
            data=_form(world, "coordinator", "12", "6", "6", csrftoken=csrf_from(other.text)),
        )
        refused = first.post(f"/monitor/figures/{world.figures['total']}", data=stale)
        assert refused.status_code == 409
        assert "intussen opgeslagen" in _text(refused.text, "#figure-error")
        assert "Nu opgeslagen: 12" in refused.text
    with Session(world.app.state.engine) as session:
        current = service.current_versions(session, [world.figures["total"]])
        assert current[world.figures["total"]].author.startswith("Coordinator")


def test_only_the_suppliers_editors_and_coordinators_may_enter_and_output_is_escaped(
    world: World,
) -> None:
    with world.client("other") as client:
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit")
        assert "organisatie die dit cijfer levert" in _text(form.text, "#figure-refused")
        refused = client.post(
            f"/monitor/figures/{world.figures['total']}",
            data=_form(world, "other", "10", "6", "4", csrftoken=csrf_from(form.text)),
        )
        assert refused.status_code == 403
    with world.client("viewer") as client:
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit")
        assert form.status_code == 403
    with world.client("supplier") as client:
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit")
        hostile = _form(world, "supplier", "<script>x</script>", "6", "4")
        hostile["csrftoken"] = csrf_from(form.text)
        answer = client.post(f"/monitor/figures/{world.figures['total']}", data=hostile)
        assert answer.status_code == 422 and "<script>x</script>" not in answer.text
        # Without the CSRF token, refused.
        hostile.pop("csrftoken")
        assert (
            client.post(
                f"/monitor/figures/{world.figures['total']}", data=_form(world, "s", "1", "1", "0")
            ).status_code
            == 403
        )
    assert _versions(world) == 58


# -- the coordinator's edition ---------------------------------------------------------------


def test_a_coordinator_creates_an_edition_adds_figures_and_opens_and_publishes_it(
    world: World,
) -> None:
    with Session(world.app.state.engine) as session:
        indicator = session.scalar(
            select(Indicator).where(col(Indicator.code) == "daders-signalering")
        )
        assert indicator is not None
        indicator_id = indicator.id
    with world.client("coordinator") as client:
        page = client.get(f"/programmes/{SLUG}/monitor")
        soup = BeautifulSoup(page.text, "html.parser")
        publisher = soup.select("#edition-publisher option")[1]["value"]
        area = soup.select("#edition-area option")[1]["value"]
        base = {
            "csrftoken": csrf_from(page.text),
            "title": "Dadermonitor 2020-2024",
            "publisher_id": publisher,
            "covers_from": "2024",
            "covers_to": "2020",
            "area_id": area,
            "introduction": "Eerste editie",
        }
        refused = client.post(f"/programmes/{SLUG}/monitor", data=base)
        assert refused.status_code == 422 and "2024" in _text(refused.text, "#edition-error")
        created = client.post(
            f"/programmes/{SLUG}/monitor",
            data={**base, "covers_from": "2020", "covers_to": "2024"},
            follow_redirects=False,
        )
        assert created.status_code == 303
        edition_url = created.headers["location"].split("?")[0]
        edition = client.get(created.headers["location"])
        assert "Eerste editie" in edition.text and "Concept" in _text(edition.text, ".facts")
        token = csrf_from(edition.text)
        added = client.post(
            f"{edition_url}/figures",
            data={
                "csrftoken": token, "indicator_id": str(indicator_id), "key": "signalering",
                "year_from": "2020", "year_to": "2024", "area_id": area,
            },
            follow_redirects=False,
        )  # fmt: skip
        assert added.status_code == 303
        assert "signalering" in client.get(edition_url).text
        # One round at a time: the open 2021 edition is published first.
        busy = client.post(f"{edition_url}/move", data={"csrftoken": token, "move": "open"})
        assert busy.status_code == 409 and "edition-error" in busy.text
        for move in ("review", "publish"):
            client.post(
                f"/monitor/editions/{world.edition_id}/move",
                data={"csrftoken": token, "move": move},
            )
        for move in ("open", "review", "publish"):
            moved = client.post(
                f"{edition_url}/move", data={"csrftoken": token, "move": move},
                follow_redirects=False,
            )  # fmt: skip
            assert moved.status_code == 303, (move, moved.text[:300])
        wrong = client.post(f"{edition_url}/move", data={"csrftoken": token, "move": "open"})
        assert wrong.status_code == 409
    with Session(world.app.state.engine) as session:
        edition_row = session.scalar(
            select(Edition).where(col(Edition.title) == "Dadermonitor 2020-2024")
        )
        assert edition_row is not None
        period = session.get(ReportingPeriod, edition_row.period_id)
        assert period is not None and period.state == PeriodState.published
        assert session.scalar(
            select(func.count()).select_from(Figure).where(col(Figure.edition_id) == edition_row.id)
        ) == 1  # fmt: skip


def test_editors_and_viewers_may_not_create_or_move_editions(world: World) -> None:
    for who in ("viewer", "supplier"):
        with world.client(who) as client:
            page = client.get(f"/monitor/editions/{world.edition_id}")
            assert "move-review" not in page.text and "add-figure" not in page.text
            token = csrf_from(client.get("/sign-in").text) if who else ""
            response = client.post(
                f"/monitor/editions/{world.edition_id}/move",
                data={"csrftoken": token, "move": "review"},
            )
            assert response.status_code == 403


# -- every page of an edition's period -------------------------------------------------------

PERIOD_PAGES = ("", "/progress", "/todo", "/publish", "/import", "/review")


def _links(html: str) -> set[str]:
    """The internal pages a page links to (not the language switch, files or the sign-out)."""
    soup = BeautifulSoup(html, "html.parser")
    return {
        str(link["href"]).split("#")[0]
        for link in soup.select("a[href^='/']")
        if not str(link["href"]).startswith(("/language", "/static", "/sign-out"))
        and not str(link["href"]).split("?")[0].endswith((".xlsx", ".ods", ".docx", ".pdf"))
    }


def test_every_page_of_an_editions_period_and_every_link_from_it_works(world: World) -> None:
    """The period pages (overview, completeness, to-do list, publication, import, review) of
    an edition's period lead to the edition's own pages, in every state, and nothing an
    edition's pages link to ends in a 404 or 500."""
    with Session(world.app.state.engine) as session:
        published = session.scalar(select(Edition).where(col(Edition.title) == MHM))
        opened = session.get(Edition, world.edition_id)
        assert opened is not None and published is not None
    with world.client("coordinator") as client:
        token = csrf_from(client.get(f"/monitor/editions/{world.edition_id}").text)

        def walk(state: str, edition_id: int | None, period_id: int) -> None:
            pages = {f"/monitor/editions/{edition_id}"} | {
                f"/periods/{period_id}{page}" for page in PERIOD_PAGES
            }
            for page in sorted(pages):
                response = client.get(page)
                assert response.status_code == 200, (state, page, response.status_code)
                for link in sorted(_links(response.text) - pages):
                    if f"/{period_id}" in link or f"/{edition_id}" in link:
                        followed = client.get(link)
                        assert followed.status_code == 200, (state, page, link)
            progress = client.get(f"/periods/{period_id}/progress", follow_redirects=False)
            assert progress.headers["location"] == f"/monitor/editions/{edition_id}"
            sheet = client.get(f"/periods/{period_id}/import", follow_redirects=False)
            assert (
                sheet.headers["location"] == f"/monitor/editions/{edition_id}/figure-sheet/import"
            )

        walk("open", opened.id, opened.period_id)
        client.post(
            f"/monitor/editions/{world.edition_id}/move",
            data={"csrftoken": token, "move": "review"},
        )
        walk("in review", opened.id, opened.period_id)
        walk("published", published.id, published.period_id)
        moved = client.post(
            f"/monitor/editions/{published.id}/move",
            data={"csrftoken": token, "move": "correct", "reason": "Een tikfout"},
            follow_redirects=False,
        )
        assert moved.status_code == 303
        walk("correcting", published.id, published.period_id)


def test_an_editions_breakdowns_footnotes_and_chain_read_in_english_on_english_pages(
    world: World,
) -> None:
    mhm, dm = world.edition(MHM), world.edition(DM)
    with world.client("viewer") as client:
        dutch = client.get(f"/monitor/editions/{mhm}").text
        assert "vergunde branche (sector)" in _text(dutch, "#figures")
        client.get(f"/language/en?next=/monitor/editions/{mhm}")
        english = client.get(f"/monitor/editions/{mhm}").text
        figures = _text(english, "#figures")
        assert "of which licensed sector (sector)" in figures
        assert "human smuggling (offence)" in figures and "not all suspects arrested" in figures
        assert "vergunde branche" not in figures and "mensensmokkel" not in figures
        chain = client.get(f"/monitor/editions/{dm}").text
        assert "Average number of perpetrators" in _text(chain, ".chain")
        assert "not a cohort followed" in _text(chain, ".chain__caveat")
        exported = client.get(f"/monitor/editions/{mhm}/export.xlsx")
        assert exported.status_code == 200
        sheet = load_workbook(io.BytesIO(exported.content)).active
        cells = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value}
        assert {"licensed sector", "closures of 3 months", "duration of the closure"} <= cells
        assert "vergunde branche" not in cells


def test_a_dutch_label_without_english_is_marked_dutch_on_english_pages(world: World) -> None:
    """As on the public pages: a category that falls back to its Dutch source text on an
    English page carries lang="nl"; one with its English, or on a Dutch page, carries none."""
    with Session(world.app.state.engine) as session:
        figure = session.get(Figure, world.figures["vergund"])
        assert figure is not None and figure.category
        figure.category_en = None
        dutch_category = figure.category
        session.add(figure)
        session.commit()
    with world.client("supplier") as client:
        client.get("/language/en?next=/")
        for path in (
            f"/monitor/editions/{world.edition_id}",
            f"/monitor/figures/{world.figures['total']}/edit",
        ):
            soup = BeautifulSoup(client.get(path).text, "html.parser")
            marked = [" ".join(node.get_text().split()) for node in soup.select("main [lang=nl]")]
            assert dutch_category in marked, (path, marked)
        mhm = BeautifulSoup(
            client.get(f"/monitor/editions/{world.edition(MHM)}").text, "html.parser"
        )
        assert mhm.select("#figures [lang=nl]") == []
        client.get("/language/nl?next=/")
        dutch = BeautifulSoup(
            client.get(f"/monitor/editions/{world.edition_id}").text, "html.parser"
        )
        assert dutch.select("main [lang=nl]") == []


def test_the_progress_import_and_export_refuse_an_editions_period(world: World) -> None:
    """The GET pages of an edition's period lead to the edition's own; their POSTs do not
    make a status import or a progress export of an edition either: they say where to go."""

    def jobs_and_files() -> tuple[int, int]:
        with Session(world.app.state.engine) as session:
            return (
                session.scalar(select(func.count()).select_from(Job)) or 0,
                session.scalar(select(func.count()).select_from(StoredFile)) or 0,
            )

    before = jobs_and_files()
    with world.client("coordinator") as client:
        for title in (DM, MHM):
            edition_id = world.edition(title)
            with Session(world.app.state.engine) as session:
                edition = session.get(Edition, edition_id)
                assert edition is not None
                period_id = edition.period_id
            token = csrf_from(client.get(f"/monitor/editions/{edition_id}").text)
            imported = client.post(
                f"/periods/{period_id}/import",
                data={"csrftoken": token},
                files={"file": ("statuses.csv", b"code;status\n1.1;on_track\n", "text/csv")},
                follow_redirects=False,
            )
            assert imported.status_code == 422, imported.text[:300]
            assert "cijferblad van de editie" in _text(imported.text, "main")
            exported = client.post(
                f"/periods/{period_id}/exports",
                data={"csrftoken": token, "format": "pdf"},
                follow_redirects=False,
            )
            assert exported.status_code == 422, exported.text[:300]
            assert "op de pagina van de editie" in _text(exported.text, "main")
    assert jobs_and_files() == before


def test_the_english_entry_pages_give_their_examples_in_english(world: World) -> None:
    """The examples of how to write a value are UI text: on English pages (and in an English
    figure sheet) they are English, as parse_value reads English values there."""
    dutch_words = ("naar schatting", "onbekend", "afgeschermd", "5.000", "3.000")
    with world.client("supplier") as client:
        client.get("/language/en?next=/")
        form = client.get(f"/monitor/figures/{world.figures['total']}/edit").text
        assert "estimated 3,000" in _text(form, "#value-hint")
        upload = client.get(f"/monitor/editions/{world.edition_id}/figure-sheet/import").text
        assert "5,000–7,500, unknown" in upload
        sheet = client.get(f"/monitor/editions/{world.edition_id}/figure-sheet.xlsx")
        assert sheet.status_code == 200
        instructions = str(load_workbook(io.BytesIO(sheet.content)).active["A2"].value)
        assert "estimated 3,000, unknown" in instructions
        for text in (_text(form, "main"), _text(upload, "main"), instructions):
            assert not [word for word in dutch_words if word in text], text
        client.get("/language/nl?next=/")
        dutch = client.get(f"/monitor/figures/{world.figures['total']}/edit").text
        assert "naar schatting 3.000 of onbekend" in _text(dutch, "#value-hint")
