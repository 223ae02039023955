"""The evaluation contract, on five firms computed by hand (README: 亩均效益评价)."""
from __future__ import annotations

import copy
from decimal import Decimal as D

import pytest

from crm.efficiency import method
from crm.efficiency.method import evaluate

pytestmark = pytest.mark.no_db

# Default method: ≥ 3 亩: 亩均税收 40/15, 亩均销售收入 10/300, 单位能耗增加值 20/3, 单位排放增加值 15/1000,
# 单位用水增加值 5/500 (万元/万吨), 全员劳动生产率 10/15; < 3 亩: 亩均税收 50/15, 亩均销售收入 20/300,
# 单位电耗税收 30/0.5 (万元/万千瓦时).
FIVE = {
    # 20 亩: 20 万元/亩 → 53.33; 400 → 13.33; 4 万元/吨标煤 → 26.67; 1000 万元/吨 → 15; 1000 万元/万吨 → 10; 20 → 13.33
    1: {"land_mu": 20, "tax": 400, "revenue": 8000, "value_added": 2400, "energy_tce": 600, "emissions_t": "2.4",
        "water_t": 24000, "employees": 120},
    # 10 亩: 7.5 → 20; 150 → 5; 1.5 → 10; 500 → 7.5; 500 → 5; 10 → 6.67
    2: {"land_mu": 10, "tax": 75, "revenue": 1500, "value_added": 600, "energy_tce": 400, "emissions_t": "1.2",
        "water_t": 12000, "employees": 60},
    # 2 亩 (small): 20 万元/亩 → 66.67; 400 → 26.67; 40 万元 ÷ 40 万千瓦时 = 1 → 60
    3: {"land_mu": 2, "tax": 40, "revenue": 800, "electricity_kwh": 400000},
    # 5 亩, no 综合能耗: 6 → 16; 180 → 6; 0 (missing); 500 → 7.5; 500 → 5; 10 → 6.67
    4: {"land_mu": 5, "tax": 30, "revenue": 900, "value_added": 300, "emissions_t": "0.6", "water_t": 6000,
        "employees": 30},
    # 50 亩: 3 → 8; 60 → 2; 1 → 6.67; 300 → 4.5; 200 → 2; 6 → 4
    5: {"land_mu": 50, "tax": 150, "revenue": 3000, "value_added": 900, "energy_tce": 900, "emissions_t": 3,
        "water_t": 45000, "employees": 150},
}


def test_five_firms_by_hand():
    records = evaluate(FIVE)
    assert [(r["id"], r["score"], r["klass"]) for r in records] == [
        (3, D("153.34"), "A"), (1, D("131.66"), "B"), (2, D("54.17"), "B"), (4, D("41.17"), "B"), (5, D("27.17"), "C")]
    # Of 5 firms: A ≤ round(1.25) = 1, B ≤ round(3.5) = 4, C ≤ round(4.75) = 5, D none.
    small, first = records[0], records[1]
    assert small["small"] and small["points"] == {"tax_per_mu": D("66.67"), "revenue_per_mu": D("26.67"),
                                                   "tax_per_power": D("60.00")}
    assert first["points"] == {"tax_per_mu": D("53.33"), "revenue_per_mu": D("13.33"), "va_per_energy": D("26.67"),
                               "va_per_emission": D("15.00"), "va_per_water": D("10.00"),
                               "labour_productivity": D("13.33")}
    assert first["values"]["va_per_water"] == D("1000")  # 2400 万元 ÷ 2.4 万吨
    missing = records[3]
    assert missing["missing"] == ["energy_tce"] and missing["points"]["va_per_energy"] == 0
    assert missing["values"]["va_per_energy"] is None
    assert all(r["missing"] == [] for r in records if r["id"] != 4)
    assert [r["rank"] for r in records] == [1, 2, 3, 4, 5]
    for r in records:  # the total is the sum of the shown points
        assert r["score"] == sum(r["points"].values())


