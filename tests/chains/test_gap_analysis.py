"""The gap analysis on small hand-built graphs, where every number can be checked by hand."""

import networkx as nx
import pytest

from chains.analysis import (
    DEFAULT_WEIGHTS,
    STAGE_WEIGHTS,
    analyse_gaps,
    choke_points,
    pipeline_from_leads,
    summarise,
)


def make_graph(edges, nodes=(), value_add=3, **per_node):
    """A DiGraph whose nodes carry a name (the code in Chinese brackets) and value_add."""
    graph = nx.DiGraph()
    for code in [*nodes, *(c for edge in edges for c in edge)]:
        attrs = {"name": f"环节{code}", "value_add": value_add, "tier": "中游"}
        attrs.update(per_node.get(code, {}))
        graph.add_node(code, **attrs)
    graph.add_edges_from(edges)
    return graph


def strong(leader=False, output=100.0, count=2):
    return {"count": count, "output": output, "leader": leader, "above_scale": 1}


def weak():
    return {"count": 1, "output": 5.0, "leader": False, "above_scale": 0}


def by_code(records):
    return {record.code: record for record in records}


def test_broken_chain_is_bulian():
    graph = make_graph([("A", "B"), ("B", "C")])
    records = by_code(analyse_gaps(graph, {"A": strong(), "C": strong()}))

    b = records["B"]
    assert b.status == "missing"
    assert b.action == "补链"
    assert "本地无企业" in b.reasons
    assert any("断链" in r and "环节A" in r and "环节C" in r for r in b.reasons)


def test_broken_chain_priority_by_hand():
    # B: Gap 1, Adj 1 (both neighbours strong), Val (3-1)/4 = 0.5, Pipe 0.
    # Bott: B has the only non-zero betweenness (→ 1) and dominates C, one of the two present
    # segments (→ 0.5); mean 0.75.
    graph = make_graph([("A", "B"), ("B", "C")])
    b = by_code(analyse_gaps(graph, {"A": strong(), "C": strong()}))["B"]

    assert b.terms == pytest.approx({"adj": 1.0, "bott": 0.75, "val": 0.5, "pipe": 0.0})
    assert b.contributions == pytest.approx({"adj": 35.0, "bott": 18.75, "val": 12.5, "pipe": 0.0})
    assert b.priority == 66.25


def test_one_sided_gap_is_yanlian_and_no_neighbour_is_none():
    graph = make_graph([("A", "B"), ("B", "C")])
    records = by_code(analyse_gaps(graph, {"A": strong()}))

    assert records["B"].action == "延链"
    assert any("仅上游" in r for r in records["B"].reasons)
    assert records["C"].status == "missing"
    assert records["C"].action is None
    assert records["C"].terms["adj"] == 0


def test_downstream_only_gap_is_yanlian_upstream():
    graph = make_graph([("A", "B"), ("B", "C")])
    b = by_code(analyse_gaps(graph, {"C": strong()}))["B"]
    assert b.action == "延链"
    assert any("仅下游" in r and "向上游" in r for r in b.reasons)


def test_weak_segment_is_qianglian_with_half_gap():
    graph = make_graph([("A", "B")])
    a = by_code(analyse_gaps(graph, {"A": weak()}))["A"]

    assert a.status == "weak"
    assert a.action == "强链"
    assert "无规上企业且无链主" in a.reasons
    # Gap 0.5: every contribution is half of what a missing segment would get.
    expected = 50 * sum(DEFAULT_WEIGHTS[k] * a.terms[k] for k in a.terms)
    assert a.priority == pytest.approx(expected, abs=0.005)


def test_partial_presence_alone_is_weak():
    graph = make_graph([("A", "B")])
    presence = {"A": {"count": 0, "partial": 2, "output": 0, "leader": False, "above_scale": 0}}
    a = by_code(analyse_gaps(graph, presence))["A"]
    assert a.status == "weak"
    assert any("签约/在建" in r for r in a.reasons)
    # and it counts as present for its neighbour
    assert by_code(analyse_gaps(graph, presence))["B"].action == "延链"


def test_output_below_threshold_is_weak():
    graph = make_graph([("A", "B")])
    presence = {"A": strong(output=80.0)}
    assert by_code(analyse_gaps(graph, presence))["A"].status == "strong"
    thin = by_code(analyse_gaps(graph, presence, thresholds={"min_output": 100}))["A"]
    assert thin.status == "weak"
    assert any("低于门槛" in r for r in thin.reasons)


