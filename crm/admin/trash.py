"""The admin's trash: every soft-deleted kind of record, listed with its parent, and restored.

Contacts, enterprise notes, funds entries, capital increases, visits, projects and enterprises keep
their row when deleted (``deleted_at``). A segment mapping is removed outright when unticked; the
audit log keeps what it was, so the trash lists the mappings removed and not since made again, and
restoring one makes it anew from that entry.

A record whose parent (the project of a funds entry, the enterprise of a contact, …) is itself
deleted is not restored alone: ``restore`` says "所属的X已删除" (``ParentDeleted``) and
``restore(..., with_parents=True)`` brings the parents back first. Every restore is audited.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import Select, String, cast, exists, func, select
from sqlalchemy.orm import joinedload

from crm import records
from crm.audit.models import AuditEntry
from crm.catalog.models import EnterpriseSegment, Segment
from crm.errors import ServiceError
from crm.extensions import db
from crm.efficiency.models import EfficiencyFigures
from crm.compliance.models import ComplianceAction, DevelopedArea, ProjectActual
from crm.land.models import LandAcceptance, Parcel, ProjectParcel
from crm.ledger.models import CapitalIncrease, FundsInPlace
from crm.library.models import Contact, Enterprise, EnterpriseMerge, EnterpriseNote
from crm.pipeline.models import Project
from crm.service.models import EnterpriseRequest
from crm.visits.models import Visit


@dataclass(frozen=True)
class Kind:
    label: str
    model: Any
    parents: tuple[str, ...]  # attributes naming the parent records, nearest first
    describe: Callable[[Any], str]
    eager: tuple[str, ...] = field(default=())  # relationships to load with the page (not lazy="joined")


def _visit_text(visit: Visit) -> str:
    return f"{visit.visit_date.isoformat()} {visit.kind}"


KINDS: dict[str, Kind] = {
    "enterprise": Kind("企业", Enterprise, (), lambda e: e.name),
    "project": Kind("项目", Project, ("enterprise",), lambda p: p.name),
    "visit": Kind("走访", Visit, ("project", "enterprise"), _visit_text),
    "funds": Kind("到资", FundsInPlace, ("project",), lambda f: f"{f.month:%Y-%m} {f.amount} 万元"),
    "increase": Kind("增资", CapitalIncrease, ("project",), lambda c: f"{c.signed_date.isoformat()} {c.amount} 万元"),
    "contact": Kind("联系人", Contact, ("enterprise",), lambda c: " ".join(filter(None, [c.name, c.title, c.phone])),
                    ("enterprise",)),
    "note": Kind("企业备注", EnterpriseNote, ("enterprise",), lambda n: n.text[:60],
                 ("enterprise",)),
    "efficiency": Kind("亩均效益数据", EfficiencyFigures, ("enterprise",), lambda r: f"{r.enterprise.name} {r.year} 年"),
    "request": Kind("企业诉求", EnterpriseRequest, ("enterprise",), lambda r: f"{r.received_on.isoformat()} {r.category}"),
    "mapping": Kind("产业链环节关联", EnterpriseSegment, ("enterprise",), lambda m: m.segment.name),
    "parcel": Kind("地块", Parcel, (), lambda p: f"{p.code} {p.area} 亩"),
    "project_parcel": Kind("项目供地", ProjectParcel, ("project", "parcel"), lambda l: l.parcel.code),
    "acceptance": Kind("达产验收", LandAcceptance, ("project",), lambda a: f"{a.accepted_on.isoformat()} {a.result}"),
    "actual": Kind("年度实绩", ProjectActual, ("project",), lambda a: f"{a.year} 年"),
    "developed": Kind("开发面积", DevelopedArea, ("project",), lambda d: f"{d.changed_on.isoformat()} {d.area} 亩"),
    "action": Kind("履约处置", ComplianceAction, ("project",), lambda a: f"{a.action_date.isoformat()} {a.kind}"),
}
KIND_OF = {kind.model: name for name, kind in KINDS.items()}


class ParentDeleted(ServiceError):
    """Restoring the record needs its deleted parent(s) back too."""

    def __init__(self, parents: list):
        self.parents = parents
        first = parents[0]
        super().__init__(f"所属的{KINDS[KIND_OF[type(first)]].label}“{describe(first)}”已删除")


def describe(record) -> str:
    return KINDS[KIND_OF[type(record)]].describe(record)


def kind_of(name: str) -> Kind | None:
    return KINDS.get(name)


# ----- listing --------------------------------------------------------------------------------
def deleted_query(name: str) -> Select:
    """The kind's records in the trash, latest deleted first."""
    kind = KINDS[name]
    if name == "mapping":
        return _removed_mappings()
    model = kind.model
    options = [joinedload(getattr(model, name)) for name in kind.eager]
    return select(model).where(model.deleted_at.is_not(None)).options(*options) \
        .order_by(model.deleted_at.desc(), model.id.desc())


