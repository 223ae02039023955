"""The project pipeline: create, edit, move between stages, soft delete."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select

from crm.db import utcnow
from crm.extensions import db
from crm.catalog.models import Chain, Segment
from crm.library.models import Enterprise
from crm.pipeline.models import FirstReportConflict, Project, StageEvent
from crm.accounts.models import User
from crm.pipeline.models import DUE_COLUMNS, MILESTONE_COLUMNS, PIPELINE_STAGES, PRIORITIES, PROJECT_SOURCES, SIDE_STAGES, STAGES
from crm.permissions import MASKED_NAME, can_write_zone, in_full_condition, scope, writable_zone_ids
from crm.library.service import search_condition
from crm.errors import check_version, ServiceError
from crm.pipeline.first_report import flag_if_held
from crm.inputs import month_bounds

EDITABLE_FIELDS = (
    "name", "planned_investment", "land_area", "source", "priority", "confidential", "description",
)


def _check_amount(value, field: str, label: str) -> None:
    if value is not None and Decimal(value) < 0:
        raise ServiceError(f"{label}不能为负数", field=field)


def _apply(project: Project, data: dict[str, Any]) -> None:
    for key in EDITABLE_FIELDS:
        if key in data:
            value = data[key]
            setattr(project, key, value.strip() if isinstance(value, str) else value)
    if not project.name:
        raise ServiceError("请填写项目名称", field="name")
    if project.source not in PROJECT_SOURCES:
        raise ServiceError("未知的项目来源", field="source")
    if project.priority not in PRIORITIES:
        raise ServiceError("未知的优先级", field="priority")
    _check_amount(project.planned_investment, "planned_investment", "计划投资额")
    _check_amount(project.land_area, "land_area", "用地面积")


def _owner_for(actor: User, zone_id: int, owner_id: int | None) -> int:
    if actor.role == "officer" or owner_id is None:
        return actor.id
    owner = db.session.get(User, owner_id)
    if owner is None or owner.role not in {"officer", "chief"} or zone_id not in owner.zone_ids:
        raise ServiceError("负责人必须是该园区的招商人员", field="owner_id")
    return owner.id


def create_project(actor: User, enterprise: Enterprise, data: dict[str, Any]) -> Project:
    zones = writable_zone_ids(actor)
    zone_id = data.get("zone_id") if actor.role == "admin" else (zones[0] if zones else None)
    if zone_id is None or not can_write_zone(actor, zone_id):
        raise ServiceError("请选择本人有权限的园区", field="zone_id")
    project = Project(
        zone_id=zone_id,
        enterprise_id=enterprise.id,
        owner_id=_owner_for(actor, zone_id, data.get("owner_id")),
        stage="线索",
        source="其他",
        priority="中",
    )
    _apply(project, data)
    project.segments = list(data.get("segments") or [])
    db.session.add(project)
    db.session.flush()
    db.session.add(StageEvent(project_id=project.id, actor_id=actor.id, from_stage=None, to_stage="线索"))
    db.session.flush()
    flag_if_held(project)
    return project


def update_project(actor: User, project: Project, data: dict[str, Any], version=None) -> Project:
    check_version(project, version)
    _apply(project, data)
    if "owner_id" in data and actor.role != "officer":
        project.owner_id = _owner_for(actor, project.zone_id, data["owner_id"])
    if "segments" in data:
        project.segments = list(data["segments"] or [])
    db.session.flush()
    return project


def _stage_index(stage: str) -> int:
    return PIPELINE_STAGES.index(stage) if stage in PIPELINE_STAGES else -1


def change_stage(
    actor: User,
    project: Project,
    to_stage: str,
    *,
    note: str = "",
    on_date: date | None = None,
    contract_investment: Decimal | None = None,
    version=None,
) -> StageEvent:
    """Move a project to ``to_stage``, enforcing the pipeline's rules, and record the event."""
    check_version(project, version)
    note = (note or "").strip()
    from_stage = project.stage
    if to_stage not in STAGES:
        raise ServiceError(f"未知阶段：{to_stage}", field="stage")
    if to_stage == from_stage:
        raise ServiceError("项目已处于该阶段", field="stage")
    if to_stage in SIDE_STAGES and not note:
        raise ServiceError(f"转为“{to_stage}”必须填写原因", field="note")
    if from_stage == "终止" and not note:
        raise ServiceError("重新启动已终止的项目必须填写原因", field="note")
    moving_back = (
        to_stage in PIPELINE_STAGES
        and from_stage in PIPELINE_STAGES
        and _stage_index(to_stage) < _stage_index(from_stage)
    )
    if moving_back and not note:
        raise ServiceError("阶段回退必须填写原因", field="note")

    if to_stage in PIPELINE_STAGES and _stage_index(to_stage) >= _stage_index("签约"):
        _record_milestones(project, to_stage, on_date or date.today(), contract_investment)

    project.stage = to_stage
    project.stage_changed_at = utcnow()
    if to_stage in SIDE_STAGES:
        project.stage_reason = note
    event = StageEvent(project_id=project.id, actor_id=actor.id, from_stage=from_stage, to_stage=to_stage, note=note)
    db.session.add(event)
    db.session.flush()
    return event


