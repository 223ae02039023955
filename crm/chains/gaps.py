"""The chain-gap analysis on the database: presence, pipeline, targets, the report and the map panel.

The pure method lives in ``chains.analysis``; this module reads the rows it needs with a fixed
number of grouped queries and hands plain dicts to it. Every function takes the acting user
explicitly (no Flask globals), so views, the CLI and tests share them.

Zones: an officer, chief or viewer analyses the zone(s) they are bound to; asking for any other
zone raises ``NotFound`` (a view answers 404, as for any record of another zone). The city admin
analyses one zone, or the whole city with ``zone_id=None`` (an enterprise is then *local* when it
sits in any zone). Projects and visits are always read through ``crm.permissions.scope`` and, in
a zone's analysis, only that zone's: the enterprise library is city-wide, pipelines are not.

Queries for one chain and one zone (``analyse_chain``): chain, links, segments, presence (one
grouped query over enterprise_segments ⋈ enterprises, however many enterprises there are),
partial presence (grouped over project_segments), pipeline (grouped), data date — plus the zone
when it is not yet in the session. None of them returns a row per enterprise.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import networkx as nx
from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import aliased

from chains.analysis import STAGE_WEIGHTS, GapRecord, analyse_gaps, choke_points, summarise
from chains.definitions import TIERS
from chains.layout import ROW_PX, Layered, layered_layout
from chains.model import graph_from_rows
from crm.db import utcnow
from crm.extensions import db
from crm.catalog.models import Chain, EnterpriseSegment, Segment, SegmentLink
from crm.library.models import Enterprise
from crm.pipeline.models import Project, project_segments
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.pipeline.models import ACTIVE_LEAD_STAGES
from crm.permissions import in_full_condition, linked_in_full_condition, scope, visible_zone_ids

# Signed and under-construction projects count as partial presence (DESIGN.md §3).
PARTIAL_STAGES = ("签约", "注册", "开工")
# Projects still being worked on: the leads plus the signed ones not yet in production.
ACTIVE_PROJECT_STAGES = ACTIVE_LEAD_STAGES + PARTIAL_STAGES
STATUS_LABELS = {"missing": "缺", "weak": "弱", "strong": "强"}
TERM_LABELS = {"adj": "相邻配套", "bott": "瓶颈", "val": "价值", "pipe": "在谈"}
CITY_LABEL = "全市"
# Tags that make a target enterprise more attractive, counted one point each in the ranking.
QUALITY_TAGS = ("500强", "上市", "单项冠军", "小巨人", "专精特新", "高新技术企业")
LOCAL_LIMIT = 50


class NotFound(LookupError):
    """An unknown chain or segment, or a zone the user may not analyse; views answer 404."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- zones ------------------------------------------------------------------------------


def analysed_zones(user, zone_id: int | None = None) -> tuple[list[int] | None, list[Zone]]:
    """The zone ids to analyse (None = the whole city) and their Zone rows.

    Officers, chiefs and viewers get their own zone(s) by default and may pick one of them;
    a zone outside them is refused exactly like a zone that does not exist.
    """
    visible = visible_zone_ids(user)
    if zone_id is not None:
        if visible is not None and zone_id not in visible:
            raise NotFound("未知园区或无权查看该园区")
        zone = db.session.get(Zone, zone_id)
        if zone is None:
            raise NotFound("未知园区或无权查看该园区")
        return [zone.id], [zone]
    if visible is None:
        return None, []
    return list(visible), list(user.zones)


def scope_label(zones: list[Zone], zone_ids: list[int] | None) -> str:
    if zone_ids is None:
        return CITY_LABEL
    return "、".join(zone.name for zone in zones) or "（未分配园区）"


def _local(zone_ids: list[int] | None):
    """Enterprises local to the analysed zones; for the whole city, local to any zone."""
    if zone_ids is None:
        return Enterprise.zone_id.is_not(None)
    return Enterprise.zone_id.in_(zone_ids)


def _not_local(zone_ids: list[int] | None):
    if zone_ids is None:
        return Enterprise.zone_id.is_(None)
    return or_(Enterprise.zone_id.is_(None), Enterprise.zone_id.not_in(zone_ids))


