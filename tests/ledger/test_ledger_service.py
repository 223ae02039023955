from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.audit.models import AuditEntry
from crm.ledger.models import ZoneTarget
from crm.ledger import service as ledger
from crm.errors import ServiceError
from crm.pipeline.service import change_stage
from tests import factories as f
from tests.ledger.conftest import sign

TODAY = date.today()


def test_investment_per_mu_is_computed(signed_a):
    assert ledger.investment_per_mu(signed_a) == Decimal("200.00")  # 10000 万元 / 50 亩
    signed_a.land_area = None
    assert ledger.investment_per_mu(signed_a) is None


def test_commitments_are_validated_and_saved(world, signed_a):
    with pytest.raises(ServiceError, match="不能早于签约日期"):
        ledger.update_commitments(world.officer_a, signed_a, {"due_registered": signed_a.signed_date - timedelta(days=1)})
    db.session.rollback()
    with pytest.raises(ServiceError, match="不能早于"):
        ledger.update_commitments(world.officer_a, signed_a, {
            "due_registered": TODAY, "due_started": TODAY - timedelta(days=5)})
    db.session.rollback()
    with pytest.raises(ServiceError, match="负数"):
        ledger.update_commitments(world.officer_a, signed_a, {"annual_tax": Decimal(-1)})
    db.session.rollback()
    ledger.update_commitments(world.officer_a, signed_a, {"annual_output_value": Decimal(30000), "jobs": 120,
                                                          "due_registered": TODAY + timedelta(days=30)})
    assert signed_a.jobs == 120


def test_commitments_need_a_signed_project(world):
    with pytest.raises(ServiceError, match="签约后"):
        ledger.update_commitments(world.officer_a, world.project_a, {"contract_investment": Decimal(5)})


def test_funds_cumulative_and_rate_are_computed_not_stored(world, signed_a):
    first = signed_a.signed_date.replace(day=1)
    ledger.add_funds(world.officer_a, signed_a, first, Decimal("1000"))
    ledger.add_funds(world.officer_a, signed_a, TODAY, Decimal("1500"), "二期设备款")
    status = ledger.project_funds(signed_a)
    assert status.cumulative == Decimal("2500") and status.rate == pytest.approx(0.25)
    assert ledger.funds_by_project([signed_a.id]) == {signed_a.id: Decimal("2500")}


@pytest.mark.parametrize("month_offset, amount, message", [
    (40, "100", "未来月份"),
    (-400, "100", "早于签约月份"),
    (0, "0", "大于 0"),
    (0, "-5", "大于 0"),
])
def test_bad_funds_entries_are_refused(world, signed_a, month_offset, amount, message):
    with pytest.raises(ServiceError, match=message):
        ledger.add_funds(world.officer_a, signed_a, TODAY + timedelta(days=month_offset), Decimal(amount))


def test_one_funds_entry_per_month(world, signed_a):
    ledger.add_funds(world.officer_a, signed_a, TODAY, Decimal("10"))
    with pytest.raises(ServiceError, match="该月已有到资记录"):
        ledger.add_funds(world.officer_a, signed_a, TODAY, Decimal("10"))


def test_capital_increase_counts_only_the_increase_on_its_date(world):
    project = sign(world.officer_a, world.project_a, days_ago=0, amount=Decimal("8000"))
    ledger.add_capital_increase(world.officer_a, project, TODAY, Decimal("2000"), "二期")
    month = next(m for m in ledger.signed_amount_by_month(world.chief_a, TODAY.year) if m["month"] == TODAY.month)
    assert month["count"] == 1 and month["amount"] == Decimal("8000") and month["increase"] == Decimal("2000")
    assert ledger.project_funds(project).committed == Decimal("10000")


