from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, TimestampMixin, VersionedMixin, utcnow
from crm.extensions import db

# The stage constants live with the lifecycle rules; re-exported here for the models' users.
from crm.pipeline.lifecycle import (  # noqa: E402,F401
    ACTIVE_LEAD_STAGES, DUE_COLUMNS, MILESTONE_COLUMNS, PIPELINE_STAGES, SIDE_STAGES, SIGNED_STAGES, STAGES,
)

PROJECT_SOURCES = ("以商招商", "驻点招商", "中介招商", "基金招商", "展会", "平台推送", "其他")
PRIORITIES = ("高", "中", "低")

project_segments = Table(
    "project_segments",
    db.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
)


class Project(AuditedMixin, VersionedMixin, db.Model):
    __tablename__ = "projects"
    __audit_exclude__ = frozenset({"last_visit_at"})  # a summary of the visits, which are audited themselves

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(4), default="线索")
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_reason: Mapped[str] = mapped_column(String(500), default="")  # why 搁置 / 终止
    planned_investment: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    land_area: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 亩
    source: Mapped[str] = mapped_column(String(10), default="其他")
    priority: Mapped[str] = mapped_column(String(2), default="中")
    confidential: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    # Contract commitments, set at signing (协议).
    signed_date: Mapped[date | None]
    contract_investment: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    annual_output_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    annual_tax: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    jobs: Mapped[int | None]
    due_registered: Mapped[date | None]
    due_started: Mapped[date | None]
    due_production: Mapped[date | None]
    due_full_production: Mapped[date | None]
    registered_date: Mapped[date | None]
    started_date: Mapped[date | None]
    production_date: Mapped[date | None]
    full_production_date: Mapped[date | None]
    local_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    # A summary, not a fact: the latest visit_date of the project's visits that are not deleted, kept in the
    # flush that changes them (crm/visits/last_visit.py). Never set by hand; not audited, moves no version.
    last_visit_at: Mapped[date | None]

    zone = relationship("Zone", lazy="joined")
    enterprise = relationship("Enterprise", foreign_keys=[enterprise_id], lazy="joined")
    owner = relationship("User", lazy="joined")
    segments = relationship("Segment", secondary=project_segments, order_by="Segment.code")
    events: Mapped[list[StageEvent]] = relationship(
        back_populates="project", order_by="StageEvent.id"
    )

    __table_args__ = (Index("ix_projects_zone_stage", "zone_id", "stage"),)

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.name} {self.stage}>"


class StageEvent(db.Model):
    """One change of stage: the project's timeline. Append-only."""

    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_stage: Mapped[str | None] = mapped_column(String(4))
    to_stage: Mapped[str] = mapped_column(String(4))
    note: Mapped[str] = mapped_column(String(500), default="")

    project: Mapped[Project] = relationship(back_populates="events")
    actor = relationship("User", lazy="joined")


class FirstReportConflict(TimestampMixin, db.Model):
    """首报首谈: a zone registered a project for an enterprise another zone already holds.

    The city admin decides which zone keeps it; the other zone's project moves to 终止.
    """

    __tablename__ = "first_report_conflicts"
    __audited__ = True
    # City-level arbitration: only the admin lists these; zones see only "held by zone X since".
    __zone_scoped__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    holder_project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    challenger_project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open / decided
    winner_project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500), default="")
    # The admin may reopen the losing project (the ruling then no longer holds it at 终止): who, when, why.
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None]
    reopen_reason: Mapped[str] = mapped_column(String(500), default="")

    enterprise = relationship("Enterprise", lazy="joined")
    holder = relationship("Project", foreign_keys=[holder_project_id], lazy="joined")
    challenger = relationship("Project", foreign_keys=[challenger_project_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="joined")
    reopened_by = relationship("User", foreign_keys=[reopened_by_id], lazy="joined")

    @property
    def winner(self) -> Project | None:
        return {self.holder_project_id: self.holder, self.challenger_project_id: self.challenger}.get(
            self.winner_project_id)

    @property
    def loser(self) -> Project | None:
        if self.winner_project_id is None:
            return None
        return self.challenger if self.winner_project_id == self.holder_project_id else self.holder
