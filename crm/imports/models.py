"""Import batches: what one committed import created and changed, so it can be reverted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import TimestampMixin
from crm.extensions import db


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
