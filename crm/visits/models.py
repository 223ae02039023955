from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, VersionedMixin
from crm.extensions import db

VISIT_KINDS = ("上门拜访", "来访考察", "电话", "视频会", "展会/推介会", "其他")


class Visit(AuditedMixin, VersionedMixin, db.Model):
    """A visit or negotiation (走访/洽谈) with its next step, which lands on the officer's to-do list."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    visit_date: Mapped[date] = mapped_column(index=True)
    our_people: Mapped[str] = mapped_column(String(300), default="")
    our_leader: Mapped[str] = mapped_column(String(50), default="")  # highest leader present
    their_people: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(String(500), default="")
    next_step_due: Mapped[date | None]
    next_step_done_at: Mapped[datetime | None]

    enterprise = relationship("Enterprise", lazy="joined")
    project = relationship("Project", lazy="joined")
    officer = relationship("User", lazy="joined")

    __table_args__ = (Index("ix_visits_officer_due", "officer_id", "next_step_due"),)
