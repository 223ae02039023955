"""The gap report's plain words (chains/explain.py): one explanation per status, action and term."""

import networkx as nx
import pytest

from chains.analysis import DEFAULT_WEIGHTS, GAP, TERMS, analyse_gaps
from chains.explain import (ACTION_PLAIN, CHOKE_PLAIN, CITATIONS, NO_ACTION_PLAIN, STATUS_PLAIN, TERM_PLAIN,
                            biggest_term, method_lines, term_lines, what_to_do)

TECHNICAL = ("割点", "介数", "支配", "相关密度", "betweenness", "dominator")


def chain():
    graph = nx.DiGraph()
    for code, value_add in (("A", 1), ("B", 4), ("C", 2), ("D", 3)):
        graph.add_node(code, name=code, tier="中游", value_add=value_add)
    graph.add_edges_from([("A", "B"), ("B", "C"), ("C", "D")])
    return graph


PRESENT = {"count": 1, "output": 10, "leader": False, "above_scale": 1}


def test_every_status_action_and_term_has_plain_words_without_jargon():
    assert set(STATUS_PLAIN) == set(GAP)
    assert set(ACTION_PLAIN) == {"补链", "延链", "强链"}
    assert set(TERM_PLAIN) == set(TERMS)
    plain = list(STATUS_PLAIN.values()) + list(ACTION_PLAIN.values()) + list(NO_ACTION_PLAIN.values())
    plain += [t.plain + t.higher for t in TERM_PLAIN.values()] + list(CHOKE_PLAIN.values())
    assert not [text for text in plain if any(word in text for word in TECHNICAL)]
    assert ACTION_PLAIN["补链"].startswith("上下游都有本地企业，中间缺这一环")


def test_what_to_do_follows_the_action():
    records = {r.code: r for r in analyse_gaps(chain(), {"A": PRESENT, "C": PRESENT}, {"B": 1.5})}
    assert records["B"].action == "补链" and what_to_do(records["B"]) == ACTION_PLAIN["补链"]
    assert records["D"].action == "延链" and what_to_do(records["D"]) == ACTION_PLAIN["延链"]
    assert records["A"].action == "强链" and what_to_do(records["A"]) == ACTION_PLAIN["强链"]


def test_term_lines_keep_every_term_and_its_points():
    record = next(r for r in analyse_gaps(chain(), {"A": PRESENT, "C": PRESENT}, {"B": 1.5}) if r.code == "B")
    lines = term_lines(record)
    assert [line.key for line in lines] == list(TERMS)
    assert sum(line.points for line in lines) == pytest.approx(record.priority, abs=0.01)
    top = biggest_term(record)
    assert top.points == max(line.points for line in lines)


def test_biggest_term_is_none_without_priority():
    strong = {c: {**PRESENT, "leader": True} for c in "ABCD"}
    assert all(biggest_term(r) is None for r in analyse_gaps(chain(), strong))


def test_the_method_fold_names_the_formula_weights_and_sources():
    lines = method_lines()
    assert all(f"{DEFAULT_WEIGHTS[k]:g}·{TERM_PLAIN[k].label}" in lines[0] for k in TERMS)
    assert any("割点" in line for line in lines) and any("支配" in line for line in lines)
    assert any("Hidalgo" in c for c in CITATIONS) and any("Lengauer" in c for c in CITATIONS)
