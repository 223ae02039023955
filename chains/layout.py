"""A layered (Sugiyama-style) layout of the chain map: fewer crossing arrows, labels that do not collide.

The columns are ``chains.model.columns_of``: 上游 → 中游 → 下游, each tier split by supply depth.
Only the order within a column is chosen here, by barycentre sweeps (Sugiyama, Tagawa and Toda
1981; Eades and Wormald 1994):

1. every edge spanning several columns gets a virtual node in each column it passes, so a long
   edge pulls on the columns between its ends too;
2. a sweep left → right orders each column by the mean rank of its neighbours in the column
   before, a sweep right → left by the column after (ties keep the current order);
3. after every sweep the crossings of the drawing are counted, and the best order seen is kept
   (``PASSES`` down-and-up passes, starting from the simple layout's order and from code order),
   then adjacent nodes are swapped while a swap removes crossings.

Rows: every column is spaced with the same pitch (one label height, see ``ROW_PX``) and centred
on the tallest column, so labels never overlap whatever the column size; the map gets
``rows × ROW_PX`` pixels of height.

``crossings(positions, edges)`` counts the pairs of straight edges that cross (sharing an end is
not a crossing), the measure that ``layout_report`` prints for this layout against
``chains.model.layout``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx

from chains.model import columns_of, layout as simple_layout

PASSES = 8  # down-and-up barycentre passes from each starting order
TRANSPOSE_MAX_EDGES = 150  # the swap pass recounts all edge pairs; one chain's map has under 100 edges
ROW_PX = 54  # one row on the map: the symbol (22 px in 全景图), a label of up to two lines below, a gap


@dataclass(frozen=True)
class Layered:
    """Positions in [0, 1]² (x by column, y by row) and the number of rows of the tallest column."""

    positions: dict[Hashable, tuple[float, float]]
    rows: int
    columns: int

    @property
    def height_px(self) -> int:
        return self.rows * ROW_PX


def layered_layout(graph: nx.DiGraph) -> Layered:
    """The map's layout; deterministic, and cached per graph shape (nodes, columns, edges)."""
    if graph.number_of_nodes() == 0:
        return Layered({}, 0, 0)
    column = columns_of(graph)
    initial = simple_layout(graph)
    nodes = tuple(sorted(((str(n), column[n], initial[n][1]) for n in graph), key=lambda t: t[0]))
    edges = tuple(sorted((str(u), str(v)) for u, v in graph.edges if u != v))
    names = {str(n): n for n in graph}
    by_text, rows, width = _cached(nodes, edges)
    return Layered({names[code]: xy for code, xy in by_text.items()}, rows, width)


def crossings(positions: Mapping[Hashable, tuple[float, float]], edges: Iterable[tuple]) -> int:
    """Pairs of straight edges ``u → v`` that properly cross; edges sharing an end do not count."""
    segments = [(u, v, positions[u], positions[v]) for u, v in edges if u != v]
    count = 0
    for i in range(len(segments)):
        a, b, p1, p2 = segments[i]
        for j in range(i + 1, len(segments)):
            c, d, q1, q2 = segments[j]
            if a in (c, d) or b in (c, d):
                continue
            if _cross(p1, p2, q1, q2):
                count += 1
    return count


def layout_report(chains, chain_codes: Iterable[str] | None = None) -> list[dict]:
    """Per chain: segments shown, edges, crossings of ``chains.model.layout`` and of this layout."""
    from chains.model import build_graph

    chains = list(chains)
    codes = list(chain_codes) if chain_codes is not None else [c.code for c in chains]
    rows = []
    for code in codes:
        graph = build_graph(chains, code)
        before = crossings(simple_layout(graph), graph.edges)
        after = crossings(layered_layout(graph).positions, graph.edges)
        rows.append({"chain": code, "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
                     "before": before, "after": after})
    return rows


