"""亩均效益: a firm's yearly figures, a zone's evaluation method, and the stored results per zone-year."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, TimestampMixin, utcnow
from crm.extensions import db

# The figure columns, in crm.efficiency.method.FIGURES order (a test checks they agree).
FIGURE_COLUMNS = ("land_mu", "tax", "revenue", "value_added", "energy_tce", "electricity_kwh", "emissions_t",
                  "water_t", "rd", "employees")


class EfficiencyFigures(AuditedMixin, db.Model):
    """One local firm's figures for one year, as its zone evaluates them. Soft-deleted, restorable."""

    __tablename__ = "efficiency_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)  # the evaluating zone
    year: Mapped[int]
    land_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 亩
    tax: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 万元
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 万元
    value_added: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 万元
    energy_tce: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 吨标煤
    electricity_kwh: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # 千瓦时
    emissions_t: Mapped[Decimal | None] = mapped_column(Numeric(16, 3))  # 吨
    water_t: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 吨
    rd: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))  # 万元
    employees: Mapped[int | None]

    enterprise = relationship("Enterprise", lazy="joined")

    __table_args__ = (UniqueConstraint("enterprise_id", "year", name="uq_efficiency_figures_enterprise_year"),
                      Index("ix_efficiency_figures_zone_year", "zone_id", "year"))

    def as_figures(self) -> dict:
        return {key: getattr(self, key) for key in FIGURE_COLUMNS if getattr(self, key) is not None}


class EfficiencyMethod(TimestampMixin, db.Model):
    """A zone's evaluation method (``crm.efficiency.method``'s dict, validated); none: the default."""

    __tablename__ = "efficiency_methods"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), unique=True)
    method: Mapped[dict] = mapped_column(JSON)


class EfficiencyResult(db.Model):
    """One firm's stored result of a zone-year's evaluation; a rerun replaces the year's rows."""

    __tablename__ = "efficiency_results"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    year: Mapped[int]
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    rank: Mapped[int]
    score: Mapped[Decimal] = mapped_column(Numeric(24, 2))  # uncapped points can be large
    klass: Mapped[str] = mapped_column(String(1))
    small: Mapped[bool] = mapped_column(default=False)
    points: Mapped[dict] = mapped_column(JSON)  # indicator key → points (text, 0.01)
    values: Mapped[dict] = mapped_column(JSON)  # indicator key → value (text) or None
    missing: Mapped[list] = mapped_column(JSON)  # figure keys
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    enterprise = relationship("Enterprise", lazy="joined")

    __table_args__ = (UniqueConstraint("zone_id", "year", "enterprise_id", name="uq_efficiency_results_zone_year_firm"),)
