"""Zone scoping, in one place: every service selects projects, visits and funds through ``scope``.

The enterprise library is city-wide; everything a zone negotiates (projects, visits, funds, and the
audit trail of those) is visible only to the zones a user is bound to, or to the city admin.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from crm.extensions import db


def visible_zone_ids(user) -> list[int] | None:
    """The zones whose records ``user`` may read; None means every zone (the city admin)."""
    if user.role == "admin":
        return None
    return user.zone_ids


def writable_zone_ids(user) -> list[int] | None:
    if user.role == "viewer":
        return []
    return visible_zone_ids(user)


def can_see_zone(user, zone_id: int | None) -> bool:
    zones = visible_zone_ids(user)
    return zones is None or zone_id in zones


def can_write_zone(user, zone_id: int | None) -> bool:
    zones = writable_zone_ids(user)
    return zones is None or zone_id in zones


def scope(stmt: Select, model, user, *, include_deleted: bool = False) -> Select:
    """Limit ``stmt`` to the rows of ``model`` that ``user`` may see."""
    if not include_deleted and hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    if hasattr(model, "zone_id") and getattr(model, "__zone_scoped__", True):
        zones = visible_zone_ids(user)
        if zones is not None:
            stmt = stmt.where(model.zone_id.in_(zones))
    return stmt


def get_scoped_or_404(model, record_id, user, *, include_deleted: bool = False, options=()):
    """The record, or 404 — never 403 — when it belongs to a zone the user cannot see."""
    stmt = scope(select(model).where(model.id == record_id), model, user, include_deleted=include_deleted)
    record = db.session.scalars(stmt.options(*options)).unique().first()
    if record is None:
        abort(404)
    return record


def role_required(*roles: str):
    """Refuse (403) signed-in users whose role is not listed."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def writer_required(view):
    return role_required("officer", "chief", "admin")(view)
