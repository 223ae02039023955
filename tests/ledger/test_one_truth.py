"""The figures the issue found disagreeing, each now read from every place that shows it.

Kept as plain regression tests beside the property test (test_one_truth_property.py).
"""
import io
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook

from crm.dashboard.service import overview
from crm.extensions import db
from crm.ledger import service as ledger
from crm.ledger.export import export_ledger
from crm.pipeline.service import change_stage
from tests import factories as f
from tests.ledger.conftest import sign

TODAY = date.today()
MONTH = TODAY.strftime("%Y-%m")


def _workbook(user, month=MONTH):
    out = io.BytesIO()
    export_ledger(user, month, out)
    return load_workbook(io.BytesIO(out.getvalue()))


def _summary(workbook) -> dict:
    return {r[0].value: [c.value for c in r] for r in workbook["汇总"].iter_rows(min_row=4) if r[0].value}


def _rows(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:] if r[0] and not str(r[0]).startswith("合计")]


def test_month_funds_in_the_summary_are_the_sum_of_the_funds_sheet(world):
    """Zone 1, 2026-11 showed 0 against 4,160 万元: funds of a project signed in an earlier month."""
    earlier = sign(world.officer_a, world.project_a, days_ago=70)
    ledger.add_funds(world.officer_a, earlier, TODAY, Decimal("4160"))
    workbook = _workbook(world.chief_a)
    sheet_total = sum(r["本月到资（万元）"] for r in _rows(workbook["本月到资"]))
    assert sheet_total == 4160 and _summary(workbook)["到资（万元）"][1] == 4160


def test_year_to_date_never_includes_money_booked_after_the_month(world):
    project = sign(world.officer_a, world.project_a, days_ago=80)
    last_month = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
    if last_month.year != TODAY.year or project.signed_date > last_month.replace(day=28):
        return  # the scenario needs last month inside this year, after the signing
    ledger.add_funds(world.officer_a, project, TODAY, Decimal("500"))
    summary = _summary(_workbook(world.chief_a, last_month.strftime("%Y-%m")))
    assert summary["到资（万元）"][2] == 0


def test_funds_rate_with_a_capital_increase_is_the_same_on_the_page_and_in_the_workbook(world, login_as):
    """12.5% on the page against 25% in the export."""
    project = sign(world.officer_a, world.project_a, days_ago=20, amount=Decimal("8000"))
    ledger.add_capital_increase(world.officer_a, project, TODAY, Decimal("8000"))
    ledger.add_funds(world.officer_a, project, TODAY, Decimal("2000"))
    db.session.commit()
    page = login_as(world.chief_a).get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'data-testid="funds-rate">12.5%<' in page
    workbook = _workbook(world.chief_a)
    assert [r["到资率"] for r in _rows(workbook["签约项目"])] == [0.125]
    assert [r["到资率"] for r in _rows(workbook["本月到资"])] == [0.125]
    assert ledger.project_funds(project).rate == 0.125


def test_a_rollback_does_not_inflate_the_registration_rate(world):
    """注册 → 洽谈 → 签约 kept the 注册 date, so 注册率 counted it (75% → 76.9%, the ledger 100%)."""
    kept = sign(world.officer_a, world.project_a, days_ago=30)
    change_stage(world.officer_a, kept, "注册", on_date=TODAY - timedelta(days=10))
    other = sign(world.officer_a, f.make_project(world.officer_a, name="回退项目"), days_ago=30)
    change_stage(world.officer_a, other, "注册", on_date=TODAY - timedelta(days=10))
    change_stage(world.officer_a, other, "洽谈", note="注册地变更")
    change_stage(world.officer_a, other, "签约", on_date=TODAY, contract_investment=Decimal("100"))
    assert other.registered_date is None
    figures_now = overview(world.chief_a, year=TODAY.year, zone_id=world.zone_a.id)
    register = next(r for r in figures_now["rates"] if r["key"] == "register_rate")
    summary = _summary(_workbook(world.chief_a))
    assert register["actual"] == 0.5 and summary["注册率"][2] == 0.5 and figures_now["signed_count"] == 2


def test_warnings_say_what_they_compare_and_stay_quiet_on_plan(world, signed_a):
    signed_a.due_full_production = TODAY + timedelta(days=1000)
    signed_a.signed_date = TODAY  # nothing is expected yet
    assert ledger.warnings_for(signed_a, world.zone_a, Decimal(0), Decimal("10000")) == []
    signed_a.signed_date = TODAY - timedelta(days=360)
    expected = ledger.warnings_for(signed_a, world.zone_a, Decimal(0), Decimal("10000"))
    assert expected == ["到资进度落后：按约定进度应达 26%，实际 0%"]
    share = 360 / 1360
    assert ledger.warnings_for(signed_a, world.zone_a, Decimal(10000 * share), Decimal("10000")) == []


def test_agreed_dates_are_checked_from_the_signing_date_on(world, signed_a):
    import pytest

    from crm.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        ledger.update_commitments(world.chief_a, signed_a, {"due_started": signed_a.signed_date - timedelta(days=1)})
    assert refused.value.field == "due_started"
    assert refused.value.message == (f"约定开工日期（{(signed_a.signed_date - timedelta(days=1)).isoformat()}）"
                                     f"不能早于签约日期（{signed_a.signed_date.isoformat()}）")


def test_back_before_signing_undoes_the_contract_amount_too(world):
    """Found by the property test's round trip: a project back at 洽谈 kept its 协议投资额, which the
    ledger import refuses on an unsigned row, so the exported ledger could not be imported."""
    project = sign(world.officer_a, world.project_a, days_ago=10, amount=Decimal("8000"))
    event = change_stage(world.officer_a, project, "洽谈", note="协议作废")
    assert project.signed_date is None and project.contract_investment is None
    assert "8000" in event.note