def _projects_of(stmt, user, zone_ids: list[int] | None):
    """Projects the user may see (scope), narrowed to the analysed zones."""
    stmt = scope(stmt, Project, user) if user is not None else stmt.where(Project.deleted_at.is_(None))
    if zone_ids is not None:
        stmt = stmt.where(Project.zone_id.in_(zone_ids))
    return stmt


# --- the graph --------------------------------------------------------------------------


def _chain(chain_code: str) -> Chain:
    chain = db.session.scalar(select(Chain).where(Chain.code == chain_code))
    if chain is None:
        raise NotFound(f"未知产业链 {chain_code}")
    return chain


def chain_graph(chain_code: str) -> nx.DiGraph:
    """The chain's segments plus the other chains' segments linked to them (external), from the DB.

    ``graph.graph`` carries the chain's code, name, name_en, version and id, ``segment_ids``
    (code → Segment.id) and ``chain_names`` (chain code → name, for external segments).
    Three queries: the chain, its links, the segments.
    """
    chain = _chain(chain_code)
    source, target = aliased(Segment), aliased(Segment)
    links = db.session.execute(
        select(source.code, target.code)
        .select_from(SegmentLink)
        .join(source, SegmentLink.from_segment_id == source.id)
        .join(target, SegmentLink.to_segment_id == target.id)
        .where(or_(source.chain_id == chain.id, target.chain_id == chain.id))
    ).tuples().all()
    linked = {code for link in links for code in link}
    segments = db.session.execute(
        select(Segment, Chain.code, Chain.name)
        .join(Chain, Segment.chain_id == Chain.id)
        .where(or_(Segment.chain_id == chain.id, Segment.code.in_(linked)))
    ).tuples().all()
    rows, segment_ids, chain_names = [], {}, {}
    for segment, code, name in segments:
        chain_names[code] = name
        segment_ids[segment.code] = segment.id
        rows.append({
            "code": segment.code, "name": segment.name, "name_en": segment.name_en, "tier": segment.tier,
            "value_add": segment.value_add, "chain": code, "products": segment.products or [],
            "keywords": segment.keywords or [], "external": segment.chain_id != chain.id,
        })
    graph = graph_from_rows(rows, links)
    graph.graph.update(
        chain=chain.code, chain_id=chain.id, name=chain.name, name_en=chain.name_en, version=chain.version,
        segment_ids=segment_ids, chain_names=chain_names,
    )
    return graph


# --- presence and pipeline --------------------------------------------------------------


def local_rows(segment_codes, zone_ids: list[int] | None) -> list[tuple]:
    """Local enterprises (not deleted) per segment code and zone, in one grouped query whatever their
    number: ``(code, zone_id, count, revenue, leader 0/1, above-scale count)``. Both the presence of the
    analysed zones and, for the whole city, which zones hold each segment are sums of these rows."""
    codes = sorted(set(segment_codes))
    if not codes:
        return []
    return db.session.execute(
        select(
            Segment.code,
            Enterprise.zone_id,
            func.count(Enterprise.id),
            func.sum(Enterprise.annual_revenue),
            # max over 0/1 rather than bool_or: the same SQL on SQLite and PostgreSQL.
            func.max(case((EnterpriseSegment.is_leader, 1), else_=0)),
            func.sum(case((Enterprise.above_scale, 1), else_=0)),
        )
        .select_from(EnterpriseSegment)
        .join(Enterprise, EnterpriseSegment.enterprise_id == Enterprise.id)
        .join(Segment, EnterpriseSegment.segment_id == Segment.id)
        .where(Segment.code.in_(codes), Enterprise.deleted_at.is_(None), _local(zone_ids))
        .group_by(Segment.code, Enterprise.zone_id)
    ).tuples().all()