def test_a_project_counts_once_at_its_first_signing(world):
    """Back to 签约 from 搁置 is the same signing: its date and amount stand, and it counts once."""
    project = sign(world.officer_a, world.project_a, days_ago=10)
    first = project.signed_date
    change_stage(world.officer_a, project, "搁置", note="企业暂缓")
    change_stage(world.officer_a, project, "签约", note="恢复推进", contract_investment=Decimal("12000"))
    assert project.signed_date == first and project.contract_investment == Decimal("10000")
    months = ledger.signed_amount_by_month(world.chief_a, TODAY.year)
    assert sum(m["count"] for m in months) == (1 if first.year == TODAY.year else 0)


def test_rolling_back_before_signing_undoes_the_signing(world):
    """洽谈 after 签约 means the signing fell through: its date leaves the project (history keeps it),
    and signing again counts on the new date."""
    project = sign(world.officer_a, world.project_a, days_ago=10)
    first = project.signed_date
    event = change_stage(world.officer_a, project, "洽谈", note="协议需重签")
    assert project.signed_date is None and first.isoformat() in event.note
    change_stage(world.officer_a, project, "签约", contract_investment=Decimal("12000"))
    assert project.signed_date == TODAY and project.contract_investment == Decimal("12000")
    months = ledger.signed_amount_by_month(world.chief_a, TODAY.year)
    assert sum(m["count"] for m in months) == 1


def test_warnings_overdue_low_intensity_and_funds_behind(world, signed_a):
    signed_a.due_registered = TODAY - timedelta(days=1)
    signed_a.due_full_production = TODAY + timedelta(days=100)
    world.zone_a.min_investment_per_mu = Decimal("300")
    warnings = ledger.warnings_for(signed_a, world.zone_a, Decimal(0), Decimal("10000"))
    assert "超期未注册" in warnings
    assert any("亩均投资强度 200.00 万元/亩，低于园区标准 300" in w for w in warnings)
    assert any("到资进度落后" in w for w in warnings)
    signed_a.registered_date = TODAY - timedelta(days=2)
    world.zone_a.min_investment_per_mu = Decimal("100")
    assert ledger.warnings_for(signed_a, world.zone_a, Decimal("10000"), Decimal("10000")) == []


def test_rates_over_projects_signed_in_the_period(world):
    a = sign(world.officer_a, world.project_a, days_ago=5)
    b = sign(world.officer_a, f.make_project(world.officer_a, name="第二个"), days_ago=5)
    change_stage(world.officer_a, a, "注册", on_date=TODAY)
    ledger.add_funds(world.officer_a, b, TODAY, Decimal("5000"))
    rates = ledger.rates(world.chief_a, TODAY - timedelta(days=30), TODAY)
    assert rates["signed"] == 2
    assert rates["register_rate"] == pytest.approx(0.5) and rates["start_rate"] == 0
    assert rates["funds_rate"] == pytest.approx(0.25)  # 5000 / (10000 + 10000)
    assert ledger.rates(world.chief_b, TODAY - timedelta(days=30), TODAY)["signed"] == 0


def test_targets_are_set_by_the_zone_chief_or_admin_and_audited(world):
    target = ledger.set_target(world.chief_a, world.zone_a, 2026, {
        "signed_count": 12, "signed_amount": Decimal("600000"), "register_rate": Decimal("0.9"),
        "min_investment_per_mu": Decimal("300"), "stale_lead_days": 21})
    assert target.signed_count == 12 and world.zone_a.stale_lead_days == 21
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "ZoneTarget"))
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "Zone", AuditEntry.action == "update"))
    with pytest.raises(ServiceError):
        ledger.set_target(world.chief_b, world.zone_a, 2026, {"signed_count": 1})
    with pytest.raises(ServiceError):
        ledger.set_target(world.officer_a, world.zone_a, 2026, {"signed_count": 1})
    with pytest.raises(ServiceError, match="超出范围"):
        ledger.set_target(world.admin, world.zone_a, 2026, {"register_rate": Decimal("1.5")})
    assert ledger.target_for([world.zone_a.id], 2026)["signed_count"] == 12
    assert ledger.target_for([world.zone_a.id], 2031)["register_rate"] == pytest.approx(0.9)  # default
    assert db.session.scalar(select(ZoneTarget).where(ZoneTarget.year == 2026)).signed_amount == Decimal("600000")
