"""Soft delete and restore, shared by every kind of business record."""
from __future__ import annotations

from crm.db import utcnow
from crm.extensions import db


def soft_delete(actor, record) -> None:
    record.deleted_at = utcnow()
    db.session.flush()


def restore(actor, record) -> None:
    record.deleted_at = None
    db.session.flush()