def presence_for(segment_codes, zone_ids: list[int] | None, *, user=None, local=None) -> dict[str, dict]:
    """Local presence per segment code, in two grouped queries whatever the number of enterprises.

    ``{code: {"count", "output", "leader", "above_scale", "partial"}}``: local enterprises (not
    deleted) mapped to the segment, the sum of their annual revenue (万元) as output, whether
    one is the segment's 链主, how many are above scale; ``partial`` counts the projects in
    签约 / 注册 / 开工 serving the segment (scoped to ``user`` when given). Segments with
    neither are absent. ``local`` is ``local_rows`` of the same codes and zones when the caller has them.
    """
    codes = sorted(set(segment_codes))
    if not codes:
        return {}
    totals: dict[str, list] = {}
    for code, _zone_id, count, output, leader, above_scale in (
            local if local is not None else local_rows(codes, zone_ids)):
        total = totals.setdefault(code, [0, Decimal(0), False, 0])
        total[0] += int(count or 0)
        total[1] += Decimal(output or 0)
        total[2] = total[2] or bool(leader)
        total[3] += int(above_scale or 0)
    presence: dict[str, dict] = {
        code: {"count": count, "output": float(output), "leader": leader, "above_scale": above_scale, "partial": 0}
        for code, (count, output, leader, above_scale) in totals.items()
    }
    partial = db.session.execute(
        _projects_of(
            select(Segment.code, func.count(func.distinct(Project.id)))
            .select_from(project_segments)
            .join(Project, project_segments.c.project_id == Project.id)
            .join(Segment, project_segments.c.segment_id == Segment.id)
            .where(Segment.code.in_(codes), Project.stage.in_(PARTIAL_STAGES))
            .group_by(Segment.code),
            user, zone_ids,
        )
    ).tuples()
    for code, count in partial:
        row = presence.setdefault(code, {"count": 0, "output": 0.0, "leader": False, "above_scale": 0})
        row["partial"] = int(count)
    return presence


@dataclass
class Pipeline:
    """Active leads (线索 / 接洽 / 考察 / 洽谈) per segment: counts by stage and the weighted sum."""

    by_stage: dict[str, dict[str, int]] = field(default_factory=dict)
    weighted: dict[str, float] = field(default_factory=dict)

    def total(self, code: str) -> int:
        return sum(self.by_stage.get(code, {}).values())


def pipeline_for(segment_codes, zone_ids: list[int] | None, *, user=None) -> Pipeline:
    """One grouped query: active leads per segment and stage, weighted by ``STAGE_WEIGHTS``."""
    codes = sorted(set(segment_codes))
    pipeline = Pipeline()
    if not codes:
        return pipeline
    rows = db.session.execute(
        _projects_of(
            select(Segment.code, Project.stage, func.count(func.distinct(Project.id)))
            .select_from(project_segments)
            .join(Project, project_segments.c.project_id == Project.id)
            .join(Segment, project_segments.c.segment_id == Segment.id)
            .where(Segment.code.in_(codes), Project.stage.in_(ACTIVE_LEAD_STAGES))
            .group_by(Segment.code, Project.stage),
            user, zone_ids,
        )
    ).tuples()
    for code, stage, count in rows:
        pipeline.by_stage.setdefault(code, {})[stage] = int(count)
    for code, stages in pipeline.by_stage.items():
        pipeline.weighted[code] = math.fsum(STAGE_WEIGHTS[s] * n for s, n in sorted(stages.items()))
    return pipeline


def zones_holding(segment_codes, local=None) -> dict[str, list[dict]]:
    """For the whole-city view: which zones hold each segment, with their count of local firms.
    ``local`` is ``local_rows(codes, None)`` (of these codes or more) when the caller has them."""
    codes = set(segment_codes)
    if not codes:
        return {}
    rows = local if local is not None else local_rows(codes, None)
    names = dict(db.session.execute(select(Zone.id, Zone.name)).tuples().all())
    holders: dict[str, list[dict]] = defaultdict(list)
    for code, zone_id, count in sorted((code, zone_id, count) for code, zone_id, count, *_ in rows
                                       if code in codes and zone_id in names):
        holders[code].append({"zone_id": zone_id, "zone": names[zone_id], "count": int(count)})
    return dict(holders)


# --- the report -------------------------------------------------------------------------


