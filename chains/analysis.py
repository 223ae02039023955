"""Chain-gap analysis: which segments a zone lacks, which to fill first, and why.

Pure functions over a networkx DiGraph whose nodes are segment codes (attribute ``value_add``
1–5, optional ``name``, ``tier``, ``external``) and whose edge ``u → v`` means u supplies v.
The method is DESIGN.md section 3.

Inputs
    presence  code → {"count": int, "output": float, "leader": bool, "above_scale": int,
              "partial": int (optional: signed / under-construction projects)}; a code that is
              absent has no local presence.
    pipeline  code → stage-weighted sum of active leads, built with ``STAGE_WEIGHTS``
              (线索 0.1, 接洽 0.25, 考察 0.5, 洽谈 0.75); None when unknown.

Status   missing  no local enterprise and no partial presence
         weak     present but thin: no above-scale firm and no chain leader, or output below
                  ``min_output``, or present only through signed / under-construction projects
         strong   otherwise
Action   补链  missing, with a present supplier *and* a present buyer (a broken chain)
         延链  missing, with present neighbours on one side only
         强链  weak, or strong without a chain leader
         None  missing with no present neighbour, or strong with a leader

priority = 100 × Gap × (w_adj·Adj + w_bott·Bott + w_val·Val + w_pipe·Pipe), rounded to 2 decimals
    Gap   1 missing, 0.5 weak, 0 strong
    Adj   relatedness density Σ w·P(n) / Σ w over the neighbours n (suppliers and buyers), with
          P = 1 strong, 0.5 weak, 0 missing and w = ``LEADER_EDGE_WEIGHT`` (2) towards a present
          neighbour holding a chain leader, else 1; 0 without neighbours. Counting the leader
          only when the neighbour is present keeps Adj monotone: giving a neighbour presence
          never lowers it.
    Bott  ``bott_weights`` mix (default half and half) of
          - betweenness centrality (directed, normalized) divided by the graph's maximum, and
          - supply-side dominance: the share of the other present (non-external) segments
            that the segment strictly dominates, from ``immediate_dominators`` on the graph
            plus a super-source feeding every source (and one node of each source-less cycle).
    Val   (value_add − 1) / 4
    Pipe  min(1, pipeline[code] / pipe_saturation)

``DEFAULT_WEIGHTS`` adj 0.35, bott 0.25, val 0.25, pipe 0.15; a ``weights`` dict overrides them
key by key and is normalised to sum to 1, so priority stays within 0–100.
The contributions (points per term) are kept at full precision and add up to the priority
before it is rounded.
``DEFAULT_THRESHOLDS`` min_output 0 (off); pipe_saturation 3.0, i.e. four leads in 洽谈 or
thirty cold 线索 cover a segment fully, so it takes real negotiations to saturate Pipe.
``pipeline_from_leads`` turns (segment code, stage) pairs of active leads into ``pipeline``;
stages from 签约 on count as partial presence instead, 搁置 and 终止 not at all.

Results are deterministic: the graph is rebuilt in code order before any algorithm runs, so
neither dict order nor the order nodes and edges were inserted can change a number.
Segments marked ``external`` (another chain's, shown for context) inform their neighbours but
get no record of their own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

STAGE_WEIGHTS: dict[str, float] = {"线索": 0.1, "接洽": 0.25, "考察": 0.5, "洽谈": 0.75}
DEFAULT_WEIGHTS: dict[str, float] = {"adj": 0.35, "bott": 0.25, "val": 0.25, "pipe": 0.15}
DEFAULT_THRESHOLDS: dict[str, float] = {"min_output": 0.0, "pipe_saturation": 3.0}
DEFAULT_BOTT_WEIGHTS: dict[str, float] = {"betweenness": 0.5, "dominance": 0.5}

LEADER_EDGE_WEIGHT = 2.0
GAP = {"missing": 1.0, "weak": 0.5, "strong": 0.0}
PRESENCE_SCORE = {"missing": 0.0, "weak": 0.5, "strong": 1.0}
TERMS = ("adj", "bott", "val", "pipe")


@dataclass(frozen=True)
class GapRecord:
    code: str
    name: str
    tier: str
    status: str  # "missing" | "weak" | "strong"
    action: str | None  # "补链" | "延链" | "强链" | None
    priority: float  # 0–100
    terms: dict[str, float]  # adj, bott, val, pipe — each in [0, 1]
    contributions: dict[str, float]  # points each term adds; they sum to priority
    reasons: list[str]


@dataclass(frozen=True)
class _Local:
    """One segment's local presence, read defensively from the presence mapping."""

    count: int = 0
    partial: int = 0
    output: float = 0.0
    leader: bool = False
    above_scale: int = 0

    @classmethod
    def of(cls, presence: Mapping, code: Hashable) -> _Local:
        row = presence.get(code) or {}
        return cls(
            count=int(row.get("count") or 0),
            partial=int(row.get("partial") or 0),
            output=float(row.get("output") or 0.0),
            leader=bool(row.get("leader")),
            above_scale=int(row.get("above_scale") or 0),
        )


