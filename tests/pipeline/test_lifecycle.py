"""The lifecycle rules on their own: no database, no Flask."""
from datetime import date
from decimal import Decimal

import pytest

from crm.pipeline import lifecycle
from crm.pipeline.lifecycle import LifecycleError, ProjectFacts, plan_change, reached

pytestmark = pytest.mark.no_db
TODAY = date(2026, 12, 1)


def facts(stage, has_funds=False, **dates):
    names = {"signed": "签约", "registered": "注册", "started": "开工", "production": "投产", "full": "达产"}
    return ProjectFacts(stage=stage, dates={names[k]: v for k, v in dates.items()},
                        contract_investment=Decimal("1000") if "signed" in dates else None, has_funds=has_funds)


def test_the_next_stage_is_proposed_along_the_pipeline():
    assert lifecycle.next_stage("线索") == "接洽"
    assert lifecycle.next_stage("洽谈") == "签约"
    assert lifecycle.next_stage("达产") is None and lifecycle.next_stage("终止") is None


def test_signing_needs_an_amount_and_sets_the_date():
    with pytest.raises(LifecycleError) as refused:
        plan_change(facts("洽谈"), "签约", today=TODAY)
    assert refused.value.field == "contract_investment"
    change = plan_change(facts("洽谈"), "签约", today=TODAY, on_date=date(2026, 11, 3),
                         contract_investment=Decimal("5000"))
    assert change.set_dates == {"signed_date": date(2026, 11, 3)} and change.contract_investment == Decimal("5000")
    assert change.direction == "推进" and change.message() == "项目已推进到“签约”"


def test_a_rollback_clears_the_dates_past_the_new_stage():
    project = facts("注册", signed=date(2026, 9, 1), registered=date(2026, 10, 1))
    change = plan_change(project, "签约", today=TODAY, note="营业执照注销重办")
    assert change.cleared_dates == {"registered_date": date(2026, 10, 1)} and change.direction == "退回"
    assert "已退回到“签约”" in change.message() and "注册日期" in change.message()
    back = plan_change(project, "洽谈", today=TODAY, note="协议作废")
    assert set(back.cleared_dates) == {"signed_date", "registered_date"} and back.clears_contract
    assert "协议投资额" in back.message() and not change.clears_contract


def test_a_rollback_needs_a_reason_and_keeps_money_tied_to_its_signing():
    project = facts("签约", has_funds=True, signed=date(2026, 9, 1))
    with pytest.raises(LifecycleError, match="必须填写原因"):
        plan_change(project, "洽谈", today=TODAY)
    with pytest.raises(LifecycleError, match="已登记到资或增资"):
        plan_change(project, "洽谈", today=TODAY, note="协议作废")


def test_dates_must_follow_the_earlier_milestones_and_not_be_in_the_future():
    project = facts("签约", signed=date(2026, 9, 1))
    with pytest.raises(LifecycleError) as early:
        plan_change(project, "注册", today=TODAY, on_date=date(2026, 8, 1))
    assert early.value.field == "on_date" and "2026-08-01" in early.value.message and "2026-09-01" in early.value.message
    with pytest.raises(LifecycleError, match="不能晚于今天"):
        plan_change(project, "注册", today=TODAY, on_date=date(2026, 12, 2))
    with pytest.raises(LifecycleError, match="尚未签约"):
        plan_change(facts("洽谈"), "注册", today=TODAY)


def test_back_to_signed_from_on_hold_keeps_the_first_signing():
    change = plan_change(facts("搁置", signed=date(2026, 3, 1)), "签约", today=TODAY, note="恢复",
                         contract_investment=Decimal("99"))
    assert change.set_dates == {} and change.contract_investment is None and change.direction == "重启"


def test_side_stages_need_a_reason_and_keep_dates():
    project = facts("开工", signed=date(2026, 3, 1), started=date(2026, 6, 1))
    with pytest.raises(LifecycleError):
        plan_change(project, "终止", today=TODAY)
    change = plan_change(project, "终止", today=TODAY, note="企业破产")
    assert change.cleared_dates == {} and change.message() == "项目已转为“终止”"


def test_reached_by_a_date_follows_the_milestone_or_a_later_one():
    dates = {"签约": date(2026, 1, 5), "注册": None, "开工": date(2026, 5, 1)}
    assert reached("注册", "开工", dates, date(2026, 5, 1))  # started implies registered
    assert not reached("注册", "开工", dates, date(2026, 4, 30))
    assert reached("注册", "开工", {"签约": date(2026, 1, 5)}, date(2026, 1, 31))  # undated: by its stage
    assert not reached("注册", "签约", {"签约": date(2026, 1, 5)})
