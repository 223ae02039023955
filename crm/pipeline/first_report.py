"""首报首谈: the first zone to register a project for an enterprise holds it; the city admin arbitrates.

Zones learn only *that* an enterprise is held elsewhere, by which zone and since when — never the
other zone's project details. A ruling binds: the losing project stays 终止 (stages.refuse_if_ruled_out)
until the admin reopens it here; both sides read the ruling in 我的工作 (ruling_notices).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, lazyload

from crm.db import utcnow
from crm.extensions import db
from crm.library.models import Enterprise
from crm.pipeline.models import FirstReportConflict, Project
from crm.accounts.zones import Zone
from crm.errors import ServiceError
from crm.permissions import is_zone_staff, require, zones_in_charge
from crm.pipeline.lifecycle import DROPPED, LEAD, MILESTONE_COLUMNS
from crm.pipeline.models import StageEvent
from crm.pipeline.stages import binding_ruling, change_stage

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
    require(actor, "ruling.decide")
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


def reopen(actor, conflict: FirstReportConflict, reason: str) -> Project:
    """The admin lifts a ruling's hold on the losing project: it returns to the stage it had before it
    was terminated (the stage history records the reason), and the ruling records who, when and why."""
    require(actor, "ruling.reopen")
    if conflict.status != "decided":
        raise ServiceError("该争议尚未裁定")
    if conflict.reopened_at is not None:
        raise ServiceError("该裁定终止的项目已重启过")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写重启理由", field="reopen_reason")
    loser = conflict.loser
    if loser.deleted_at is not None:
        raise ServiceError("该项目已删除，请先在回收站恢复")
    if loser.stage != DROPPED:
        raise ServiceError("该项目已不处于终止状态")
    stage = stage_before_termination(loser)
    # Every ruling the project lost is lifted with this one (a holder can lose to two zones): the
    # project is the admin's to bring back, and each ruling shows the reopening.
    ruling, now = conflict, utcnow()
    while ruling is not None:
        ruling.reopened_by_id, ruling.reopened_at, ruling.reopen_reason = actor.id, now, reason[:500]
        db.session.flush()  # the ruling no longer holds the project: the applier lets it leave 终止
        ruling = binding_ruling(loser)
    column = MILESTONE_COLUMNS.get(stage)
    change_stage(actor, loser, stage, note=f"市投促中心重启首报首谈裁定终止的项目：{reason}",
                 on_date=getattr(loser, column) if column else None)
    return loser


def stage_before_termination(project: Project) -> str:
    """The stage the project had when it last moved to 终止 (线索 when its history does not say)."""
    before = db.session.scalar(
        select(StageEvent.from_stage)
        .where(StageEvent.project_id == project.id, StageEvent.to_stage == DROPPED)
        .order_by(StageEvent.id.desc()).limit(1)
    )
    return before if before and before != DROPPED else LEAD


RULING_NOTICE_DAYS = 30


@dataclass(frozen=True)
class RulingNotice:
    """A ruling as one side sees it: its own project, and of the other side only the zone's name."""

    enterprise_name: str
    kept_by_zone: str
    reason: str
    decided_at: datetime
    project: Project  # the reader's side
    lost: bool
    reopened_at: datetime | None


def ruling_notices(user, now: datetime | None = None) -> list[RulingNotice]:
    """Rulings of the last 30 days that concern ``user``: the owners of the two projects and the chiefs
    of the two zones. One query; the other zone's project gives only its zone's name."""
    if not is_zone_staff(user):
        return []
    since = (now or utcnow()) - timedelta(days=RULING_NOTICE_DAYS)
    holder, challenger = aliased(Project), aliased(Project)
    holder_zone, challenger_zone = aliased(Zone), aliased(Zone)
    chief_zones = zones_in_charge(user)

    def concerns(project):
        return or_(project.owner_id == user.id, project.zone_id.in_(chief_zones)) if chief_zones \
            else project.owner_id == user.id

    stmt = (
        select(FirstReportConflict)
        .join(holder, FirstReportConflict.holder)
        .join(holder_zone, holder.zone)
        .join(challenger, FirstReportConflict.challenger)
        .join(challenger_zone, challenger.zone)
        .options(lazyload("*"), joinedload(FirstReportConflict.enterprise).lazyload("*"),
                 contains_eager(FirstReportConflict.holder.of_type(holder)).options(
                     lazyload("*"), contains_eager(holder.zone.of_type(holder_zone))),
                 contains_eager(FirstReportConflict.challenger.of_type(challenger)).options(
                     lazyload("*"), contains_eager(challenger.zone.of_type(challenger_zone))))
        .where(FirstReportConflict.status == "decided", FirstReportConflict.decided_at >= since,
               or_(and_(concerns(holder), holder.deleted_at.is_(None)),
                   and_(concerns(challenger), challenger.deleted_at.is_(None))))
        .order_by(FirstReportConflict.decided_at.desc(), FirstReportConflict.id.desc())
        .limit(50)
    )
    notices = []
    for conflict in db.session.scalars(stmt).unique():
        winner = conflict.winner
        for project in (conflict.holder, conflict.challenger):
            mine = project.owner_id == user.id or project.zone_id in chief_zones
            if mine and project.deleted_at is None:
                notices.append(RulingNotice(conflict.enterprise.name, winner.zone.name, conflict.reason,
                                            conflict.decided_at, project, project.id != winner.id,
                                            conflict.reopened_at))
    return notices


def open_conflicts_query():
    return select(FirstReportConflict).order_by(
        (FirstReportConflict.status == "open").desc(), FirstReportConflict.id.desc()
    )
