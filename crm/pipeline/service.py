"""The project pipeline: create, edit, move between stages, soft delete."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Load, joinedload

from crm.db import utcnow
from crm.extensions import db
from crm.catalog.models import Chain, EnterpriseSegment, Segment
from crm.library.models import Enterprise
from crm.pipeline.models import FirstReportConflict, Project, StageEvent
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.pipeline.lifecycle import DUE_COLUMNS, MILESTONE_COLUMNS, PIPELINE_STAGES
from crm.pipeline.models import PRIORITIES, PROJECT_SOURCES
from crm.permissions import MASKED_NAME, can, in_full_condition, is_zone_staff, require, scope, writable_zone_ids
from crm.library.service import search_condition
from crm.errors import check_version, ServiceError
from crm.pipeline import lifecycle
from crm.pipeline.first_report import flag_if_held
from crm.pipeline.stages import apply_stage_change, change_stage, plan_stage_change  # noqa: F401 - the service's API
from crm.inputs import month_bounds, parse_year

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
    """The owner of a project in ``zone_id``: the one chosen, when the actor may choose (the zone's
    chiefs, the admin) and the choice is one of the zone's promotion staff; else the actor."""
    if owner_id is None or owner_id == actor.id or not can(actor, "project.assign", zone_id):
        return actor.id
    owner = db.session.get(User, owner_id)
    if owner is None or not is_zone_staff(owner) or zone_id not in owner.zone_ids:
        raise ServiceError("负责人必须是该园区的招商人员", field="owner_id")
    return owner.id


UNKNOWN_SEGMENT = "所选产业链环节不存在，请刷新页面后重新选择"
_MAX_ID = 2**31 - 1  # ids beyond a 4-byte integer were never issued (and would upset PostgreSQL)


def segments_from_ids(ids) -> list[Segment]:
    """The segments ``ids`` name, in the order given; ServiceError (field segment_ids) for any unknown id."""
    wanted: list[int] = []
    for raw in ids or []:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ServiceError(UNKNOWN_SEGMENT, field="segment_ids") from None
        if not 0 < value <= _MAX_ID:
            raise ServiceError(UNKNOWN_SEGMENT, field="segment_ids")
        if value not in wanted:
            wanted.append(value)
    if not wanted:
        return []
    found = {s.id: s for s in db.session.scalars(select(Segment).where(Segment.id.in_(wanted)))}
    if len(found) != len(wanted):
        raise ServiceError(UNKNOWN_SEGMENT, field="segment_ids")
    return [found[i] for i in wanted]


def primary_segment(enterprise: Enterprise) -> Segment | None:
    """The enterprise's primary chain segment (its main business), if it is mapped onto one."""
    return db.session.scalar(
        select(Segment).join(EnterpriseSegment, EnterpriseSegment.segment_id == Segment.id)
        .where(EnterpriseSegment.enterprise_id == enterprise.id, EnterpriseSegment.is_primary.is_(True))
        .order_by(Segment.id).limit(1)
    )


def _segments_in(data: dict[str, Any]) -> list[Segment] | None:
    """The segments ``data`` asks for: ``segment_ids`` (from a form) or ``segments`` (Segment objects)."""
    if "segment_ids" in data:
        return segments_from_ids(data["segment_ids"])
    if "segments" in data:
        return list(dict.fromkeys(data["segments"] or []))
    return None


def set_project_segments(project: Project, segments: list[Segment]) -> bool:
    """Make ``segments`` the project's chain segments; whether anything changed.

    A change of segments alone is a change of the project: its ``updated_at`` and so its version
    move, so a form opened before the change is refused as stale and an import batch that set the
    segments is not reverted over a later edit.
    """
    segments = list(dict.fromkeys(segments))
    if {s.id for s in project.segments} == {s.id for s in segments}:
        return False
    project.segments = segments
    project.updated_at = utcnow()
    return True


def projects_without_segments() -> list[tuple[Project, Segment]]:
    """Projects (not deleted) serving no segment whose enterprise has a primary one, with that segment.

    They were made before a new project took its enterprise's primary segment; one query.
    """
    rows = db.session.execute(
        select(Project, Segment)
        .join(EnterpriseSegment, and_(EnterpriseSegment.enterprise_id == Project.enterprise_id,
                                      EnterpriseSegment.is_primary.is_(True)))
        .join(Segment, Segment.id == EnterpriseSegment.segment_id)
        .where(Project.deleted_at.is_(None), ~Project.segments.any())
        .order_by(Project.id, Segment.id)
    ).unique().tuples().all()
    found: dict[int, tuple[Project, Segment]] = {}
    for project, segment in rows:
        found.setdefault(project.id, (project, segment))
    return list(found.values())


