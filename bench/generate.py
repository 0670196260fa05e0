"""Build the benchmark database: the real programme plus a synthetic programme N times its size.

    .venv/bin/python bench/generate.py bench/work/bench.db [--scale 100]

The file is created with the migrations (the same schema, triggers and full-text tables as
production), the real programme is loaded with the seed service, and then programme
"bench-<N>x" is added with SQLAlchemy Core bulk inserts:

* the same 5 action lines (numbers and titles);
* each action line's themes repeated N times, each with its results and activities copied
  (result numbers stay unique in the programme), with the same organisation links;
* 10 reporting periods, "Voortgangsrapportage 2012" ... "2021", and in each period 1-3 status
  update versions per activity. In the latest period the newest version carries the real
  activity's status and explanation; earlier versions borrow other real explanations, so the
  full-text index sees realistic text.

Everything is deterministic (fixed random seed). At N=100: ~3,400 results, ~12,800 activities,
~256,000 status updates (mirrored into the FTS5 index by the migration's triggers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, func, insert, select, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from app.activities.models import Status, StatusUpdate, UpdateSource  # noqa: E402
from app.cli import DEFAULT_SEED, run_alembic  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.periods.models import ReportingPeriod  # noqa: E402
from app.programmes.models import (  # noqa: E402
    ActionLine,
    Activity,
    ActivityOrganisation,
    Programme,
    Result,
    Theme,
)
from app.seeding.service import load_seed_file  # noqa: E402

REAL_SLUG = "samen-tegen-mensenhandel"
FIRST_YEAR, LAST_YEAR = 2012, 2021
CHUNK = 20_000
# Statuses an activity plausibly had in earlier periods (weights: on schedule most often).
EARLIER_STATUSES = [
    (Status.not_started, 2),
    (Status.in_consultation, 1),
    (Status.on_schedule, 5),
    (Status.ongoing, 3),
    (Status.delayed, 2),
    (Status.completed, 1),
]


def fingerprint() -> str:
    """Changes when the schema, the seed or this generator does: the database is then stale."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "migrations").rglob("*.py")) + [DEFAULT_SEED, Path(__file__)]
    for file in files:
        digest.update(file.relative_to(ROOT).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def bench_slug(scale: int) -> str:
    return f"bench-{scale}x"


def _next_id(session: Session, table) -> int:  # type: ignore[no-untyped-def]
    return (session.scalar(select(func.max(table.c.id))) or 0) + 1


def _bulk(session: Session, table, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])


def _table(model: type[SQLModel]) -> Table:
    """The table of a table model (SQLModel declares no __table__ for type checkers)."""
    return model.__table__  # type: ignore[attr-defined]


