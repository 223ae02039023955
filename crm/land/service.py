"""标准地: parcels, the parcels a project takes, the signing check and 达产验收. Plain functions that
flush and never commit (the views and CLI commit)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from crm.errors import ServiceError, check_version
from crm.extensions import db
from crm.land import indicators
from crm.land.models import LAND_USES, LandAcceptance, Parcel, ProjectParcel
from crm.ledger import service as ledger
from crm.permissions import require, scope
from crm.pipeline.models import Project

PARCEL_FIELDS = ("code", "location", "area", "use", "investment_intensity", "plot_ratio", "tax_per_mu",
                 "energy_per_output", "environmental_terms")


def parcel_list_query(user, zone_id: int | None = None, q: str = "") -> Select:
    stmt = scope(select(Parcel), Parcel, user).order_by(Parcel.zone_id, Parcel.code, Parcel.id)
    if zone_id:
        stmt = stmt.where(Parcel.zone_id == zone_id)
    if q:
        stmt = stmt.where(Parcel.code.contains(q, autoescape=True) | Parcel.location.contains(q, autoescape=True))
    return stmt


def taken_by(parcel_ids: list[int]) -> dict[int, Project]:
    """The live project each parcel is taken by, in one query."""
    if not parcel_ids:
        return {}
    rows = db.session.execute(
        select(ProjectParcel.parcel_id, Project).join(Project, Project.id == ProjectParcel.project_id)
        .where(ProjectParcel.parcel_id.in_(parcel_ids), ProjectParcel.deleted_at.is_(None),
               Project.deleted_at.is_(None)))
    return {parcel_id: project for parcel_id, project in rows}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    values = {key: data.get(key) for key in PARCEL_FIELDS if key in data}
    values["code"] = (values.get("code") or "").strip()
    if not values["code"]:
        raise ServiceError("请填写地块编号", field="code")
    if not values.get("area") or values["area"] <= 0:
        raise ServiceError("地块面积须大于 0（亩）", field="area")
    if values.get("use") not in LAND_USES:
        raise ServiceError("请选择用途", field="use")
    values["location"] = (values.get("location") or "").strip()
    values["environmental_terms"] = (values.get("environmental_terms") or "").strip()
    return values


def _check_code(zone_id: int, code: str, parcel_id: int | None = None) -> None:
    stmt = select(Parcel.id).where(Parcel.zone_id == zone_id, Parcel.code == code, Parcel.deleted_at.is_(None))
    if parcel_id:
        stmt = stmt.where(Parcel.id != parcel_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise ServiceError(f"本园区已有编号为“{code}”的地块", field="code")


def create_parcel(actor, zone_id: int, data: dict[str, Any]) -> Parcel:
    require(actor, "parcel.change", zone_id)
    values = _clean(data)
    _check_code(zone_id, values["code"])
    parcel = Parcel(zone_id=zone_id, **values)
    db.session.add(parcel)
    db.session.flush()
    return parcel


def update_parcel(actor, parcel: Parcel, data: dict[str, Any], version=None) -> Parcel:
    require(actor, "parcel.change", parcel)
    check_version(parcel, version)
    values = _clean(data)
    _check_code(parcel.zone_id, values["code"], parcel.id)
    for key, value in values.items():
        setattr(parcel, key, value)
    db.session.flush()
    return parcel


# ----- a project's parcels -------------------------------------------------------------------------
def project_parcels(project_ids: list[int]) -> dict[int, list[Parcel]]:
    """The live parcels of each project, in one query."""
    found: dict[int, list[Parcel]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return found
    rows = db.session.execute(
        select(ProjectParcel.project_id, Parcel).join(Parcel, Parcel.id == ProjectParcel.parcel_id)
        .where(ProjectParcel.project_id.in_(project_ids), ProjectParcel.deleted_at.is_(None),
               Parcel.deleted_at.is_(None)).order_by(Parcel.code))
    for project_id, parcel in rows:
        found[project_id].append(parcel)
    return found


def links_of(project: Project) -> list[ProjectParcel]:
    return list(db.session.scalars(
        select(ProjectParcel).join(Parcel, Parcel.id == ProjectParcel.parcel_id)
        .where(ProjectParcel.project_id == project.id, ProjectParcel.deleted_at.is_(None),
               Parcel.deleted_at.is_(None)).order_by(Parcel.code)))


def free_parcels(project: Project) -> list[Parcel]:
    """The zone's parcels no live project takes: what the project may take."""
    taken = (select(ProjectParcel.parcel_id).join(Project, Project.id == ProjectParcel.project_id)
             .where(ProjectParcel.deleted_at.is_(None), Project.deleted_at.is_(None)))
    return list(db.session.scalars(
        select(Parcel).where(Parcel.zone_id == project.zone_id, Parcel.deleted_at.is_(None),
                             Parcel.id.not_in(taken)).order_by(Parcel.code)))


