"""The 标准地 checks on small hand-made parcels: the combined standard, the signing warning, 达产验收."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm.land.indicators import ParcelTerms, acceptance, combined_standard, signing_warnings

pytestmark = pytest.mark.no_db

D = Decimal
A = ParcelTerms(area=D(60), investment_intensity=D(300), plot_ratio=D("1.2"), tax_per_mu=D(20),
                energy_per_output=D("0.5"))
B = ParcelTerms(area=D(40), investment_intensity=D(400), plot_ratio=D("1.0"), tax_per_mu=D(30),
                energy_per_output=D("0.4"))


def test_several_parcels_meet_the_area_weighted_standard_and_the_strictest_energy():
    area, standards = combined_standard([A, B])
    assert area == D(100)
    assert standards == {"investment_intensity": D(340), "plot_ratio": D("1.12"), "tax_per_mu": D(24),
                         "energy_per_output": D("0.4")}
    # A parcel that sets no standard for an indicator does not weigh in it.
    assert combined_standard([A, ParcelTerms(area=D(40))])[1]["investment_intensity"] == D(300)


def test_signing_warning_names_each_commitment_short_of_the_standard():
    # 30000 万元 on 100 亩 = 300 万元/亩 < 340; 2400 万元 tax = 24 万元/亩 = the standard.
    warned = signing_warnings([A, B], D(30000), D(2400))
    assert [w.label for w in warned] == ["固定资产投资强度"]
    assert warned[0].message == "固定资产投资强度：承诺 300.00 万元/亩，低于标准 340.00 万元/亩（差 40.00 万元/亩）"
    assert signing_warnings([A, B], D(34000), D(2400)) == []
    # A commitment not given is named too.
    assert [w.message for w in signing_warnings([A], D(18000), None)] == ["亩均税收：未填写承诺值，标准为 20.00 万元/亩"]


def test_acceptance_passes_when_every_indicator_is_met():
    result = acceptance([A], actual_investment=D(18000), actual_tax=D(1200), actual_plot_ratio=D("1.2"),
                        actual_energy=D("0.5"))
    assert result.passed and result.result == "通过" and result.gaps == []


def test_acceptance_fails_with_each_gap_named():
    result = acceptance([A], actual_investment=D(17999), actual_tax=D(1500), actual_plot_ratio=D("1.1"),
                        actual_energy=D("0.55"))
    assert result.result == "未通过"
    assert result.gaps == [
        "固定资产投资强度：实际 299.98 万元/亩，低于标准 300.00 万元/亩（差 0.02 万元/亩）",
        "容积率：实际 1.10，低于标准 1.20（差 0.10）",
        "单位能耗：实际 0.5500 吨标煤/万元，高于标准 0.5000 吨标煤/万元（超 0.0500 吨标煤/万元）",
    ]
    missing = acceptance([A], actual_investment=D(18000), actual_tax=D(1200), actual_plot_ratio=None,
                         actual_energy=D("0.5"))
    assert not missing.passed and missing.gaps == ["容积率：未填写实际值，标准为 1.20"]