@dataclass
class ChainReport:
    """Everything the map, the gap report, the Excel export and the CLI show for one chain."""

    chain: dict[str, Any]
    zone_ids: list[int] | None
    zones: list[Zone]
    graph: nx.DiGraph
    layout: Layered  # chains.layout: positions in [0, 1]², rows of the tallest column
    presence: dict[str, dict]
    pipeline: Pipeline
    records: list[GapRecord]
    kpis: dict[str, Any]
    choke: dict[str, Any]
    generated_at: datetime
    mappings_updated_at: datetime | None
    holders: dict[str, list[dict]] | None = None  # whole-city view only

    @property
    def data_date(self) -> dict[str, datetime | None]:
        """When the numbers were computed, and when an enterprise's segment mapping last changed."""
        return {"generated_at": self.generated_at, "mappings_updated_at": self.mappings_updated_at}

    @property
    def positions(self) -> dict[str, tuple[float, float]]:
        return self.layout.positions

    @property
    def is_city(self) -> bool:
        return self.zone_ids is None

    @property
    def zone_id(self) -> int | None:
        """The one zone analysed, if it is one."""
        return self.zone_ids[0] if self.zone_ids is not None and len(self.zone_ids) == 1 else None

    @property
    def scope_label(self) -> str:
        return scope_label(self.zones, self.zone_ids)

    @property
    def record_by_code(self) -> dict[str, GapRecord]:
        return {record.code: record for record in self.records}

    @property
    def gaps(self) -> list[GapRecord]:
        """The ranked gaps: every segment with something to do (补链 / 延链 / 强链) or not strong."""
        return [r for r in self.records if r.action or r.status != "strong"]

    def name_of(self, code: str) -> str:
        return self.graph.nodes[code].get("name", code) if code in self.graph else code

    def own_codes(self) -> list[str]:
        return [c for c in self.graph if not self.graph.nodes[c].get("external")]


def analyse_chain(
    user, chain_code: str, zone_id: int | None = None, *, weights=None, thresholds=None
) -> ChainReport:
    """Analyse one chain for one zone (or, for the admin, the whole city).

    Raises ``NotFound`` for an unknown chain and for a zone the user may not analyse. ``weights``
    and ``thresholds`` override ``chains.analysis`` defaults (zones carry no chain settings yet).
    """
    zone_ids, zones = analysed_zones(user, zone_id)
    graph = chain_graph(chain_code)
    codes = list(graph.nodes)
    own = [c for c in codes if not graph.nodes[c].get("external")]
    # External segments count for their neighbours' relatedness, so their presence is read too.
    local = local_rows(codes, zone_ids)  # presence and, for the city, the zones holding each segment
    presence = presence_for(codes, zone_ids, user=user, local=local)
    pipeline = pipeline_for(own, zone_ids, user=user)
    records = analyse_gaps(graph, presence, pipeline.weighted, weights, thresholds)
    mappings_updated_at = db.session.scalar(
        select(func.max(EnterpriseSegment.updated_at))
        .join(Segment, EnterpriseSegment.segment_id == Segment.id)
        .where(Segment.chain_id == graph.graph["chain_id"])
    )
    return ChainReport(
        chain={"code": graph.graph["chain"], "name": graph.graph["name"], "name_en": graph.graph["name_en"],
               "version": graph.graph["version"]},
        zone_ids=zone_ids,
        zones=zones,
        graph=graph,
        layout=layered_layout(graph),
        presence=presence,
        pipeline=pipeline,
        records=records,
        kpis=summarise(records, presence),
        choke=choke_points(graph, presence),
        generated_at=utcnow(),
        mappings_updated_at=mappings_updated_at,
        holders=zones_holding(own, local) if zone_ids is None else None,
    )