def test_strong_segment_scores_zero():
    graph = make_graph([("A", "B"), ("B", "C")])
    presence = {"A": strong(leader=True), "B": strong(), "C": strong()}
    records = by_code(analyse_gaps(graph, presence, pipeline={"A": 3.0}))

    assert records["A"].status == "strong"
    assert records["A"].action is None  # has a leader
    assert records["B"].action == "强链"  # strong, but no leader
    for record in records.values():
        assert record.priority == 0
        assert set(record.contributions.values()) == {0}


def test_leader_edge_counts_double():
    graph = make_graph([("A", "B"), ("B", "C")])
    plain = by_code(analyse_gaps(graph, {"A": strong()}))["B"]
    led = by_code(analyse_gaps(graph, {"A": strong(leader=True)}))["B"]
    mixed = by_code(analyse_gaps(graph, {"A": strong(leader=True), "C": weak()}))["B"]

    assert plain.terms["adj"] == pytest.approx(1 / 2)  # (1·1 + 1·0) / 2
    assert led.terms["adj"] == pytest.approx(2 / 3)  # (2·1 + 1·0) / 3
    assert mixed.terms["adj"] == pytest.approx(5 / 6)  # (2·1 + 1·0.5) / 3


def test_leader_flag_without_presence_is_ignored():
    # A leader flag on a segment with no enterprise is bad data; it must not weigh an absence.
    graph = make_graph([("A", "B"), ("B", "C")])
    ghost = {"A": {"count": 0, "output": 0, "leader": True, "above_scale": 0}, "C": strong()}
    b = by_code(analyse_gaps(graph, ghost))["B"]
    assert b.terms["adj"] == pytest.approx(1 / 2)


def test_value_and_pipeline_terms_and_reasons():
    graph = make_graph([("A", "B")], B={"value_add": 4})
    b = by_code(analyse_gaps(graph, {}, pipeline={"B": 2.5}))["B"]

    assert b.terms["val"] == pytest.approx(0.75)
    assert b.terms["pipe"] == pytest.approx(2.5 / 3)
    assert "价值层级 4/5" in b.reasons
    assert "已有 2.5 个加权在谈线索" in b.reasons

    saturated = by_code(analyse_gaps(graph, {}, pipeline={"B": 9}))["B"]
    assert saturated.terms["pipe"] == 1.0
    halved = by_code(analyse_gaps(graph, {}, pipeline={"B": 2.5}, thresholds={"pipe_saturation": 5}))
    assert halved["B"].terms["pipe"] == pytest.approx(0.5)


def test_weights_override_and_normalise():
    graph = make_graph([("A", "B"), ("B", "C")])
    presence = {"A": strong(), "C": weak()}
    only_adj = by_code(analyse_gaps(graph, presence, weights={"adj": 1, "bott": 0, "val": 0, "pipe": 0}))
    doubled = by_code(analyse_gaps(graph, presence, weights={"adj": 2, "bott": 0, "val": 0, "pipe": 0}))

    assert only_adj["B"].priority == pytest.approx(100 * 0.75, abs=0.005)
    assert doubled["B"].priority == only_adj["B"].priority

    # A partial override keeps the other defaults, and the sum is brought back to 1.
    heavier_pipe = analyse_gaps(graph, presence, pipeline={"B": 3}, weights={"pipe": 0.35})
    b = by_code(heavier_pipe)["B"]
    total = 0.35 + 0.25 + 0.25 + 0.35
    assert b.contributions["pipe"] == pytest.approx(100 * 0.35 / total)


@pytest.mark.parametrize(
    "weights", [{"adj": -0.1}, {"adjacency": 0.5}, {"adj": 0, "bott": 0, "val": 0, "pipe": 0}]
)
def test_bad_weights_are_rejected(weights):
    with pytest.raises(ValueError):
        analyse_gaps(make_graph([("A", "B")]), {}, weights=weights)


def test_bad_thresholds_are_rejected():
    with pytest.raises(ValueError):
        analyse_gaps(make_graph([("A", "B")]), {}, thresholds={"pipe_saturation": 0})
    with pytest.raises(ValueError):
        analyse_gaps(make_graph([("A", "B")]), {}, thresholds={"min_ouptut": 1})


