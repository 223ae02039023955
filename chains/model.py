"""The chain as a networkx DiGraph, and its left-to-right layout for the chain map.

Nodes are segment codes; an edge ``u → v`` means u supplies v. Node attributes: ``name``,
``name_en``, ``tier``, ``value_add``, ``chain``, ``products``, ``keywords`` and ``external``
(True for a segment of another chain shown only because it links to this one).

Both the shipped definitions (``build_graph``) and database rows (``graph_from_rows``) go
through ``graph_from_rows``, so the two sides cannot drift apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict

import networkx as nx

from chains.definitions import TIERS, ChainDef

# An unknown tier is drawn in the middle column rather than rejected: the layout must not fail.
_TIER_COLUMN = {tier: index for index, tier in enumerate(TIERS)}
_DEFAULT_TIER_COLUMN = _TIER_COLUMN["中游"]


def graph_from_rows(
    segments: Iterable[Mapping], links: Iterable[tuple[str, str]]
) -> nx.DiGraph:
    """Build the graph from plain rows.

    Each segment mapping needs ``code, name, tier, value_add, chain``; ``name_en``, ``products``,
    ``keywords`` and ``external`` are optional. Nodes and edges are added in code order so that
    every algorithm downstream sees the same graph whatever order the rows came in. A link whose
    end is not among the segments raises ValueError (add the other chain's segment as external).
    """
    graph = nx.DiGraph()
    rows = sorted(segments, key=lambda row: row["code"])
    for row in rows:
        graph.add_node(
            row["code"],
            name=row["name"],
            name_en=row.get("name_en") or "",
            tier=row["tier"],
            value_add=int(row["value_add"]),
            chain=row["chain"],
            products=tuple(row.get("products") or ()),
            keywords=tuple(row.get("keywords") or ()),
            external=bool(row.get("external", False)),
        )
    for source, target in sorted(set(map(tuple, links))):
        for code in (source, target):
            if code not in graph:
                raise ValueError(f"链接 [{source} → {target}] 的环节 {code} 不在环节列表中")
        graph.add_edge(source, target)
    return graph


def build_graph(chains: Iterable[ChainDef], chain_code: str | None = None) -> nx.DiGraph:
    """Graph of all chains, or of one chain plus the other chains' segments linked to it.

    With ``chain_code`` the graph holds that chain's segments (``external=False``), the segments
    of other chains directly linked to them (``external=True``), and only the links touching the
    chain: links between two external segments are left out, so the view stays about this chain.
    """
    chains = list(chains)
    rows = {seg.code: asdict(seg) for chain in chains for seg in chain.segments}
    links = [link for chain in chains for link in chain.links]
    if chain_code is None:
        return graph_from_rows(rows.values(), links)

    if chain_code not in {chain.code for chain in chains}:
        raise KeyError(f"未知产业链 {chain_code}")
    own = {code for code, row in rows.items() if row["chain"] == chain_code}
    links = [(s, t) for s, t in links if s in own or t in own]
    external = {code for link in links for code in link} - own
    selected = [{**rows[code], "external": code in external} for code in own | external]
    graph = graph_from_rows(selected, links)
    graph.graph["chain"] = chain_code
    return graph


def layout(graph: nx.DiGraph) -> dict[Hashable, tuple[float, float]]:
    """Positions in [0, 1]²: 上游 left, 中游 middle, 下游 right; within a tier, by supply depth.

    Tiers are the segments' own; external segments (other chains') sit beside the segments they
    link to, see ``_tier_column``.

    Supply depth is the node's topological generation in the graph with cycles condensed (a
    recycling loop shares one column). Each tier gets as many columns as depths it uses. Within a
    column, nodes are ordered by the mean height of their suppliers already placed (fewer crossing
    edges), ties by code, and spread evenly.
    """
    if graph.number_of_nodes() == 0:
        return {}
    column = columns_of(graph)
    slots = max(column.values()) + 1
    columns: dict[int, list] = defaultdict(list)
    for node in graph:
        columns[column[node]].append(node)

    width = slots - 1
    positions: dict[Hashable, tuple[float, float]] = {}
    for index in range(slots):
        x = index / width if width else 0.5
        ordered = sorted(columns[index], key=lambda n: (_supplier_height(graph, n, positions), str(n)))
        for rank, node in enumerate(ordered):
            positions[node] = (x, (rank + 0.5) / len(ordered))
    return positions


def columns_of(graph: nx.DiGraph) -> dict[Hashable, int]:
    """Each node's column, 0 on the left: the (tier, supply depth) pairs in use, numbered in order.

    Shared by ``layout`` and ``chains.layout.layered_layout``, so both draw the same columns and
    differ only in the order within a column.
    """
    depth = _supply_depth(graph)
    tier_column = {node: _tier_column(graph, node) for node in graph}
    slots = sorted({(tier_column[n], depth[n]) for n in graph})
    column_of_slot = {slot: index for index, slot in enumerate(slots)}
    return {node: column_of_slot[(tier_column[node], depth[node])] for node in graph}


def _tier_column(graph: nx.DiGraph, node: Hashable) -> int:
    """The node's tier as a column index; another chain's segment is drawn beside its links.

    An external segment keeps its own tier unless that would draw an edge backwards: a buyer
    (say FD-PACKAGING, 上游 in food, buying 中游 aluminium foil) moves right to its suppliers'
    tier, a supplier (NEV-RECYCLING, 下游, feeding AL-SCRAP) moves left to its buyers' tier.
    """
    def column(n: Hashable) -> int:
        return _TIER_COLUMN.get(graph.nodes[n].get("tier"), _DEFAULT_TIER_COLUMN)

    own = column(node)
    if not graph.nodes[node].get("external"):
        return own
    suppliers = [column(n) for n in graph.predecessors(node) if not graph.nodes[n].get("external")]
    if suppliers:
        return max(own, max(suppliers))
    buyers = [column(n) for n in graph.successors(node) if not graph.nodes[n].get("external")]
    return min(own, min(buyers)) if buyers else own


def _supply_depth(graph: nx.DiGraph) -> dict[Hashable, int]:
    """Topological generation of each node on the condensation (cycles become one node)."""
    condensed = nx.condensation(graph)
    depth: dict[Hashable, int] = {}
    for generation, components in enumerate(nx.topological_generations(condensed)):
        for component in components:
            for node in condensed.nodes[component]["members"]:
                depth[node] = generation
    return depth


def _supplier_height(graph: nx.DiGraph, node: Hashable, placed: Mapping) -> float:
    heights = [placed[p][1] for p in graph.predecessors(node) if p in placed]
    return math.fsum(heights) / len(heights) if heights else 0.5  # fsum: order-independent
