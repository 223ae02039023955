"""Building graphs from definitions or plain rows, and laying them out left to right."""

import pytest

from chains.definitions import ChainDef, SegmentDef
from chains.model import build_graph, graph_from_rows, layout


def segment(code, chain, tier="中游", value_add=3):
    return SegmentDef(code, chain, f"环节{code}", code.lower(), tier, value_add, (), (f"词{code}",))


def two_chains():
    al = ChainDef(
        code="aluminium",
        name="铝",
        name_en="Aluminium",
        group="",
        version="1",
        segments=(
            segment("AL-A", "aluminium", "上游"),
            segment("AL-B", "aluminium", "中游"),
            segment("AL-C", "aluminium", "下游"),
        ),
        links=(("AL-A", "AL-B"), ("AL-B", "AL-C"), ("AL-B", "LB-X")),
    )
    lb = ChainDef(
        code="lithium",
        name="锂",
        name_en="Lithium",
        group="新能源",
        version="1",
        segments=(segment("LB-X", "lithium"), segment("LB-Y", "lithium", "下游")),
        links=(("LB-X", "LB-Y"),),
    )
    return [al, lb]


def test_build_graph_of_all_chains():
    graph = build_graph(two_chains())
    assert sorted(graph) == ["AL-A", "AL-B", "AL-C", "LB-X", "LB-Y"]
    assert graph.number_of_edges() == 4
    assert graph.nodes["AL-A"] == {
        "name": "环节AL-A",
        "name_en": "al-a",
        "tier": "上游",
        "value_add": 3,
        "chain": "aluminium",
        "products": (),
        "keywords": ("词AL-A",),
        "external": False,
    }


def test_build_graph_of_one_chain_marks_linked_segments_external():
    graph = build_graph(two_chains(), "aluminium")
    assert sorted(graph) == ["AL-A", "AL-B", "AL-C", "LB-X"]
    assert [n for n in graph if graph.nodes[n]["external"]] == ["LB-X"]
    assert graph.graph["chain"] == "aluminium"

    lithium = build_graph(two_chains(), "lithium")
    assert sorted(lithium) == ["AL-B", "LB-X", "LB-Y"]
    # Only links touching the chain: AL-A → AL-B lies between two external segments.
    assert sorted(lithium.edges) == [("AL-B", "LB-X"), ("LB-X", "LB-Y")]


def test_build_graph_of_unknown_chain():
    with pytest.raises(KeyError):
        build_graph(two_chains(), "steel")


def test_graph_from_rows_defaults_and_dangling_links():
    rows = [
        {"code": "B", "name": "乙", "tier": "中游", "value_add": "4", "chain": "c", "external": 1},
        {"code": "A", "name": "甲", "tier": "上游", "value_add": 2, "chain": "c", "keywords": ["甲甲"]},
    ]
    graph = graph_from_rows(rows, [("A", "B"), ("A", "B")])
    assert list(graph) == ["A", "B"]  # code order, whatever the row order
    assert graph.nodes["B"]["value_add"] == 4 and graph.nodes["B"]["external"] is True
    assert graph.nodes["A"]["keywords"] == ("甲甲",) and graph.nodes["A"]["products"] == ()
    assert list(graph.edges) == [("A", "B")]

    with pytest.raises(ValueError, match="C"):
        graph_from_rows(rows, [("A", "C")])


def test_layout_runs_left_to_right_by_tier():
    positions = layout(build_graph(two_chains(), "aluminium"))
    assert positions["AL-A"][0] == 0.0
    assert positions["AL-C"][0] == 1.0
    assert 0 < positions["AL-B"][0] < positions["LB-X"][0] < 1  # both 中游; LB-X one step deeper
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in positions.values())


def test_layout_spreads_a_column_evenly_in_code_order():
    rows = [
        {"code": c, "name": c, "tier": "上游", "value_add": 1, "chain": "c"} for c in ("Q", "P", "R")
    ]
    positions = layout(graph_from_rows(rows, []))
    assert positions == {"P": (0.5, 1 / 6), "Q": (0.5, 0.5), "R": (0.5, 5 / 6)}


def test_layout_condenses_cycles():
    rows = [
        {"code": c, "name": c, "tier": "中游", "value_add": 1, "chain": "c"} for c in ("A", "B", "C", "D")
    ]
    # A → B → C → B is a loop; B and C share a column after A, D follows C.
    positions = layout(graph_from_rows(rows, [("A", "B"), ("B", "C"), ("C", "B"), ("C", "D")]))
    assert positions["A"][0] < positions["B"][0] == positions["C"][0] < positions["D"][0]


def test_layout_of_empty_graph():
    assert layout(graph_from_rows([], [])) == {}


def test_layout_draws_external_segments_beside_their_links():
    rows = [
        {"code": "AL-FOIL", "name": "铝箔", "tier": "中游", "value_add": 3, "chain": "al"},
        {"code": "AL-USE", "name": "终端", "tier": "下游", "value_add": 3, "chain": "al"},
        # food packaging is 上游 in its own chain, but here it buys foil: draw it right of the foil
        {"code": "FD-PACK", "name": "食品包装", "tier": "上游", "value_add": 3, "chain": "fd", "external": True},
        # vehicle recycling is 下游 in its own chain, but here it supplies scrap: draw it left
        {"code": "NEV-REC", "name": "报废汽车", "tier": "下游", "value_add": 2, "chain": "nev", "external": True},
    ]
    links = [("AL-FOIL", "FD-PACK"), ("AL-FOIL", "AL-USE"), ("NEV-REC", "AL-FOIL")]
    positions = layout(graph_from_rows(rows, links))
    assert positions["NEV-REC"][0] < positions["AL-FOIL"][0] < positions["FD-PACK"][0]
