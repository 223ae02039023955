"""A project's 变更记录: its own audit entries, read through the one formatter.

The project page is already 404 to a reader who may not see the project in full (保密项目, another
zone), so whoever reaches this list may read all of it; authors are named as ``history.see_name`` allows.
"""
from __future__ import annotations

from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.library.history import HistoryLine, line_of
from crm.permissions import sees_in_full


def project_history(viewer, project, limit: int = 50) -> list[HistoryLine]:
    if not sees_in_full(viewer, project):
        return []
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "Project", AuditEntry.entity_id == str(project.id))
        .order_by(AuditEntry.id.desc()).limit(limit)
    ).unique().all()
    return [line_of(viewer, entry) for entry in entries]
