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


PASSWORD = "a long enough test password"
_user_numbers = iter(range(1, 1_000_000))


def create_user(
    session: Session,
    role: str = "viewer",
    organisations: tuple[str, ...] = (),
    email: str | None = None,
) -> str:
    """An account created through the accounts service; returns its e-mail address."""
    from app.accounts.models import Role
    from app.accounts.service import create_user as create

    email = email or f"{role}{next(_user_numbers)}@example.nl"
    create(
        session,
        email=email,
        name=f"{role.title()} {email.split('@')[0]}",
        role=Role(role),
        password=PASSWORD,
        organisation_codes=list(organisations),
    )
    session.commit()
    return email


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form (with its CSRF token), as a browser would."""
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "next": "/", "csrftoken": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    return response
