"""履约监管: every signed project's agreed against actual figures, the idle-land flags, the actions
taken, and the records behind them (yearly actuals, developed area). Functions flush, never commit.

The figures come from where they live: funds in place and 协议投资额 + 增资 from the ledger
(``crm.ledger.service`` sums, ``crm.ledger.figures.committed``), milestone and agreed dates from the
project, the land from its 标准地 parcels (``crm.land``; the project's own 用地 when it takes none).
The rules are ``crm.compliance.rules``. The list reads in bulk: one query per kind of fact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from crm.compliance import rules
from crm.compliance.models import ACTION_KINDS, ComplianceAction, DevelopedArea, ProjectActual
from crm.errors import ServiceError
from crm.extensions import db
from crm.land import service as land
from crm.ledger import figures
from crm.ledger import service as ledger
from crm.ledger.models import FundsInPlace
from crm.permissions import require, scope
from crm.pipeline.lifecycle import DROPPED, reached
from crm.pipeline.models import Project

ZERO = Decimal(0)


@dataclass
class ComplianceRow:
    """One signed project's 履约 status as of a day."""

    project: Project
    land_area: Decimal | None
    developed: DevelopedArea | None
    actual: ProjectActual | None
    invested: Decimal
    committed: Decimal
    gaps: list[rules.Gap]
    flags: list[rules.Flag]
    actions: list[ComplianceAction] = field(default_factory=list)
    parcels: list = field(default_factory=list)
    acceptance: Any = None

    @property
    def funds_rate(self) -> float | None:
        return figures.share(self.invested, self.committed)


def signed_projects(user, zone_id: int | None = None):
    """The signed projects (not 终止) ``user`` may see, of one zone or all of theirs."""
    stmt = (scope(select(Project), Project, user)
            .where(Project.signed_date.is_not(None), Project.stage != DROPPED)
            .order_by(Project.zone_id, Project.signed_date, Project.id))
    return stmt.where(Project.zone_id == zone_id) if zone_id else stmt


def _latest(model, order, ids, as_of):
    """Per project, its live records of ``model`` dated up to ``as_of``, in ``order`` (one query)."""
    found: dict[int, list] = {pid: [] for pid in ids}
    if not ids:
        return found
    stmt = select(model).where(model.project_id.in_(ids), model.deleted_at.is_(None)).order_by(*order)
    for record in db.session.scalars(stmt):
        found[record.project_id].append(record)
    return found


def compliance_rows(user, zone_id: int | None = None, as_of: date | None = None,
                    flagged_only: bool = False, project_id: int | None = None) -> list[ComplianceRow]:
    """The 履约 list: every signed project's gaps, idle-land flags and actions, read in bulk."""
    as_of = as_of or date.today()
    stmt = signed_projects(user, zone_id)
    if project_id is not None:
        stmt = stmt.where(Project.id == project_id)
    projects = list(db.session.scalars(stmt).unique())
    ids = [p.id for p in projects]
    funds = ledger.funds_by_project(ids, as_of)
    increases = ledger.increases_by_project(ids, as_of)
    funds_months = {}
    if ids:
        stmt = (select(FundsInPlace.project_id, func.max(FundsInPlace.month).label("last"))
                .where(FundsInPlace.project_id.in_(ids), FundsInPlace.deleted_at.is_(None), FundsInPlace.month <= as_of)
                .group_by(FundsInPlace.project_id))
        funds_months = {row.project_id: row.last for row in db.session.execute(stmt)}
    developed = _latest(DevelopedArea, (DevelopedArea.changed_on, DevelopedArea.id), ids, as_of)
    actuals = _latest(ProjectActual, (ProjectActual.year, ProjectActual.id), ids, as_of)
    actions = _latest(ComplianceAction, (ComplianceAction.action_date, ComplianceAction.id), ids, as_of)
    parcels = land.project_parcels(ids)
    acceptances = land.acceptances_of(ids)
    rows = []
    for project in projects:
        rows.append(_row(project, as_of, funds.get(project.id, ZERO), increases.get(project.id, ZERO),
                         funds_months.get(project.id), developed[project.id], actuals[project.id],
                         actions[project.id], parcels[project.id], acceptances.get(project.id)))
    return [r for r in rows if r.flags] if flagged_only else rows


