"""An enterprise's history as one zone may see it.

The enterprise's facts are shared city-wide, so every change to them is listed; but a change made by
another zone's staff reads "其他园区", with no name. Contacts and notes are a zone's own: their
entries are listed only for the zone they belong to (every zone's for the admin).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, or_, select

from crm.audit import readable
from crm.audit.models import AUDIT_ACTIONS, AuditEntry
from crm.extensions import db
from crm.library.models import Contact, Enterprise, EnterpriseNote
from crm.permissions import can, scope

OTHER_ZONE = "其他园区"
_PRIVATE = {"Contact": (Contact, "联系人"), "EnterpriseNote": (EnterpriseNote, "备注")}


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    action: str
    what: str
    fields: tuple[str, ...]
    changes: tuple[readable.Change, ...] = ()

    @property
    def action_label(self) -> str:
        return AUDIT_ACTIONS.get(self.action, self.action)


def actor_label(viewer, actor) -> str:
    """Who made a change, as ``viewer`` may know: a name within the viewer's zones (or to the admin),
    "其他园区" for another zone's staff."""
    if actor is None:
        return "系统"
    return actor.display_name if can(viewer, "history.see_name", actor) else OTHER_ZONE


def enterprise_history(viewer, enterprise: Enterprise, limit: int = 50) -> list[HistoryLine]:
    conditions = [(AuditEntry.entity_type == "Enterprise") & (AuditEntry.entity_id == str(enterprise.id))]
    for entity_type, (model, _label) in _PRIVATE.items():
        mine = scope(select(cast(model.id, String)), model, viewer, include_deleted=True) \
            .where(model.enterprise_id == enterprise.id)
        conditions.append((AuditEntry.entity_type == entity_type) & AuditEntry.entity_id.in_(mine))
    entries = db.session.scalars(
        select(AuditEntry).where(or_(*conditions)).order_by(AuditEntry.id.desc()).limit(limit)
    ).unique().all()
    lines = []
    for entry in entries:
        private = _PRIVATE.get(entry.entity_type)
        # A contact's or note's values (personal data, and gone with the record once deleted) are not
        # repeated in the enterprise's history: only which fields changed.
        lines.append(line_of(viewer, entry, private[1] if private else "", values=not private))
    return lines


def line_of(viewer, entry: AuditEntry, what: str = "", values: bool = True) -> HistoryLine:
    """One entry as a line of a record's 变更记录: who (as the viewer may know), the local time, and
    the changed fields by their labels with their values formatted (crm/audit/readable.py)."""
    found = tuple(readable.changes(entry.entity_type, entry.action, entry.before, entry.after))
    if not values:
        found = tuple(readable.Change(c.label, "", "") for c in found)
    return HistoryLine(entry.at, actor_label(viewer, entry.actor), entry.action, what,
                       tuple(c.label for c in found), found)
