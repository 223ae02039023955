"""我的工作: an officer's to-do list — next steps due, stale leads, their own pipeline, and the first-report
rulings of the last 30 days on their projects (a chief: on their zone's)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Load, joinedload, raiseload

from crm.extensions import db
from crm.library.models import Enterprise
from crm.pipeline.models import Project
from crm.pipeline.service import named_only
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.pipeline.models import ACTIVE_LEAD_STAGES, PIPELINE_STAGES
from crm.permissions import scope
from crm.service.service import my_service
from crm.pipeline.first_report import RULING_NOTICE_DAYS, ruling_notices

UPCOMING_DAYS = 14
LIST_LIMIT = 100
# A next step names its date, text, firm and project (masked when the reader may not see it in full).
STEP_COLUMNS = (
    Load(Visit).load_only(Visit.id, Visit.zone_id, Visit.enterprise_id, Visit.project_id, Visit.officer_id,
                          Visit.next_step, Visit.next_step_due, Visit.next_step_done_at, Visit.version,
                          raiseload=True),
    joinedload(Visit.enterprise).load_only(Enterprise.id, Enterprise.name, raiseload=True),
    *named_only(joinedload(Visit.project)),
    joinedload(Visit.enterprise).raiseload("*"),
    raiseload(Visit.officer),
)


def my_work(user: User, today: date | None = None) -> dict:
    today = today or date.today()
    open_steps = scope(select(Visit).options(*STEP_COLUMNS), Visit, user).where(
        Visit.officer_id == user.id, Visit.next_step != "", Visit.next_step_done_at.is_(None),
        Visit.next_step_due.is_not(None),
    )
    overdue = db.session.scalars(
        open_steps.where(Visit.next_step_due < today).order_by(Visit.next_step_due, Visit.id).limit(LIST_LIMIT)
    ).all()
    upcoming = db.session.scalars(
        open_steps.where(Visit.next_step_due >= today, Visit.next_step_due <= today + timedelta(days=UPCOMING_DAYS))
        .order_by(Visit.next_step_due, Visit.id).limit(LIST_LIMIT)
    ).all()
    return {
        "overdue": overdue,
        "upcoming": upcoming,
        "stale": stale_leads(user, today),
        "pipeline": my_pipeline(user),
        "rulings": ruling_notices(user),
        "ruling_days": RULING_NOTICE_DAYS,
        "today": today,
        "upcoming_days": UPCOMING_DAYS,
        "service": my_service(user, today),  # 包保 firms and their open requests
    }


def stale_leads(user: User, today: date) -> list[dict]:
    """My active leads with no visit in the zone's stale_lead_days (default 30), oldest contact first."""
    stmt = (
        scope(select(Project, Zone.stale_lead_days), Project, user)
        .options(*named_only(Load(Project), Project.created_at, Project.last_visit_at))
        .join(Zone, Zone.id == Project.zone_id)
        .where(Project.owner_id == user.id, Project.stage.in_(ACTIVE_LEAD_STAGES), stale_condition(today))
        .order_by(Project.last_visit_at.asc().nulls_first(), Project.id)
        .limit(LIST_LIMIT)
    )
    return [{"project": project, "last_visit": project.last_visit_at,
             "idle_days": idle_days(project.created_at, project.last_visit_at, today), "threshold": days}
            for project, days in db.session.execute(stmt)]


def my_pipeline(user: User) -> list[dict]:
    counts = dict(db.session.execute(
        scope(select(Project.stage, func.count()), Project, user)
        .where(Project.owner_id == user.id).group_by(Project.stage)
    ).all())
    return [{"stage": stage, "count": counts.get(stage, 0)} for stage in PIPELINE_STAGES + ("搁置", "终止")]


def stale_condition(today: date):
    """A lead is stale when its zone's stale_lead_days have passed since its last visit
    (``Project.last_visit_at``, the summary the visits keep), or since it was registered when it was never
    visited: ``idle_days(...) >= stale_lead_days``, as SQL. One branch per threshold the zones use."""
    by_days: dict[int, list[int]] = {}
    for zone_id, days in db.session.execute(select(Zone.id, Zone.stale_lead_days)):
        by_days.setdefault(days, []).append(zone_id)
    branches = []
    for days, zone_ids in sorted(by_days.items()):
        cutoff = today - timedelta(days=days)  # the latest reference date that is stale
        registered_by = datetime.combine(cutoff + timedelta(days=1), time(), UTC)
        branches.append(and_(Project.zone_id.in_(zone_ids), or_(
            Project.last_visit_at <= cutoff,
            and_(Project.last_visit_at.is_(None), Project.created_at < registered_by),
        )))
    return or_(*branches) if branches else false()


def idle_days(created_at: datetime, last_visit: date | None, today: date) -> int:
    """Days since the last visit, or since the lead was registered when it has never been visited."""
    reference = last_visit or (created_at.date() if isinstance(created_at, datetime) else created_at)
    return (today - reference).days
