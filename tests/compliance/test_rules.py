"""The idle-land rules and the contract gaps on small hand-made cases, at their boundaries."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.compliance import rules
from crm.compliance.rules import RULE_NOT_STARTED, RULE_STALLED, idle_land_flags, one_year_after

pytestmark = pytest.mark.no_db

D = Decimal


def flags(**kw):
    base = dict(agreed_start=date(2024, 3, 1), started=None, land_area=D(90), developed_area=None, invested=D(0),
                total_investment=D(10000), progress_dates=(), as_of=date(2025, 3, 1))
    base.update(kw)
    return idle_land_flags(**base)


def test_one_year_after_keeps_the_day_and_moves_29_february_to_1_march():
    assert one_year_after(date(2024, 3, 1)) == date(2025, 3, 1)
    assert one_year_after(date(2024, 2, 29)) == date(2025, 3, 1)


def test_not_started_is_flagged_from_the_anniversary_of_the_agreed_start_on():
    assert flags(as_of=date(2025, 2, 28)) == []
    found = flags(as_of=date(2025, 3, 1))
    assert [f.rule for f in found] == [RULE_NOT_STARTED]
    assert "约定开工日期 2024-03-01" in found[0].message and "仍未动工" in found[0].message
    assert found[0].figures["agreed_start"] == date(2024, 3, 1)


def test_not_started_needs_an_agreed_start_and_a_start_later_than_today_is_not_a_start():
    assert flags(agreed_start=None, as_of=date(2030, 1, 1)) == []
    assert [f.rule for f in flags(started=date(2025, 6, 1), as_of=date(2025, 3, 1))] == [RULE_NOT_STARTED]


def test_a_late_start_ends_the_first_rule():
    # Started after the anniversary, with half the land developed and half the money in: no flag.
    assert flags(started=date(2025, 4, 1), developed_area=D(45), invested=D(5000), as_of=date(2026, 6, 1)) == []


def test_developed_below_one_third_and_a_year_without_progress():
    started = date(2024, 1, 10)
    common = dict(started=started, invested=D(5000), as_of=date(2025, 1, 10))
    # Exactly one third is not "less than one third"; one cent below is.
    assert flags(developed_area=D(30), **common) == []
    found = flags(developed_area=D("29.99"), **common)
    assert [f.rule for f in found] == [RULE_STALLED]
    assert "已开发 29.99 亩，不足用地 90.00 亩的三分之一" in found[0].message
    assert "最近一次进展 2024-01-10" in found[0].message
    # The day before the anniversary of the last progress: not yet.
    assert flags(developed_area=D(10), **{**common, "as_of": date(2025, 1, 9)}) == []


def test_invested_below_a_quarter_of_the_total_investment():
    common = dict(started=date(2024, 1, 10), developed_area=D(60), as_of=date(2025, 6, 1))
    assert flags(invested=D(2500), **common) == []  # exactly 25%
    found = flags(invested=D("2499.99"), **common)
    assert [f.rule for f in found] == [RULE_STALLED]
    assert "到资 2499.99 万元，占总投资 10000.00 万元的 25.0%，不足 25%" in found[0].message


def test_any_progress_within_the_year_clears_the_second_rule():
    common = dict(started=date(2023, 5, 1), developed_area=D(10), invested=D(100), as_of=date(2025, 5, 1))
    assert [f.rule for f in flags(**common)] == [RULE_STALLED]
    # A funds entry, a milestone or a developed-area change less than a year ago is progress.
    assert flags(progress_dates=[date(2024, 5, 2)], **common) == []
    assert [f.rule for f in flags(progress_dates=[date(2024, 5, 1)], **common)] == [RULE_STALLED]
    # Progress dated after as_of does not count for as_of.
    assert [f.rule for f in flags(progress_dates=[date(2025, 6, 1)], **common)] == [RULE_STALLED]


def test_started_without_a_known_date_counts_progress_only_from_dated_facts():
    common = dict(started=None, started_undated=True, developed_area=D(0), invested=D(0), as_of=date(2026, 1, 1))
    assert flags(**common) == []  # nothing dated to measure a year from
    found = flags(progress_dates=[date(2024, 6, 1)], **common)
    assert [f.rule for f in found] == [RULE_STALLED] and "日期未记录" in found[0].message


def test_without_land_or_investment_figures_the_second_rule_has_nothing_to_compare():
    assert flags(started=date(2020, 1, 1), land_area=None, total_investment=None, as_of=date(2026, 1, 1)) == []


def test_contract_gaps_name_days_late_overdue_and_amounts_short():
    gaps = {g.label: g for g in rules.contract_gaps(
        dues={"注册": date(2024, 1, 1), "开工": date(2024, 3, 1), "投产": date(2025, 1, 1), "达产": None},
        dates={"注册": date(2023, 12, 20), "开工": date(2024, 3, 11), "投产": None, "达产": None},
        committed=D(10000), invested=D(4000), agreed_output=D(20000), actual_output=D(25000), agreed_tax=D(1000),
        actual_tax=None, agreed_jobs=200, actual_jobs=150, as_of=date(2025, 1, 31))}
    assert gaps["注册日期"].message == "提前 12 天" and not gaps["注册日期"].late
    assert gaps["开工日期"].message == "晚 10 天" and gaps["开工日期"].late
    assert gaps["投产日期"].message == "超期 30 天未投产" and gaps["投产日期"].late
    assert gaps["达产日期"].gap is None
    assert gaps["投资额"].message == "差 6000.00 万元" and gaps["投资额"].late
    assert gaps["年产值"].message == "超出 5000.00 万元" and not gaps["年产值"].late
    assert gaps["年税收"].gap is None
    assert gaps["就业人数"].gap == -50 and gaps["就业人数"].message == "差 50.00 人"
