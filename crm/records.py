"""Soft delete and restore, shared by every kind of business record; both ask the policy first."""
from __future__ import annotations

from crm.db import utcnow
from crm.extensions import db
from crm.permissions import require, require_delete


def soft_delete(actor, record, **context) -> None:
    require_delete(actor, record, **context)
    record.deleted_at = utcnow()
    db.session.flush()


def restore(actor, record) -> None:
    require(actor, "trash.restore")
    record.deleted_at = None
    db.session.flush()
