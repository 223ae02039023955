"""Issue 15, point 9: the smaller UX fixes, each with the behaviour a user relies on."""
from datetime import date, datetime

from crm.formatting import iso_date
from tests import factories as f


def test_first_report_since_reads_as_a_local_day_not_an_iso_timestamp():
    # The first-report warning shows when another zone started; a stored UTC timestamp must read as the day.
    assert iso_date(datetime(2026, 12, 1, 13, 30, 10, 488377)) == "2026-12-01"
    assert iso_date(datetime(2026, 12, 1, 20, 0, 0)) == "2026-12-02"  # 20:00 UTC is the next day in Shanghai
    assert iso_date(date(2026, 12, 1)) == "2026-12-01"
    assert iso_date(None) == ""


def test_ledger_as_of_is_today_while_the_month_runs_and_month_end_after():
    from crm.ledger.figures import as_of_day

    assert as_of_day(date(2026, 12, 31), date(2026, 12, 1)) == date(2026, 12, 1)
    assert as_of_day(date(2026, 11, 30), date(2026, 12, 1)) == date(2026, 11, 30)


def test_ledger_file_of_a_reader_of_every_zone_is_the_citys_not_ben_yuanqu(world):
    from crm.accounts.zones import Zone
    from crm.extensions import db
    from crm.ledger.export import ledger_title
    from sqlalchemy import select

    zones = db.session.scalars(select(Zone)).all()
    city_viewer = f.make_user("viewer", zones)
    one_zone = f.make_user("viewer", [zones[0]])
    assert ledger_title(city_viewer, None, "2026-12") == "全市2026-12招商项目台账"
    assert ledger_title(world.admin, None, "2026-12") == "全市2026-12招商项目台账"
    assert ledger_title(one_zone, None, "2026-12") == f"{zones[0].name}2026-12招商项目台账"
    assert "本园区" not in ledger_title(one_zone, None, "2026-12")


def test_a_contact_phone_must_be_a_number(world):
    import pytest
    from crm.errors import ServiceError
    from crm.inputs import phone_problem
    from crm.library.service import add_contact

    enterprise = f.make_enterprise(world.officer_a)
    with pytest.raises(ServiceError, match="电话应为数字") as refused:
        add_contact(world.officer_a, enterprise, {"name": "张经理", "phone": "abc"})
    assert refused.value.field == "phone"
    assert add_contact(world.officer_a, enterprise, {"name": "张经理", "phone": "0477-8123456"}).phone == "0477-8123456"
    for ok in ("13800000000", "+86 138 0000 0000", "(0477)8123456转805", "13800000000、13900000000", ""):
        assert phone_problem(ok) is None, ok
    for bad in ("abc", "123", "电话", "1380000000a"):
        assert phone_problem(bad), bad


def test_same_credit_code_never_invites_save_anyway(world, login_as):
    client = login_as(world.officer_a)
    page = client.post("/enterprises/new", data={"name": "另一个名字公司", "uscc": world.enterprise.uscc, "zone_id": 0})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "已登记在另一家企业名下" in text and world.enterprise.name in text
    assert "仍要保存" not in text


def test_enterprise_form_errors_come_in_one_round(world, login_as):
    client = login_as(world.officer_a)
    page = client.post("/enterprises/new", data={"name": "一次报错公司", "uscc": "12345", "zone_id": 0,
                                                 "registered_capital": "-5x"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "统一社会信用代码" in text and "无效" in text  # the code's error ...
    assert "registered_capital" in text and "is-invalid" in text  # ... beside the amount's, on the same page


def test_dashboard_bar_charts_make_room_for_full_zone_names():
    # The 按园区 chart cut zone names at a fixed 90px; the bars' grid now contains its labels.
    from pathlib import Path

    script = (Path(__file__).parents[2] / "static" / "js" / "dashboard.js").read_text(encoding="utf-8")
    bar = script[script.index("const bar = "):script.index("draw(\"chart-funnel\"")]
    assert "containLabel: true" in bar and "left: 90" not in bar
    assert 'overflow: "break"' in bar
