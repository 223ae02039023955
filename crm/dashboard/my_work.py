"""我的工作: an officer's to-do list — next steps due, stale leads, their own pipeline, and the first-report
rulings of the last 30 days on their projects (a chief: on their zone's)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from crm.extensions import db
from crm.pipeline.models import Project
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.pipeline.models import ACTIVE_LEAD_STAGES, PIPELINE_STAGES
from crm.permissions import scope
from crm.pipeline.first_report import RULING_NOTICE_DAYS, ruling_notices

UPCOMING_DAYS = 14
LIST_LIMIT = 100


def my_work(user: User, today: date | None = None) -> dict:
    today = today or date.today()
    open_steps = scope(select(Visit), Visit, user).where(
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
    }


def stale_leads(user: User, today: date) -> list[dict]:
    """My active leads with no visit in the zone's stale_lead_days (default 30), oldest contact first."""
    last_visit = last_visit_date().label("last_visit")
    stmt = (
        scope(select(Project, last_visit, Zone.stale_lead_days), Project, user)
        .join(Zone, Zone.id == Project.zone_id)
        .where(Project.owner_id == user.id, Project.stage.in_(ACTIVE_LEAD_STAGES))
        .order_by(last_visit.asc().nulls_first(), Project.id)
    )
    rows = []
    for project, last, days in db.session.execute(stmt):
        idle = idle_days(project.created_at, last, today)
        if idle >= days:
            rows.append({"project": project, "last_visit": last, "idle_days": idle, "threshold": days})
        if len(rows) >= LIST_LIMIT:
            break
    return rows


def my_pipeline(user: User) -> list[dict]:
    counts = dict(db.session.execute(
        scope(select(Project.stage, func.count()), Project, user)
        .where(Project.owner_id == user.id).group_by(Project.stage)
    ).all())
    return [{"stage": stage, "count": counts.get(stage, 0)} for stage in PIPELINE_STAGES + ("搁置", "终止")]


def last_visit_date():
    """A project's latest visit date, correlated per project: it reads that project's visits through
    ix_visits_project_id, never an aggregate over the city's."""
    return (
        select(func.max(Visit.visit_date))
        .where(Visit.project_id == Project.id, Visit.deleted_at.is_(None))
        .correlate(Project).scalar_subquery()
    )


def idle_days(created_at: datetime, last_visit: date | None, today: date) -> int:
    """Days since the last visit, or since the lead was registered when it has never been visited."""
    reference = last_visit or (created_at.date() if isinstance(created_at, datetime) else created_at)
    return (today - reference).days
