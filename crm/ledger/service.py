"""Signed projects to full production: commitments, milestones, funds in place, targets and rates.

Counting rules (DESIGN §2): rates are over the projects signed in the period; a project counts once,
at its first signing; a capital increase counts only the increase, on its own date; 到资率 is funds
in place ÷ contracted investment (with increases). Cumulative funds are always computed, never stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select

from crm.extensions import db
from crm.ledger.models import CapitalIncrease, FundsInPlace, ZoneTarget
from crm.pipeline.models import Project
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.pipeline.service import MILESTONES, overdue_condition, reached_condition
from crm.permissions import scope
from crm.errors import check_version, ServiceError

RATE_STAGES = {"register": "注册", "start": "开工", "production": "投产"}
DEFAULT_TARGETS = {"register_rate": Decimal("0.9"), "start_rate": Decimal("0.6"),
                   "production_rate": Decimal("0.3"), "funds_rate": Decimal("0.2")}
COMMITMENT_FIELDS = ("contract_investment", "land_area", "annual_output_value", "annual_tax", "jobs",
                     "due_registered", "due_started", "due_production", "due_full_production")


def investment_per_mu(project: Project) -> Decimal | None:
    """亩均投资强度 (万元/亩) = contracted investment ÷ land."""
    if not project.contract_investment or not project.land_area:
        return None
    return (Decimal(project.contract_investment) / Decimal(project.land_area)).quantize(Decimal("0.01"))


def update_commitments(actor: User, project: Project, data: dict[str, Any], version=None) -> Project:
    check_version(project, version)
    if project.signed_date is None:
        raise ServiceError("项目签约后才能填写协议承诺", field="contract_investment")
    for key in COMMITMENT_FIELDS:
        if key in data:
            value = data[key]
            if isinstance(value, (int, Decimal)) and value < 0:
                raise ServiceError("数值不能为负数", field=key)
            setattr(project, key, value)
    if not project.contract_investment or project.contract_investment <= 0:
        raise ServiceError("请填写协议投资额（万元，大于 0）", field="contract_investment")
    previous, previous_label = project.signed_date, "签约日期"
    for _, _, due_column, label in MILESTONES:
        due = getattr(project, due_column)
        if due is None:
            continue
        if due < previous:
            raise ServiceError(f"{label[2:]}约定日期不能早于{previous_label}", field=due_column)
        previous, previous_label = due, f"{label[2:]}约定日期"
    db.session.flush()
    return project


def add_funds(actor: User, project: Project, month: date, amount: Decimal, note: str = "") -> FundsInPlace:
    if project.signed_date is None:
        raise ServiceError("项目签约后才能登记到资", field="month")
    month = month.replace(day=1)
    if month > date.today():
        raise ServiceError("不能登记未来月份的到资", field="month")
    if month < project.signed_date.replace(day=1):
        raise ServiceError("到资月份不能早于签约月份", field="month")
    if amount is None or amount <= 0:
        raise ServiceError("到资金额须大于 0（万元）", field="amount")
    exists = db.session.scalar(select(FundsInPlace.id).where(
        FundsInPlace.project_id == project.id, FundsInPlace.month == month, FundsInPlace.deleted_at.is_(None)))
    if exists:
        raise ServiceError("该月已有到资记录；如需更正请先删除该月记录", field="month")
    entry = FundsInPlace(zone_id=project.zone_id, project_id=project.id, month=month, amount=amount,
                         note=(note or "").strip())
    db.session.add(entry)
    db.session.flush()
    return entry


def add_capital_increase(actor: User, project: Project, signed_on: date, amount: Decimal, note: str = "") -> CapitalIncrease:
    if project.signed_date is None:
        raise ServiceError("项目签约后才能登记增资", field="amount")
    if amount is None or amount <= 0:
        raise ServiceError("增资金额须大于 0（万元）", field="amount")
    if signed_on < project.signed_date or signed_on > date.today():
        raise ServiceError("增资日期须在签约日期之后、今天之前", field="signed_date")
    increase = CapitalIncrease(zone_id=project.zone_id, project_id=project.id, signed_date=signed_on,
                               amount=amount, note=(note or "").strip())
    db.session.add(increase)
    db.session.flush()
    return increase


@dataclass
class FundsStatus:
    cumulative: Decimal = Decimal(0)
    committed: Decimal = Decimal(0)
    entries: list = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return float(self.cumulative / self.committed) if self.committed else None


def funds_by_project(project_ids, until: date | None = None) -> dict[int, Decimal]:
    """Cumulative funds in place per project up to ``until``, in one grouped query.

    ``project_ids`` is a list of ids or a SELECT of them (the export passes its project query).
    """
    return _sum_by_project(FundsInPlace.amount, FundsInPlace.month, project_ids, until)


def increases_by_project(project_ids, until: date | None = None) -> dict[int, Decimal]:
    """Capital increases per project signed up to ``until``, in one grouped query."""
    return _sum_by_project(CapitalIncrease.amount, CapitalIncrease.signed_date, project_ids, until)


def _sum_by_project(amount, dated, project_ids, until: date | None) -> dict[int, Decimal]:
    if isinstance(project_ids, list) and not project_ids:
        return {}
    model = amount.class_
    stmt = (select(model.project_id, func.sum(amount))
            .where(model.project_id.in_(project_ids), model.deleted_at.is_(None))
            .group_by(model.project_id))
    if until is not None:
        stmt = stmt.where(dated <= until)
    return {pid: Decimal(total or 0) for pid, total in db.session.execute(stmt)}


def project_funds(project: Project) -> FundsStatus:
    entries = db.session.scalars(select(FundsInPlace).where(
        FundsInPlace.project_id == project.id, FundsInPlace.deleted_at.is_(None)).order_by(FundsInPlace.month)).all()
    increase = increases_by_project([project.id]).get(project.id, Decimal(0))
    return FundsStatus(cumulative=sum((e.amount for e in entries), Decimal(0)),
                       committed=Decimal(project.contract_investment or 0) + increase, entries=entries)


def warnings_for(project: Project, zone: Zone, funds_cumulative: Decimal, committed: Decimal,
                 today: date | None = None) -> list[str]:
    """超期未注册/未开工/未投产/未达产, 亩均 below the zone's threshold, funds behind a straight-line plan."""
    today = today or date.today()
    found = []
    if project.signed_date is None or project.stage == "终止":
        return found
    for _, actual, due, label in MILESTONES:
        if getattr(project, actual) is None and getattr(project, due) and getattr(project, due) < today:
            found.append(label)
    per_mu = investment_per_mu(project)
    if per_mu is not None and zone.min_investment_per_mu and per_mu < zone.min_investment_per_mu:
        found.append(f"亩均投资强度 {per_mu} 低于园区标准 {zone.min_investment_per_mu}")
    expected = funds_plan_share(project, today)
    if committed and expected is not None and float(funds_cumulative / committed) < expected:
        found.append(f"到资进度落后（应达 {expected:.0%}，实际 {float(funds_cumulative / committed):.0%}）")
    return found


