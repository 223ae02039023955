"""The layered chain-map layout (chains/layout.py): fewer crossings than the simple layout, rows that fit labels."""

import pytest

from chains.definitions import load_all
from chains.layout import ROW_PX, crossings, layered_layout, layout_report
from chains.model import build_graph, columns_of, graph_from_rows, layout

# Measured crossings per chain map: chains.model.layout (before) and chains.layout (after).
# The same table is in chains/README.md; `flask chains layout-report` prints it.
MEASURED = {
    "aluminium": (79, 64),
    "carbon": (65, 43),
    "electronics": (100, 42),
    "food": (156, 125),
    "lithium": (70, 12),
    "mining": (246, 143),
    "nev": (123, 87),
    "pharma": (79, 62),
    "photovoltaic": (34, 10),
}


@pytest.fixture(scope="module")
def chains():
    return load_all()


def rows(*codes, tier="中游"):
    return [{"code": c, "name": c, "tier": tier, "value_add": 1, "chain": "c"} for c in codes]


def test_crossings_counts_proper_crossings_only():
    positions = {"A": (0, 0), "B": (0, 1), "C": (1, 0), "D": (1, 1)}
    assert crossings(positions, [("A", "D"), ("B", "C")]) == 1  # an X
    assert crossings(positions, [("A", "C"), ("B", "D")]) == 0  # parallel
    assert crossings(positions, [("A", "D"), ("A", "C")]) == 0  # sharing an end is no crossing
    assert crossings(positions, []) == 0


def test_barycentre_ordering_uncrosses_a_simple_x():
    # The simple layout keeps the left column in code order (A, B, C), so A → Y crosses B → X;
    # an up-sweep orders it by the buyers' ranks: B, A, C.
    graph = graph_from_rows(rows("A", "B", "C", tier="上游") + rows("X", "Y", tier="下游"),
                            [("A", "Y"), ("C", "Y"), ("B", "X")])
    before = crossings(layout(graph), graph.edges)
    after = layered_layout(graph)
    assert before == 1 and crossings(after.positions, graph.edges) == 0
    # Columns are those of the simple layout: only the order within a column changes.
    assert {n: x for n, (x, _) in after.positions.items()} == {n: x for n, (x, _) in layout(graph).items()}


def test_columns_share_one_pitch_and_are_centred():
    graph = graph_from_rows(rows("A", "B", "C", tier="上游") + rows("X", tier="下游"), [("A", "X"), ("C", "X")])
    result = layered_layout(graph)
    assert result.rows == 3 and result.height_px == 3 * ROW_PX
    ys = sorted(y for n, (x, y) in result.positions.items() if x == 0.0)
    assert ys == pytest.approx([1 / 6, 1 / 2, 5 / 6])
    assert result.positions["X"][1] == pytest.approx(0.5)  # the lone buyer centred on its column


def test_empty_graph():
    assert layered_layout(graph_from_rows([], [])).positions == {}


def test_layout_handles_cycles_and_back_edges():
    graph = graph_from_rows(rows("A", "B", "C", "D"), [("A", "B"), ("B", "C"), ("C", "B"), ("C", "D")])
    positions = layered_layout(graph).positions
    assert set(positions) == set(graph)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in positions.values())


def test_layout_is_deterministic_whatever_the_row_order(chains):
    graph = build_graph(chains, "aluminium")
    shuffled = graph_from_rows(
        [{**graph.nodes[n], "code": n} for n in reversed(list(graph))], list(reversed(list(graph.edges))))
    assert layered_layout(shuffled).positions == layered_layout(graph).positions


@pytest.mark.parametrize("code", sorted(MEASURED))
def test_each_chain_map_crosses_no_more_than_the_simple_layout(chains, code):
    graph = build_graph(chains, code)
    result = layered_layout(graph)
    before = crossings(layout(graph), graph.edges)
    after = crossings(result.positions, graph.edges)
    assert after <= before
    assert (before, after) == MEASURED[code]  # the README's table is what the code measures
    # Same columns as before; within a column one label height apart, so no label overlaps.
    column = columns_of(graph)
    by_column = {}
    for node, (x, y) in result.positions.items():
        by_column.setdefault(column[node], []).append(y)
    for ys in by_column.values():
        ys.sort()
        assert all(b - a == pytest.approx(1 / result.rows) for a, b in zip(ys, ys[1:]))


def test_layout_report_lists_every_chain(chains):
    report = layout_report(chains)
    assert [r["chain"] for r in report] == sorted(MEASURED)
    assert all(r["after"] <= r["before"] for r in report)
