"""The audit log: every insert, update and delete of an audited record, in the same transaction.

A session listener records the changes at flush, so no service can forget to. The acting user comes
from ``session.info["actor_id"]``, which the request edge and the CLI set explicitly.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from crm.db import utcnow
from crm.models.audit import AuditEntry

# Bookkeeping columns whose change alone is not worth an entry.
_QUIET_COLUMNS = frozenset({"updated_at", "version"})


def set_actor(session, actor) -> None:
    session.info["actor_id"] = getattr(actor, "id", actor)


@contextmanager
def acting_as(session, actor):
    """Attribute the changes made inside the block to ``actor`` (a User, an id or None)."""
    previous = session.info.get("actor_id")
    set_actor(session, actor)
    try:
        yield
    finally:
        session.info["actor_id"] = previous


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def _is_audited(obj) -> bool:
    return getattr(type(obj), "__audited__", False)


def _columns(obj):
    excluded = getattr(type(obj), "__audit_exclude__", frozenset())
    return [attr for attr in inspect(obj).mapper.column_attrs if attr.key not in excluded]


def snapshot(obj) -> dict:
    return {attr.key: to_jsonable(getattr(obj, attr.key)) for attr in _columns(obj)}


def _changes(obj) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for attr in _columns(obj):
        history = state.attrs[attr.key].history
        if not history.has_changes() or attr.key in _QUIET_COLUMNS:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if to_jsonable(old) == to_jsonable(new):
            continue
        before[attr.key] = to_jsonable(old)
        after[attr.key] = to_jsonable(new)
    return before, after


def _entity_id(obj) -> str:
    # Not ``identity``: a row inserted in this flush has no identity key until the flush ends.
    state = inspect(obj)
    return "-".join(str(v) for v in state.mapper.primary_key_from_instance(obj))


def _entry(session, obj, action, before, after) -> dict:
    return {
        "at": utcnow(),
        "actor_id": session.info.get("actor_id"),
        "action": action,
        "entity_type": type(obj).__name__,
        "entity_id": _entity_id(obj),
        "zone_id": getattr(obj, "zone_id", None),
        "before": before,
        "after": after,
    }


@event.listens_for(Session, "after_flush")
def _write_audit_entries(session, flush_context) -> None:
    rows = []
    for obj in session.new:
        if _is_audited(obj):
            rows.append(_entry(session, obj, "create", None, snapshot(obj)))
    for obj in session.dirty:
        if not _is_audited(obj) or not session.is_modified(obj, include_collections=False):
            continue
        before, after = _changes(obj)
        if not after:
            continue
        action = "update"
        if "deleted_at" in after:
            action = "delete" if after["deleted_at"] else "restore"
        rows.append(_entry(session, obj, action, before, after))
    for obj in session.deleted:
        if _is_audited(obj):
            rows.append(_entry(session, obj, "delete", snapshot(obj), None))
    if rows:
        session.connection().execute(AuditEntry.__table__.insert(), rows)
