from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, TimestampMixin, VersionedMixin
from crm.extensions import db


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


class ImportBatch(TimestampMixin, db.Model):
    """One committed Excel/CSV import: what it created and what it changed, so an admin can revert it."""

    __tablename__ = "import_batches"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # enterprises / projects / visits
    filename: Mapped[str] = mapped_column(String(255))
    row_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="committed")  # committed / reverted
    # {"created": {"Enterprise": [ids], ...}, "updated": {"Enterprise": {id: {field: old}}}, "matches": [...]}
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reverted_at: Mapped[datetime | None]

    zone = relationship("Zone", lazy="joined")
    actor = relationship("User", lazy="joined")