def coverage_by_chain(user, zone_id: int | None = None) -> tuple[dict[str, dict], list[int] | None, list[Zone]]:
    """Per chain: segments, segments present for the user's zone(s) (or the city), coverage.

    Three queries for all chains together: segments, presence (grouped), partial (grouped).
    Present means what the analysis calls present: a local enterprise or a signed project.
    """
    zone_ids, zones = analysed_zones(user, zone_id)
    segments = db.session.execute(select(Segment.code, Chain.code).join(Chain, Segment.chain_id == Chain.id)).tuples().all()
    presence = presence_for([code for code, _ in segments], zone_ids, user=user)
    coverage: dict[str, dict] = defaultdict(lambda: {"segments": 0, "present": 0, "leaders": 0, "output": 0.0})
    for code, chain in segments:
        row = coverage[chain]
        row["segments"] += 1
        local = presence.get(code)
        if local and (local["count"] or local.get("partial")):
            row["present"] += 1
            row["leaders"] += bool(local["leader"])
            row["output"] += local["output"]
    for row in coverage.values():
        row["coverage"] = row["present"] / row["segments"] if row["segments"] else 0.0
    return dict(coverage), zone_ids, zones


# --- targets, local enterprises, projects ------------------------------------------------


@dataclass
class Target:
    enterprise_id: int
    name: str
    segment_code: str
    rank: int
    place: str  # 外地 region, or the zone of the city it is local to
    tags: list[str]
    above_scale: bool
    leader: bool
    revenue: float | None
    projects: int = 0  # the analysed zone's projects with it (visible to the user)
    visits: int = 0
    last_visit: str | None = None


def _target_order():
    """The ranking of target enterprises, best first.

    0. firms from outside the city before firms local to another zone of the city (moving a firm
       between the city's zones brings the city nothing, and zones are not to poach each other);
    1. chain leaders: mapped as 链主 of the segment, or tagged 链主;
    2. above-scale (规上) firms;
    3. more of the tags 500强, 上市, 单项冠军, 小巨人, 专精特新, 高新技术企业 (one point each);
    4. higher annual revenue (unknown last);
    5. the segment as the firm's primary business before a secondary one;
    6. name, then id, so the order is stable.
    """
    leader = case((or_(EnterpriseSegment.is_leader, Enterprise.tags.contains("链主")), 1), else_=0)
    tags = sum((case((Enterprise.tags.contains(tag), 1), else_=0) for tag in QUALITY_TAGS), literal(0))
    return [
        case((Enterprise.zone_id.is_(None), 0), else_=1),
        leader.desc(),
        case((Enterprise.above_scale, 1), else_=0).desc(),
        tags.desc(),
        case((Enterprise.annual_revenue.is_(None), 1), else_=0),
        Enterprise.annual_revenue.desc(),
        case((EnterpriseSegment.is_primary, 1), else_=0).desc(),
        Enterprise.name,
        Enterprise.id,
    ]


