"""The first page after sign-in: the pipeline at a glance for the zones the user may see."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Project, Visit
from crm.models.project import PIPELINE_STAGES, SIGNED_STAGES
from crm.permissions import scope


def overview(user) -> dict:
    projects = scope(select(Project), Project, user).subquery()
    by_stage = dict(db.session.execute(select(projects.c.stage, func.count()).group_by(projects.c.stage)).all())
    signed_amount = db.session.scalar(
        select(func.coalesce(func.sum(projects.c.contract_investment), 0)).where(projects.c.stage.in_(SIGNED_STAGES))
    )
    visits = scope(select(Visit), Visit, user).subquery()
    overdue = db.session.scalar(
        select(func.count()).select_from(visits).where(
            visits.c.next_step_due < date.today(), visits.c.next_step_done_at.is_(None)
        )
    )
    return {
        "funnel": [{"stage": s, "count": by_stage.get(s, 0)} for s in PIPELINE_STAGES],
        "on_hold": by_stage.get("搁置", 0),
        "dropped": by_stage.get("终止", 0),
        "total": sum(by_stage.values()),
        "signed_amount": signed_amount,
        "overdue_next_steps": overdue,
    }
