"""Merging duplicate enterprises (the city admin's): move what hangs off the duplicate, and undo it.

It lives above every feature whose records point at an enterprise, so it can move all of them.
"""
from __future__ import annotations

from sqlalchemy import delete, select

from crm.catalog.models import EnterpriseSegment
from crm.db import utcnow
from crm.errors import ServiceError
from crm.extensions import db
from crm.library.models import Contact, Enterprise, EnterpriseMerge, EnterpriseNote
from crm.permissions import require
from crm.pipeline.models import Project
from crm.visits.models import Visit


def merge_enterprises(actor, survivor: Enterprise, merged: Enterprise) -> EnterpriseMerge:
    """Move contacts, projects, visits and segment mappings to ``survivor``; soft-delete ``merged``."""
    require(actor, "enterprise.merge")
    if survivor.id == merged.id:
        raise ServiceError("不能把企业合并到自身", field="survivor_id")
    if survivor.deleted_at or merged.deleted_at:
        raise ServiceError("已删除的企业不能合并", field="survivor_id")
    moved = {
        "contacts": _move(Contact, Contact.enterprise_id, merged.id, survivor.id),
        "projects": _move(Project, Project.enterprise_id, merged.id, survivor.id),
        "visits": _move(Visit, Visit.enterprise_id, merged.id, survivor.id),
        "notes": _move(EnterpriseNote, EnterpriseNote.enterprise_id, merged.id, survivor.id),
        **_move_segments(merged.id, survivor.id),
        "survivor_before": {"aliases": survivor.aliases, "uscc": survivor.uscc},
    }
    # The survivor keeps the other name as an alias and, if it had none, the other credit code.
    aliases = [a for a in survivor.aliases.split(",") if a] + [merged.name]
    survivor_uscc, merged_uscc = survivor.uscc, merged.uscc
    merged.uscc = None
    merged.deleted_at = utcnow()
    db.session.flush()
    survivor.aliases = ",".join(dict.fromkeys(aliases))
    if not survivor_uscc and merged_uscc:
        survivor.uscc = merged_uscc
    moved["merged_uscc"] = merged_uscc
    record = EnterpriseMerge(survivor_id=survivor.id, merged_id=merged.id, actor_id=actor.id, moved=moved)
    db.session.add(record)
    db.session.flush()
    return record


def undo_merge(actor, record: EnterpriseMerge) -> None:
    """Put everything a merge moved back where it was, and bring the merged enterprise back."""
    require(actor, "enterprise.merge")
    if record.undone_at:
        raise ServiceError("该合并已撤销")
    moved = record.moved
    survivor, merged = record.survivor, record.merged
    for model, ids in ((Contact, moved["contacts"]), (Project, moved["projects"]), (Visit, moved["visits"]),
                       (EnterpriseNote, moved.get("notes", []))):
        for row in db.session.scalars(select(model).where(model.id.in_(ids))):
            row.enterprise_id = merged.id
    if moved["segments_added"]:
        db.session.execute(delete(EnterpriseSegment).where(
            EnterpriseSegment.enterprise_id == survivor.id,
            EnterpriseSegment.segment_id.in_(moved["segments_added"]),
        ))
    db.session.add_all(EnterpriseSegment(enterprise_id=merged.id, **m) for m in moved["segments"])
    survivor.aliases = moved["survivor_before"]["aliases"]
    survivor.uscc = moved["survivor_before"]["uscc"]
    db.session.flush()
    merged.uscc = moved.get("merged_uscc")
    merged.deleted_at = None
    record.undone_at = utcnow()
    db.session.flush()


def _move(model, column, from_id: int, to_id: int) -> list[int]:
    rows = db.session.scalars(select(model).where(column == from_id)).all()
    for row in rows:  # through the ORM, so every moved row is audited
        row.enterprise_id = to_id
    return [row.id for row in rows]


def _move_segments(from_id: int, to_id: int) -> dict:
    """Mappings the survivor lacks move over; the merged firm's own mappings are kept for undo."""
    have = set(db.session.scalars(select(EnterpriseSegment.segment_id).where(EnterpriseSegment.enterprise_id == to_id)))
    original, added = [], []
    for mapping in db.session.scalars(select(EnterpriseSegment).where(EnterpriseSegment.enterprise_id == from_id)).all():
        original.append({"segment_id": mapping.segment_id, "is_primary": mapping.is_primary,
                         "is_leader": mapping.is_leader})
        if mapping.segment_id not in have:
            added.append(mapping.segment_id)
            db.session.add(EnterpriseSegment(enterprise_id=to_id, segment_id=mapping.segment_id,
                                             is_primary=False, is_leader=mapping.is_leader))
        db.session.delete(mapping)
    return {"segments": original, "segments_added": added}
