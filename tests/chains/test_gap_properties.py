"""Properties of the gap analysis and layout over random small graphs and random presence."""

import math

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from chains.analysis import TERMS, analyse_gaps, choke_points
from chains.definitions import TIERS
from chains.model import layout

SETTINGS = settings(max_examples=150, deadline=None)
CODES = [f"S{i:02d}" for i in range(9)]


@st.composite
def graphs(draw, acyclic=True):
    """A DiGraph on up to 9 codes; edges only from lower to higher index when acyclic."""
    size = draw(st.integers(min_value=1, max_value=len(CODES)))
    codes = CODES[:size]
    pairs = [
        (u, v)
        for i, u in enumerate(codes)
        for j, v in enumerate(codes)
        if (i < j if acyclic else i != j)
    ]
    edges = [pair for pair in pairs if draw(st.booleans())] if pairs else []
    graph = nx.DiGraph()
    for code in codes:
        graph.add_node(
            code,
            name=code,
            value_add=draw(st.integers(1, 5)),
            tier=draw(st.sampled_from(TIERS)),
        )
    graph.add_edges_from(edges)
    return graph


def presence_rows():
    return st.fixed_dictionaries(
        {
            "count": st.integers(0, 3),
            "output": st.floats(0, 1000, allow_nan=False),
            "leader": st.booleans(),
            "above_scale": st.integers(0, 2),
        },
        optional={"partial": st.integers(0, 2)},
    )


@st.composite
def scenarios(draw, acyclic=True):
    graph = draw(graphs(acyclic=acyclic))
    codes = list(graph)
    presence = draw(st.dictionaries(st.sampled_from(codes), presence_rows()))
    pipeline = draw(
        st.none() | st.dictionaries(st.sampled_from(codes), st.floats(0, 10, allow_nan=False))
    )
    return graph, presence, pipeline


def adj_of(graph, presence):
    return {r.code: r.terms["adj"] for r in analyse_gaps(graph, presence)}


@SETTINGS
@given(scenarios())
def test_priority_terms_and_contributions_stay_in_range(scenario):
    graph, presence, pipeline = scenario
    records = analyse_gaps(graph, presence, pipeline)

    assert sorted(r.code for r in records) == sorted(graph)
    for record in records:
        assert 0 <= record.priority <= 100
        assert set(record.terms) == set(TERMS) == set(record.contributions)
        assert all(0 <= value <= 1 for value in record.terms.values())
        assert all(value >= 0 for value in record.contributions.values())
        assert math.isclose(sum(record.contributions.values()), record.priority, abs_tol=0.0051)
        if record.status == "strong":
            assert record.priority == 0
        assert record.reasons


@SETTINGS
@given(scenarios(), presence_rows().filter(lambda row: row["count"] > 0 or row.get("partial")))
def test_giving_a_neighbour_presence_never_lowers_adj(scenario, new_row):
    graph, presence, _ = scenario
    before = analyse_gaps(graph, presence)
    missing = {r.code for r in before if r.status == "missing"}
    adj_before = {r.code: r.terms["adj"] for r in before}

    for neighbour in sorted(missing):
        after = adj_of(graph, {**presence, neighbour: new_row})
        undirected = set(graph.predecessors(neighbour)) | set(graph.successors(neighbour))
        for code in sorted((missing - {neighbour}) & undirected):
            assert after[code] >= adj_before[code] - 1e-12


@SETTINGS
@given(scenarios(acyclic=False), st.randoms(use_true_random=False))
def test_output_is_deterministic_under_reordering(scenario, rnd):
    graph, presence, pipeline = scenario
    first = analyse_gaps(graph, presence, pipeline)
    assert analyse_gaps(graph, presence, pipeline) == first

    nodes = list(graph.nodes(data=True))
    edges = list(graph.edges)
    rnd.shuffle(nodes)
    rnd.shuffle(edges)
    shuffled = nx.DiGraph()
    shuffled.add_nodes_from(nodes)
    shuffled.add_edges_from(edges)
    shuffled_presence = dict(rnd.sample(list(presence.items()), len(presence)))

    assert analyse_gaps(shuffled, shuffled_presence, pipeline) == first
    assert choke_points(shuffled, shuffled_presence) == choke_points(graph, presence)
    assert layout(shuffled) == layout(graph)


@SETTINGS
@given(scenarios(acyclic=False))
def test_cyclic_graphs_are_analysed_within_range(scenario):
    graph, presence, pipeline = scenario
    for record in analyse_gaps(graph, presence, pipeline):
        assert 0 <= record.priority <= 100
        assert all(0 <= value <= 1 for value in record.terms.values())


@SETTINGS
@given(graphs(acyclic=False))
def test_layout_is_normalised_and_ordered_by_tier(graph):
    positions = layout(graph)
    assert set(positions) == set(graph)
    for x, y in positions.values():
        assert 0 <= x <= 1 and 0 <= y <= 1
    column = {tier: index for index, tier in enumerate(TIERS)}
    for u in graph:
        for v in graph:
            if column[graph.nodes[u]["tier"]] < column[graph.nodes[v]["tier"]]:
                assert positions[u][0] < positions[v][0]
