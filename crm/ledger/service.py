"""Signed projects to full production: commitments, funds in place, capital increases, targets, and the
facts the figures are computed from.

The rules themselves (what counts, when, and every rate) are pure functions in ``crm.ledger.figures``;
this module fetches the facts, one row per project, and hands them over. Cumulative funds are always
computed, never stored.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select

from crm.extensions import db
from crm.ledger.models import CapitalIncrease, FundsInPlace, ZoneSignoff, ZoneTarget
from crm.pipeline.models import Project
from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.ledger import figures
from crm.pipeline.lifecycle import DROPPED, MILESTONE_COLUMNS
from crm.permissions import require, scope
from crm.errors import check_version, ServiceError

DEFAULT_TARGETS = {"register_rate": Decimal("0.9"), "start_rate": Decimal("0.6"),
                   "production_rate": Decimal("0.3"), "funds_rate": Decimal("0.2")}
COMMITMENT_FIELDS = ("contract_investment", "land_area", "annual_output_value", "annual_tax", "jobs",
                     "due_registered", "due_started", "due_production", "due_full_production")


def investment_per_mu(project: Project) -> Decimal | None:
    """亩均投资强度 (万元/亩) of a project, by ``figures.investment_per_mu``."""
    return figures.investment_per_mu(project.contract_investment, project.land_area)


def update_commitments(actor: User, project: Project, data: dict[str, Any], version=None) -> Project:
    require(actor, "project.change", project)
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
    problems = figures.due_date_problems(project.signed_date, figures.due_dates(project))
    if problems:
        field_name, message = problems[0]
        raise ServiceError(message, field=field_name)
    db.session.flush()
    return project


def add_funds(actor: User, project: Project, month: date, amount: Decimal, note: str = "") -> FundsInPlace:
    require(actor, "project.change", project)
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
    require(actor, "project.change", project)
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
        return figures.share(self.cumulative, self.committed)


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
                       committed=figures.committed(project.contract_investment, increase), entries=entries)


def warnings_for(project: Project, zone: Zone, funds_cumulative: Decimal, committed: Decimal,
                 today: date | None = None) -> list[str]:
    """超期未注册/未开工/未投产/未达产, 亩均 below the zone's threshold, funds behind plan — as of ``today``,
    with ``funds_cumulative`` and ``committed`` (协议投资额 + increases) both counted up to that day."""
    today = today or date.today()
    if project.signed_date is None or project.stage == DROPPED:
        return []
    found = figures.overdue_milestones(figures.milestone_dates(project), figures.due_dates(project),
                                       project.stage, today)
    per_mu = investment_per_mu(project)
    if per_mu is not None and zone.min_investment_per_mu and per_mu < zone.min_investment_per_mu:
        found.append(f"亩均投资强度 {per_mu} 万元/亩，低于园区标准 {zone.min_investment_per_mu} 万元/亩")
    expected = figures.funds_plan_share(project.signed_date, project.due_production, project.due_full_production,
                                        today)
    actual = figures.share(funds_cumulative, committed)
    if figures.funds_behind(actual, expected):
        found.append(figures.funds_behind_message(actual, expected))
    return found


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
    require(actor, "reports.set_targets", zone)
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


SIGNOFF_FIELDS = {"unit": 128, "preparer": 64, "reviewer": 64}


def signoff_of(zone: Zone) -> ZoneSignoff | None:
    return db.session.scalar(select(ZoneSignoff).where(ZoneSignoff.zone_id == zone.id))


def set_signoff(actor: User, zone: Zone, data: dict[str, Any]) -> ZoneSignoff:
    """The zone's ledger sign-off block (填报单位 / 填报人 / 审核人), edited with its targets."""
    require(actor, "reports.set_targets", zone)
    signoff = signoff_of(zone)
    if signoff is None:
        signoff = ZoneSignoff(zone_id=zone.id)
        db.session.add(signoff)
    for key, limit in SIGNOFF_FIELDS.items():
        if key in data:
            value = (data[key] or "").strip()
            if len(value) > limit:
                raise ServiceError(f"不能超过 {limit} 个字", field=f"signoff_{key}")
            setattr(signoff, key, value)
    db.session.flush()
    return signoff


def signoff_lines(zones, day: date) -> list[str]:
    """The foot of a ledger sheet, one line per zone: 填报单位 (the zone's name unless set), 填报人, 审核人,
    填报日期 (``day``, the day of export). One query for all the zones."""
    ids = [z.id for z in zones]
    known = {s.zone_id: s for s in db.session.scalars(select(ZoneSignoff).where(ZoneSignoff.zone_id.in_(ids)))}
    lines = []
    for zone in zones:
        s = known.get(zone.id)
        lines.append(f"填报单位：{(s and s.unit) or zone.name}　　填报人：{(s and s.preparer) or ''}　　"
                     f"审核人：{(s and s.reviewer) or ''}　　填报日期：{day.isoformat()}")
    return lines


