"""Every table model, imported in one place for Alembic and the app."""

from app.accounts.models import (
    AccountToken,
    ApiToken,
    LoginAttempt,
    User,
    UserOrganisation,
    UserSession,
)
from app.activities.models import StatusApproved, StatusCurrent, StatusUpdate
from app.audit.models import AuditEvent
from app.jobs.models import Job, StoredFile
from app.monitor.models import (
    Area,
    Chain,
    ChainStep,
    Edition,
    Figure,
    FigureFootnote,
    FigureVersion,
    Footnote,
    Indicator,
    IndicatorResult,
)
from app.periods.models import PeriodTransition, PublishedActivity, ReportingPeriod
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    Programme,
    Result,
    Theme,
)
from app.recommendations.models import (
    Addressee,
    DeadlineChange,
    Entry,
    FollowUpStatus,
    Recommendation,
    RecommendationActivity,
    RecommendationIndicator,
    RecommendationRelation,
    RecommendationResult,
    SourceReport,
)
from app.reminders.models import ReminderRun, ReminderSchedule
from app.review.models import ReviewNote
from app.revision import DataRevision

__all__ = [
    "Area",
    "Chain",
    "ChainStep",
    "Edition",
    "Figure",
    "FigureFootnote",
    "FigureVersion",
    "Footnote",
    "Indicator",
    "IndicatorResult",
    "AccountToken",
    "ApiToken",
    "AuditEvent",
    "DataRevision",
    "Job",
    "LoginAttempt",
    "StoredFile",
    "PeriodTransition",
    "PublishedActivity",
    "Addressee",
    "DeadlineChange",
    "Entry",
    "FollowUpStatus",
    "Recommendation",
    "RecommendationActivity",
    "RecommendationIndicator",
    "RecommendationRelation",
    "RecommendationResult",
    "SourceReport",
    "ReminderRun",
    "ReminderSchedule",
    "ReviewNote",
    "StatusApproved",
    "User",
    "UserOrganisation",
    "UserSession",
    "ActionLine",
    "Activity",
    "ActivityOrganisation",
    "Organisation",
    "Programme",
    "ReportingPeriod",
    "Result",
    "StatusCurrent",
    "StatusUpdate",
    "Theme",
]
