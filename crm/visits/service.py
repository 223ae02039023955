"""Visits and negotiations (走访/洽谈) and their next steps."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select

from crm.db import utcnow
from crm.extensions import db
from crm.library.models import Enterprise
from crm.pipeline.models import Project
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.visits.models import VISIT_KINDS
from crm.permissions import can, linked_in_full_condition, require, scope, writable_zone_ids
from crm.library.service import search_condition
from crm.errors import check_version, ServiceError

EDITABLE_FIELDS = (
    "kind", "visit_date", "our_people", "our_leader", "their_people", "summary", "outcome",
    "next_step", "next_step_due",
)


def _apply(visit: Visit, data: dict[str, Any]) -> None:
    for key in EDITABLE_FIELDS:
        if key in data:
            value = data[key]
            setattr(visit, key, value.strip() if isinstance(value, str) else value)
    if visit.kind not in VISIT_KINDS:
        raise ServiceError("请选择走访方式", field="kind")
    if visit.visit_date is None:
        raise ServiceError("请填写走访日期", field="visit_date")
    if visit.visit_date > date.today():
        raise ServiceError("走访日期不能晚于今天", field="visit_date")
    if visit.next_step_due and not visit.next_step:
        raise ServiceError("填写了下一步期限，请同时填写下一步工作", field="next_step")
    if visit.next_step_due and visit.next_step_due < visit.visit_date:
        raise ServiceError("下一步期限不能早于走访日期", field="next_step_due")


def create_visit(actor: User, enterprise: Enterprise, data: dict[str, Any], project: Project | None = None) -> Visit:
    visit = new_visit(actor, enterprise.id, data, project)
    db.session.add(visit)
    db.session.flush()
    return visit


def new_visit(actor: User, enterprise_id: int | None, data: dict[str, Any], project: Project | None = None) -> Visit:
    """A visit with every rule of ``create_visit`` applied, not yet in the session (the import writes
    many at once)."""
    if project is not None:
        if project.enterprise_id != enterprise_id:
            raise ServiceError("所选项目不属于该企业", field="project_id")
        zone_id = project.zone_id
    elif can(actor, "city.all_zones"):
        zone_id = data.get("zone_id")
    else:
        zones = writable_zone_ids(actor)
        zone_id = zones[0] if zones else None
    if zone_id is None or not can(actor, "zone.write", zone_id):
        raise ServiceError("请选择本人有权限的园区", field="zone_id")
    visit = Visit(
        zone_id=zone_id,
        enterprise_id=enterprise_id,
        project_id=project.id if project else None,
        officer_id=actor.id,
    )
    _apply(visit, data)
    return visit


def update_visit(actor: User, visit: Visit, data: dict[str, Any], version=None) -> Visit:
    require(actor, "visit.change", visit)
    check_version(visit, version)
    _apply(visit, data)
    db.session.flush()
    return visit


def complete_next_step(actor: User, visit: Visit) -> None:
    require(actor, "visit.change", visit)
    visit.next_step_done_at = utcnow()
    db.session.flush()


def visit_list_query(actor: User, filters: dict[str, Any]):
    """The visits ``actor`` may see, newest first. A visit of a 保密项目 the actor sees masked is
    listed (as "保密项目") but never found by a search or a firm/project filter: either would name
    what the mask hides."""
    stmt = scope(select(Visit), Visit, actor)
    if filters.get("q") or filters.get("enterprise_id") or filters.get("project_id"):
        stmt = stmt.where(linked_in_full_condition(actor, Visit))
    if filters.get("enterprise_id"):
        stmt = stmt.where(Visit.enterprise_id == filters["enterprise_id"])
    if filters.get("project_id"):
        stmt = stmt.where(Visit.project_id == filters["project_id"])
    if filters.get("officer_id"):
        stmt = stmt.where(Visit.officer_id == filters["officer_id"])
    if filters.get("kind"):
        stmt = stmt.where(Visit.kind == filters["kind"])
    if filters.get("q"):
        q = filters["q"].strip()
        stmt = stmt.join(Visit.enterprise).where(
            or_(Visit.summary.contains(q, autoescape=True), search_condition(q))
        )
    return stmt.order_by(Visit.visit_date.desc(), Visit.id.desc())
