"""标准地: land parcels with their control indicators, the parcels a signed project takes, and its
达产验收."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, VersionedMixin
from crm.extensions import db

LAND_USES = ("工业", "仓储", "研发", "商业", "其他")


class Parcel(AuditedMixin, VersionedMixin, db.Model):
    """地块: a zone's parcel of land and its 控制指标 (None where the parcel sets none)."""

    __tablename__ = "parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    location: Mapped[str] = mapped_column(String(300), default="")
    area: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 亩
    use: Mapped[str] = mapped_column(String(10), default="工业")
    investment_intensity: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元/亩
    plot_ratio: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    tax_per_mu: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元/亩
    energy_per_output: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))  # 吨标煤/万元
    environmental_terms: Mapped[str] = mapped_column(Text, default="")

    zone = relationship("Zone", lazy="joined")

    def __repr__(self) -> str:
        return f"<Parcel {self.id} {self.code}>"


class ProjectParcel(AuditedMixin, db.Model):
    """A parcel a signed project takes. A parcel is taken by one live project at a time."""

    __tablename__ = "project_parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)

    project = relationship("Project", lazy="joined")
    parcel = relationship("Parcel", lazy="joined")


class LandAcceptance(AuditedMixin, db.Model):
    """达产验收: the actual figures at 达产 against the parcels' indicators, 通过 or 未通过 with the gaps."""

    __tablename__ = "land_acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    accepted_on: Mapped[date]
    area: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 亩, of the parcels then
    actual_investment: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 累计到资 to accepted_on, 万元
    actual_tax: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 万元/年
    actual_plot_ratio: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    actual_energy: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))  # 吨标煤/万元
    result: Mapped[str] = mapped_column(String(4))  # 通过 / 未通过
    gaps: Mapped[str] = mapped_column(Text, default="")  # one message a line
    note: Mapped[str] = mapped_column(String(500), default="")

    project = relationship("Project", lazy="joined")
