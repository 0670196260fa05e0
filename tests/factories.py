"""Build small programmes through the seed service (the same rules as real data)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.seeding.schema import SeedFile
from app.seeding.service import SeedReport, apply_seed

STATUS_CYCLE = [
    "completed",
    "ongoing",
    "on_schedule",
    "delayed",
    "not_started",
    "in_consultation",
    "not_applicable",
]


def programme_data(
    *,
    slug: str = "test-programme",
    action_lines: int = 2,
    results_per_line: int = 2,
    activities_per_result: int = 3,
    period: str = "Voortgangsrapportage 2030",
    organisations: tuple[str, ...] = ("ORG-A", "ORG-B"),
) -> dict[str, Any]:
    """A programme as seed data: statuses cycle through the legend."""
    counter = 0
    lines = []
    result_number = 0
    for line_number in range(1, action_lines + 1):
        results = []
        for _ in range(results_per_line):
            result_number += 1
            activities = []
            for index in range(1, activities_per_result + 1):
                activities.append(
                    {
                        "label": str(index),
                        "title": f"Activiteit {result_number}.{index}",
                        "lead": organisations[counter % len(organisations)],
                        "involved": [],
                        "status": STATUS_CYCLE[counter % len(STATUS_CYCLE)],
                        "explanation": f"Toelichting bij activiteit {result_number}.{index}.",
                    }
                )
                counter += 1
            results.append(
                {
                    "number": result_number,
                    "title": f"Resultaat {result_number}",
                    "activities": activities,
                }
            )
        lines.append(
            {
                "number": line_number,
                "title": f"Actielijn {line_number}",
                "themes": [{"title": f"Thema {line_number}", "results": results}],
            }
        )
    return {
        "schema_version": 1,
        "programme": {"slug": slug, "name": f"Programma {slug}"},
        "period": {"name": period, "reference_date": "2030-01-01"},
        "organisations": [{"code": code, "name": f"Organisatie {code}"} for code in organisations],
        "action_lines": lines,
    }


def create_programme(
    session: Session, data: dict[str, Any] | None = None, **kwargs: Any
) -> SeedReport:
    report = apply_seed(session, SeedFile.model_validate(data or programme_data(**kwargs)))
    session.commit()
    return report
