"""Zone scoping, in one place: every service selects projects, visits and funds through ``scope``.

The enterprise library is city-wide; everything a zone negotiates (projects, visits, funds, and the
audit trail of those) is visible only to the zones a user is bound to, or to the city admin.

Inside a zone, a 保密项目 (``Project.confidential``) is seen in full only by its owner, the chiefs
of its zone and the city admin (``sees_in_full``, and ``in_full_condition`` for queries). Everyone
else of the zone still counts it in every figure, but sees it as "保密项目" with no name, enterprise,
amounts or notes (``masked_name``), and its pages answer 404 (``get_scoped_or_404``). A visit, a
funds entry or a capital increase of such a project is masked with it (``linked_in_full_condition``).
"""
from __future__ import annotations

from functools import wraps
from typing import NamedTuple

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true

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
    if getattr(model, "__owner_scoped__", False) and user.role != "admin":
        stmt = stmt.where(model.owner_id == user.id)  # a person's own work (jobs): theirs and the admin's
    return stmt


MASKED_NAME = "保密项目"


def _chief_zone_ids(user) -> list[int]:
    return user.zone_ids if getattr(user, "role", None) == "chief" else []


def sees_in_full(user, project) -> bool:
    """Whether ``user`` sees ``project`` in full: name, enterprise, amounts, notes, its pages.

    A project of a zone the user cannot see is not seen at all. Within the zone, a confidential
    project is seen in full by its owner, the zone's chiefs and the admin; others see it masked.
    ``project`` None (a visit without a project) is nothing to hide.
    """
    if project is None or user is None:
        return True
    if not getattr(user, "is_authenticated", True):
        return False
    if user.role == "admin":
        return True
    if not can_see_zone(user, project.zone_id):
        return False
    return (not project.confidential or project.owner_id == user.id
            or project.zone_id in _chief_zone_ids(user))


def in_full_condition(user, project=None) -> ColumnElement[bool]:
    """``sees_in_full`` as SQL, over ``project`` (the Project entity, an alias, or a subquery's
    columns) — for rows already limited to the user's zones by ``scope``. ``user`` None (the CLI,
    a system job) sees everything."""
    if project is None:
        from crm.pipeline.models import Project as project
    if user is None or user.role == "admin":
        return true()
    parts = [project.confidential == false(), project.owner_id == user.id]
    chief_zones = _chief_zone_ids(user)
    if chief_zones:
        parts.append(project.zone_id.in_(chief_zones))
    return or_(*parts)


def linked_in_full_condition(user, model) -> ColumnElement[bool]:
    """SQL: a record hanging off a project (``model.project_id``: visits, funds, capital increases)
    whose project, if any, ``user`` sees in full."""
    from crm.pipeline.models import Project

    if user is None or user.role == "admin":
        return true()
    linked = exists().where(Project.id == model.project_id, in_full_condition(user, Project))
    return or_(model.project_id.is_(None), linked)


def masked_name(user, project, name: str | None = None) -> str:
    """The name to show for ``project``: its own (or ``name``), or "保密项目" for those who may not
    see it in full. Every page and export names a project through this (the Jinja filter
    ``project_name``)."""
    if project is None:
        return name or ""
    return (name if name is not None else project.name) if sees_in_full(user, project) else MASKED_NAME


def if_in_full(user, project, value, hidden=None):
    """``value`` when ``user`` sees ``project`` in full, else ``hidden`` (a blank cell, an empty note)."""
    return value if sees_in_full(user, project) else hidden


def get_scoped_or_404(model, record_id, user, *, include_deleted: bool = False, options=()):
    """The record, or 404 — never 403 — when it belongs to a zone the user cannot see, or when it
    is (or hangs off) a confidential project the user may not see in full."""
    stmt = scope(select(model).where(model.id == record_id), model, user, include_deleted=include_deleted)
    if hasattr(model, "confidential") and hasattr(model, "owner_id"):
        stmt = stmt.where(in_full_condition(user, model))
    elif hasattr(model, "project_id") and hasattr(model, "zone_id"):
        stmt = stmt.where(linked_in_full_condition(user, model))
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


def _current():
    return current_user._get_current_object()


# Jinja: ``p|project_name``, ``{% if p is in_full %}``, ``p.planned_investment|if_in_full(p)|money``.
TEMPLATE_FILTERS = {
    "project_name": lambda project: masked_name(_current(), project),
    "if_in_full": lambda value, project, hidden=None: if_in_full(_current(), project, value, hidden),
}
TEMPLATE_TESTS = {"in_full": lambda project: sees_in_full(_current(), project)}


# ----- the policy for what zones share: the enterprise library ----------------------------------
# One place decides who may change a shared enterprise; the form, the import, the mapping page and the
# CLI ask it. Each refusal is a Chinese reason, shown beside the field it concerns.
WRITER_ROLES = ("officer", "chief", "admin")


class Refusal(NamedTuple):
    message: str
    field: str | None = None


def _writer(actor) -> bool:
    return getattr(actor, "role", None) in WRITER_ROLES


def library_refusal(actor, action: str, enterprise, *, to_zone_id: int | None = None,
                    working_zone_ids=()) -> Refusal | None:
    """Why ``actor`` may not do ``action`` to ``enterprise``, or None when it may.

    - ``edit``: a target (no zone) or a firm local to one of the actor's zones; another zone's local
      firm is read-only to it.
    - ``rehome`` (to ``to_zone_id``): making a target local to one's own zone; moving a firm local
      elsewhere, or back to target, is the admin's alone.
    - ``map``: segment mappings and 链主 marks of a local firm belong to its zone (and the admin).
    - ``delete``: a chief's, for a firm no other zone works on (``working_zone_ids``: zones with an
      active project or an open next step on it); the admin's always, after seeing who works on it.
    """
    if getattr(actor, "role", None) == "admin":
        return None
    if not _writer(actor):
        return Refusal("只读账号不能修改企业库")
    own = set(writable_zone_ids(actor) or ())
    local_elsewhere = enterprise.zone_id is not None and enterprise.zone_id not in own
    if action in {"edit", "map"}:
        if local_elsewhere:
            what = "企业信息" if action == "edit" else "产业链环节和链主标记"
            return Refusal(f"该企业是其他园区的在园企业，其{what}只能由所在园区或市投促中心修改",
                           "zone_id" if action == "edit" else "segment_ids")
        return None
    if action == "rehome":
        if to_zone_id == enterprise.zone_id:
            return None
        if enterprise.zone_id is None and to_zone_id in own:
            return None
        return Refusal("只能把外地目标企业登记为本园区的在园企业；变更其他在园企业的所在园区或改回目标企业，"
                       "请联系市投促中心", "zone_id")
    if action == "delete":
        if actor.role != "chief" or local_elsewhere:
            return Refusal("只有本园区负责人可以删除本园区在园企业或外地目标企业")
        others = sorted(set(working_zone_ids) - own)
        if others:
            return Refusal("其他园区正在跟进该企业（有在办项目或待办下一步），不能删除；如需删除请联系市投促中心")
        return None
    raise ValueError(f"unknown library action {action!r}")


def can(actor, action: str, record, **context) -> bool:
    """The policy as a yes/no, for templates and lists."""
    return library_refusal(actor, action, record, **context) is None