def funds_plan_share(project: Project, today: date) -> float | None:
    """The share of the commitment a straight-line plan expects in place by ``today``: 0 at signing,
    100% at the contract date for full production (or for production, if that is all there is)."""
    end = project.due_full_production or project.due_production
    if project.signed_date is None or end is None or end <= project.signed_date:
        return None
    elapsed = (today - project.signed_date).days / (end - project.signed_date).days
    return max(0.0, min(1.0, elapsed))


def target_for(zone_ids: list[int] | None, year: int) -> dict:
    """Targets for the zones (summed counts and amounts; rates averaged), defaults where none is set."""
    stmt = select(ZoneTarget).where(ZoneTarget.year == year)
    if zone_ids is not None:
        stmt = stmt.where(ZoneTarget.zone_id.in_(zone_ids))
    targets = db.session.scalars(stmt).all()
    if not targets:
        return {"signed_count": None, "signed_amount": None, **{k: float(v) for k, v in DEFAULT_TARGETS.items()}}
    return {
        "signed_count": sum(t.signed_count for t in targets),
        "signed_amount": float(sum(t.signed_amount for t in targets)),
        **{key: float(sum(getattr(t, key) for t in targets) / len(targets)) for key in DEFAULT_TARGETS},
    }


def set_target(actor: User, zone: Zone, year: int, data: dict[str, Any]) -> ZoneTarget:
    if actor.role not in {"chief", "admin"} or (actor.role == "chief" and zone.id not in actor.zone_ids):
        raise ServiceError("只有本园区负责人或市投促中心可以设置目标")
    target = db.session.scalar(select(ZoneTarget).where(ZoneTarget.zone_id == zone.id, ZoneTarget.year == year))
    if target is None:
        target = ZoneTarget(zone_id=zone.id, year=year)
        db.session.add(target)
    for key in ("signed_count", "signed_amount", *DEFAULT_TARGETS):
        if key in data and data[key] is not None:
            value = data[key]
            if value < 0 or (key in DEFAULT_TARGETS and value > 1):
                raise ServiceError("目标值超出范围（比率填 0–100%）", field=key)
            setattr(target, key, value)
    for key in ("stale_lead_days", "min_investment_per_mu"):
        if key in data:
            if data[key] is not None and data[key] < 0:
                raise ServiceError("数值不能为负数", field=key)
            setattr(zone, key, data[key] if key != "stale_lead_days" else (data[key] or 30))
    db.session.flush()
    return target


