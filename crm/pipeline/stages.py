"""Stage changes applied to projects: every caller (stage form, board, import, revert, first-report
rulings) asks the lifecycle rules for a plan and applies it here."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select

from crm.db import utcnow
from crm.errors import ServiceError, check_version
from crm.extensions import db
from crm.formatting import local_datetime
from crm.pipeline import lifecycle
from crm.pipeline.lifecycle import DROPPED, MILESTONE_COLUMNS, SIDE_STAGES
from crm.pipeline.models import FirstReportConflict, Project, StageEvent
from crm.permissions import can, require


def has_money_recorded(project: Project) -> bool:
    """Funds in place or capital increases recorded on the project (they tie it to its signing)."""
    # The ledger's tables hang off projects; reading them by name keeps the pipeline from importing the
    # feature above it.
    for name in ("funds_in_place", "capital_increases"):
        table = db.metadata.tables[name]
        if db.session.scalar(select(table.c.id).where(table.c.project_id == project.id,
                                                      table.c.deleted_at.is_(None)).limit(1)):
            return True
    return False


def change_stage(
    actor,
    project: Project,
    to_stage: str,
    *,
    note: str = "",
    on_date: date | None = None,
    contract_investment: Decimal | None = None,
    version=None,
    undated: bool = False,
    today: date | None = None,
) -> StageEvent:
    """Move a project to ``to_stage`` by the lifecycle's rules, apply what they say, record the event."""
    check_version(project, version)
    change = plan_stage_change(project, to_stage, note=note, on_date=on_date,
                               contract_investment=contract_investment, undated=undated, today=today)
    return apply_stage_change(actor, project, change, note)


def plan_stage_change(project: Project, to_stage: str, *, note: str = "", on_date: date | None = None,
                      contract_investment: Decimal | None = None, undated: bool = False,
                      today: date | None = None) -> lifecycle.StageChange:
    facts = lifecycle.ProjectFacts.of(project, has_funds=has_money_recorded(project))
    try:
        return lifecycle.plan_change(facts, to_stage, today=today or date.today(), note=note, on_date=on_date,
                                     contract_investment=contract_investment, undated=undated)
    except lifecycle.LifecycleError as error:
        raise ServiceError(error.message, field=error.field) from None


def apply_stage_change(actor, project: Project, change: lifecycle.StageChange, note: str = "") -> StageEvent:
    """Write a planned change onto the project: dates set and cleared, contract amount, stage, event.
    The plan was made against the project as it stands, in this transaction."""
    require(actor, "project.change", project)
    if project.stage != change.from_stage:
        raise ServiceError(f"项目“{project.name}”的阶段已变为“{project.stage}”，请刷新后重试", field="stage")
    if change.from_stage == DROPPED:
        refuse_if_ruled_out(actor, project)
    note = (note or "").strip()
    for column in change.cleared_dates:
        setattr(project, column, None)
    for column, day in change.set_dates.items():
        setattr(project, column, day)
    if change.clears_contract:
        note = f"{note}（原协议投资额 {project.contract_investment} 万元）" if note else f"原协议投资额 {project.contract_investment} 万元"
        project.contract_investment = None
    if change.contract_investment is not None:
        project.contract_investment = change.contract_investment
    project.stage = change.to_stage
    project.stage_changed_at = utcnow()
    if change.to_stage in SIDE_STAGES:
        project.stage_reason = note
    if change.cleared_dates:
        cleared = "、".join(f"{stage}日期 {day.isoformat()}" for stage, day in _cleared_by_stage(change))
        note = f"{note}（已清除 {cleared}）" if note else f"已清除 {cleared}"
    event = StageEvent(project_id=project.id, actor_id=getattr(actor, "id", None), from_stage=change.from_stage,
                       to_stage=change.to_stage, note=note[:500])
    db.session.add(event)
    db.session.flush()
    return event


def binding_ruling(project: Project) -> FirstReportConflict | None:
    """The first-report ruling this project lost and the admin has not reopened, if any.

    It lives here, beside the one applier of stage changes, so that every path out of 终止 (stage
    form, board, import, revert) meets it; first_report.py (which applies rulings through this
    module) asks it too.
    """
    if project.id is None:
        return None
    return db.session.scalars(
        select(FirstReportConflict)
        .where(FirstReportConflict.status == "decided", FirstReportConflict.reopened_at.is_(None),
               or_(FirstReportConflict.holder_project_id == project.id,
                   FirstReportConflict.challenger_project_id == project.id),
               FirstReportConflict.winner_project_id != project.id)
        .order_by(FirstReportConflict.decided_at.desc(), FirstReportConflict.id.desc())
        .limit(1)
    ).first()


def refuse_if_ruled_out(actor, project: Project) -> None:
    """A first-report ruling binds: the losing project stays 终止 until the admin reopens it from the
    ruling page (with a reason, recorded on the ruling)."""
    ruling = binding_ruling(project)
    if ruling is None:
        return
    when = local_datetime(ruling.decided_at)[:10]
    if can(actor, "ruling.reopen"):
        raise ServiceError(f"该项目已由首报首谈裁定终止（{when}），请在“首报首谈裁定”页面填写理由后重启", field="stage")
    raise ServiceError(f"该项目已由市投促中心首报首谈裁定终止（{when}），如需重启请联系市投促中心", field="stage")


def _cleared_by_stage(change: lifecycle.StageChange):
    stage_of = {column: stage for stage, column in MILESTONE_COLUMNS.items()}
    return [(stage_of[column], day) for column, day in change.cleared_dates.items()]
