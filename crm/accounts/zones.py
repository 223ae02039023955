from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, Numeric, String, false
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import TimestampMixin
from crm.extensions import db

ZONE_LEVELS = ("国家级", "省级", "市级")


class Zone(TimestampMixin, db.Model):
    __tablename__ = "zones"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[str] = mapped_column(String(10), default="省级")
    leading_chains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Settings the reports read; more arrive with the ledger (targets, 亩均 threshold).
    stale_lead_days: Mapped[int] = mapped_column(default=30)
    min_investment_per_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    # The zone's chief (and the city admin) must sign in with two-factor authentication.
    require_2fa_privileged: Mapped[bool] = mapped_column(default=False, server_default=false())

    def __repr__(self) -> str:
        return f"<Zone {self.id} {self.name}>"