def signed_in_period(user: User, start: date, end: date, zone_ids: list[int] | None = None):
    """Projects first signed between start and end (inclusive) that the user may see."""
    stmt = scope(select(Project), Project, user).where(Project.signed_date.between(start, end))
    if zone_ids is not None:
        stmt = stmt.where(Project.zone_id.in_(zone_ids))
    return stmt


def rates(user: User, start: date, end: date, zone_ids: list[int] | None = None) -> dict:
    """注册率/开工率/投产率 over the projects signed in the period, and 到资率 over their commitments."""
    base = signed_in_period(user, start, end, zone_ids).where(Project.stage != "终止").subquery()
    row = db.session.execute(select(
        func.count(),
        func.count(base.c.registered_date),
        func.count(base.c.started_date),
        func.count(base.c.production_date),
        func.coalesce(func.sum(base.c.contract_investment), 0),
    )).one()
    total, registered, started, produced, contracted = row
    funds = db.session.scalar(select(func.coalesce(func.sum(FundsInPlace.amount), 0)).where(
        FundsInPlace.project_id.in_(select(base.c.id)), FundsInPlace.deleted_at.is_(None)))
    increases = db.session.scalar(select(func.coalesce(func.sum(CapitalIncrease.amount), 0)).where(
        CapitalIncrease.project_id.in_(select(base.c.id)), CapitalIncrease.deleted_at.is_(None)))
    committed = Decimal(contracted or 0) + Decimal(increases or 0)

    def share(n):
        return n / total if total else None

    return {
        "signed": total,
        "register_rate": share(registered),
        "start_rate": share(started),
        "production_rate": share(produced),
        "funds_rate": float(Decimal(funds) / committed) if committed else None,
        "funds": Decimal(funds),
        "committed": committed,
    }


def signed_amount_by_month(user: User, year: int, zone_ids: list[int] | None = None) -> list[dict]:
    """New signings (first signing only) plus capital increases, by month of the year."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    signed = scope(select(Project.signed_date, Project.contract_investment), Project, user).where(
        Project.signed_date.between(start, end))
    increases = scope(select(CapitalIncrease.signed_date, CapitalIncrease.amount), CapitalIncrease, user).where(
        CapitalIncrease.signed_date.between(start, end))
    if zone_ids is not None:
        signed = signed.where(Project.zone_id.in_(zone_ids))
        increases = increases.where(CapitalIncrease.zone_id.in_(zone_ids))
    months = [{"month": m, "count": 0, "amount": Decimal(0), "increase": Decimal(0)} for m in range(1, 13)]
    for day, amount in db.session.execute(signed):
        months[day.month - 1]["count"] += 1
        months[day.month - 1]["amount"] += Decimal(amount or 0)
    for day, amount in db.session.execute(increases):
        months[day.month - 1]["increase"] += Decimal(amount or 0)
    return months


