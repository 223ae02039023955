"""The chain segments a projects ledger row names: its 产业链环节 and 所属产业链 columns.

A cell may list several names (``parse_name_list`` splits on 、,，;；/). Each name is matched, in
this order, to

1. a segment's exact name (电池铝箔), then its code (AL-FOIL-BATTERY);
2. a chain's name or code (铝基新材料, 铝基新材料产业链, aluminium): the enterprise's mapped segment in
   that chain, its primary one if it has several there;
3. a segment keyword (涂碳铝箔), when exactly one segment has that keyword.

A chain named beside one of its own segments (铝基新材料/电池铝箔, or the two columns side by side)
only qualifies it. Whatever does not match is a problem of the row, naming the column and what to
write instead; the dry run shows it and the import writes nothing.

Three queries whatever the file's size: the segments with their chains, the mappings of the
enterprises the file names, the current segments of the projects it matches.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from crm.catalog.models import Chain, EnterpriseSegment, Segment
from crm.extensions import db
from crm.imports.reading import to_halfwidth
from crm.pipeline.models import Project, project_segments
from crm.pipeline.service import set_project_segments

KIND = "projects"
FIELDS = ("segments", "chain")  # the import fields read here, in the order their names are matched
_CHAIN_SUFFIXES = ("产业链", "产业", "链")
_BRACKETED = re.compile(r"^(.+?)\s*[(\[【](.+?)[)\]】]$")
CHUNK = 500


def _key(text: str) -> str:
    return re.sub(r"\s+", "", to_halfwidth(text)).lower()


def _label(segment: Segment) -> str:
    return f"{segment.name}（{segment.code}）"


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SegmentMatcher:
    """Segments, chains and the file's enterprises' mappings, loaded once for a dry run."""

    def __init__(self, enterprise_ids: Iterable[int], projects: Iterable[Project]):
        rows = db.session.execute(
            select(Segment, Chain).join(Chain, Segment.chain_id == Chain.id)
            .order_by(Chain.code, Segment.sort_order, Segment.code)
        ).tuples().all()
        self.by_id: dict[int, Segment] = {}
        self.by_name: dict[str, list[Segment]] = defaultdict(list)
        self.by_code: dict[str, Segment] = {}
        self.by_keyword: dict[str, list[Segment]] = defaultdict(list)
        self.chains: dict[str, Chain] = {}
        self.groups: dict[str, list[Chain]] = defaultdict(list)  # 新能源: 光伏, 锂电池与储能, 新能源汽车
        self.chain_segments: dict[int, list[Segment]] = defaultdict(list)
        for segment, chain in rows:
            self.by_id[segment.id] = segment
            self.by_name[_key(segment.name)].append(segment)
            self.by_code[_key(segment.code)] = segment
            for keyword in segment.keywords or []:
                if segment not in self.by_keyword[_key(keyword)]:
                    self.by_keyword[_key(keyword)].append(segment)
            self.chain_segments[chain.id].append(segment)
            if chain.group and chain not in self.groups[_key(chain.group)]:
                self.groups[_key(chain.group)].append(chain)
            for name in (chain.name, chain.code, *(chain.name + suffix for suffix in _CHAIN_SUFFIXES)):
                self.chains.setdefault(_key(name), chain)
        self.mappings: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        for chunk in _chunks(sorted(set(enterprise_ids))):
            stmt = (select(EnterpriseSegment.enterprise_id, EnterpriseSegment.segment_id, EnterpriseSegment.is_primary)
                    .where(EnterpriseSegment.enterprise_id.in_(chunk))
                    .order_by(EnterpriseSegment.enterprise_id, EnterpriseSegment.segment_id))
            for enterprise_id, segment_id, primary in db.session.execute(stmt):
                self.mappings[enterprise_id].append((segment_id, bool(primary)))
        self.current: dict[int, set[int]] = defaultdict(set)
        for chunk in _chunks(sorted({p.id for p in projects})):
            stmt = select(project_segments.c.project_id, project_segments.c.segment_id).where(
                project_segments.c.project_id.in_(chunk))
            for project_id, segment_id in db.session.execute(stmt):
                self.current[project_id].add(segment_id)

    # --- one row ----------------------------------------------------------------------------
    def segments_for(self, plan, row, ref) -> list[Segment] | None | bool:
        """The segments the row names; None when it names none (blank cells); False after a problem."""
        names = [(name, field) for field in FIELDS for name in (row.values.get(field) or [])]
        if not names:
            return None
        found: list[Segment] = []
        chains: list[tuple[str, str, Chain]] = []
        good = True
        for name, field in names:
            segment, chain, problem = self._match(name)
            if problem:
                plan.problem(row.number, row.column(field, KIND), problem, name)
                good = False
            elif segment is not None:
                if segment not in found:
                    found.append(segment)
            else:
                chains.append((name, field, chain))
        for name, field, chain in chains:
            if any(segment.chain_id == chain.id for segment in found):
                continue  # 铝基新材料/电池铝箔: the chain only says where the segment is
            segment, problem = self._in_chain(ref, chain, name)
            if problem:
                plan.problem(row.number, row.column(field, KIND), problem, name)
                good = False
            elif segment not in found:
                found.append(segment)
        return found if good else False

    def changes(self, project: Project, segments: list[Segment] | None) -> bool:
        """Whether the row's segments differ from the project's: a blank cell changes nothing."""
        return segments is not None and self.current.get(project.id, set()) != {s.id for s in segments}

    def describe(self, segments: list[Segment] | None, ref) -> str:
        """What the dry run says a new project will serve."""
        if segments:
            return "产业链环节：" + "、".join(_label(s) for s in segments)
        primary = next((sid for sid, is_primary in self.mappings.get(ref.enterprise_id or 0, []) if is_primary), None)
        if primary is not None:
            return f"产业链环节：{_label(self.by_id[primary])}（企业主环节）"
        return ""

    # --- one name ---------------------------------------------------------------------------
    def _exact(self, name: str) -> tuple[Segment | None, str | None]:
        key = _key(name)
        named = self.by_name.get(key, [])
        if len(named) > 1:
            return None, self._ambiguous(name, named)
        if named:
            return named[0], None
        return self.by_code.get(key), None

    def _match(self, name: str) -> tuple[Segment | None, Chain | None, str | None]:
        """(segment, None, None), (None, chain, None) for a chain's name, or (None, None, problem)."""
        segment, problem = self._exact(name)
        if segment or problem:
            return segment, None, problem
        bracketed = _BRACKETED.match(name)
        if bracketed:  # 电池铝箔（AL-FOIL-BATTERY）, as the project form lists them
            for part in (bracketed.group(2), bracketed.group(1)):
                segment, problem = self._exact(part)
                if segment or problem:
                    return segment, None, problem
        key = _key(name)
        chain = self.chains.get(key)
        if chain is not None:
            return None, chain, None
        by_keyword = self.by_keyword.get(key, [])
        if len(by_keyword) == 1:
            return by_keyword[0], None, None
        if by_keyword:
            return None, None, self._ambiguous(name, by_keyword)
        group = self.groups.get(key, [])
        if len(group) == 1:  # 有色金属: the one chain of that group
            return None, group[0], None
        if group:
            return None, None, (f"“{name}”包含多条产业链（{'、'.join(c.name for c in group)}），"
                                f"请改写为其中一条产业链的名称，或具体环节名称或代码")
        return None, None, self._unknown(name)

    def _in_chain(self, ref, chain: Chain, name: str) -> tuple[Segment | None, str | None]:
        mapped = [(self.by_id[sid], primary) for sid, primary in self.mappings.get(ref.enterprise_id or 0, [])
                  if sid in self.by_id and self.by_id[sid].chain_id == chain.id]
        primaries = [segment for segment, primary in mapped if primary]
        if len(mapped) == 1 or primaries:
            return (primaries or [mapped[0][0]])[0], None
        if mapped:
            listed = "、".join(_label(s) for s, _ in mapped[:5])
            return None, (f"“{name}”是产业链名称，企业“{ref.name}”在该链关联了 {len(mapped)} 个环节（{listed}），"
                          f"请写明其中的环节名称或代码")
        example = self.chain_segments[chain.id][0] if self.chain_segments[chain.id] else None
        hint = f"（如“{example.name}”或“{example.code}”）" if example else ""
        if not ref.enterprise_id:
            return None, (f"未找到本次新建的企业“{ref.name}”在“{chain.name}”产业链中的环节（新企业尚未关联环节）："
                          f"只写产业链名称时按企业在该链关联的环节计入，请改写为具体环节名称或代码{hint}")
        return None, (f"未找到企业“{ref.name}”在“{chain.name}”产业链中的环节：只写产业链名称时按企业在该链关联的环节计入，"
                      f"请改写为具体环节名称或代码{hint}，或先在企业页面为企业关联该链的环节")

    @staticmethod
    def _ambiguous(name: str, segments: list[Segment]) -> str:
        listed = "、".join(_label(s) for s in segments[:6])
        return f"“{name}”对应多个产业链环节：{listed}，请改写为其中一个环节的名称或代码"

    def _unknown(self, name: str) -> str:
        key = _key(name)
        near = [s for s in self.by_id.values()
                if len(key) >= 2 and (key in _key(s.name) or (len(s.name) >= 2 and _key(s.name) in key))]
        hint = f"，是否指：{'、'.join(_label(s) for s in near[:5])}" if near else ""
        return (f"未找到产业链环节或产业链“{name}”：请填写环节名称或代码（如“电池铝箔”或“AL-FOIL-BATTERY”），"
                f"或产业链名称（如“铝基新材料”）{hint}")


# --- the batch: before-values and revert --------------------------------------------------
def segment_codes(project: Project) -> list[str]:
    """The project's segments as the batch keeps them: codes are stable and readable."""
    return sorted(segment.code for segment in project.segments)


def restore_segments(project: Project, codes: list[str]) -> None:
    """Put back the segments a batch replaced; a segment removed from the chains since is left out."""
    found = db.session.scalars(select(Segment).where(Segment.code.in_(list(codes or [])))).all() if codes else []
    set_project_segments(project, list(found))