def pipeline_from_leads(leads: Iterable[tuple[Hashable, str]]) -> dict[Hashable, float]:
    """Stage-weighted lead count per segment from (segment code, stage) pairs."""
    pipeline: dict[Hashable, float] = {}
    for code, stage in sorted(leads, key=lambda lead: (str(lead[0]), lead[1])):
        if stage in STAGE_WEIGHTS:
            pipeline[code] = pipeline.get(code, 0.0) + STAGE_WEIGHTS[stage]
    return pipeline


def analyse_gaps(
    graph: nx.DiGraph,
    presence: Mapping[Hashable, Mapping],
    pipeline: Mapping[Hashable, float] | None = None,
    weights: Mapping[str, float] | None = None,
    thresholds: Mapping[str, float] | None = None,
    *,
    bott_weights: Mapping[str, float] | None = None,
) -> list[GapRecord]:
    """Rank the segments of ``graph`` by gap priority (descending, ties by code)."""
    weights = _normalised(weights, DEFAULT_WEIGHTS, "weights")
    bott_weights = _normalised(bott_weights, DEFAULT_BOTT_WEIGHTS, "bott_weights")
    thresholds = _thresholds(thresholds)
    graph = _canonical(graph)
    pipeline = pipeline or {}

    local = {code: _Local.of(presence, code) for code in graph}
    status = {code: _status(local[code], thresholds["min_output"]) for code in graph}
    # Other chains' segments (external) shape the graph and their presence counts for their
    # neighbours' Adj, but their own neighbourhoods are cut off in a one-chain view, so the
    # dominance share counts this chain's present segments only.
    present = {c for c in graph if status[c] != "missing" and not graph.nodes[c].get("external")}
    has_leader = {code: local[code].leader and status[code] != "missing" for code in graph}

    betweenness = _relative_betweenness(graph)
    dominated = _strictly_dominated(graph)

    records = []
    for code in graph:
        if graph.nodes[code].get("external"):
            continue
        suppliers = [n for n in graph.predecessors(code) if status[n] != "missing"]
        buyers = [n for n in graph.successors(code) if status[n] != "missing"]
        others_present = len(present) - (code in present)
        dominated_present = len(dominated[code] & present)
        dominance = dominated_present / others_present if others_present else 0.0
        value_add = graph.nodes[code].get("value_add", 1)
        pipeline_value = float(pipeline.get(code) or 0.0)
        terms = {
            "adj": _relatedness(graph, code, status, has_leader),
            "bott": bott_weights["betweenness"] * betweenness[code]
            + bott_weights["dominance"] * dominance,
            "val": (value_add - 1) / 4,
            "pipe": pipeline_value / thresholds["pipe_saturation"],
        }
        terms = {key: _clamp(value) for key, value in terms.items()}
        gap = GAP[status[code]]
        contributions = {key: 100 * gap * weights[key] * terms[key] for key in TERMS}
        action = _action(status[code], bool(suppliers), bool(buyers), has_leader[code])
        records.append(
            GapRecord(
                code=code,
                name=graph.nodes[code].get("name", str(code)),
                tier=graph.nodes[code].get("tier", ""),
                status=status[code],
                action=action,
                priority=round(math.fsum(contributions.values()), 2),
                terms=terms,
                contributions=contributions,
                reasons=_reasons(
                    graph,
                    code,
                    local[code],
                    status[code],
                    action,
                    suppliers,
                    buyers,
                    terms,
                    contributions,
                    dominance_count=dominated_present,
                    pipeline_value=pipeline_value,
                    min_output=thresholds["min_output"],
                ),
            )
        )
    records.sort(key=lambda r: (-r.priority, str(r.code)))
    return records