def test_ties_broken_by_code():
    # X2 and X1 hang symmetrically off the same present hub: equal priority, X1 first.
    graph = make_graph([("H", "X2"), ("H", "X1")])
    records = analyse_gaps(graph, {"H": strong()})
    gaps = [r for r in records if r.code != "H"]
    assert gaps[0].priority == gaps[1].priority
    assert [r.code for r in gaps] == ["X1", "X2"]


def test_sorted_by_priority_descending():
    graph = make_graph([("A", "B"), ("B", "C"), ("C", "D")], D={"value_add": 5})
    records = analyse_gaps(graph, {"A": strong(), "C": weak()})
    keys = [(-r.priority, r.code) for r in records]
    assert keys == sorted(keys)


def test_bott_sub_weights_are_a_parameter():
    graph = make_graph([("A", "B"), ("B", "C")])
    presence = {"A": strong(), "C": strong()}
    only_betweenness = by_code(
        analyse_gaps(graph, presence, bott_weights={"betweenness": 1, "dominance": 0})
    )
    only_dominance = by_code(
        analyse_gaps(graph, presence, bott_weights={"betweenness": 0, "dominance": 1})
    )
    assert only_betweenness["B"].terms["bott"] == pytest.approx(1.0)
    assert only_dominance["B"].terms["bott"] == pytest.approx(0.5)


def test_cycles_are_handled():
    # A recycling loop A → B → C → A fed by D, and a closed loop X ⇄ Y nobody feeds.
    graph = make_graph([("D", "A"), ("A", "B"), ("B", "C"), ("C", "A"), ("X", "Y"), ("Y", "X")])
    records = analyse_gaps(graph, {"A": strong(), "X": weak()})
    assert {r.code for r in records} == set("ABCDXY")
    for record in records:
        assert 0 <= record.priority <= 100
        assert all(0 <= value <= 1 for value in record.terms.values())


def test_external_segments_inform_neighbours_but_get_no_record():
    graph = make_graph([("A", "EXT"), ("A", "B")], EXT={"external": True})
    records = by_code(analyse_gaps(graph, {"EXT": strong()}))
    assert set(records) == {"A", "B"}
    assert records["A"].action == "延链"  # its buyer in the other chain is local
    assert records["A"].terms["adj"] == pytest.approx(1 / 2)


def test_choke_points_bridge_node():
    # Two suppliers feed B, B feeds two buyers: B is the only cut vertex and dominates both buyers.
    graph = make_graph([("A", "B"), ("X", "B"), ("B", "C"), ("B", "D")])
    choke = choke_points(graph)
    assert choke["articulation_points"] == ["B"]
    assert choke["dominators"] == {"B": ["C", "D"]}

    local = choke_points(graph, {"C": strong()})
    assert local["dominators"] == {"B": ["C"]}


def test_choke_points_on_a_chain_with_a_cycle():
    graph = make_graph([("S", "A"), ("A", "B"), ("B", "A"), ("B", "C")])
    choke = choke_points(graph)
    assert choke["articulation_points"] == ["A", "B"]
    # the loop A ⇄ B is entered only through A, so A dominates B; S, the only source, dominates all
    assert choke["dominators"] == {"A": ["B", "C"], "B": ["C"], "S": ["A", "B", "C"]}


def test_summarise_kpis():
    graph = make_graph([("A", "B"), ("B", "C"), ("C", "D")])
    presence = {"A": strong(leader=True, output=120.0), "C": weak()}
    summary = summarise(analyse_gaps(graph, presence), presence)
    assert summary == {
        "total_segments": 4,
        "by_status": {"missing": 2, "weak": 1, "strong": 1},
        "by_action": {"补链": 1, "延链": 1, "强链": 1},
        "present_segments": 2,
        "coverage": 0.5,
        "leader_count": 1,
        "total_output": 125.0,
    }


def test_pipeline_from_leads_uses_stage_weights():
    leads = [("A", "洽谈"), ("A", "线索"), ("B", "考察"), ("B", "签约"), ("C", "终止")]
    assert pipeline_from_leads(leads) == pytest.approx({"A": 0.85, "B": 0.5})
    assert STAGE_WEIGHTS == {"线索": 0.1, "接洽": 0.25, "考察": 0.5, "洽谈": 0.75}


def test_input_graph_is_not_modified():
    graph = make_graph([("A", "B"), ("B", "C")])
    before = (list(graph.nodes(data=True)), list(graph.edges))
    analyse_gaps(graph, {"A": strong()})
    choke_points(graph)
    assert (list(graph.nodes(data=True)), list(graph.edges)) == before
