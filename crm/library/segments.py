"""Mapping an enterprise onto chain segments: keyword suggestions, and saving the choice.

An enterprise may serve several segments; when it serves any, exactly one is its primary
business. A *local* enterprise (zone_id set) may be marked 链主 (chain leader) of a segment.
Changes go through the ORM, so the audit log records every mapping created, changed or removed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from chains.suggest import suggest_segments
from crm.extensions import db
from crm.catalog.models import Chain, EnterpriseSegment, Segment
from crm.library.models import Enterprise
from crm.permissions import require
from crm.errors import ServiceError


def all_segments() -> list[Segment]:
    """Every segment, by chain (code) and the order of its definition file; chains loaded with them."""
    return list(db.session.scalars(
        select(Segment).join(Chain, Segment.chain_id == Chain.id).options(contains_eager(Segment.chain))
        .order_by(Chain.code, Segment.sort_order, Segment.code)
    ))


def segment_groups(segments: list[Segment]) -> list[tuple[str, list[tuple[int, str]]]]:
    """For a select with optgroups: [(chain name, [(segment id, "name（code）"), ...]), ...]."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for segment in segments:
        groups.setdefault(segment.chain.name, []).append((segment.id, f"{segment.name}（{segment.code}）"))
    return list(groups.items())


@dataclass(frozen=True)
class SegmentSuggestion:
    segment: Segment
    score: float
    reasons: tuple[str, ...]


def suggestions_for(enterprise: Enterprise, segments: list[Segment], limit: int = 8) -> list[SegmentSuggestion]:
    """Segments whose keywords occur in the enterprise's products, industry or name, with why."""
    by_code = {segment.code: segment for segment in segments}
    rows = [{"code": s.code, "name": s.name, "keywords": s.keywords or []} for s in segments]
    found = suggest_segments(
        rows,
        name=" ".join(filter(None, [enterprise.name, enterprise.aliases])),
        products=enterprise.main_products or "",
        industry=" ".join(filter(None, [enterprise.industry_code, enterprise.industry_name])),
        limit=limit,
    )
    return [SegmentSuggestion(by_code[s.code], s.score, s.reasons) for s in found]


def mappings_of(enterprise: Enterprise) -> list[EnterpriseSegment]:
    return list(db.session.scalars(
        select(EnterpriseSegment).where(EnterpriseSegment.enterprise_id == enterprise.id)
        .order_by(EnterpriseSegment.is_primary.desc(), EnterpriseSegment.segment_id)
    ))


def set_enterprise_segments(
    actor, enterprise: Enterprise, segment_ids, primary_ids, leader_ids
) -> dict[str, int]:
    """Make the enterprise's mappings exactly ``segment_ids``, with one primary and the 链主 flags.

    Raises ServiceError (naming the field: segment_ids, primary or leaders) before writing
    anything when the choice is invalid. Marking or unmarking a 链主 is for the staff of the
    enterprise's own zone (or the admin): it changes that zone's chain analysis.
    Returns counts of mappings added, changed and removed.
    """
    require(actor, "enterprise.map", enterprise)
    wanted, primary, leaders = set(segment_ids), set(primary_ids), set(leader_ids)
    if not wanted:  # every row unticked: a radio button cannot be cleared, so its value means nothing
        primary, leaders = set(), set()
    if wanted:
        known = set(db.session.scalars(select(Segment.id).where(Segment.id.in_(wanted))))
        if known != wanted:
            raise ServiceError("所选环节不存在，请刷新页面后重试", field="segment_ids")
    if not primary <= wanted:
        raise ServiceError("主环节必须是已勾选的环节之一", field="primary")
    if wanted and not primary:
        raise ServiceError("请为企业选择一个主环节", field="primary")
    if len(primary) > 1:
        raise ServiceError("主环节只能选择一个", field="primary")
    if not leaders <= wanted:
        raise ServiceError("链主环节必须是已勾选的环节之一", field="leaders")

    existing = {m.segment_id: m for m in mappings_of(enterprise)}
    if leaders and enterprise.zone_id is None:
        raise ServiceError("只有在园企业才能标记为链主；外地目标企业请先在企业信息中登记所在园区", field="leaders")

    stats = {"added": 0, "changed": 0, "removed": 0}
    for segment_id, mapping in existing.items():
        if segment_id not in wanted:
            db.session.delete(mapping)
            stats["removed"] += 1
    for segment_id in sorted(wanted):
        flags = {"is_primary": segment_id in primary, "is_leader": segment_id in leaders}
        mapping = existing.get(segment_id)
        if mapping is None:
            db.session.add(EnterpriseSegment(enterprise_id=enterprise.id, segment_id=segment_id, **flags))
            stats["added"] += 1
        elif any(getattr(mapping, key) != value for key, value in flags.items()):
            for key, value in flags.items():
                setattr(mapping, key, value)
            stats["changed"] += 1
    db.session.flush()
    return stats