def _removed_mappings() -> Select:
    """The latest removal of each mapping not made again since (entity_id is "enterprise-segment")."""
    latest = select(func.max(AuditEntry.id)).where(AuditEntry.entity_type == "EnterpriseSegment") \
        .group_by(AuditEntry.entity_id)
    current = exists().where(
        cast(EnterpriseSegment.enterprise_id, String) + "-" + cast(EnterpriseSegment.segment_id, String)
        == AuditEntry.entity_id)
    return select(AuditEntry).where(AuditEntry.id.in_(latest), AuditEntry.action == "delete", ~current) \
        .order_by(AuditEntry.id.desc())


@dataclass(frozen=True)
class TrashRow:
    id: int
    text: str
    deleted_at: Any
    parents: list[tuple[str, str, bool]]  # (kind label, text, deleted)

    @property
    def deleted_parent(self) -> tuple[str, str, bool] | None:
        return next((p for p in self.parents if p[2]), None)


def rows_of(name: str, items) -> list[TrashRow]:
    """One page's records as rows to show, parents loaded in bulk (no query per row)."""
    if name == "mapping":
        return _mapping_rows(items)
    kind = KINDS[name]
    rows = []
    for record in items:
        parents = []
        for attr in kind.parents:
            parent = getattr(record, attr)
            if parent is not None:
                parents.append((KINDS[KIND_OF[type(parent)]].label, describe(parent), parent.deleted_at is not None))
        rows.append(TrashRow(record.id, kind.describe(record), record.deleted_at, parents))
    return rows


def _mapping_rows(entries) -> list[TrashRow]:
    befores = [entry.before or {} for entry in entries]
    enterprise_ids = {b.get("enterprise_id") for b in befores}
    segment_ids = {b.get("segment_id") for b in befores}
    enterprises = {e.id: e for e in db.session.scalars(select(Enterprise).where(Enterprise.id.in_(enterprise_ids)))}
    segments = {s.id: s for s in db.session.scalars(select(Segment).where(Segment.id.in_(segment_ids)))}
    rows = []
    for entry, before in zip(entries, befores):
        enterprise, segment = enterprises.get(before.get("enterprise_id")), segments.get(before.get("segment_id"))
        text = f"{segment.name}（{segment.code}）" if segment else f"环节 #{before.get('segment_id')}"
        parents = [("企业", enterprise.name, enterprise.deleted_at is not None)] if enterprise else []
        rows.append(TrashRow(entry.id, text, entry.at, parents))
    return rows


# ----- restoring ------------------------------------------------------------------------------
def find(name: str, record_id: int):
    """The deleted record of the kind (for a mapping: its removal's audit entry), or None."""
    kind = KINDS[name]
    if name == "mapping":
        return db.session.scalar(_removed_mappings().where(AuditEntry.id == record_id))
    record = db.session.get(kind.model, record_id)
    return record if record is not None and record.deleted_at is not None else None


def deleted_parents(name: str, record) -> list:
    """The record's parents in the trash, nearest first, and theirs in turn (a project's enterprise)."""
    found = []
    for parent in _parents(name, record):
        if parent.deleted_at is not None:
            found.append(parent)
        found += [p for p in deleted_parents(KIND_OF[type(parent)], parent) if p not in found]
    return list(dict.fromkeys(found))


