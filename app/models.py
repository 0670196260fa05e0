"""Every table model, imported in one place for Alembic and the app."""

from app.activities.models import StatusUpdate
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    Programme,
    ReportingPeriod,
    Result,
    Theme,
)

__all__ = [
    "ActionLine",
    "Activity",
    "ActivityOrganisation",
    "Organisation",
    "Programme",
    "ReportingPeriod",
    "Result",
    "StatusUpdate",
    "Theme",
]
