"""The ledger's own records: funds in place, capital increases, zone targets."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, TimestampMixin, VersionedMixin
from crm.extensions import db


class FundsInPlace(AuditedMixin, VersionedMixin, db.Model):
    """到资: money actually invested in a signed project in one month. A ledger, not a stage."""

    __tablename__ = "funds_in_place"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Copied from the project so one zone filter scopes funds like projects and visits.
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    month: Mapped[date]  # first day of the month
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    note: Mapped[str] = mapped_column(String(300), default="")

    project = relationship("Project", lazy="joined")


class CapitalIncrease(AuditedMixin, VersionedMixin, db.Model):
    """增资: more investment agreed for an already signed project. Counts only the increase, on its date."""

    __tablename__ = "capital_increases"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    signed_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    note: Mapped[str] = mapped_column(String(300), default="")

    project = relationship("Project", lazy="joined")


class ZoneTarget(TimestampMixin, db.Model):
    """A zone's yearly targets, set by its chief or the city admin."""

    __tablename__ = "zone_targets"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    year: Mapped[int]
    signed_count: Mapped[int] = mapped_column(default=0)
    signed_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)  # 万元
    register_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.9"))
    start_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.6"))
    production_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.3"))
    funds_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.2"))

    __table_args__ = (UniqueConstraint("zone_id", "year"),)


class ZoneSignoff(TimestampMixin, db.Model):
    """The sign-off block printed at the foot of a zone's ledger: 填报单位 (blank: the zone's name), 填报人,
    审核人. 填报日期 is the day of export, not stored. Set by the zone's chief or the city admin."""

    __tablename__ = "zone_signoffs"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), unique=True)
    unit: Mapped[str] = mapped_column(String(128), default="")
    preparer: Mapped[str] = mapped_column(String(64), default="")
    reviewer: Mapped[str] = mapped_column(String(64), default="")
