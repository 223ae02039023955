"""Chain definitions in the database: idempotent load from chains/data, and graphs for the analysis."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from chains.definitions import ChainDef
from crm.extensions import db
from crm.models import Chain, Segment, SegmentLink


def sync_chains(definitions: Iterable[ChainDef]) -> dict[str, int]:
    """Insert or update chains, segments and links from their definitions; returns counts of changes.

    Segments and links that a file no longer lists are kept (enterprises may be mapped to them) —
    removing one is an admin's decision in the UI.
    """
    definitions = list(definitions)
    stats = {"chains": 0, "segments": 0, "links": 0}
    chains = {c.code: c for c in db.session.scalars(select(Chain))}
    segments = {s.code: s for s in db.session.scalars(select(Segment))}
    for definition in definitions:
        chain = chains.get(definition.code)
        if chain is None:
            chain = chains[definition.code] = Chain(code=definition.code)
            db.session.add(chain)
        stats["chains"] += _assign(chain, name=definition.name, name_en=definition.name_en,
                                   group=definition.group or "", version=str(definition.version))
        for order, seg in enumerate(definition.segments):
            segment = segments.get(seg.code)
            if segment is None:
                segment = segments[seg.code] = Segment(code=seg.code)
                db.session.add(segment)
            stats["segments"] += _assign(
                segment, chain=chain, name=seg.name, name_en=seg.name_en, tier=seg.tier,
                value_add=seg.value_add, products=list(seg.products), keywords=list(seg.keywords),
                sort_order=order,
            )
    db.session.flush()
    existing = set(db.session.execute(select(SegmentLink.from_segment_id, SegmentLink.to_segment_id)).tuples())
    for definition in definitions:
        for source, target in definition.links:
            pair = (segments[source].id, segments[target].id)
            if pair not in existing:
                db.session.add(SegmentLink(from_segment_id=pair[0], to_segment_id=pair[1]))
                existing.add(pair)
                stats["links"] += 1
    db.session.flush()
    return stats


def _assign(record, **values) -> int:
    """Set only what differs, so a repeated load writes nothing and audits nothing."""
    changed = 0
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = 1
    return changed