def signed_in_period(user: User, start: date, end: date, zone_ids: list[int] | None = None):
    """Projects first signed between start and end (inclusive) that the user may see."""
    stmt = scope(select(Project), Project, user).where(Project.signed_date.between(start, end))
    if zone_ids is not None:
        stmt = stmt.where(Project.zone_id.in_(zone_ids))
    return stmt


def _dated_sums(model, dated, start: date, end: date):
    """Per project: the amounts dated in start–end, and all up to end (one grouped subquery)."""
    return (select(model.project_id.label("project_id"),
                   func.sum(case((dated >= start, model.amount), else_=0)).label("in_period"),
                   func.sum(model.amount).label("to_end"))
            .where(model.deleted_at.is_(None), dated <= end)
            .group_by(model.project_id).subquery())


def counted_at(end: date) -> ColumnElement[bool]:
    """The projects the ledger counts at ``end`` — its signed sheets, the 汇总, the dashboard: signed by
    then, and not 终止."""
    return and_(Project.signed_date <= end, Project.stage != DROPPED)


def signed_rows(user: User, start: date, end: date, zone_ids: list[int] | None, *columns) -> Select:
    """One row per counting project signed by ``end`` that ``user`` may see: ``columns`` (of Project or
    of what the caller joins), then its funds and capital increases summed by date — ``funds_in_period``,
    ``funds_to_end``, ``increases_in_period``, ``increases_to_end`` (None where there are none)."""
    funds = _dated_sums(FundsInPlace, FundsInPlace.month, start, end)
    increases = _dated_sums(CapitalIncrease, CapitalIncrease.signed_date, start, end)
    stmt = (scope(select(*columns, funds.c.in_period.label("funds_in_period"), funds.c.to_end.label("funds_to_end"),
                         increases.c.in_period.label("increases_in_period"),
                         increases.c.to_end.label("increases_to_end")), Project, user)
            .select_from(Project)
            .outerjoin(funds, funds.c.project_id == Project.id)
            .outerjoin(increases, increases.c.project_id == Project.id)
            .where(counted_at(end)))
    return stmt.where(Project.zone_id.in_(zone_ids)) if zone_ids is not None else stmt


def period_rows(user: User, start: date, end: date, zone_ids: list[int] | None = None) -> Iterator[figures.ProjectPeriod]:
    """The facts of every counting project signed by ``end`` that the user may see: one query, streamed
    (the 汇总 of a large zone never holds them all)."""
    stmt = signed_rows(user, start, end, zone_ids, Project.stage, Project.contract_investment,
                       *(getattr(Project, column) for column in MILESTONE_COLUMNS.values()))
    milestones = len(MILESTONE_COLUMNS)
    for stage, contract, *rest in db.session.execute(stmt.execution_options(yield_per=500)):
        funds_in, funds_to, inc_in, inc_to = (Decimal(v or 0) for v in rest[milestones:])
        yield figures.ProjectPeriod(stage=stage, contract_investment=contract,
                                    dates=dict(zip(MILESTONE_COLUMNS, rest[:milestones])),
                                    funds_in_period=funds_in, funds_to_end=funds_to,
                                    increases_in_period=inc_in, increases_to_end=inc_to)


def period_figures(user: User, start: date, end: date, zone_ids: list[int] | None = None) -> figures.PeriodFigures:
    """The 汇总 figures for start–end by ``figures.period_figures``."""
    return figures.period_figures(period_rows(user, start, end, zone_ids), start, end)


def rates(user: User, start: date, end: date, zone_ids: list[int] | None = None) -> dict:
    """注册率/开工率/投产率/到资率 and the amounts behind them, for the projects signed in start–end."""
    return period_figures(user, start, end, zone_ids).as_dict()


def signed_amount_by_month(user: User, year: int, zone_ids: list[int] | None = None) -> list[dict]:
    """New signings (first signing only) and capital increases, by month of the year (the 汇总's rules)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    increases = (scope(select(CapitalIncrease.signed_date, CapitalIncrease.amount), CapitalIncrease, user)
                 .join(Project, Project.id == CapitalIncrease.project_id)
                 .where(CapitalIncrease.signed_date.between(start, end), Project.stage != DROPPED,
                        Project.deleted_at.is_(None)))
    if zone_ids is not None:
        increases = increases.where(CapitalIncrease.zone_id.in_(zone_ids))
    return figures.signings_by_month(period_rows(user, start, end, zone_ids),
                                     db.session.execute(increases).tuples(), year)