def test_same_input_same_output_and_input_untouched():
    before = copy.deepcopy(FIVE)
    assert evaluate(FIVE) == evaluate(dict(reversed(list(FIVE.items()))))
    assert FIVE == before


def test_cap_thresholds_and_ties():
    m = method.default_method()
    m["indicators"][0]["cap"] = 50  # 亩均税收 capped at 50 points
    capped = {r["id"]: r for r in evaluate(FIVE, m)}
    assert capped[1]["points"]["tax_per_mu"] == D("50.00") and capped[1]["score"] == D("128.33")
    m["classes"] = {"by": "score", "thresholds": {"A": 120, "B": 50, "C": 30}}
    assert [(r["id"], r["klass"]) for r in evaluate(FIVE, m)] == [(3, "A"), (1, "A"), (2, "B"), (4, "C"), (5, "D")]
    twins = {9: FIVE[2], 8: FIVE[2], 7: FIVE[5], 6: FIVE[5]}
    # Equal scores: ties by id, and the tied firms share the better class (of 4: A ≤ 1, B ≤ 3, C ≤ 4).
    assert [(r["id"], r["klass"]) for r in evaluate(twins)] == [(8, "A"), (9, "A"), (6, "B"), (7, "B")]
    ten = {n: {"land_mu": 10, "tax": n} for n in range(1, 11)}  # of 10: A 3 (2.5 → 3), B 7, C 10 (9.5 → 10)
    assert "".join(r["klass"] for r in evaluate(ten)) == "AAABBBBCCC"


def test_missing_land_and_zero_denominators():
    records = {r["id"]: r for r in evaluate({
        "a": {"tax": 10, "revenue": 100},
        "b": {"land_mu": 10, "tax": 150, "revenue": 3000, "value_added": 500, "energy_tce": 100,
              "emissions_t": 0, "water_t": 0, "employees": 10},
    })}
    assert not records["a"]["small"] and "land_mu" in records["a"]["missing"] and records["a"]["score"] == 0
    b = records["b"]
    assert b["points"]["va_per_emission"] == D("15.00") and b["points"]["va_per_water"] == D("5.00")
    assert b["missing"] == []


@pytest.mark.parametrize("broken, message", [
    ({"indicators": [], "classes": {"by": "share", "shares": {"A": 25, "B": 45, "C": 25, "D": 5}}}, "至少需要一项指标"),
    ({"indicators": [{"key": "nope", "weight": 1, "benchmark": 1}],
      "classes": {"by": "share", "shares": {"A": 25, "B": 45, "C": 25, "D": 5}}}, "未知"),
    ({"indicators": [{"key": "tax_per_mu", "weight": 1, "benchmark": 0}],
      "classes": {"by": "share", "shares": {"A": 25, "B": 45, "C": 25, "D": 5}}}, "基准值"),
    ({"indicators": [{"key": "tax_per_mu", "weight": 1, "benchmark": 1}],
      "classes": {"by": "share", "shares": {"A": 25, "B": 45, "C": 25, "D": 15}}}, "之和应为 100%"),
    ({"indicators": [{"key": "tax_per_mu", "weight": 1, "benchmark": 1}],
      "classes": {"by": "score", "thresholds": {"A": 10, "B": 20, "C": 5}}}, "A ≥ B ≥ C"),
])
def test_a_broken_method_is_refused(broken, message):
    assert any(message in p for p in method.validate_method(broken))
    with pytest.raises(ValueError):
        evaluate(FIVE, broken)


def test_default_method_is_valid_and_figures_agree_with_the_model():
    from crm.efficiency.models import FIGURE_COLUMNS

    assert method.validate_method(method.DEFAULT_METHOD) == []
    assert FIGURE_COLUMNS == method.FIGURES
    assert method.class_change("C", "A") == 2 and method.class_change(None, "A") is None