def choke_points(
    graph: nx.DiGraph, presence: Mapping[Hashable, Mapping] | None = None
) -> dict:
    """Segments whose loss would cut the chain.

    ``articulation_points``: cut vertices of the undirected view, sorted.
    ``dominators``: segment → sorted list of the segments it strictly dominates on the supply
    side (every supply path from a source to them passes through it), in code order. With
    ``presence``, only dominated segments present locally are listed, and a dominator left with
    none drops out. External segments (other chains) shape the graph but are not reported.
    """
    graph = _canonical(graph)
    own = {c for c in graph if not graph.nodes[c].get("external")}
    if presence is None:
        listed = own
    else:
        listed = {c for c in own if _status(_Local.of(presence, c), 0.0) != "missing"}
    dominated = _strictly_dominated(graph)
    dominators = {}
    for code in graph:  # the canonical graph iterates in code order
        members = sorted((d for d in dominated[code] if d in listed), key=str)
        if code in own and members:
            dominators[code] = members
    cut_vertices = nx.articulation_points(graph.to_undirected())
    return {
        "articulation_points": sorted((c for c in cut_vertices if c in own), key=str),
        "dominators": dominators,
    }


def summarise(records: Iterable[GapRecord], presence: Mapping[Hashable, Mapping]) -> dict:
    """KPIs for the report header: coverage, counts by status and action, leaders, local output."""
    records = sorted(records, key=lambda r: str(r.code))
    by_status = Counter(r.status for r in records)
    by_action = Counter(r.action for r in records if r.action)
    present = [r for r in records if r.status != "missing"]
    total = len(records)
    return {
        "total_segments": total,
        "by_status": {status: by_status.get(status, 0) for status in GAP},
        "by_action": {action: by_action.get(action, 0) for action in ("补链", "延链", "强链")},
        "present_segments": len(present),
        "coverage": len(present) / total if total else 0.0,
        "leader_count": sum(1 for r in present if _Local.of(presence, r.code).leader),
        "total_output": math.fsum(_Local.of(presence, r.code).output for r in records),
    }


# --- the terms --------------------------------------------------------------------------


def _status(local: _Local, min_output: float) -> str:
    if local.count <= 0 and local.partial <= 0:
        return "missing"
    if local.count <= 0:  # only signed / under-construction projects so far
        return "weak"
    if local.above_scale <= 0 and not local.leader:
        return "weak"
    if local.output < min_output:
        return "weak"
    return "strong"


def _action(status: str, has_supplier: bool, has_buyer: bool, has_leader: bool) -> str | None:
    if status == "missing":
        if has_supplier and has_buyer:
            return "补链"
        if has_supplier or has_buyer:
            return "延链"
        return None
    if status == "weak" or not has_leader:
        return "强链"
    return None


def _relatedness(graph: nx.DiGraph, code, status: Mapping, has_leader: Mapping) -> float:
    neighbours = sorted(set(graph.predecessors(code)) | set(graph.successors(code)), key=str)
    if not neighbours:
        return 0.0
    weight = {n: LEADER_EDGE_WEIGHT if has_leader[n] else 1.0 for n in neighbours}
    total = math.fsum(weight.values())
    return math.fsum(weight[n] * PRESENCE_SCORE[status[n]] for n in neighbours) / total


def _relative_betweenness(graph: nx.DiGraph) -> dict:
    betweenness = nx.betweenness_centrality(graph, normalized=True)
    top = max(betweenness.values(), default=0.0)
    return {code: (value / top if top > 0 else 0.0) for code, value in betweenness.items()}


class _SuperSource:
    """The extra root feeding every source; a class of its own so it can never equal a code."""

    def __repr__(self) -> str:
        return "<super-source>"


def _strictly_dominated(graph: nx.DiGraph) -> dict[Hashable, set]:
    """For each segment, the segments it strictly dominates from a super-source."""
    source = _SuperSource()
    roots = [code for code in graph if graph.in_degree(code) == 0]
    # A cycle nobody feeds (say a closed recycling loop) has no in-degree-0 node: enter it at
    # its smallest code so that every node is reachable from the super-source.
    condensed = nx.condensation(graph)
    for component in condensed:
        members = condensed.nodes[component]["members"]
        if condensed.in_degree(component) == 0 and not any(m in roots for m in members):
            roots.append(min(members, key=str))
    rooted = nx.DiGraph()
    rooted.add_nodes_from(graph)
    rooted.add_edges_from(graph.edges)
    rooted.add_edges_from((source, root) for root in sorted(roots, key=str))

    idom = nx.immediate_dominators(rooted, source)
    children: dict[Hashable, list] = {code: [] for code in graph}
    for node, parent in idom.items():
        if node is not source and parent is not source:
            children[parent].append(node)

    dominated: dict[Hashable, set] = {}
    for code in graph:
        below: set = set()
        stack = list(children[code])
        while stack:
            node = stack.pop()
            below.add(node)
            stack.extend(children[node])
        dominated[code] = below
    return dominated