def _row(project, as_of, invested, increases, last_funds, developed_rows, actual_rows, actions, parcels,
         acceptance) -> ComplianceRow:
    dated_developed = [d for d in developed_rows if d.changed_on <= as_of]
    developed = dated_developed[-1] if dated_developed else None
    actual_rows = [a for a in actual_rows if a.year <= as_of.year]
    actual = actual_rows[-1] if actual_rows else None
    land_area = sum((p.area for p in parcels), ZERO) if parcels else project.land_area
    committed = figures.committed(project.contract_investment, increases)
    dates = figures.milestone_dates(project)
    dues = figures.due_dates(project)
    started = dates.get("开工") if dates.get("开工") and dates["开工"] <= as_of else None
    undated = started is None and dates.get("开工") is None and reached("开工", project.stage, dates, as_of)
    progress = [*dates.values(), last_funds, *(d.changed_on for d in dated_developed)]
    flags = rules.idle_land_flags(
        agreed_start=dues.get("开工"), started=started, started_undated=undated, land_area=land_area,
        developed_area=developed.area if developed else None, invested=invested, total_investment=committed,
        progress_dates=progress, as_of=as_of)
    gaps = rules.contract_gaps(
        dues=dues, dates=dates, committed=committed if project.contract_investment is not None else None,
        invested=invested, agreed_output=project.annual_output_value,
        actual_output=actual.output_value if actual else None, agreed_tax=project.annual_tax,
        actual_tax=actual.tax if actual else None, agreed_jobs=project.jobs,
        actual_jobs=actual.jobs if actual else None, as_of=as_of)
    return ComplianceRow(project=project, land_area=land_area, developed=developed, actual=actual,
                         invested=invested, committed=committed, gaps=gaps, flags=flags, actions=actions,
                         parcels=parcels, acceptance=acceptance)


def project_row(user, project: Project, as_of: date | None = None) -> ComplianceRow:
    """One project's row (the same rules as the list)."""
    as_of = as_of or date.today()
    rows = compliance_rows(user, project.zone_id, as_of, project_id=project.id)
    if rows:
        return rows[0]
    raise ServiceError("项目尚未签约或已终止，不在履约监管范围内")


def history(model, project: Project, order) -> list:
    return list(db.session.scalars(select(model).where(model.project_id == project.id, model.deleted_at.is_(None))
                                   .order_by(*order)))


# ----- the records ---------------------------------------------------------------------------------
def _signed(project: Project) -> None:
    if project.signed_date is None:
        raise ServiceError("项目签约后才能登记履约情况")


def record_actual(actor, project: Project, year: int, output_value=None, tax=None, jobs=None,
                  today: date | None = None) -> ProjectActual:
    """A year's actual output, tax and jobs; a year already recorded is updated."""
    require(actor, "project.change", project)
    _signed(project)
    today = today or date.today()
    if year is None or year < project.signed_date.year or year > today.year:
        raise ServiceError(f"年度须在签约年度（{project.signed_date.year}）至今年之间", field="year")
    if output_value is None and tax is None and jobs is None:
        raise ServiceError("请至少填写产值、税收或就业中的一项", field="output_value")
    actual = db.session.scalar(select(ProjectActual).where(
        ProjectActual.project_id == project.id, ProjectActual.year == year, ProjectActual.deleted_at.is_(None)))
    if actual is None:
        actual = ProjectActual(zone_id=project.zone_id, project_id=project.id, year=year)
        db.session.add(actual)
    actual.output_value, actual.tax, actual.jobs = output_value, tax, jobs
    db.session.flush()
    return actual


def record_developed(actor, project: Project, changed_on: date, area: Decimal, note: str = "",
                     today: date | None = None) -> DevelopedArea:
    """The developed area (亩, cumulative) as of ``changed_on``: a change is a sign of progress."""
    require(actor, "project.change", project)
    _signed(project)
    today = today or date.today()
    if changed_on is None or changed_on < project.signed_date or changed_on > today:
        raise ServiceError("日期须在签约日期之后、今天之前", field="changed_on")
    if area is None or area < 0:
        raise ServiceError("请填写已开发面积（亩）", field="area")
    record = DevelopedArea(zone_id=project.zone_id, project_id=project.id, changed_on=changed_on, area=area,
                           note=(note or "").strip())
    db.session.add(record)
    db.session.flush()
    return record


def record_action(actor, project: Project, kind: str, action_date: date, deadline: date | None = None,
                  document: str = "", note: str = "", today: date | None = None) -> ComplianceAction:
    """约谈, 限期整改 (its deadline) or 收回/清退, dated, with its document."""
    require(actor, "compliance.act", project)
    _signed(project)
    today = today or date.today()
    if kind not in ACTION_KINDS:
        raise ServiceError("请选择处置方式", field="kind")
    if action_date is None or action_date > today or action_date < project.signed_date:
        raise ServiceError("处置日期须在签约日期之后、今天之前", field="action_date")
    if kind == "限期整改" and deadline is None:
        raise ServiceError("限期整改须填写整改期限", field="deadline")
    if deadline is not None and deadline < action_date:
        raise ServiceError("整改期限不能早于处置日期", field="deadline")
    action = ComplianceAction(zone_id=project.zone_id, project_id=project.id, kind=kind, action_date=action_date,
                              deadline=deadline, document=(document or "").strip(), note=(note or "").strip(),
                              actor_id=getattr(actor, "id", None))
    db.session.add(action)
    db.session.flush()
    return action