def build_bench_programme(session: Session, scale: int) -> dict[str, int]:
    """Add programme bench-<scale>x, a `scale`-fold copy of the real programme's structure."""
    rng = random.Random(20211101)
    programme_t = _table(Programme)
    line_t = _table(ActionLine)
    theme_t = _table(Theme)
    result_t = _table(Result)
    activity_t = _table(Activity)
    link_t = _table(ActivityOrganisation)
    period_t = _table(ReportingPeriod)
    update_t = _table(StatusUpdate)

    real_id = session.scalar(select(programme_t.c.id).where(programme_t.c.slug == REAL_SLUG))
    if real_id is None:
        raise SystemExit(f"the real programme {REAL_SLUG!r} is not loaded")
    real_period_id = session.scalar(
        select(period_t.c.id)
        .where(period_t.c.programme_id == real_id)
        .order_by(period_t.c.reference_date.desc())
    )

    # The real structure, in programme order.
    lines = session.execute(
        select(line_t).where(line_t.c.programme_id == real_id).order_by(line_t.c.position)
    ).all()
    # Whole rows (every column), so columns added later are copied too.
    themes_by_line: dict[int, list] = {}
    for row in session.execute(
        select(theme_t)
        .where(theme_t.c.action_line_id.in_([line.id for line in lines]))
        .order_by(theme_t.c.position)
    ):
        themes_by_line.setdefault(row.action_line_id, []).append(row)
    results_by_theme: dict[int, list] = {}
    for row in session.execute(
        select(result_t).where(result_t.c.programme_id == real_id).order_by(result_t.c.position)
    ):
        results_by_theme.setdefault(row.theme_id, []).append(row)
    real_result_ids = [r.id for rs in results_by_theme.values() for r in rs]
    activities_by_result: dict[int, list] = {}
    for row in session.execute(
        select(activity_t)
        .where(activity_t.c.result_id.in_(real_result_ids))
        .order_by(activity_t.c.position)
    ):
        activities_by_result.setdefault(row.result_id, []).append(row)
    real_activity_ids = [a.id for acts in activities_by_result.values() for a in acts]
    links_by_activity: dict[int, list] = {}
    for row in session.execute(select(link_t).where(link_t.c.activity_id.in_(real_activity_ids))):
        links_by_activity.setdefault(row.activity_id, []).append(row)
    current = {
        row.activity_id: row
        for row in session.execute(
            select(update_t.c.activity_id, update_t.c.status, update_t.c.explanation)
            .where(update_t.c.period_id == real_period_id)
            .order_by(update_t.c.version)
        )
    }
    explanation_pool = [row.explanation for row in current.values() if row.explanation]
    max_result_number = max(r.number for rs in results_by_theme.values() for r in rs)

    # The copy.
    programme_id = _next_id(session, programme_t)
    session.execute(
        insert(programme_t),
        [
            {
                "id": programme_id,
                "slug": bench_slug(scale),
                "name": f"Benchmark: {scale}× Samen tegen mensenhandel",
                "description": f"Synthetic programme for the benchmark: the real programme's "
                f"structure {scale} times, with {LAST_YEAR - FIRST_YEAR + 1} reporting periods.",
            }
        ],
    )
    periods = []
    period_id = _next_id(session, period_t)
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        periods.append(
            {
                "id": period_id,
                "programme_id": programme_id,
                "name": f"Voortgangsrapportage {year}",
                "reference_date": date(year, 11, 1),
            }
        )
        period_id += 1
    session.execute(insert(period_t), periods)

    line_rows, theme_rows, result_rows, activity_rows, link_rows = [], [], [], [], []
    # (new activity id, real activity id, ordinal) in programme order.
    copies: list[tuple[int, int, int]] = []
    line_id = _next_id(session, line_t)
    theme_id = _next_id(session, theme_t)
    result_id = _next_id(session, result_t)
    activity_id = _next_id(session, activity_t)
    for line in lines:
        line_rows.append({**line._mapping, "id": line_id, "programme_id": programme_id})
        real_themes = themes_by_line.get(line.id, [])
        for copy in range(scale):
            for index, theme in enumerate(real_themes):
                theme_rows.append(
                    {
                        **theme._mapping,
                        "id": theme_id,
                        "action_line_id": line_id,
                        "title": theme.title if copy == 0 else f"{theme.title} ({copy + 1})",
                        "position": copy * len(real_themes) + index + 1,
                    }
                )
                for result in results_by_theme.get(theme.id, []):
                    number = copy * max_result_number + result.number
                    result_rows.append(
                        {
                            **result._mapping,
                            "id": result_id,
                            "programme_id": programme_id,
                            "theme_id": theme_id,
                            "number": number,
                            "position": number,
                        }
                    )
                    for activity in activities_by_result.get(result.id, []):
                        activity_rows.append(
                            {**activity._mapping, "id": activity_id, "result_id": result_id}
                        )
                        for link in links_by_activity.get(activity.id, []):
                            link_rows.append({**link._mapping, "activity_id": activity_id})
                        copies.append((activity_id, activity.id, len(copies)))
                        activity_id += 1
                    result_id += 1
                theme_id += 1
        line_id += 1
    session.execute(insert(line_t), line_rows)
    _bulk(session, theme_t, theme_rows)
    _bulk(session, result_t, result_rows)
    _bulk(session, activity_t, activity_rows)  # the FTS trigger indexes the titles
    _bulk(session, link_t, link_rows)

    statuses, weights = zip(*EARLIER_STATUSES, strict=True)
    update_count = 0
    last = len(periods) - 1
    for period_index, period in enumerate(periods):
        year = FIRST_YEAR + period_index
        created = datetime(year, 10, 1, 9, 0, tzinfo=UTC)
        rows: list[dict] = []
        for new_id, real_id_, ordinal in copies:
            versions = rng.randint(1, 3)
            for version in range(1, versions + 1):
                newest_of_last = period_index == last and version == versions
                if newest_of_last and real_id_ in current:
                    status = current[real_id_].status
                    explanation = current[real_id_].explanation
                else:
                    status = rng.choices(statuses, weights)[0].value
                    explanation = explanation_pool[
                        (ordinal + 7 * period_index + version) % len(explanation_pool)
                    ]
                rows.append(
                    {
                        "activity_id": new_id,
                        "period_id": period["id"],
                        "version": version,
                        "status": status,
                        "explanation": explanation,
                        "source": (
                            UpdateSource.derived.value
                            if version == 1
                            else UpdateSource.entered.value
                        ),
                        "author": "bench",
                        "created_at": created + timedelta(days=version - 1, seconds=ordinal),
                    }
                )
        _bulk(session, update_t, rows)
        update_count += len(rows)

    return {
        "action_lines": len(line_rows),
        "themes": len(theme_rows),
        "results": len(result_rows),
        "activities": len(activity_rows),
        "activity_organisations": len(link_rows),
        "periods": len(periods),
        "status_updates": update_count,
    }


def generate(path: Path, scale: int = 100, *, with_bench: bool = True) -> dict:
    """Create `path` from scratch (the real programme, plus bench-<scale>x if with_bench)."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".meta.json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    started = time.perf_counter()
    run_alembic("upgrade", "head", database_url=url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            load_seed_file(session, DEFAULT_SEED)
            session.commit()
        counts: dict[str, int] = {}
        if with_bench:
            with Session(engine) as session:
                counts = build_bench_programme(session, scale)
                session.commit()
        with engine.connect() as connection:
            # One self-contained file (Datasette and a fresh server see everything).
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        engine.dispose()
    meta = {
        "fingerprint": fingerprint(),
        "scale": scale if with_bench else 0,
        "bench_slug": bench_slug(scale) if with_bench else None,
        "counts": counts,
        "seconds": round(time.perf_counter() - started, 1),
        "bytes": path.stat().st_size,
    }
    Path(f"{path}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="SQLite file to create (replaced if it exists)")
    parser.add_argument("--scale", type=int, default=100, help="Size of bench-<N>x (default 100)")
    parser.add_argument(
        "--real-only", action="store_true", help="Only the real programme (no bench programme)"
    )
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    meta = generate(args.path, args.scale, with_bench=not args.real_only)
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
