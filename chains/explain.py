"""The gap report in a zone chief's words: what each status, action, term and choke point means, and what to do.

One table per kind of word, here and nowhere else; the report page, its method fold and the tests
read them. The method's own names (relatedness density, betweenness, dominators, cut vertices)
stay in ``METHOD`` and its citations in ``CITATIONS``, for the fold behind the plain text.
Pure: ``GapRecord`` in, strings out.
"""

from __future__ import annotations

from dataclasses import dataclass

from chains.analysis import DEFAULT_WEIGHTS, TERMS, GapRecord

STATUS_PLAIN = {
    "missing": "本地还没有这一环的企业",
    "weak": "本地有企业，但偏弱：没有规上企业和链主，或只有签约、在建项目",
    "strong": "本地有规上企业或链主，基础较好",
}

ACTION_PLAIN = {
    "补链": "上下游都有本地企业，中间缺这一环：优先引进，把断开的链条接上",
    "延链": "只有一侧（上游或下游）有本地企业：顺着已有企业引进它们的供应商或客户，把链条延长",
    "强链": "已有企业但偏弱或还没有链主：扶持现有企业做大，或引进龙头企业当链主",
}
NO_ACTION_PLAIN = {
    "missing": "上下游在本地都还没有企业，暂不急于引进，先补相邻环节",
    "strong": "已有链主企业，链条稳固，做好服务即可",
    "weak": "",
}


@dataclass(frozen=True)
class Term:
    key: str
    label: str  # the column header (crm.chains.gaps.TERM_LABELS)
    plain: str  # what it means, in a sentence
    higher: str  # what a high value tells the chief


TERM_PLAIN: dict[str, Term] = {
    "adj": Term("adj", "相邻配套", "它的供应商和客户环节在本地有多少企业（有链主的算两倍）",
                "越高，引进来的企业越容易就近找到配套和客户"),
    "bott": Term("bott", "瓶颈", "链条上有多少环节的供应要经过它",
                 "越高，缺了它对整条链影响越大"),
    "val": Term("val", "价值", "这一环的附加值层级（1–5 级）",
                "越高，引进一家企业带来的产值和税收越多"),
    "pipe": Term("pipe", "在谈", "已经在谈的项目有多少（洽谈中的算得多，刚有线索的算得少）",
                 "越高，越接近落地，值得加把劲"),
}

CHOKE_PLAIN = {
    "articulation_points": "缺了其中任何一环，链条就断成互不相连的几段：这些环节要守住、补强",
    "dominators": "右边这些本地环节的供应都要经过它：它一旦出问题，它们都受影响",
}

# The technical names, for the method fold.
METHOD = {
    "priority": "优先级 = 100 × 缺口度 × ({weights})；缺口度：缺 1、弱 0.5、强 0；各项“分”为该项对优先级的贡献，合计即优先级。",
    "adj": "相邻配套 = 相关密度 Σ w·P(邻接环节) / Σ w，P：强 1、弱 0.5、缺 0；w：邻接环节有链主时为 2，否则为 1。",
    "bott": "瓶颈 = 0.5 × 有向介数中心性（除以全链最大值）+ 0.5 × 供给支配份额（从虚拟总源点起的直接支配树中，它支配的本地环节占比）。",
    "val": "价值 = (价值层级 − 1) / 4。",
    "pipe": "在谈 = min(1, 加权在谈线索 / 3)，线索 0.1、接洽 0.25、考察 0.5、洽谈 0.75。",
    "articulation_points": "缺了就断链的环节 = 无向图的割点（关节点）。",
    "dominators": "供给咽喉 = 供给方向上的支配点：从任一源头到被支配环节的每条供给路径都经过它。",
}

CITATIONS = (
    "Hidalgo, Klinger, Barabási, Hausmann (2007). The Product Space Conditions the Development of Nations. Science 317: 482–487.（相关密度）",
    "Boschma (2017). Relatedness as driver of regional diversification: a research agenda. Regional Studies 51(3): 351–364.",
    "Balland et al. (2019). Smart specialization policy in the European Union: relatedness, knowledge complexity and regional diversification. Regional Studies 53(9): 1252–1268.",
    "Rasmussen (1956). Studies in Inter-Sectoral Relations; Hirschman (1958). The Strategy of Economic Development.（产业关联、前后向联系）",
    "Freeman (1977). A Set of Measures of Centrality Based on Betweenness. Sociometry 40(1): 35–41.（介数中心性）",
    "Lengauer, Tarjan (1979). A Fast Algorithm for Finding Dominators in a Flowgraph. ACM TOPLAS 1(1): 121–141; Cooper, Harvey, Kennedy (2001). A Simple, Fast Dominance Algorithm.（支配点，networkx.immediate_dominators）",
    "Hopcroft, Tarjan (1973). Efficient algorithms for graph manipulation. CACM 16(6): 372–378.（割点）",
)


def weights_text(weights: dict[str, float] | None = None) -> str:
    weights = weights or DEFAULT_WEIGHTS
    return " + ".join(f"{weights[key]:g}·{TERM_PLAIN[key].label}" for key in TERMS)


def method_lines(weights: dict[str, float] | None = None) -> list[str]:
    """The method, term by term, with its technical names (for the fold)."""
    lines = [METHOD["priority"].format(weights=weights_text(weights))]
    lines += [METHOD[key] for key in TERMS]
    lines += [METHOD["articulation_points"], METHOD["dominators"]]
    return lines


def what_to_do(record: GapRecord) -> str:
    """One sentence: what the status and the action mean for this segment, and what to do."""
    if record.action:
        return ACTION_PLAIN[record.action]
    return NO_ACTION_PLAIN.get(record.status, "")


@dataclass(frozen=True)
class TermLine:
    key: str
    label: str
    value: float  # the term in [0, 1]
    points: float  # its contribution to the priority
    plain: str
    higher: str


def term_lines(record: GapRecord) -> list[TermLine]:
    """Every term of the record with its value, its points and what it means, in ``TERMS`` order."""
    return [
        TermLine(key, TERM_PLAIN[key].label, record.terms[key], record.contributions[key],
                 TERM_PLAIN[key].plain, TERM_PLAIN[key].higher)
        for key in TERMS
    ]


def biggest_term(record: GapRecord) -> TermLine | None:
    """The term that adds most to the priority (None when the priority is 0): “主要因为……”."""
    lines = [line for line in term_lines(record) if line.points > 0]
    return max(lines, key=lambda line: (line.points, -TERMS.index(line.key))) if lines else None
