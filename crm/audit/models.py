from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import utcnow
from crm.extensions import db

AUDIT_ACTIONS = {"create": "新建", "update": "修改", "delete": "删除", "restore": "恢复"}


class AuditEntry(db.Model):
    """Who changed what, when, with the values before and after. Written in the same transaction."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(10))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor = relationship("User", lazy="joined")

    __table_args__ = (Index("ix_audit_entries_entity", "entity_type", "entity_id"),)

    @property
    def action_label(self) -> str:
        return AUDIT_ACTIONS.get(self.action, self.action)