def _record_milestones(project: Project, to_stage: str, on_date: date, contract_investment) -> None:
    if to_stage == "签约":
        if contract_investment is None or Decimal(contract_investment) <= 0:
            raise ServiceError("签约须填写协议投资额（万元，大于 0）", field="contract_investment")
        project.contract_investment = contract_investment
    elif project.signed_date is None:
        raise ServiceError("项目尚未签约，请先推进到“签约”并填写签约日期和协议投资额", field="stage")
    if on_date > date.today():
        raise ServiceError("日期不能晚于今天", field="on_date")
    earlier = [
        getattr(project, column)
        for stage, column in MILESTONE_COLUMNS.items()
        if _stage_index(stage) < _stage_index(to_stage)
    ]
    latest = max((d for d in earlier if d), default=None)
    if latest and on_date < latest:
        raise ServiceError(f"{to_stage}日期不能早于前一节点日期 {latest.isoformat()}", field="on_date")
    column = MILESTONE_COLUMNS[to_stage]
    # A project counts once, at its first signing: a later re-signing keeps the first date.
    if not (to_stage == "签约" and project.signed_date):
        setattr(project, column, on_date)



SORTS = {
    "name": Project.name,
    "stage": Project.stage,
    "investment": Project.planned_investment,
    "updated": Project.updated_at,
    "stage_changed": Project.stage_changed_at,
}


def _sort_column(actor: User, key: str):
    """The column to sort by; a masked project sorts by what the actor sees of it (its masked name,
    no amount), so the order does not betray a name or an amount."""
    column = SORTS.get(key, Project.updated_at)
    if key == "name":
        return case((in_full_condition(actor), Project.name), else_=literal(MASKED_NAME))
    if key == "investment":
        return case((in_full_condition(actor), Project.planned_investment), else_=None)
    return column


def project_list_query(actor: User, filters: dict[str, Any], sort: str = "-updated"):
    """The projects ``actor`` may see, filtered; enterprise, zone and owner are joined in one query.

    A confidential project the actor sees masked stays in the list (and in every count), but a
    search by name or enterprise never finds it: the search would betray what the mask hides."""
    stmt = scope(select(Project), Project, actor)
    if filters.get("q"):
        q = filters["q"].strip()
        stmt = stmt.join(Project.enterprise).where(
            or_(Project.name.contains(q, autoescape=True), search_condition(q)), in_full_condition(actor)
        )
    for key, column in (("stage", Project.stage), ("zone_id", Project.zone_id), ("owner_id", Project.owner_id),
                        ("source", Project.source), ("priority", Project.priority)):
        if filters.get(key):
            stmt = stmt.where(column == filters[key])
    if filters.get("segment_id"):
        stmt = stmt.where(Project.segments.any(id=filters["segment_id"]))
    if filters.get("chain"):
        stmt = stmt.where(Project.segments.any(Segment.chain.has(Chain.code == filters["chain"])))
    stmt = _ledger_filters(stmt, filters)
    column = _sort_column(actor, sort.lstrip("-"))
    order = column.desc() if sort.startswith("-") else column.asc()
    return stmt.order_by(order, Project.id.desc())