def take_parcel(actor, project: Project, parcel: Parcel) -> ProjectParcel:
    """The signed ``project`` takes ``parcel`` (of its zone, taken by no other live project)."""
    require(actor, "project.change", project)
    if project.signed_date is None:
        raise ServiceError("项目签约后才能关联供地地块", field="parcel_id")
    if parcel.zone_id != project.zone_id or parcel.deleted_at is not None:
        raise ServiceError("只能关联本园区的地块", field="parcel_id")
    holder = taken_by([parcel.id]).get(parcel.id)
    if holder is not None:
        raise ServiceError(f"地块“{parcel.code}”已由其他项目使用" if holder.id != project.id
                           else f"项目已关联地块“{parcel.code}”", field="parcel_id")
    link = ProjectParcel(zone_id=project.zone_id, project_id=project.id, parcel_id=parcel.id)
    db.session.add(link)
    db.session.flush()
    return link


def terms(parcels) -> list[indicators.ParcelTerms]:
    return [indicators.ParcelTerms(p.area, p.investment_intensity, p.plot_ratio, p.tax_per_mu, p.energy_per_output)
            for p in parcels]


def signing_warnings(project: Project, parcels: list[Parcel]) -> list[indicators.Check]:
    """The project's commitments against its parcels' indicators (``indicators.signing_warnings``)."""
    if not parcels:
        return []
    return indicators.signing_warnings(terms(parcels), project.contract_investment, project.annual_tax)


# ----- 达产验收 ----------------------------------------------------------------------------------
def acceptances_of(project_ids: list[int]) -> dict[int, LandAcceptance]:
    """The latest live acceptance of each project, in one query."""
    if not project_ids:
        return {}
    latest = (select(func.max(LandAcceptance.id)).where(LandAcceptance.project_id.in_(project_ids),
                                                        LandAcceptance.deleted_at.is_(None))
              .group_by(LandAcceptance.project_id))
    return {a.project_id: a for a in db.session.scalars(select(LandAcceptance).where(LandAcceptance.id.in_(latest)))}


def history(project: Project) -> list[LandAcceptance]:
    return list(db.session.scalars(select(LandAcceptance).where(
        LandAcceptance.project_id == project.id, LandAcceptance.deleted_at.is_(None))
        .order_by(LandAcceptance.accepted_on.desc(), LandAcceptance.id.desc())))


def preview_acceptance(project: Project, parcels: list[Parcel], accepted_on: date, *, actual_tax=None,
                       actual_plot_ratio=None, actual_energy=None) -> indicators.Acceptance:
    """The comparison an acceptance on ``accepted_on`` would record: 累计到资 to that day (the ledger's)."""
    invested = ledger.funds_by_project([project.id], accepted_on).get(project.id, Decimal(0))
    return indicators.acceptance(terms(parcels), actual_investment=invested, actual_tax=actual_tax,
                                 actual_plot_ratio=actual_plot_ratio, actual_energy=actual_energy)


def record_acceptance(actor, project: Project, accepted_on: date, *, actual_tax=None, actual_plot_ratio=None,
                      actual_energy=None, note: str = "", today: date | None = None) -> LandAcceptance:
    """达产验收 of a project that has reached 达产: compares and records 通过 / 未通过 with the gaps."""
    require(actor, "land.accept", project)
    today = today or date.today()
    if project.full_production_date is None and project.stage != "达产":
        raise ServiceError("项目达产后才能进行达产验收", field="accepted_on")
    if accepted_on is None or accepted_on > today or (project.signed_date and accepted_on < project.signed_date):
        raise ServiceError("验收日期须在签约日期之后、今天之前", field="accepted_on")
    parcels = project_parcels([project.id])[project.id]
    if not parcels:
        raise ServiceError("项目尚未关联供地地块，无法按标准地指标验收", field="accepted_on")
    result = preview_acceptance(project, parcels, accepted_on, actual_tax=actual_tax,
                                actual_plot_ratio=actual_plot_ratio, actual_energy=actual_energy)
    if not result.checks:
        raise ServiceError("项目的供地地块未设控制指标，无可比较的标准", field="accepted_on")
    invested = ledger.funds_by_project([project.id], accepted_on).get(project.id, Decimal(0))
    record = LandAcceptance(zone_id=project.zone_id, project_id=project.id, accepted_on=accepted_on,
                            area=result.area, actual_investment=invested, actual_tax=actual_tax,
                            actual_plot_ratio=actual_plot_ratio, actual_energy=actual_energy, result=result.result,
                            gaps="\n".join(result.gaps), note=(note or "").strip())
    db.session.add(record)
    db.session.flush()
    return record
