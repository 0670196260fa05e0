"""bench/profile_pages.py calls each benchmarked page's route as FastAPI would (its
dependencies resolved from the signatures), so it keeps working when a route's signature
changes."""

from __future__ import annotations

import sys
from datetime import timedelta

from sqlmodel import Session

from app.accounts import service as accounts
from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.permissions import SESSION_COOKIE
from tests.factories import create_user


def test_profile_pages_renders_every_page_of_the_real_programme(
    seeded_settings: Settings, seeded_session: Session
) -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    import profile_pages

    user = accounts.get_user_by_email(seeded_session, create_user(seeded_session, "viewer"))
    token = accounts.start_session(seeded_session, user, lifetime=timedelta(hours=1))
    seeded_session.commit()
    application = create_app(seeded_settings)
    try:
        pages = {name: path for name, path in profile_pages.pages(100).items() if "real" in name}
        assert len(pages) == 4
        for path in pages.values():
            profile_pages.direct_call(application, f"{SESSION_COOKIE}={token}", path)()
    finally:
        application.state.engine.dispose()
