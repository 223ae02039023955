"""Chain definitions in the database: idempotent load from chains/data, and graphs for the analysis."""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select

from chains.definitions import MAX_NAME_EN_LEN, MAX_NAME_LEN, TIERS, ChainDef
from crm.db import utcnow
from crm.extensions import db
from crm.catalog.models import Chain, Segment, SegmentLink
from crm.errors import ServiceError
from crm.permissions import require


# The fields an admin edits in the UI, with their labels for the load report.
EDITABLE_FIELDS = {"name": "环节名称", "name_en": "英文名称", "tier": "层级", "value_add": "价值层级",
                   "products": "主要产品", "keywords": "关键词"}


def sync_chains(definitions: Iterable[ChainDef]) -> dict:
    """Insert or update chains, segments and links from their definitions; returns counts of changes.

    Segments and links that a file no longer lists are kept (enterprises may be mapped to them) —
    removing one is an admin's decision in the UI. A segment an admin edited (``edited_at`` set)
    keeps its edited fields; ``stats["kept"]`` lists (code, field, file value, database value)
    wherever the file says otherwise.
    """
    definitions = list(definitions)
    stats: dict = {"chains": 0, "segments": 0, "links": 0, "kept": []}
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
            from_file = {"name": seg.name, "name_en": seg.name_en, "tier": seg.tier, "value_add": seg.value_add,
                         "products": list(seg.products), "keywords": list(seg.keywords)}
            if segment.edited_at is not None:
                stats["kept"] += [(seg.code, field, value, getattr(segment, field))
                                  for field, value in from_file.items() if getattr(segment, field) != value]
                from_file = {}
            stats["segments"] += _assign(segment, chain=chain, sort_order=order, **from_file)
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


def format_kept(code: str, field: str, file_value, db_value) -> str:
    """One line of the load report: 保留管理员修改: AL-FOIL 环节名称 文件值 → 库中值."""
    def show(value):
        return "、".join(value) if isinstance(value, list) else str(value)
    return f"保留管理员修改: {code} {EDITABLE_FIELDS[field]} {show(file_value)} → {show(db_value)}"


# --- admin edits in the UI (audited automatically at flush) ------------------------------
# An edited segment is marked (edited_at, edited_by_id) so that `flask chains load` keeps it.

_WORD_SEPARATORS = re.compile(r"[,，、;；\n\r]+")
MAX_WORDS = 30
MAX_WORD_LEN = 50


def parse_words(text: str | list | None) -> list[str]:
    """'铝箔、电池铝箔, 双零箔' → ['铝箔', '电池铝箔', '双零箔'] (a list passes through, stripped)."""
    if text is None:
        return []
    parts = text if isinstance(text, (list, tuple)) else _WORD_SEPARATORS.split(text)
    return [part.strip() for part in parts if part and part.strip()]


def _check_words(words: list[str], field: str, label: str, min_len: int) -> None:
    if len(words) > MAX_WORDS:
        raise ServiceError(f"{label}最多 {MAX_WORDS} 项", field=field)
    for word in words:
        if len(word) < min_len:
            raise ServiceError(f"{label}“{word}”太短（至少 {min_len} 个字）", field=field)
        if len(word) > MAX_WORD_LEN:
            raise ServiceError(f"{label}“{word[:10]}…”太长（最多 {MAX_WORD_LEN} 个字）", field=field)
    duplicates = sorted({w for w in words if words.count(w) > 1})
    if duplicates:
        raise ServiceError(f"{label}中有重复项：{'、'.join(duplicates)}", field=field)


def update_segment(actor, segment: Segment, data: dict) -> bool:
    """Validate and apply an admin's edit of a segment; returns whether anything changed.

    The rules are the definition files' (chains.definitions): name ≤ 50 characters, name_en ≤ 100,
    tier 上游/中游/下游, value_add an integer 1–5, keywords at least two characters, no duplicates.
    Raises ServiceError naming the field; nothing is written then.
    """
    name = (data.get("name") or "").strip()
    if not name:
        raise ServiceError("请填写环节名称", field="name")
    if len(name) > MAX_NAME_LEN:
        raise ServiceError(f"环节名称最多 {MAX_NAME_LEN} 个字", field="name")
    name_en = (data.get("name_en") or "").strip()
    if len(name_en) > MAX_NAME_EN_LEN:
        raise ServiceError(f"英文名称最多 {MAX_NAME_EN_LEN} 个字符", field="name_en")
    tier = data.get("tier")
    if tier not in TIERS:
        raise ServiceError(f"层级必须是 {'、'.join(TIERS)} 之一", field="tier")
    value_add = data.get("value_add")
    if isinstance(value_add, bool) or not isinstance(value_add, int) or not 1 <= value_add <= 5:
        raise ServiceError("价值层级必须是 1–5 的整数", field="value_add")
    products = parse_words(data.get("products"))
    _check_words(products, "products", "主要产品", 1)
    keywords = parse_words(data.get("keywords"))
    _check_words(keywords, "keywords", "关键词", 2)
    changed = _assign(segment, name=name, name_en=name_en, tier=tier, value_add=value_add,
                      products=products, keywords=keywords)
    if changed:
        segment.edited_at = utcnow()
        segment.edited_by_id = getattr(actor, "id", None)
    db.session.flush()
    return bool(changed)


def _segment_by_code(code: str | None, field: str) -> Segment:
    code = (code or "").strip().upper()
    if not code:
        raise ServiceError("请填写环节代码", field=field)
    segment = db.session.scalar(select(Segment).where(Segment.code == code))
    if segment is None:
        raise ServiceError(f"未知环节代码 {code}", field=field)
    return segment


def add_link(actor, from_code: str, to_code: str) -> SegmentLink:
    """Add a supplier → buyer link between two segments (of any chains)."""
    source = _segment_by_code(from_code, "from_code")
    target = _segment_by_code(to_code, "to_code")
    if source.id == target.id:
        raise ServiceError("环节不能链接到自身", field="to_code")
    exists = db.session.scalar(select(SegmentLink.id).where(
        SegmentLink.from_segment_id == source.id, SegmentLink.to_segment_id == target.id))
    if exists:
        raise ServiceError(f"链接 {source.code} → {target.code} 已存在", field="to_code")
    link = SegmentLink(from_segment_id=source.id, to_segment_id=target.id)
    db.session.add(link)
    db.session.flush()
    return link


def delete_link(actor, link: SegmentLink) -> None:
    """Remove a link; the audit log keeps what it was (a link has no soft delete)."""
    db.session.delete(link)
    db.session.flush()


def set_leading_chains(actor, zone, codes: Iterable[str]) -> bool:
    """A zone's leading chains (主导产业链), chosen by its chief or the admin; returns whether they changed."""
    require(actor, "zone.set_leading_chains", zone)
    known = list(db.session.scalars(select(Chain.code).order_by(Chain.code)))
    chosen = {(code or "").strip() for code in codes} - {""}
    unknown = sorted(chosen - set(known))
    if unknown:
        raise ServiceError(f"未知产业链 {'、'.join(unknown)}", field="chains")
    ordered = [code for code in known if code in chosen]
    if list(zone.leading_chains or []) == ordered:
        return False
    zone.leading_chains = ordered
    db.session.flush()
    return True