def _parents(name: str, record) -> list:
    if name == "mapping":
        enterprise = db.session.get(Enterprise, (record.before or {}).get("enterprise_id"))
        return [enterprise] if enterprise else []
    return [p for p in (getattr(record, attr) for attr in KINDS[name].parents) if p is not None]


def restore(actor, name: str, record, *, with_parents: bool = False) -> list[str]:
    """Bring the record back (with its deleted parents when asked); the texts of what came back."""
    parents = deleted_parents(name, record)
    if parents and not with_parents:
        raise ParentDeleted(parents)
    restored = []
    for parent in reversed(parents):  # the farthest first: an enterprise before its project
        parent_kind = KIND_OF[type(parent)]
        _check(parent_kind, parent)
        records.restore(actor, parent)
        restored.append(f"{KINDS[parent_kind].label}“{describe(parent)}”")
    _check(name, record)
    if name == "mapping":
        restored.append(f"产业链环节关联“{_restore_mapping(record)}”")
    else:
        records.restore(actor, record)
        restored.append(f"{KINDS[name].label}“{describe(record)}”")
    db.session.flush()
    return list(reversed(restored))


def _check(name: str, record) -> None:
    """Refusals: what restoring would make wrong."""
    if name == "enterprise":
        merge = db.session.scalar(select(EnterpriseMerge).where(
            EnterpriseMerge.merged_id == record.id, EnterpriseMerge.undone_at.is_(None)))
        if merge is not None:
            raise ServiceError(f"该企业已合并到“{merge.survivor.name}”，请在该企业页面的合并记录中撤销合并")
    elif name == "funds":
        clash = db.session.scalar(select(FundsInPlace.id).where(
            FundsInPlace.project_id == record.project_id, FundsInPlace.month == record.month,
            FundsInPlace.deleted_at.is_(None), FundsInPlace.id != record.id).limit(1))
        if clash:
            raise ServiceError(f"该项目 {record.month:%Y-%m} 已另有到资记录，请先删除或修改那一条")
    elif name == "project_parcel":
        clash = db.session.scalar(select(ProjectParcel.id).join(Project, Project.id == ProjectParcel.project_id).where(
            ProjectParcel.parcel_id == record.parcel_id, ProjectParcel.deleted_at.is_(None),
            Project.deleted_at.is_(None), ProjectParcel.id != record.id).limit(1))
        if clash:
            raise ServiceError(f"地块“{record.parcel.code}”已由其他项目使用，不能恢复此关联")
    elif name == "actual":
        clash = db.session.scalar(select(ProjectActual.id).where(
            ProjectActual.project_id == record.project_id, ProjectActual.year == record.year,
            ProjectActual.deleted_at.is_(None), ProjectActual.id != record.id).limit(1))
        if clash:
            raise ServiceError(f"该项目 {record.year} 年已另有实绩记录，请先删除那一条")


def _restore_mapping(entry: AuditEntry) -> str:
    """Make the removed mapping again. It is the enterprise's primary only if it has none now (one
    primary per enterprise), and 链主 only while the enterprise is local."""
    before = entry.before or {}
    enterprise = db.session.get(Enterprise, before.get("enterprise_id"))
    segment = db.session.get(Segment, before.get("segment_id"))
    if enterprise is None or segment is None:
        raise ServiceError("该环节或企业已不存在，无法恢复")
    has_primary = db.session.scalar(select(EnterpriseSegment.segment_id).where(
        EnterpriseSegment.enterprise_id == enterprise.id, EnterpriseSegment.is_primary.is_(True)).limit(1))
    db.session.add(EnterpriseSegment(
        enterprise_id=enterprise.id, segment_id=segment.id, is_primary=has_primary is None,
        is_leader=bool(before.get("is_leader")) and enterprise.zone_id is not None))
    db.session.flush()
    return f"{enterprise.name} · {segment.name}"
