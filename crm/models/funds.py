from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import AuditedMixin, VersionedMixin
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
