"""首报首谈: the first zone to register a project for an enterprise holds it; the city admin arbitrates.

Zones learn only *that* an enterprise is held elsewhere, by which zone and since when — never the
other zone's project details.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from crm.db import utcnow
from crm.extensions import db
from crm.library.models import Enterprise
from crm.pipeline.models import FirstReportConflict, Project
from crm.accounts.zones import Zone
from crm.errors import ServiceError
from crm.pipeline.lifecycle import DROPPED
from crm.pipeline.stages import change_stage

INACTIVE_STAGES = ("终止",)


@dataclass(frozen=True)
class Hold:
    zone_id: int
    zone_name: str
    since: datetime


def _same_company(enterprise: Enterprise):
    """The enterprise and any library twin with the same credit code or normalised name."""
    conditions = [Enterprise.id == enterprise.id]
    if enterprise.uscc:
        conditions.append(Enterprise.uscc == enterprise.uscc)
    if enterprise.name_normalized:
        conditions.append(Enterprise.name_normalized == enterprise.name_normalized)
    return select(Enterprise.id).where(or_(*conditions))


def holds_elsewhere(enterprise: Enterprise, zone_ids: list[int] | None) -> list[Hold]:
    """Zones other than ``zone_ids`` with an active project for this company, earliest first."""
    stmt = (
        select(Zone.id, Zone.name, func.min(Project.created_at))
        .join(Project, Project.zone_id == Zone.id)
        .where(
            Project.enterprise_id.in_(_same_company(enterprise)),
            Project.deleted_at.is_(None),
            Project.stage.not_in(INACTIVE_STAGES),
        )
        .group_by(Zone.id, Zone.name)
        .order_by(func.min(Project.created_at), Zone.id)
    )
    if zone_ids:
        stmt = stmt.where(Zone.id.not_in(zone_ids))
    return [Hold(zone_id, name, since) for zone_id, name, since in db.session.execute(stmt)]


def flag_if_held(project: Project) -> FirstReportConflict | None:
    """Called when a project is created: open a conflict if another zone already holds the company.

    The holder is the zone of the earliest active project; a zone adding a second project for a
    company it holds raises nothing.
    """
    holder = db.session.scalars(
        select(Project)
        .where(
            Project.enterprise_id.in_(_same_company(project.enterprise)),
            Project.id != project.id,
            Project.deleted_at.is_(None),
            Project.stage.not_in(INACTIVE_STAGES),
        )
        .order_by(Project.created_at, Project.id)
        .limit(1)
    ).first()
    if holder is None or holder.zone_id == project.zone_id:
        return None
    conflict = FirstReportConflict(
        enterprise_id=project.enterprise_id, holder_project_id=holder.id, challenger_project_id=project.id
    )
    db.session.add(conflict)
    db.session.flush()
    return conflict


def decide(actor, conflict: FirstReportConflict, winner_project_id: int, reason: str) -> Project:
    """The admin's ruling: the winner keeps the company; the other project moves to 终止."""
    if actor.role != "admin":
        raise ServiceError("只有市投促中心管理员可以裁定首报首谈")
    if conflict.status != "open":
        raise ServiceError("该争议已裁定")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写裁定理由", field="reason")
    pair = {conflict.holder_project_id: conflict.holder, conflict.challenger_project_id: conflict.challenger}
    if winner_project_id not in pair:
        raise ServiceError("请选择保留项目的园区", field="winner")
    loser = next(p for pid, p in pair.items() if pid != winner_project_id)
    winner = pair[winner_project_id]
    if loser.stage != DROPPED:
        change_stage(actor, loser, DROPPED, note=f"首报首谈裁定：由{winner.zone.name}继续跟进。{reason}")
    conflict.status = "decided"
    conflict.winner_project_id = winner.id
    conflict.decided_by_id = actor.id
    conflict.decided_at = utcnow()
    conflict.reason = reason
    db.session.flush()
    return winner


def open_conflicts_query():
    return select(FirstReportConflict).order_by(
        (FirstReportConflict.status == "open").desc(), FirstReportConflict.id.desc()
    )