def targets_for_segments(
    user, segment_codes, zone_ids: list[int] | None, limit: int = 10
) -> dict[str, list[Target]]:
    """Library enterprises mapped to each segment and not local to the analysed zone(s), ranked.

    Three queries for any number of segments: the top ``limit`` per segment (a window function,
    so the database ranks and cuts), then the projects and the visits the analysed zone(s)
    already hold with them — both through ``scope``, so another zone's work is never counted.
    A firm local to another zone of the city is a target too; ``place`` says where it is.
    """
    codes = sorted(set(segment_codes))
    if not codes:
        return {}
    rank = func.row_number().over(partition_by=Segment.code, order_by=_target_order()).label("rank")
    ranked = (
        select(EnterpriseSegment.enterprise_id, Segment.code.label("code"), EnterpriseSegment.is_leader, rank)
        .join(Enterprise, EnterpriseSegment.enterprise_id == Enterprise.id)
        .join(Segment, EnterpriseSegment.segment_id == Segment.id)
        .where(Segment.code.in_(codes), Enterprise.deleted_at.is_(None), _not_local(zone_ids))
        .subquery()
    )
    rows = db.session.execute(
        select(Enterprise, ranked.c.code, ranked.c.rank, ranked.c.is_leader)
        .join(ranked, ranked.c.enterprise_id == Enterprise.id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.code, ranked.c.rank)
    ).tuples().all()
    targets: dict[str, list[Target]] = {code: [] for code in codes}
    for enterprise, code, position, is_leader in rows:
        if enterprise.zone is not None:
            place = f"本市·{enterprise.zone.name}"
        else:
            place = f"{enterprise.region_province}{enterprise.region_city}" or "外地"
        targets[code].append(Target(
            enterprise_id=enterprise.id, name=enterprise.name, segment_code=code, rank=int(position),
            place=place, tags=enterprise.tag_list, above_scale=enterprise.above_scale,
            leader=bool(is_leader) or "链主" in enterprise.tag_list,
            revenue=float(enterprise.annual_revenue) if enterprise.annual_revenue is not None else None,
        ))
    ids = sorted({t.enterprise_id for items in targets.values() for t in items})
    if ids:
        # Per firm, a 保密项目 the user sees masked (and its visits) is left out: the count would name
        # its enterprise. The segment's pipeline and partial presence still count it.
        held = dict(db.session.execute(
            _projects_of(select(Project.enterprise_id, func.count(Project.id)), user, zone_ids)
            .where(Project.enterprise_id.in_(ids), in_full_condition(user)).group_by(Project.enterprise_id)
        ).tuples().all())
        visit_stmt = scope(
            select(Visit.enterprise_id, func.count(Visit.id), func.max(Visit.visit_date)), Visit, user
        ).where(Visit.enterprise_id.in_(ids), linked_in_full_condition(user, Visit)).group_by(Visit.enterprise_id)
        if zone_ids is not None:
            visit_stmt = visit_stmt.where(Visit.zone_id.in_(zone_ids))
        visits = {eid: (n, last) for eid, n, last in db.session.execute(visit_stmt).tuples()}
        for items in targets.values():
            for target in items:
                target.projects = int(held.get(target.enterprise_id, 0))
                count, last = visits.get(target.enterprise_id, (0, None))
                target.visits = int(count)
                target.last_visit = last.isoformat() if last else None
    return targets


def targets_for(user, segment_code: str, zone_ids: list[int] | None, limit: int = 10) -> list[Target]:
    """The ranked targets of one segment; see ``targets_for_segments``."""
    return targets_for_segments(user, [segment_code], zone_ids, limit)[segment_code]


def local_enterprises(segment_code: str, zone_ids: list[int] | None, limit: int = LOCAL_LIMIT) -> tuple[list[dict], int]:
    """The local enterprises mapped to a segment (leaders, then by revenue) and how many there are."""
    base = (
        select(Enterprise, EnterpriseSegment.is_primary, EnterpriseSegment.is_leader)
        .join(EnterpriseSegment, EnterpriseSegment.enterprise_id == Enterprise.id)
        .join(Segment, EnterpriseSegment.segment_id == Segment.id)
        .where(Segment.code == segment_code, Enterprise.deleted_at.is_(None), _local(zone_ids))
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        base.order_by(
            case((EnterpriseSegment.is_leader, 1), else_=0).desc(),
            case((Enterprise.annual_revenue.is_(None), 1), else_=0),
            Enterprise.annual_revenue.desc(), Enterprise.name, Enterprise.id,
        ).limit(limit)
    ).tuples().all()
    return [
        {
            "id": enterprise.id, "name": enterprise.name, "zone": enterprise.zone.name if enterprise.zone else "",
            "primary": bool(primary), "leader": bool(leader), "above_scale": enterprise.above_scale,
            "revenue": float(enterprise.annual_revenue) if enterprise.annual_revenue is not None else None,
            "tags": enterprise.tag_list,
        }
        for enterprise, primary, leader in rows
    ], int(total or 0)


def active_projects(user, segment_code: str, zone_ids: list[int] | None, limit: int = 50) -> list[Project]:
    """Projects serving the segment that are still being worked on (线索 … 开工), scoped to ``user``."""
    stmt = _projects_of(
        select(Project)
        .join(project_segments, project_segments.c.project_id == Project.id)
        .join(Segment, project_segments.c.segment_id == Segment.id)
        .where(Segment.code == segment_code, Project.stage.in_(ACTIVE_PROJECT_STAGES)),
        user, zone_ids,
    )
    return list(db.session.scalars(stmt.order_by(Project.updated_at.desc(), Project.id.desc()).limit(limit)).unique())


