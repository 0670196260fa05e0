"""The audit log: who changed what, when and from where. Append-only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from app.clock import utc_now
from app.dbtypes import EnumText


class AuditAction(StrEnum):
    """Every kind of event the log records. The values are stored: never change one. Their
    labels are app/audit/presentation.py's (a test checks that each has one)."""

    # accounts
    user_sign_in = "user.sign_in"
    user_sign_out = "user.sign_out"
    user_create = "user.create"
    user_invite = "user.invite"
    user_invitation_accepted = "user.invitation_accepted"
    user_set_role = "user.set_role"
    user_deactivate = "user.deactivate"
    user_change_password = "user.change_password"
    user_password_reset_requested = "user.password_reset_requested"
    user_password_reset = "user.password_reset"
    # a password set on the command line
    user_reset_password = "user.reset_password"
    token_create = "token.create"
    token_revoke = "token.revoke"
    # statuses and their review
    status_update = "status.update"
    status_confirm = "status.confirm"
    status_import = "status.import"
    review_approve = "review.approve"
    review_send_back = "review.send_back"
    review_reply = "review.reply"
    # reporting periods (a move's action is "period." + its name, app/periods/service.py)
    period_create = "period.create"
    period_deadline = "period.deadline"
    period_open = "period.open"
    period_review = "period.review"
    period_publish = "period.publish"
    period_reopen_round = "period.reopen-round"
    period_reopen = "period.reopen"  # before corrections had a state of their own
    period_correct = "period.correct"
    period_republish = "period.republish"
    reminders_send = "reminders.send"
    # the monitor's key figures (an edition's moves are its period's)
    figure_record = "figure.record"
    # an indicator's definition and its links to results (app/monitor/defining.py)
    indicator_create = "indicator.create"
    indicator_update = "indicator.update"
    reminders_plan = "reminders.plan"
    reminders_unplan = "reminders.unplan"
    # the programme's structure and organisations
    structure_rename = "structure.rename"
    structure_move = "structure.move"
    structure_retire = "structure.retire"
    structure_restore = "structure.restore"
    structure_add = "structure.add"
    organisation_create = "organisation.create"
    organisation_rename = "organisation.rename"
    # the Rapporteur's recommendations (app/recommendations/editing.py)
    recommendation_report_create = "recommendation.report_create"
    recommendation_create = "recommendation.create"
    recommendation_update = "recommendation.update"
    recommendation_entry = "recommendation.entry"
    recommendation_deadline = "recommendation.deadline"
    recommendation_link_add = "recommendation.link_add"
    recommendation_link_confirm = "recommendation.link_confirm"
    recommendation_link_remove = "recommendation.link_remove"
    # a follow-up proposed in a round (app/recommendations/service.py; its review is review.*)
    recommendation_follow_up = "recommendation.follow_up"


class AuditSource(StrEnum):
    """Where a change came from. Stored; events from before it was recorded have none."""

    web = "web"
    api = "api"
    # a spreadsheet import, from the web or the command line
    import_ = "import"
    cli = "cli"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    actor_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    # The actor as they were at the time (name and e-mail), kept if the account changes.
    actor: str = Field(max_length=300)
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(max_length=60)
    object_id: str = Field(default="", max_length=60)
    summary: str = Field(default="", max_length=1000)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    address: str = Field(default="", max_length=100)
    # None for events recorded before the source was.
    source: AuditSource | None = Field(
        default=None, sa_column=Column(EnumText(AuditSource, 20), nullable=True)
    )