BOARD_LIMIT = 20


def board(actor: User, filters: dict[str, Any]) -> list[dict]:
    """Projects by pipeline stage: counts per stage, and the most recently moved cards of each."""
    base = project_list_query(actor, filters, sort="-stage_changed").where(Project.stage.in_(PIPELINE_STAGES))
    counts = _stage_counts(base)
    ranked = base.add_columns(
        func.row_number().over(partition_by=Project.stage, order_by=(Project.stage_changed_at.desc(), Project.id.desc())).label("rank")
    ).subquery()
    projects = db.session.scalars(
        select(Project)
        .join(ranked, Project.id == ranked.c.id)
        .where(ranked.c.rank <= BOARD_LIMIT)
        .order_by(Project.stage_changed_at.desc(), Project.id.desc())
    ).all()
    by_stage: dict[str, list[Project]] = {stage: [] for stage in PIPELINE_STAGES}
    for project in projects:
        by_stage[project.stage].append(project)
    return [
        {"stage": stage, "count": counts.get(stage, 0), "projects": by_stage[stage],
         "next": PIPELINE_STAGES[i + 1] if i + 1 < len(PIPELINE_STAGES) else None}
        for i, stage in enumerate(PIPELINE_STAGES)
    ]


def _stage_counts(base) -> dict[str, int]:
    sub = base.order_by(None).subquery()
    return dict(db.session.execute(select(sub.c.stage, func.count()).group_by(sub.c.stage)).all())


def is_flagged(project: Project) -> bool:
    """Whether this project's first-report claim waits for the city admin's ruling."""
    return db.session.scalar(
        select(FirstReportConflict.id).where(
            FirstReportConflict.challenger_project_id == project.id, FirstReportConflict.status == "open"
        )
    ) is not None


def _ledger_filters(stmt, filters: dict[str, Any]):
    """Filters behind the dashboard's figures: signed in a year or month, reached a stage, overdue."""
    period = _period(filters.get("signed_year"), filters.get("signed_month"))
    if period:
        stmt = stmt.where(Project.signed_date.between(*period))
    if filters.get("reached") in PIPELINE_STAGES:
        stmt = stmt.where(reached_condition(filters["reached"]))
    if filters.get("overdue"):
        which = filters["overdue"] if filters["overdue"] in PIPELINE_STAGES else None
        stmt = stmt.where(overdue_condition(date.today(), which))
    return stmt


def _period(year: str | None, month: str | None) -> tuple[date, date] | None:
    try:
        if month:
            return month_bounds(month)
        if year:
            return date(int(year), 1, 1), date(int(year), 12, 31)
    except ValueError:
        return (date.min, date.min)  # a malformed period matches nothing rather than everything
    return None


# Stage reached → the actual-date column that proves it, and the contract due date it is held to.
MILESTONES = tuple(
    (stage, MILESTONE_COLUMNS[stage], due, f"超期未{stage}") for stage, due in DUE_COLUMNS.items()
)


def overdue_condition(today: date, which: str | None = None):
    """SQL condition: a signed project past a milestone's contract date without reaching it."""
    parts = []
    for stage, actual, due, _ in MILESTONES:
        if which and which != stage:
            continue
        parts.append(and_(getattr(Project, actual).is_(None), getattr(Project, due) < today))
    return and_(Project.signed_date.is_not(None), Project.stage != "终止", or_(*parts))


def reached_condition(stage: str):
    """SQL condition: the project has reached ``stage`` (its actual date is recorded)."""
    column = {s: actual for s, actual, _, _ in MILESTONES}.get(stage)
    if column is None:
        return Project.stage.in_(PIPELINE_STAGES[PIPELINE_STAGES.index(stage):])
    return getattr(Project, column).is_not(None)