def projects_for_segments(user, segment_codes, zone_ids: list[int] | None, limit: int = 5) -> dict[str, list[Project]]:
    """The latest ``limit`` projects still being worked on (线索 … 开工) per segment, scoped to ``user``.

    Two queries for any number of segments: a window function ranks and cuts per segment in the
    database, then the projects themselves (zone, enterprise and owner joined). The caller masks
    a 保密项目 the user may not read in full, as the panel does.
    """
    codes = sorted(set(segment_codes))
    if not codes:
        return {}
    rank = func.row_number().over(
        partition_by=Segment.code, order_by=(Project.updated_at.desc(), Project.id.desc())).label("rank")
    ranked = _projects_of(
        select(Project.id.label("project_id"), Segment.code.label("code"), rank)
        .select_from(project_segments)
        .join(Project, project_segments.c.project_id == Project.id)
        .join(Segment, project_segments.c.segment_id == Segment.id)
        .where(Segment.code.in_(codes), Project.stage.in_(ACTIVE_PROJECT_STAGES)),
        user, zone_ids,
    ).subquery()
    rows = db.session.execute(
        select(ranked.c.code, Project)
        .join(ranked, ranked.c.project_id == Project.id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.code, ranked.c.rank)
    ).tuples().all()
    found: dict[str, list[Project]] = {code: [] for code in codes}
    for code, project in rows:
        found[code].append(project)
    return found


# --- the panel and serialisation --------------------------------------------------------


def gap_dict(record: GapRecord | None) -> dict | None:
    if record is None:
        return None
    return {
        "code": record.code, "name": record.name, "tier": record.tier, "status": record.status,
        "status_label": STATUS_LABELS[record.status], "action": record.action, "priority": record.priority,
        "terms": {k: round(v, 4) for k, v in record.terms.items()},
        "contributions": {k: round(v, 2) for k, v in record.contributions.items()},
        "reasons": list(record.reasons),
    }


@dataclass
class SegmentPanel:
    report: ChainReport
    code: str
    node: dict
    gap: GapRecord | None
    local: list[dict]
    local_total: int
    targets: list[Target]
    projects: list[Project]
    holders: list[dict] | None


def segment_panel(user, chain_code: str, segment_code: str, zone_id: int | None = None) -> SegmentPanel:
    """What the map shows when a segment is clicked: local firms, the gap and why, targets, projects.

    Projects are those of the analysed zone that the user may see (``scope``): an officer never
    sees another zone's. The admin's whole-city view adds which zones hold the segment.
    """
    report = analyse_chain(user, chain_code, zone_id)
    if segment_code not in report.graph:
        raise NotFound(f"产业链 {chain_code} 中没有环节 {segment_code}")
    local, total = local_enterprises(segment_code, report.zone_ids)
    holders = None
    if report.is_city:
        holders = (report.holders or {}).get(segment_code) or zones_holding([segment_code]).get(segment_code, [])
    return SegmentPanel(
        report=report,
        code=segment_code,
        node=dict(report.graph.nodes[segment_code]),
        gap=report.record_by_code.get(segment_code),
        local=local,
        local_total=total,
        targets=targets_for(user, segment_code, report.zone_ids),
        projects=active_projects(user, segment_code, report.zone_ids),
        holders=holders,
    )


def node_size(output: float, max_output: float) -> float:
    """Symbol size on the 现状图: grows with the square root of local output (area ∝ output)."""
    if max_output <= 0:
        return 26.0
    return round(22 + 34 * math.sqrt(max(output, 0.0) / max_output), 1)