# --- the algorithm ------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _cached(nodes: tuple, edges: tuple) -> tuple[dict[str, tuple[float, float]], int, int]:
    column = {code: col for code, col, _ in nodes}
    width = max(column.values()) + 1
    # Starting orders: the simple layout's (by supplier height) and plain code order.
    simple_order = _order_from(sorted(nodes, key=lambda t: (t[1], t[2], t[0])), width)
    code_order = _order_from(sorted(nodes, key=lambda t: (t[1], t[0])), width)

    layers, up, down = _layered_graph(column, edges, width)
    rows = max(sum(1 for c in column.values() if c == index) for index in range(width))

    def place(order: list[list[str]]) -> dict[str, tuple[float, float]]:
        return _positions(order, width, rows)

    def score(order: list[list[str]]) -> int:
        return crossings(place(order), edges)

    best, best_score = None, math.inf
    for start in (simple_order, code_order):
        order = _with_virtual(start, layers)
        for _ in range(PASSES):
            for sweep in ("down", "up"):
                order = _sweep(order, up if sweep == "down" else down, sweep)
                real = _real(order, column)
                value = score(real)
                if value < best_score:
                    best, best_score = real, value
        value = score(_real(start, column))
        if value < best_score:  # the start itself may already be best
            best, best_score = [list(c) for c in start], value
    if len(edges) <= TRANSPOSE_MAX_EDGES:  # each swap recounts every pair of edges
        best = _transpose(best, score, best_score)
    return place(best), rows, width


def _order_from(nodes: list, width: int) -> list[list[str]]:
    order: list[list[str]] = [[] for _ in range(width)]
    for code, col, _ in nodes:
        order[col].append(code)
    return order


def _layered_graph(column: Mapping[str, int], edges: tuple, width: int):
    """Virtual nodes for edges spanning columns; ``up[n]`` neighbours one column left, ``down[n]`` right."""
    layers: list[list[str]] = [[] for _ in range(width)]
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    for u, v in edges:
        a, b = (u, v) if column[u] <= column[v] else (v, u)  # a back edge pulls the same way
        if column[a] == column[b]:
            continue
        chain = [a] + [f"\0{u}\0{v}\0{c}" for c in range(column[a] + 1, column[b])] + [b]
        for c, virtual in zip(range(column[a] + 1, column[b]), chain[1:-1]):
            layers[c].append(virtual)
        for left, right in zip(chain, chain[1:]):
            down[left].append(right)
            up[right].append(left)
    return layers, up, down


def _with_virtual(order: list[list[str]], layers: list[list[str]]) -> list[list[str]]:
    return [list(col) + list(virtual) for col, virtual in zip(order, layers)]


def _sweep(order: list[list[str]], neighbours: Mapping[str, list[str]], direction: str) -> list[list[str]]:
    order = [list(col) for col in order]
    indices = range(1, len(order)) if direction == "down" else range(len(order) - 2, -1, -1)
    for index in indices:
        reference = order[index - 1] if direction == "down" else order[index + 1]
        rank = {node: r / max(len(reference), 1) for r, node in enumerate(reference)}
        current = order[index]
        size = max(len(current), 1)

        def key(item: tuple[int, str]) -> tuple[float, int]:
            position, node = item
            linked = [rank[n] for n in neighbours.get(node, ()) if n in rank]
            centre = math.fsum(linked) / len(linked) if linked else position / size
            return (centre, position)

        order[index] = [node for _, node in sorted(enumerate(current), key=key)]
    return order


def _real(order: list[list[str]], column: Mapping[str, int]) -> list[list[str]]:
    return [[n for n in col if n in column] for col in order]


def _transpose(order: list[list[str]], score, value: int) -> list[list[str]]:
    """Swap neighbours in a column while a swap removes crossings (a few rounds at most)."""
    order = [list(col) for col in order]
    for _ in range(4):
        improved = False
        for col in order:
            for i in range(len(col) - 1):
                col[i], col[i + 1] = col[i + 1], col[i]
                swapped = score(order)
                if swapped < value:
                    value, improved = swapped, True
                else:
                    col[i], col[i + 1] = col[i + 1], col[i]
        if not improved:
            break
    return order


def _positions(order: list[list[str]], width: int, rows: int) -> dict[str, tuple[float, float]]:
    positions = {}
    for index, col in enumerate(order):
        x = index / (width - 1) if width > 1 else 0.5
        offset = (rows - len(col)) / 2  # centre every column on the tallest
        for rank, node in enumerate(col):
            positions[node] = (x, (offset + rank + 0.5) / rows)
    return positions


def _cross(p1, p2, q1, q2) -> bool:
    """Proper intersection of segments p1p2 and q1q2 (touching or collinear overlap is not counted)."""
    d1 = _orient(q1, q2, p1)
    d2 = _orient(q1, q2, p2)
    d3 = _orient(p1, p2, q1)
    d4 = _orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _orient(a, b, c) -> float:
    value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return 0.0 if abs(value) < 1e-12 else value
