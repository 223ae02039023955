import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from crm.extensions import db
from crm.ledger import service as ledger
from crm.ledger.export import export_ledger
from tests import factories as f
from tests.exports import export
from tests.ledger.conftest import sign

TODAY = date.today()
MONTH = f"{TODAY.year}-{TODAY.month:02d}"
SHEETS = ["汇总", "在谈项目", "签约项目", "节点与预警", "本月到资", "本月走访"]


def _export(user, **kwargs):
    out = io.BytesIO()
    export_ledger(user, MONTH, out, **kwargs)
    out.seek(0)
    return load_workbook(out)


def _texts(workbook):
    return [str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.fixture
def ledger_world(world):
    signed = sign(world.officer_a, world.project_a, days_ago=5)
    ledger.add_funds(world.officer_a, signed, TODAY, Decimal("2500"))
    sign(world.officer_b, world.project_b, days_ago=5)
    db.session.commit()
    return world


def test_workbook_layout_a_leader_can_print(ledger_world):
    wb = _export(ledger_world.chief_a)
    assert wb.sheetnames == SHEETS
    signed = wb["签约项目"]
    assert "甲园区" in signed["A1"].value and f"{TODAY.year}年{TODAY.month}月招商项目台账" in signed["A1"].value
    assert "打印于" in signed["A2"].value
    headers = [c.value for c in signed[3]]
    assert headers[:3] == ["园区", "项目名称", "企业名称"] and "协议投资额（万元）" in headers
    assert signed.freeze_panes == "A4" and signed.print_title_rows == "$3:$3"
    assert signed.page_setup.orientation == "landscape" and signed.page_setup.paperSize == 9
    # One page wide (fitToWidth absent is 1, the file format's default), as many pages long as it takes.
    assert (signed.page_setup.fitToWidth or 1) == 1 and signed.page_setup.fitToHeight == 0
    assert signed.sheet_properties.pageSetUpPr.fitToPage and signed.print_options.horizontalCentered
    assert signed.oddFooter.center.text == "第 &P 页，共 &N 页"
    money = signed.cell(row=4, column=headers.index("协议投资额（万元）") + 1)
    assert money.value == 10000 and money.number_format == "#,##0.00"
    assert signed.cell(row=4, column=headers.index("签约日期") + 1).is_date
    total_row = [c.value for c in signed[signed.max_row]]
    assert total_row[0].startswith("合计（1 项）") and total_row[headers.index("协议投资额（万元）")] == 10000
    assert signed.column_dimensions["B"].width >= 10
    funds = wb["本月到资"]
    assert [c.value for c in funds[4]][3] == 2500


def test_export_is_zone_scoped(ledger_world):
    text = "\n".join(_texts(_export(ledger_world.chief_a)))
    assert "宏达铝材甲园项目" in text and "乙园机密" not in text
    city = "\n".join(_texts(_export(ledger_world.admin)))
    assert "宏达铝材甲园项目" in city and "宏达铝材乙园机密项目" in city
    only_b = "\n".join(_texts(_export(ledger_world.admin, zone_id=ledger_world.zone_b.id)))
    assert "乙园机密" in only_b and "甲园项目" not in only_b


def test_formula_like_text_is_written_as_text_and_control_characters_dropped(world):
    firm = f.make_enterprise(world.admin, name='=HYPERLINK("http://evil","点我")')
    f.make_project(world.officer_a, firm, name="@SUM(1+1)\x07项目")
    db.session.commit()
    wb = _export(world.chief_a)
    cells = [c for row in wb["在谈项目"].iter_rows() for c in row if isinstance(c.value, str)]
    hostile = [c for c in cells if c.value.startswith(("=", "@"))]
    assert {c.value for c in hostile} == {'=HYPERLINK("http://evil","点我")', "@SUM(1+1)项目"}
    assert all(c.data_type == "s" for c in hostile)


def test_summary_shows_rates_against_target(ledger_world):
    ledger.set_target(ledger_world.chief_a, ledger_world.zone_a, TODAY.year, {"signed_count": 4})
    summary = _export(ledger_world.chief_a)["汇总"]
    rows = {r[0].value: [c.value for c in r] for r in summary.iter_rows(min_row=4) if r[0].value}
    assert rows["新签约项目（个）"][2] == 1 and rows["新签约项目（个）"][3] == 4
    assert rows["到资率"][2] == pytest.approx(0.25) and rows["到资率"][3] == pytest.approx(0.2)


def test_ledger_download_by_role(ledger_world, login_as):
    url = "/reports/ledger.xlsx"  # a job (crm/jobs): the POST queues it, the answer leads to its download
    response = export(login_as(ledger_world.chief_a), url, month=MONTH)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.data)).sheetnames[0] == "汇总"
    assert export(login_as(ledger_world.viewer_a), url, month=MONTH).status_code == 200
    assert export(login_as(ledger_world.officer_a), url, month=MONTH).status_code == 403
    assert export(login_as(ledger_world.chief_a), url, month=MONTH, zone_id=ledger_world.zone_b.id).status_code == 404
    bad = export(login_as(ledger_world.chief_a), url, month="2026-13")
    assert bad.status_code == 302 and bad.headers["Location"].endswith("/reports/")
    assert login_as(ledger_world.chief_a).get(f"{url}?month={MONTH}").status_code == 405  # GET starts nothing


def test_cli_export(ledger_world, app, tmp_path):
    from crm.cli import ledger_export

    out = tmp_path / "ledger.xlsx"
    result = app.test_cli_runner().invoke(ledger_export, ["--zone", "甲园区", "--month", MONTH, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == SHEETS
    bad = app.test_cli_runner().invoke(ledger_export, ["--zone", "无此园区", "--month", MONTH, "-o", str(out)])
    assert bad.exit_code != 0 and "no zone" in bad.output


def test_export_reads_rows_not_orm_objects(ledger_world):
    """The sheets stream plain rows: no project, visit or funds entry is loaded into the session."""
    from crm.ledger.models import FundsInPlace
    from crm.pipeline.models import Project
    from crm.visits.models import Visit

    f.make_visit(ledger_world.officer_a, project=ledger_world.project_a, summary="本月的一次洽谈")
    db.session.commit()
    streamed = (Project, Visit, FundsInPlace)
    for record in [o for o in db.session.identity_map.values() if isinstance(o, streamed)]:
        db.session.expunge(record)
    wb = _export(ledger_world.chief_a)
    assert "本月的一次洽谈" in _texts(wb) and wb["本月到资"].max_row == 5  # title, subtitle, header, a row, totals
    loaded = {type(o) for o in db.session.identity_map.values()}
    assert not loaded & set(streamed), loaded
