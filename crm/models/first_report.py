from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import TimestampMixin
from crm.extensions import db


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

    enterprise = relationship("Enterprise", lazy="joined")
    holder = relationship("Project", foreign_keys=[holder_project_id], lazy="joined")
    challenger = relationship("Project", foreign_keys=[challenger_project_id], lazy="joined")
    decided_by = relationship("User", lazy="joined")


class EnterpriseMerge(TimestampMixin, db.Model):
    """An admin's merge of a duplicate enterprise into a survivor, with what moved, so it can be undone."""

    __tablename__ = "enterprise_merges"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # {"contacts": [ids], "projects": [ids], "visits": [ids], "segments": [{segment_id, is_primary, is_leader}],
    #  "survivor_before": {field: value}} — exactly what undo has to put back.
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None]

    survivor = relationship("Enterprise", foreign_keys=[survivor_id], lazy="joined")
    merged = relationship("Enterprise", foreign_keys=[merged_id], lazy="joined")
