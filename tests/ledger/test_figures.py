"""The figures on their own: no database, no Flask."""
from datetime import date
from decimal import Decimal as D

import pytest

from crm.ledger import figures

pytestmark = pytest.mark.no_db


def test_funds_rate_counts_capital_increases_in_the_commitment():
    assert figures.funds_rate(D("1250"), D("8000"), D("2000")) == pytest.approx(0.125)
    assert figures.funds_rate(D("0"), None, D("0")) is None


def test_funds_behind_plan_needs_a_real_gap():
    assert not figures.funds_behind(0.0, 0.0)  # nothing expected yet: never "应达 0%，实际 0%"
    assert not figures.funds_behind(0.36, 0.36)  # on plan
    assert not figures.funds_behind(0.30, 0.36)  # within the tolerance
    assert figures.funds_behind(0.20, 0.36)
    assert figures.funds_behind_message(0.2, 0.36) == "到资进度落后：按约定进度应达 36%，实际 20%"


def test_agreed_dates_in_order_name_both_dates():
    problems = figures.due_date_problems(date(2026, 5, 1), {"开工": date(2026, 4, 1)})
    assert problems == [("due_started", "约定开工日期（2026-04-01）不能早于签约日期（2026-05-01）")]
    problems = figures.due_date_problems(date(2026, 1, 1), {"注册": date(2026, 6, 1), "开工": date(2026, 3, 1)})
    assert problems == [("due_started", "约定开工日期（2026-03-01）不能早于约定注册日期（2026-06-01）")]


def test_each_fact_counts_by_its_own_date():
    project = figures.ProjectFacts(
        stage="注册", contract_investment=D("1000"),
        dates={"签约": date(2026, 3, 10), "注册": date(2026, 6, 1)},
        funds=((date(2026, 3, 1), D("100")), (date(2026, 7, 1), D("300"))),
        increases=((date(2026, 5, 2), D("1000")),))
    march = figures.period_figures([project.period(date(2026, 3, 1), date(2026, 3, 31))],
                                   date(2026, 3, 1), date(2026, 3, 31))
    assert (march.signed, march.funds, march.increases) == (1, D("100"), D("0"))
    assert march.rate("register_rate") == 0 and march.rate("funds_rate") == pytest.approx(0.1)
    may = figures.period_figures([project.period(date(2026, 5, 1), date(2026, 5, 31))], date(2026, 5, 1), date(2026, 5, 31))
    assert (may.signed, may.increases, may.funds) == (0, D("1000"), D("0"))  # signed earlier: counts only the increase
    year = figures.period_figures([project.period(date(2026, 1, 1), date(2026, 6, 30))], date(2026, 1, 1), date(2026, 6, 30))
    assert year.funds == D("100") and year.rate("funds_rate") == pytest.approx(100 / 2000)  # July's money is later
    assert year.rate("register_rate") == 1


def test_dropped_projects_count_nowhere():
    dropped = figures.ProjectFacts(stage="终止", contract_investment=D("1000"), dates={"签约": date(2026, 3, 1)},
                                   funds=((date(2026, 3, 1), D("5")),))
    result = figures.period_figures([dropped.period(date(2026, 1, 1), date(2026, 12, 31))], date(2026, 1, 1), date(2026, 12, 31))
    assert result.signed == 0 and result.funds == 0


def test_overdue_milestones_against_reached_by_the_date():
    dates = {"签约": date(2026, 1, 1), "注册": date(2026, 3, 1)}
    dues = {"注册": date(2026, 2, 1), "开工": date(2026, 4, 1)}
    assert figures.overdue_milestones(dates, dues, "注册", date(2026, 2, 15)) == ["超期未注册"]
    assert figures.overdue_milestones(dates, dues, "注册", date(2026, 5, 1)) == ["超期未开工"]
