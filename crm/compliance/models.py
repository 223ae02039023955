"""履约监管: what a signed project actually did (yearly output, tax and jobs; developed land, dated)
and the actions the zone took on it (约谈, 限期整改, 收回/清退)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin
from crm.extensions import db

ACTION_KINDS = ("约谈", "限期整改", "收回/清退")


class ProjectActual(AuditedMixin, db.Model):
    """One year's actual output, tax and jobs of a signed project (one live row per year)."""

    __tablename__ = "project_actuals"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    year: Mapped[int]
    output_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    tax: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元
    jobs: Mapped[int | None]

    project = relationship("Project", lazy="joined")


class DevelopedArea(AuditedMixin, db.Model):
    """The land a project has developed (亩, cumulative), as of the day it changed."""

    __tablename__ = "developed_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    changed_on: Mapped[date]
    area: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    note: Mapped[str] = mapped_column(String(300), default="")

    project = relationship("Project", lazy="joined")


class ComplianceAction(AuditedMixin, db.Model):
    """An action on a project that breaks its contract: 约谈, 限期整改 (with its deadline), 收回/清退;
    the date, the document (文号 or file name) and a note."""

    __tablename__ = "compliance_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    action_date: Mapped[date]
    deadline: Mapped[date | None]
    document: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    project = relationship("Project", lazy="joined")
    actor = relationship("User", lazy="joined")
