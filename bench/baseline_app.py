"""The "minimal page" baseline: the same rows as the activity list, with one SQL query and a
plain Jinja2 template, on the same stack (FastAPI, a sync route in the threadpool, SQLAlchemy,
Jinja2 with autoescaping).

    DATABASE_URL=sqlite:///bench/work/bench.db \
        .venv/bin/uvicorn baseline_app:create_app --factory --app-dir bench --workers 1

GET /minimal/{slug} lists the activities of the programme's latest reporting period (number,
title, status, explanation) in programme order, each with its latest status update.
What it leaves out compared with the app: the layout, navigation, filter form, organisations,
translations, pagination and count, and the security headers middleware.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape
from sqlalchemy import create_engine, text

QUERY = text(
    """
    SELECT p.name AS programme, rp.name AS period, r.number AS result_number,
           a.label, a.title, su.status, su.explanation
    FROM programme AS p
    JOIN reporting_period AS rp ON rp.id = (
        SELECT id FROM reporting_period WHERE programme_id = p.id
        ORDER BY reference_date DESC, id DESC LIMIT 1)
    JOIN result AS r ON r.programme_id = p.id
    JOIN theme AS t ON t.id = r.theme_id
    JOIN action_line AS al ON al.id = t.action_line_id
    JOIN activity AS a ON a.result_id = r.id
    LEFT JOIN status_update AS su ON su.activity_id = a.id AND su.period_id = rp.id
        AND su.version = (SELECT max(version) FROM status_update
                          WHERE activity_id = a.id AND period_id = rp.id)
    WHERE p.slug = :slug
    ORDER BY al.position, t.position, r.position, a.position
    """
)

TEMPLATE = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><title>{{ programme }}</title></head>
<body>
<h1>{{ programme }}</h1>
<table>
  <caption>{{ period }}</caption>
  <thead><tr><th>Nr.</th><th>Activiteit</th><th>Status</th><th>Toelichting</th></tr></thead>
  <tbody>
  {% for row in rows %}
    <tr><td>{{ row.result_number }}.{{ row.label or "" }}</td><td>{{ row.title }}</td>
      <td>{{ row.status or "" }}</td><td>{{ row.explanation or "" }}</td></tr>
  {% endfor %}
  </tbody>
</table>
</body>
</html>
"""


def create_app(database_url: str | None = None) -> FastAPI:
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL or pass database_url")
    engine = create_engine(url, connect_args={"check_same_thread": False})
    template = Environment(autoescape=select_autoescape(default=True)).from_string(TEMPLATE)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/minimal/{slug}", response_class=HTMLResponse)
    def minimal_page(slug: str) -> HTMLResponse:
        with engine.connect() as connection:
            rows = connection.execute(QUERY, {"slug": slug}).mappings().all()
        if not rows:
            return HTMLResponse("Not found", status_code=404)
        html = template.render(programme=rows[0]["programme"], period=rows[0]["period"], rows=rows)
        return HTMLResponse(html)

    return app