def map_data(report: ChainReport) -> dict:
    """Nodes (with the server-side layout) and edges for the ECharts chain map."""
    own = report.own_codes()
    max_output = max((report.presence.get(c, {}).get("output", 0.0) for c in own), default=0.0)
    records = report.record_by_code
    height = report.layout.height_px
    nodes = []
    for code in report.graph:
        attrs = report.graph.nodes[code]
        x, y = report.positions[code]
        local = report.presence.get(code, {})
        record = records.get(code)
        external = bool(attrs.get("external"))
        present = bool(local.get("count") or local.get("partial"))
        nodes.append({
            "code": code, "name": attrs["name"], "tier": attrs["tier"], "value_add": attrs["value_add"],
            "chain": attrs["chain"], "chain_name": report.graph.graph["chain_names"].get(attrs["chain"], ""),
            "external": external,
            # Layout in [0, 1]²: x on a 1000-wide canvas (the page stretches it to the chart's
            # width), y in pixels, one label height (ROW_PX) per row, so labels never overlap.
            "x": round(x * 1000, 2), "y": round(y * height, 2),
            "suppliers": sorted(report.graph.predecessors(code)), "buyers": sorted(report.graph.successors(code)),
            "status": record.status if record else ("present" if present else "missing"),
            "status_label": STATUS_LABELS[record.status] if record else ("有" if present else "无"),
            "action": record.action if record else None,
            "priority": record.priority if record else None,
            "count": int(local.get("count", 0)), "partial": int(local.get("partial", 0)),
            "output": round(float(local.get("output", 0.0)), 2), "above_scale": int(local.get("above_scale", 0)),
            "leader": bool(local.get("leader")) and bool(local.get("count")),
            "size": node_size(float(local.get("output", 0.0)), max_output) if local.get("count") else 16.0,
            "zones": (report.holders or {}).get(code, []) if report.is_city else None,
        })
    edges = [
        {"source": s, "target": t,
         "external": bool(report.graph.nodes[s].get("external") or report.graph.nodes[t].get("external"))}
        for s, t in sorted(report.graph.edges)
    ]
    return {
        "chain": report.chain, "scope": report.scope_label, "zone_id": report.zone_id, "city": report.is_city,
        "tiers": list(TIERS), "kpis": report.kpis, "nodes": nodes, "edges": edges,
        "height": height, "rows": report.layout.rows, "row_px": ROW_PX, "columns": report.layout.columns,
        "generated_at": report.generated_at.isoformat(),
        "mappings_updated_at": report.mappings_updated_at.isoformat() if report.mappings_updated_at else None,
    }


def report_dict(report: ChainReport, targets: dict[str, list[Target]] | None = None) -> dict:
    """The report as plain data (the CLI's --json): KPIs, ranked gaps, choke points, pipeline."""
    names = {code: report.name_of(code) for code in report.graph}
    data = {
        "chain": report.chain,
        "zone": report.scope_label,
        "zone_ids": report.zone_ids,
        "generated_at": report.generated_at.isoformat(),
        "mappings_updated_at": report.mappings_updated_at.isoformat() if report.mappings_updated_at else None,
        "kpis": report.kpis,
        "gaps": [gap_dict(r) for r in report.records],
        "priorities": {r.code: r.priority for r in report.records},
        "choke_points": {
            "articulation_points": [{"code": c, "name": names[c]} for c in report.choke["articulation_points"]],
            "dominators": [
                {"code": c, "name": names[c], "dominates": [{"code": d, "name": names[d]} for d in ds]}
                for c, ds in report.choke["dominators"].items()
            ],
        },
        "pipeline": [
            {"code": code, "name": names[code], "by_stage": report.pipeline.by_stage.get(code, {}),
             "weighted": round(report.pipeline.weighted.get(code, 0.0), 2),
             "partial": int(report.presence.get(code, {}).get("partial", 0))}
            for code in report.own_codes()
            if report.pipeline.by_stage.get(code) or report.presence.get(code, {}).get("partial")
        ],
    }
    if targets is not None:
        data["targets"] = {
            code: [asdict(t) for t in items] for code, items in targets.items() if items
        }
    return data


REPORT_TARGETS = 5  # targets per gap in the report, its Excel export and the CLI


def report_targets(user, report: ChainReport, limit: int = REPORT_TARGETS) -> dict[str, list[Target]]:
    """Targets for every ranked gap of the report, in three queries."""
    return targets_for_segments(user, [r.code for r in report.gaps], report.zone_ids, limit)
