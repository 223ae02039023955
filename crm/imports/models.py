"""Import batches: what one committed import created and changed, so it can be reverted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import TimestampMixin, utcnow
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


class ImportUpload(db.Model):
    """An uploaded ledger waiting between the import's steps, in the database (not one machine's disk):
    its bytes, the uploader's choices, and the dry run's plan stored once (``plan``, ``report``) so
    every preview reads it instead of reading and planning the file again."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    local: Mapped[bool] = mapped_column(default=False)
    mapping: Mapped[dict | None] = mapped_column(JSON)  # {column index: field}; None: as recognised
    size: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    plan: Mapped[dict | None] = mapped_column(JSON)  # the dry run's result for the page (crm.imports.uploads)
    report: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # the problem report workbook
    plan_job_id: Mapped[int | None]  # the dry-run job whose plan this is (or that is making it)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
