from datetime import date

import pytest

from crm.service import rules as r


def test_working_days_skip_weekends():
    friday = date(2026, 11, 27)
    assert r.add_working_days(friday, 1) == date(2026, 11, 30)  # Monday
    assert r.add_working_days(friday, 5) == date(2026, 12, 4)
    assert r.add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)  # a Saturday
    assert r.add_working_days(friday, 0) == friday


def test_deadline_by_category_setting_or_default():
    monday = date(2026, 11, 23)
    assert r.deadline_for(monday, "水电气") == date(2026, 11, 30)  # 5 working days
    assert r.deadline_for(monday, "水电气", {"水电气": 2}) == date(2026, 11, 25)


def test_request_needs_category_and_deadline_after_date():
    with pytest.raises(r.RuleError) as e:
        r.check_request("", date(2026, 1, 5), None)
    assert e.value.field == "category"
    with pytest.raises(r.RuleError) as e:
        r.check_request("用地", date(2026, 1, 5), date(2026, 1, 4))
    assert e.value.field == "deadline" and "早于" in e.value.message
    r.check_request("用地", date(2026, 1, 5), date(2026, 1, 5))


def test_status_goes_forward_and_closing_needs_a_reply():
    assert r.advance("受理") == "办理中"
    with pytest.raises(r.RuleError) as e:
        r.advance("办理中", "  ")
    assert e.value.field == "reply"
    assert r.advance("办理中", "已协调供电局") == "办结"
    with pytest.raises(r.RuleError):
        r.advance("办结", "x")


def test_rating_only_after_closing():
    with pytest.raises(r.RuleError):
        r.check_rating("办理中", "满意")
    with pytest.raises(r.RuleError):
        r.check_rating("办结", "很好")
    r.check_rating("办结", "基本满意")


def test_overdue_and_satisfaction():
    due = date(2026, 3, 10)
    assert not r.is_overdue("办理中", due, due)
    assert r.is_overdue("受理", due, date(2026, 3, 11))
    assert not r.is_overdue("办结", due, date(2026, 4, 1))
    assert r.satisfaction(["满意", "不满意", "基本满意", None]) == pytest.approx(2 / 3)
    assert r.satisfaction([]) is None


def test_periods():
    assert r.period_of(date(2026, 7, 1)) == "2026H2"
    r.check_period("2026H1")
    with pytest.raises(r.RuleError):
        r.check_period("2026Q1")
