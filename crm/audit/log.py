"""The audit log: every insert, update and delete of an audited record, in the same transaction.

A session listener records the changes at flush, so no service can forget to. The acting user comes
from ``session.info["actor_id"]``, which the request edge and the CLI set explicitly. A record
changed several times by one actor in one transaction (autoflush splits a save) gets one entry.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session

from crm.db import insert_returning_ids, utcnow
from crm.audit.models import AuditEntry

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
    if isinstance(value, datetime):
        # Always in UTC: SQLite hands back naive UTC, PostgreSQL the session's time zone.
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if isinstance(value, date):
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
    # Many-to-many links (a project's chain segments, a user's zones) as lists of the linked ids.
    for relationship in state.mapper.relationships:
        if relationship.secondary is None or relationship.viewonly:
            continue
        history = state.attrs[relationship.key].history
        if not history.has_changes():
            continue
        unchanged = [_entity_id(o) for o in history.unchanged]
        before[relationship.key] = sorted(unchanged + [_entity_id(o) for o in history.deleted])
        after[relationship.key] = sorted(unchanged + [_entity_id(o) for o in history.added])
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
        if not _is_audited(obj) or not session.is_modified(obj):
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
        _store(session, rows)


def audited_columns(model) -> list:
    """The columns an entry of ``model`` shows (its mapped columns less ``__audit_exclude__``)."""
    excluded = getattr(model, "__audit_exclude__", frozenset())
    return [attr for attr in inspect(model).column_attrs if attr.key not in excluded]


_PLAIN = (str, int, float, bool, type(None))


def values_snapshot(model, values: dict) -> dict:
    """``snapshot`` of a row held as a dict of column values (a row written in bulk)."""
    keys = _audited_keys.get(model) or _audited_keys.setdefault(model, tuple(a.key for a in audited_columns(model)))
    snap = {}
    for key in keys:
        value = values.get(key)
        snap[key] = value if type(value) in _PLAIN else to_jsonable(value)
    return snap


_audited_keys: dict[type, tuple[str, ...]] = {}


def values_changes(model, before: dict, after: dict) -> tuple[dict, dict]:
    """The (before, after) of the columns that differ between two dicts of a row's values, as the
    listener records an update (bookkeeping columns alone are no change)."""
    old, new = {}, {}
    for attr in audited_columns(model):
        key = attr.key
        if key in _QUIET_COLUMNS or key not in after:
            continue
        was, now = to_jsonable(before.get(key)), to_jsonable(after[key])
        if was != now:
            old[key], new[key] = was, now
    return old, new


def write_entries(session, model, changes: list[tuple[str, Any, int | None, dict | None, dict | None]]) -> None:
    """Audit entries for rows written in bulk (Core ``insert``/``update``, which the flush listener does
    not see): one per (action, entity id, zone id, before, after), with the same content the listener
    writes — the acting user of ``session.info``, the time, the entity — inserted in one executemany
    in the same transaction, and merged like the listener's with later saves of the same record."""
    at = utcnow()
    actor_id = session.info.get("actor_id")
    rows = [{"at": at, "actor_id": actor_id, "action": action, "entity_type": model.__name__,
             "entity_id": str(entity_id), "zone_id": zone_id, "before": before, "after": after}
            for action, entity_id, zone_id, before, after in changes]
    if rows:
        _store(session, rows)


# One save is one entry, even when a query in the middle of a service autoflushes it in two parts:
# an update merges into the same actor's create or update of that record earlier in the transaction.
_OPEN = "audit_open_entries"
_MERGEABLE = {"create", "update"}


def _store(session, rows: list[dict]) -> None:
    table = AuditEntry.__table__
    connection = session.connection()
    open_entries = session.info.setdefault(_OPEN, {})
    inserts: list[tuple[tuple, dict]] = []
    for row in rows:
        key = (row["entity_type"], row["entity_id"], row["actor_id"])
        previous = open_entries.get(key)
        if row["action"] == "update" and previous and previous["action"] in _MERGEABLE:
            same = (table.c.id == previous["id"]) & (table.c.entity_type == row["entity_type"]) \
                & (table.c.entity_id == row["entity_id"])
            merged = _merge(previous, row)
            if merged["action"] == "update" and not merged["after"]:
                # Changed and changed back within the transaction: nothing happened.
                done = connection.execute(table.delete().where(same)).rowcount
                if done:
                    del open_entries[key]
                    continue
            else:
                done = connection.execute(
                    table.update().where(same)
                    .values(before=merged["before"], after=merged["after"])
                ).rowcount
                if done:
                    open_entries[key] = merged
                    continue
            # The earlier entry went with a rolled-back savepoint: this one stands alone.
        inserts.append((key, row))
    if not inserts:
        return
    ids = insert_returning_ids(connection, table, [row for _, row in inserts])
    for (key, row), entry_id in zip(inserts, ids, strict=True):
        open_entries[key] = {"id": entry_id, "action": row["action"], "before": row["before"],
                             "after": row["after"]}


def _merge(previous: dict, row: dict) -> dict:
    if previous["action"] == "create":
        return {**previous, "after": {**previous["after"], **row["after"]}}
    before = {**row["before"], **previous["before"]}  # the value at the start of the transaction
    after = {**previous["after"], **row["after"]}
    unchanged = {k for k in after if before.get(k) == after[k]}
    return {**previous, "before": {k: v for k, v in before.items() if k not in unchanged},
            "after": {k: v for k, v in after.items() if k not in unchanged}}


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session, previous_transaction) -> None:
    # Any rollback, a savepoint's too, may have taken the open entries with it.
    session.info.pop(_OPEN, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_OPEN, None)


# The old value of a column a service sets after a commit (when the record's attributes have
# expired) would otherwise be unknown at flush: the entry would show None as "before", and a
# restore (deleted_at back to None) would look like no change at all. Active history loads it.
@event.listens_for(Mapper, "mapper_configured")
def _track_old_values(mapper, class_) -> None:
    if not getattr(class_, "__audited__", False):
        return
    excluded = getattr(class_, "__audit_exclude__", frozenset()) | _QUIET_COLUMNS
    for attr in mapper.column_attrs:
        if attr.key not in excluded:
            event.listen(getattr(class_, attr.key), "set", _keep_old_value, active_history=True)


def _keep_old_value(target, value, oldvalue, initiator):
    return value


def _track_mappers_configured_already() -> None:
    """Cover mappers configured before this module was imported (the event fires only once)."""
    for mapper in AuditEntry.registry.mappers:
        if mapper.configured:
            _track_old_values(mapper, mapper.class_)


_track_mappers_configured_already()
