"""The shipped chain definitions in chains/data/: they load, hang together and lay out."""

from statistics import mean

import networkx as nx
import pytest

from chains.analysis import analyse_gaps, choke_points
from chains.definitions import TIERS, load_all
from chains.model import build_graph, layout
from chains.suggest import suggest_segments

CHAIN_CODES = ["aluminium", "carbon", "electronics", "food", "lithium", "mining", "nev", "pharma", "photovoltaic"]
PREFIXES = {
    "aluminium": "AL",
    "photovoltaic": "PV",
    "lithium": "LB",
    "nev": "NEV",
    "food": "FD",
    "pharma": "PH",
    "carbon": "CB",
    "mining": "MM",
    "electronics": "EI",
}


@pytest.fixture(scope="module")
def chains():
    return load_all()


@pytest.fixture(scope="module")
def segments(chains):
    return {seg.code: seg for chain in chains for seg in chain.segments}


def own_graph(chains, code):
    graph = build_graph(chains, code)
    return graph.subgraph(n for n in graph if not graph.nodes[n]["external"])


def test_all_nine_chains_load(chains):
    assert [c.code for c in chains] == CHAIN_CODES
    for chain in chains:
        assert chain.prefix == PREFIXES[chain.code]
        assert chain.version
    groups = {c.code: c.group for c in chains}
    assert groups["photovoltaic"] == groups["lithium"] == groups["nev"] == "新能源"


@pytest.mark.parametrize("code", CHAIN_CODES)
def test_each_chain_has_at_least_twenty_segments(chains, code):
    chain = next(c for c in chains if c.code == code)
    assert len(chain.segments) >= 20


@pytest.mark.parametrize("code", CHAIN_CODES)
def test_each_chain_is_connected_and_acyclic_on_its_own(chains, code):
    graph = own_graph(chains, code)
    assert nx.is_weakly_connected(graph)
    # Recycling feeds the material segments instead of looping back inside a chain.
    assert nx.is_directed_acyclic_graph(graph)


def test_segments_are_valid(segments):
    for seg in segments.values():
        assert seg.tier in TIERS
        assert isinstance(seg.value_add, int) and 1 <= seg.value_add <= 5
        assert seg.products and seg.keywords, seg.code
        assert all(len(k) >= 2 for k in seg.keywords), seg.code


@pytest.mark.parametrize(
    "link",
    [
        ("AL-FOIL-BATTERY", "LB-CATHODE"),  # 电池铝箔 → 正极
        ("AL-BATTERY-CAN", "LB-CELL"),  # 铝壳 → 电芯
        ("AL-POUCH-FILM", "LB-CELL"),  # 铝塑膜 → 电芯
        ("AL-PV-FRAME", "PV-MODULE"),  # 光伏铝边框 → 组件
        ("AL-DIE-CASTING", "NEV-BODY"),  # 铝压铸件 → 轻量化车身
        ("LB-PACK", "NEV-PASSENGER"),  # 动力电池 PACK → 新能源汽车
        ("LB-PACK", "LB-STORAGE-INTEGRATION"),  # 动力电池 PACK → 储能
        ("AL-FOIL-PACKAGING", "FD-PACKAGING"),  # 铝箔 → 食品包装
        ("AL-SHEET", "FD-PACKAGING"),  # 铝板带 (罐料) → 食品包装
        ("CB-COAL-TAR", "AL-PITCH"),  # 煤焦油 → 煤沥青
        ("AL-PITCH", "CB-NEEDLE-COKE"),  # 煤沥青 → 针状焦
        ("CB-NEEDLE-COKE", "LB-ANODE"),  # 针状焦 → 人造石墨负极
        ("AL-PETCOKE", "CB-NEEDLE-COKE"),  # 石油焦 → 油系针状焦
        ("AL-PITCH", "AL-ANODE"),  # 煤沥青 → 预焙阳极
        ("AL-PETCOKE", "AL-ANODE"),  # 煅后石油焦 → 预焙阳极
        ("CB-HYDROGEN", "NEV-FUEL-CELL"),  # 焦炉煤气制氢 → 燃料电池汽车
        ("CB-SIC", "NEV-POWER-SEMI"),  # 碳化硅衬底 → 功率器件
        ("NEV-POWER-SEMI", "PV-INVERTER"),  # 碳化硅 / IGBT → 光伏逆变器
        ("NEV-POWER-SEMI", "LB-PCS"),  # → 储能变流器
        ("AL-PROFILE-INDUSTRIAL", "MM-BELT-CONVEYOR"),  # 铝型材 → 矿机
        ("AL-DIE-CASTING", "MM-EX-ELECTRIC"),  # 铝铸件 → 矿机（防爆壳体）
        ("CB-STEEL", "MM-SPECIAL-STEEL"),  # 特种钢 → 矿机
        ("AL-DIE-CASTING", "EI-STRUCTURAL"),  # 铝压铸 → 电子结构件
        ("EI-PASSIVE", "PV-INVERTER"),  # 电子元器件 → 光伏逆变器
        ("EI-AUTOMOTIVE", "NEV-COCKPIT"),  # 汽车电子 → 新能源汽车
        ("MM-PREPARATION", "CB-WASHING"),  # 洗选设备 → 洗选煤
    ],
)
def test_cross_chain_links_exist(chains, link):
    assert link in {l for chain in chains for l in chain.links}


