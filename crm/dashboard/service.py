"""The chief's dashboard: the pipeline, signings against target, the four rates, breakdowns, alerts.

Every figure carries the project-list filters that reproduce it, so each number links to its projects.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from crm.extensions import db
from crm.catalog.models import Chain, Segment
from crm.pipeline.models import Project, project_segments
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.pipeline.models import ACTIVE_LEAD_STAGES, PIPELINE_STAGES, SIGNED_STAGES
from crm.permissions import can, scope, visible_zone_ids
from crm.ledger import service as ledger
from crm.pipeline.service import overdue_condition
from crm.dashboard.my_work import stale_condition

RATE_LABELS = (("register_rate", "注册率", "注册"), ("start_rate", "开工率", "开工"),
               ("production_rate", "投产率", "投产"), ("funds_rate", "到资率", None))


def overview(user: User, year: int | None = None, zone_id: int | None = None, today: date | None = None) -> dict:
    today = today or date.today()
    year = year or today.year
    zone_ids = [zone_id] if zone_id else None
    projects = _projects(user, zone_ids)
    base = projects.subquery()

    by_stage = dict(db.session.execute(select(base.c.stage, func.count()).group_by(base.c.stage)).all())
    months = ledger.signed_amount_by_month(user, year, zone_ids)
    targets = ledger.target_for(zone_ids if zone_ids else _zone_ids_for(user), year)
    rates = ledger.rates(user, date(year, 1, 1), date(year, 12, 31), zone_ids)
    overdue = db.session.scalars(
        projects.where(overdue_condition(today)).order_by(Project.signed_date).limit(20)
    ).all()
    overdue_count = db.session.scalar(select(func.count()).select_from(
        projects.where(overdue_condition(today)).subquery()))
    return {
        "year": year,
        "zone_id": zone_id,
        "total": sum(by_stage.values()),
        "funnel": [{"stage": s, "count": by_stage.get(s, 0), "filters": {"stage": s}} for s in PIPELINE_STAGES],
        "on_hold": by_stage.get("搁置", 0),
        "dropped": by_stage.get("终止", 0),
        "signed_count": rates["signed"],
        "signed_amount": rates["signed_amount"],
        "target": targets,
        "months": [{"month": m["month"], "amount": float(m["amount"]), "increase": float(m["increase"]),
                    "count": m["count"], "filters": {"signed_month": f"{year}-{m['month']:02d}"}} for m in months],
        "rates": [{"key": key, "label": label, "actual": rates[key], "target": targets[key],
                   "filters": {"signed_year": year, **({"reached": stage} if stage else {})}}
                  for key, label, stage in RATE_LABELS],
        "funds": rates["funds"],  # booked in the year, as the ledger's 汇总 本年累计
        "funds_to_date": rates["funds_to_date"],  # the year's signed projects, behind 到资率
        "committed": rates["committed"],
        "by_chain": _by_chain(base),
        "by_owner": _by_owner(base),
        "by_zone": _by_zone(base) if can(user, "city.all_zones") and not zone_id else [],
        "overdue": overdue,
        "overdue_count": overdue_count,
        "stale_count": _stale_count(user, zone_ids, today),
        "overdue_next_steps": _overdue_next_steps(user, zone_ids, today),
    }


def _projects(user: User, zone_ids):
    stmt = scope(select(Project), Project, user)
    if zone_ids:
        stmt = stmt.where(Project.zone_id.in_(zone_ids))
    return stmt


def _zone_ids_for(user: User):
    return visible_zone_ids(user)


def _breakdown(base, key_columns, join=None):
    active = func.sum(case_active(base))
    signed = func.sum(case_signed_amount(base))
    stmt = select(*key_columns, func.count(), active, signed).select_from(base)
    if join is not None:
        stmt = join(stmt)
    return stmt.group_by(*key_columns)


def case_active(base):
    return case((base.c.stage.in_(ACTIVE_LEAD_STAGES), 1), else_=0)


def case_signed_amount(base):
    return case((base.c.stage.in_(SIGNED_STAGES), func.coalesce(base.c.contract_investment, 0)), else_=0)


def _by_chain(base) -> list[dict]:
    """Projects by chain (a project serving segments of two chains counts in both)."""
    per_chain = (
        select(Chain.code, Chain.name, base.c.id, base.c.stage, base.c.contract_investment)
        .distinct()
        .select_from(base)
        .join(project_segments, project_segments.c.project_id == base.c.id)
        .join(Segment, Segment.id == project_segments.c.segment_id)
        .join(Chain, Chain.id == Segment.chain_id)
        .subquery()
    )
    rows = db.session.execute(
        select(per_chain.c.code, per_chain.c.name, func.count(), func.sum(case_active(per_chain)),
               func.sum(case_signed_amount(per_chain)))
        .group_by(per_chain.c.code, per_chain.c.name).order_by(func.count().desc(), per_chain.c.code)
    ).all()
    return [{"label": name, "total": total, "active": int(active or 0), "signed_amount": float(signed or 0),
             "filters": {"chain": code}} for code, name, total, active, signed in rows]


def _by_owner(base) -> list[dict]:
    rows = db.session.execute(
        _breakdown(base, (User.id, User.display_name),
                   lambda stmt: stmt.join(User, User.id == base.c.owner_id))
        .order_by(func.count().desc(), User.id)
    ).all()
    return [{"label": name, "total": total, "active": int(active or 0), "signed_amount": float(signed or 0),
             "filters": {"owner_id": uid}} for uid, name, total, active, signed in rows]


def _by_zone(base) -> list[dict]:
    rows = db.session.execute(
        _breakdown(base, (Zone.id, Zone.name), lambda stmt: stmt.join(Zone, Zone.id == base.c.zone_id))
        .order_by(Zone.id)
    ).all()
    return [{"label": name, "total": total, "active": int(active or 0), "signed_amount": float(signed or 0),
             "filters": {"zone_id": zid}} for zid, name, total, active, signed in rows]


def _stale_count(user: User, zone_ids, today: date) -> int:
    """Active leads with no visit within their zone's stale_lead_days (from the projects' last_visit_at)."""
    return db.session.scalar(select(func.count()).select_from(
        _projects(user, zone_ids).where(Project.stage.in_(ACTIVE_LEAD_STAGES), stale_condition(today)).subquery()))


def _overdue_next_steps(user: User, zone_ids, today: date) -> int:
    stmt = scope(select(func.count()).select_from(Visit), Visit, user).where(
        Visit.next_step_due < today, Visit.next_step_done_at.is_(None), Visit.next_step != "")
    if zone_ids:
        stmt = stmt.where(Visit.zone_id.in_(zone_ids))
    return db.session.scalar(stmt)
