"""The gap report's Excel export and the `chains gaps` command: the same numbers as the analysis."""
from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from crm.chains.commands import gaps
from crm.extensions import db
from crm.chains import gaps as analysis
from tests.chains_app.conftest import mapped_enterprise
from tests.exports import export

SHEETS = ["概览", "缺口排序", "卡脖子环节", "招商目标", "在谈线索"]
FORMULA = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def export_world(map_world):
    # A target whose name is a formula: it must come out as text.
    mapped_enterprise(map_world.admin, "AL-BAUXITE", revenue=90000, above_scale=True, tags="上市", name=FORMULA)
    mapped_enterprise(map_world.admin, "AL-ALUMINA", zone=map_world.zone_a, revenue=3000)
    db.session.commit()
    return map_world


def _workbook(client, url):
    response = export(client, url)  # a job: POSTed, run, its download served
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def test_gaps_xlsx_has_the_sheets_a_title_naming_the_zone_and_no_formulas(export_world, login_as):
    book = _workbook(login_as(export_world.chief_a), "/chains/aluminium/gaps.xlsx")
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        title = sheet["A1"].value
        assert "甲园区" in title and "铝基新材料" in title and "数据日期" in title, sheet.title
        assert sheet.freeze_panes == "A3"
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    targets = book["招商目标"]
    names = [row[3] for row in targets.iter_rows(min_row=3, values_only=True)]
    assert FORMULA in names  # stored as text, exactly as typed
    assert targets.cell(row=2, column=4).value == "企业"
    gaps_sheet = [row for row in book["缺口排序"].iter_rows(min_row=3, values_only=True)]
    report = analysis.analyse_chain(export_world.chief_a, "aluminium")
    assert [(r[1], r[6]) for r in gaps_sheet] == [(r.code, r.priority) for r in report.gaps]
    overview = dict(row for row in book["概览"].iter_rows(min_row=3, values_only=True))
    assert overview["分析范围"] == "甲园区" and overview["环节总数"] == 32


def test_gaps_xlsx_for_the_whole_city(export_world, login_as):
    book = _workbook(login_as(export_world.admin), "/chains/aluminium/gaps.xlsx")
    assert "全市" in book["概览"]["A1"].value
    assert "乙园机密" not in "".join(str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r)


def _run(app, *args):
    result = app.test_cli_runner().invoke(gaps, list(args))
    return result, result.output + (getattr(result, "stderr", "") or "")


def test_cli_json_gives_the_same_priorities_as_the_analysis(export_world, app):
    result, output = _run(app, "--chain", "aluminium", "--zone", "甲园区", "--json")
    assert result.exit_code == 0, output
    data = json.loads(result.stdout)
    report = analysis.analyse_chain(export_world.chief_a, "aluminium", export_world.zone_a.id)
    assert data["zone"] == "甲园区"
    assert data["priorities"] == {r.code: r.priority for r in report.records}
    assert [g["code"] for g in data["gaps"]] == [r.code for r in report.records]
    assert data["kpis"] == json.loads(json.dumps(report.kpis))
    assert data["targets"]["AL-BAUXITE"][0]["name"] == FORMULA
    by_id, _ = _run(app, "--chain", "aluminium", "--zone", str(export_world.zone_a.id), "--json")
    assert json.loads(by_id.stdout)["priorities"] == data["priorities"]


def test_cli_text_and_whole_city(export_world, app):
    result, output = _run(app, "--chain", "aluminium")
    assert result.exit_code == 0, output
    assert "全市" in output and "铝土矿" in output and "覆盖率" in output


@pytest.mark.parametrize("args, message", [
    (["--chain", "nope"], "未知产业链 nope"),
    (["--chain", "aluminium", "--zone", "没有这个园区"], "未知园区 没有这个园区"),
])
def test_cli_refuses_unknown_chain_or_zone(world, app, args, message):
    result, output = _run(app, *args)
    assert result.exit_code != 0
    assert message in output


def test_layout_report_prints_the_crossings_before_and_after_per_chain(app):
    from tests.chains.test_layout import MEASURED

    result = app.test_cli_runner().invoke(args=["chains", "layout-report"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert set(rows) == set(MEASURED)
    for code, (before, after) in MEASURED.items():
        assert rows[code][-2:] == [str(before), str(after)]