def test_aluminium_covers_recycling_and_smelting_auxiliaries(chains):
    names = {seg.name for seg in next(c for c in chains if c.code == "aluminium").segments}
    expected = ["再生铝熔炼", "废铝回收", "预焙阳极", "煅后石油焦", "阴极炭块", "氟化铝/冰晶石"]
    expected += ["电力供应", "陶铝新材料"]
    assert set(expected) <= names


def test_carbon_mining_and_electronics_cover_what_the_zone_plans_name(chains):
    names = {c.code: {seg.name for seg in c.segments} for c in chains}
    assert {"煤焦油加工", "针状焦", "碳纤维", "石墨烯", "碳化硅衬底", "焦炉煤气制氢", "精细化工与功能助剂"} <= names["carbon"]
    assert {"采煤机", "液压支架", "刮板输送机", "掘进机", "智能矿山系统", "液压元件"} <= names["mining"]
    assert {"芯片设计", "晶圆制造", "封装测试", "被动元件", "印制电路板", "显示面板", "汽车电子"} <= names["electronics"]


def test_pharma_covers_cxo_tcm_and_devices(segments):
    for code in ["PH-CRO", "PH-CDMO", "PH-CSO", "PH-TCM-PIECES", "PH-TCM-PATENT", "PH-DEVICE-EQUIPMENT", "PH-IVD"]:
        assert code in segments


def test_links_only_run_backwards_across_chains(chains, segments):
    # Within a chain a supplier is never in a later tier than its buyer.
    for chain in chains:
        for source, target in chain.links:
            if segments[source].chain == segments[target].chain:
                assert TIERS.index(segments[source].tier) <= TIERS.index(segments[target].tier)


@pytest.mark.parametrize("code", CHAIN_CODES)
def test_layout_of_each_chain(chains, code):
    graph = build_graph(chains, code)
    positions = layout(graph)
    assert set(positions) == set(graph)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in positions.values())
    own = [n for n in graph if not graph.nodes[n]["external"]]
    mean_x = [mean(positions[n][0] for n in own if graph.nodes[n]["tier"] == tier) for tier in TIERS]
    assert mean_x[0] < mean_x[1] < mean_x[2]


def test_city_wide_graph_with_recycling_loops_lays_out_and_analyses(chains):
    graph = build_graph(chains)
    assert not nx.is_directed_acyclic_graph(graph)  # vehicles → scrap → aluminium → vehicles
    positions = layout(graph)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in positions.values())
    records = analyse_gaps(graph, {"AL-PRIMARY": {"count": 1, "output": 1, "leader": True, "above_scale": 1}})
    assert len(records) == graph.number_of_nodes()


@pytest.mark.parametrize("code", CHAIN_CODES)
def test_analysis_runs_on_each_chain(chains, code):
    graph = build_graph(chains, code)
    own = sorted(n for n in graph if not graph.nodes[n]["external"])
    presence = {
        n: {"count": 1, "output": 10, "leader": i % 4 == 0, "above_scale": i % 2}
        for i, n in enumerate(own[::3])
    }
    records = analyse_gaps(graph, presence)
    assert [r.code for r in records if r.code not in own] == []
    assert len(records) == len(own)
    assert {"补链", "延链", "强链"} & {r.action for r in records}
    choke = choke_points(graph)
    assert set(choke["articulation_points"]) <= set(own)


def test_each_segment_is_suggested_by_its_own_products(segments):
    all_segments = list(segments.values())
    for seg in all_segments:
        best = suggest_segments(all_segments, products="、".join(seg.products), limit=1)
        assert best and best[0].code == seg.code, (seg.code, best)
        by_name = suggest_segments(all_segments, name=seg.name, limit=1)
        assert by_name and by_name[0].code == seg.code, (seg.code, by_name)


def test_a_bare_metal_name_suggests_nothing(segments):
    # Keywords are specific: 铝 alone must not drag in foil, profiles and castings.
    assert suggest_segments(segments.values(), name="铝") == []
    assert suggest_segments(segments.values(), name="某某科技有限公司") == []