def fill_missing_segments(actor) -> list[tuple[Project, Segment]]:
    """Give every project that serves no segment its enterprise's primary segment (audited); what was set.

    The city operator's one-off repair (``flask chains fill-project-segments``), city-wide.
    """
    found = projects_without_segments()
    for project, segment in found:
        set_project_segments(project, [segment])
    db.session.flush()
    return found


def create_project(actor: User, enterprise: Enterprise, data: dict[str, Any]) -> Project:
    """A new project (线索) for ``enterprise``; without segments it serves the enterprise's primary one."""
    zones = writable_zone_ids(actor)
    zone_id = data.get("zone_id") if can(actor, "city.all_zones") else (zones[0] if zones else None)
    if zone_id is None or not can(actor, "zone.write", zone_id):
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
    segments = _segments_in(data)
    if not segments:
        primary = primary_segment(enterprise)
        segments = [primary] if primary else []
    project.segments = segments
    db.session.add(project)
    db.session.flush()
    db.session.add(StageEvent(project_id=project.id, actor_id=actor.id, from_stage=None, to_stage="线索"))
    db.session.flush()
    flag_if_held(project)
    return project


def update_project(actor: User, project: Project, data: dict[str, Any], version=None) -> Project:
    require(actor, "project.change", project)
    check_version(project, version)
    _apply(project, data)
    if "owner_id" in data and data["owner_id"] != project.owner_id:
        require(actor, "project.assign", project)
        project.owner_id = _owner_for(actor, project.zone_id, data["owner_id"])
    segments = _segments_in(data)
    if segments is not None:
        set_project_segments(project, segments)
    db.session.flush()
    return project


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
# What the project_link macro, the in_full test and the policy read of a project named on a list.
LINK_COLUMNS = (Project.id, Project.name, Project.stage, Project.zone_id, Project.owner_id, Project.confidential,
                Project.version)


def named_only(load, *columns) -> tuple:
    """Limit ``load`` (``Load(Project)`` or an eager load of a path to a project) to LINK_COLUMNS and
    ``columns``, with no joined row of its own: a list that names a project needs no enterprise, owner or
    zone row, and loading them (the owner's zones, its two-factor columns) cost more than the SQL."""
    return load.load_only(*LINK_COLUMNS, *columns, raiseload=True), load.raiseload("*")


# A board card also shows its zone and owner; its advance button reads the stage and version.
BOARD_CARD_COLUMNS = (
    *named_only(Load(Project), Project.stage_changed_at),
    joinedload(Project.zone).load_only(Zone.id, Zone.name, raiseload=True),
    joinedload(Project.owner).load_only(User.id, User.display_name, raiseload=True).raiseload(User.zones),
)


def board(actor: User, filters: dict[str, Any]) -> list[dict]:
    """Projects by pipeline stage: counts per stage, and the most recently moved cards of each."""
    base = project_list_query(actor, filters, sort="-stage_changed").where(Project.stage.in_(PIPELINE_STAGES))
    counts = _stage_counts(base)
    ranked = base.add_columns(
        func.row_number().over(partition_by=Project.stage, order_by=(Project.stage_changed_at.desc(), Project.id.desc())).label("rank")
    ).subquery()
    projects = db.session.scalars(
        select(Project)
        .options(*BOARD_CARD_COLUMNS)
        .join(ranked, Project.id == ranked.c.id)
        .where(ranked.c.rank <= BOARD_LIMIT)
        .order_by(Project.stage_changed_at.desc(), Project.id.desc())
    ).all()
    by_stage: dict[str, list[Project]] = {stage: [] for stage in PIPELINE_STAGES}
    for project in projects:
        by_stage[project.stage].append(project)
    return [
        {"stage": stage, "count": counts.get(stage, 0), "projects": by_stage[stage],
         "next": lifecycle.next_stage(stage)}
        for stage in PIPELINE_STAGES
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
            year = parse_year(year)
            return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return (date.min, date.min)  # a malformed period matches nothing rather than everything
    return None


def overdue_condition(today: date, which: str | None = None):
    """SQL form of ``figures.overdue_milestones``: a signed project, not 终止, past a milestone's agreed
    date without having reached it."""
    parts = [and_(getattr(Project, due) < today, ~reached_condition(stage))
             for stage, due in DUE_COLUMNS.items() if not which or which == stage]
    return and_(Project.signed_date.is_not(None), Project.stage != lifecycle.DROPPED, or_(*parts))


def reached_condition(stage: str):
    """SQL form of ``lifecycle.reached`` (by now): a date of this or a later milestone is recorded, or the
    project stands at or past the stage on the pipeline (a milestone an import recorded without a date)."""
    later = lifecycle.PIPELINE_STAGES[lifecycle.stage_index(stage):]
    dated = [getattr(Project, column).is_not(None) for s, column in MILESTONE_COLUMNS.items() if s in later]
    return or_(Project.stage.in_(later), *dated)