# --- reasons ----------------------------------------------------------------------------


def _reasons(
    graph: nx.DiGraph,
    code,
    local: _Local,
    status: str,
    action: str | None,
    suppliers: list,
    buyers: list,
    terms: Mapping[str, float],
    contributions: Mapping[str, float],
    *,
    dominance_count: int,
    pipeline_value: float,
    min_output: float,
) -> list[str]:
    reasons: list[str] = []
    if status == "missing":
        reasons.append("本地无企业")
    elif local.count <= 0:
        reasons.append(f"仅有 {local.partial} 个签约/在建项目，尚无投产企业")
    elif status == "weak":
        if local.above_scale <= 0 and not local.leader:
            reasons.append("无规上企业且无链主")
        else:
            reasons.append(f"本地产值 {_number(local.output)} 低于门槛 {_number(min_output)}")
    else:
        reasons.append(f"本地有 {local.count} 家企业，其中规上 {local.above_scale} 家")

    if action == "补链":
        reasons.append(
            f"上游 {_names(graph, suppliers)} 与下游 {_names(graph, buyers)} 均有本地企业：断链，建议补链"
        )
    elif action == "延链" and suppliers:
        reasons.append(f"仅上游 {_names(graph, suppliers)} 有本地企业：可向下游延链")
    elif action == "延链":
        reasons.append(f"仅下游 {_names(graph, buyers)} 有本地企业：可向上游延链")
    elif action == "强链" and status == "weak":
        reasons.append("基础薄弱，建议强链")
    elif action == "强链":
        reasons.append("尚无链主企业，建议强链、培育链主")
    elif status == "missing":
        reasons.append("上下游均无本地企业，暂不具备延链条件")
    else:
        reasons.append("已有链主企业，链条稳固")

    biggest = sorted(
        (key for key in TERMS if contributions[key] > 0),
        key=lambda key: (-contributions[key], TERMS.index(key)),
    )[:2]
    for key in biggest:
        if key == "adj":
            reasons.append(f"相邻环节本地配套度 {terms['adj']:.0%}")
        elif key == "bott" and dominance_count:
            reasons.append(f"供给咽喉：本地 {dominance_count} 个环节的供给都要经过它")
        elif key == "bott":
            reasons.append(f"处于链条关键通道（瓶颈权重 {terms['bott']:.2f}）")
        elif key == "val":
            reasons.append(f"价值层级 {graph.nodes[code].get('value_add', 1)}/5")
        elif key == "pipe":
            reasons.append(f"已有 {_number(pipeline_value)} 个加权在谈线索")
    return reasons


def _names(graph: nx.DiGraph, codes: list, limit: int = 3) -> str:
    names = [graph.nodes[c].get("name", str(c)) for c in sorted(codes, key=str)]
    shown = "、".join(names[:limit])
    return f"{shown} 等 {len(names)} 个环节" if len(names) > limit else shown


# --- plumbing ---------------------------------------------------------------------------


def _canonical(graph: nx.DiGraph) -> nx.DiGraph:
    """The same graph rebuilt in code order, without self-loops (a segment cannot supply itself)."""
    canonical = nx.DiGraph()
    for code in sorted(graph.nodes, key=str):
        canonical.add_node(code, **graph.nodes[code])
    canonical.add_edges_from(
        sorted(((u, v) for u, v in graph.edges if u != v), key=lambda e: (str(e[0]), str(e[1])))
    )
    return canonical


def _normalised(
    given: Mapping[str, float] | None, defaults: Mapping[str, float], label: str
) -> dict[str, float]:
    merged = dict(defaults)
    for key, value in (given or {}).items():
        if key not in defaults:
            raise ValueError(f"{label}: 未知权重 {key!r}（可用：{', '.join(defaults)}）")
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{label}: 权重 {key} 必须是非负数，实际为 {value!r}")
        merged[key] = float(value)
    total = math.fsum(merged.values())
    if total <= 0:
        raise ValueError(f"{label}: 权重之和必须大于 0")
    return {key: value / total for key, value in merged.items()}


def _thresholds(given: Mapping[str, float] | None) -> dict[str, float]:
    merged = dict(DEFAULT_THRESHOLDS)
    for key, value in (given or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError(f"thresholds: 未知门槛 {key!r}（可用：{', '.join(DEFAULT_THRESHOLDS)}）")
        merged[key] = float(value)
    if not merged["pipe_saturation"] > 0:
        raise ValueError("thresholds: pipe_saturation 必须大于 0")
    if merged["min_output"] < 0:
        raise ValueError("thresholds: min_output 不能为负")
    return merged


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
