"""A signed project on a 缺 segment: the status, the map's panel, the gap report and the dashboard all follow.

In real use a signed 118,000 万元 电池铝箔 project left that segment 缺 with "暂无在办项目", because
nothing set project segments. The project now takes its enterprise's primary segment.
"""
from __future__ import annotations

import html
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from crm.catalog.models import EnterpriseSegment
from crm.chains import gaps as analysis
from crm.chains.commands import fill_project_segments, gaps as gaps_command
from crm.dashboard.service import overview
from crm.extensions import db
from crm.pipeline.models import Project
from crm.pipeline.service import change_stage, create_project
from tests import factories as f
from tests.chains_app.conftest import mapped_enterprise, segment
from tests.exports import export

CODE = "AL-FOIL-BATTERY"
AMOUNT = Decimal("118000")


@pytest.fixture
def foil(world):
    """电池铝箔 has no local firm in zone A; a target firm elsewhere has it as its primary business."""
    world.foil_firm = mapped_enterprise(world.admin, CODE, revenue=260000, above_scale=True,
                                        name="江苏鼎胜电池铝箔有限公司")
    db.session.commit()
    return world


def _record(user, zone_id):
    return analysis.analyse_chain(user, "aluminium", zone_id).record_by_code[CODE]


def _aluminium_row(by_chain: list[dict]) -> dict | None:
    return next((row for row in by_chain if row["filters"] == {"chain": "aluminium"}), None)


def test_signing_a_project_on_a_missing_segment_changes_every_view_of_it(foil, app):
    w = foil
    zone = w.zone_a.id
    assert _record(w.chief_a, zone).status == "missing"
    coverage_before = analysis.coverage_by_chain(w.chief_a)[0]["aluminium"]["present"]
    chain_before = _aluminium_row(overview(w.chief_a)["by_chain"])

    project = create_project(w.officer_a, w.foil_firm, {"name": "鼎胜电池铝箔项目"})
    assert [s.code for s in project.segments] == [CODE]  # the enterprise's primary segment
    change_stage(w.officer_a, project, "签约", on_date=date.today(), contract_investment=AMOUNT)
    db.session.commit()

    record = _record(w.chief_a, zone)
    assert record.status == "weak" and record.action == "强链"
    assert any("签约/在建项目" in reason for reason in record.reasons)
    report = analysis.analyse_chain(w.chief_a, "aluminium", zone)
    assert report.presence[CODE]["partial"] == 1
    assert analysis.coverage_by_chain(w.chief_a)[0]["aluminium"]["present"] == coverage_before + 1

    panel = analysis.segment_panel(w.chief_a, "aluminium", CODE, zone)
    assert [p.name for p in panel.projects] == ["鼎胜电池铝箔项目"]
    assert panel.gap.status == "weak"

    data = analysis.report_dict(report)
    row = next(r for r in data["pipeline"] if r["code"] == CODE)
    assert row["partial"] == 1 and row["name"] == "电池铝箔"
    assert next(g for g in data["gaps"] if g["code"] == CODE)["status_label"] == "弱"

    result = app.test_cli_runner().invoke(gaps_command, ["--chain", "aluminium", "--zone", "甲园区", "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert next(r for r in cli["pipeline"] if r["code"] == CODE)["partial"] == 1
    assert next(g for g in cli["gaps"] if g["code"] == CODE)["status"] == "weak"

    chain = _aluminium_row(overview(w.chief_a)["by_chain"])
    assert chain["label"] == "铝基新材料"
    assert chain["total"] == (chain_before["total"] if chain_before else 0) + 1
    assert chain["signed_amount"] == float(AMOUNT) + (chain_before["signed_amount"] if chain_before else 0)


def _present_on_index(client) -> int:
    """The chain list's 已有环节 for the aluminium chain."""
    page = client.get("/chains/").get_data(as_text=True)
    row = re.search(r'<tr>\s*<td><a href="/chains/aluminium">.*?</tr>', page, re.S).group(0)
    return int(re.findall(r'<td class="text-end">([^<]*)</td>', row)[1])


def test_the_pages_show_the_signed_project_on_the_segment(foil, login_as):
    w = foil
    client = login_as(w.officer_a)
    panel_url = f"/chains/aluminium/segments/{CODE}/panel.json"
    before = client.get(panel_url).get_json()
    assert before["gap"]["status_label"] == "缺" and before["projects"] == []  # the map showed 暂无在办项目
    present_before = _present_on_index(client)

    created = client.post(f"/projects/new?enterprise_id={w.foil_firm.id}",
                          data={"name": "鼎胜电池铝箔项目", "source": "以商招商", "priority": "高"})
    assert created.status_code == 302
    project = db.session.scalars(db.select(Project).where(Project.name == "鼎胜电池铝箔项目")).one()
    signed = client.post(f"/projects/{project.id}/stage", data={
        "stage": "签约", "version": project.version, "contract_investment": str(AMOUNT),
        "on_date": date.today().isoformat()})
    assert signed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).stage == "签约"

    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f'href="/chains/aluminium?zone_id={w.zone_a.id}"' in page and "电池铝箔" in page

    panel = client.get(panel_url).get_json()
    assert panel["gap"]["status_label"] == "弱"
    assert panel["presence"]["partial"] == 1
    assert [(p["name"], p["stage"]) for p in panel["projects"]] == [("鼎胜电池铝箔项目", "签约")]
    assert panel["projects"][0]["url"] == f"/projects/{project.id}"

    graph = client.get("/chains/aluminium/graph.json").get_json()
    node = next(n for n in graph["nodes"] if n["code"] == CODE)
    assert (node["status"], node["partial"]) == ("weak", 1)

    report = client.get("/chains/aluminium/gaps").get_data(as_text=True)
    table = re.search(r'data-testid="pipeline-table">(.*?)</table>', report, re.S).group(1)
    row = re.search(r"<tr><td>电池铝箔</td>(.*?)</tr>", table, re.S).group(1)
    assert re.findall(r'<td class="text-end">([^<]*)</td>', row)[-1] == "1"  # 签约/在建项目
    assert "暂无关联到本链环节的在谈项目" not in report

    book = load_workbook(io.BytesIO(export(client, "/chains/aluminium/gaps.xlsx").data))
    pipeline = {r[0]: r for r in book["在谈线索"].iter_rows(min_row=3, values_only=True)}
    assert pipeline[CODE][1] == "电池铝箔" and pipeline[CODE][-1] == 1
    ranked = {r[1]: r for r in book["缺口排序"].iter_rows(min_row=3, values_only=True)}
    assert ranked[CODE][4] == "弱"

    assert _present_on_index(client) == present_before + 1

    dashboard = client.get("/").get_data(as_text=True)
    charts = json.loads(html.unescape(re.search(r'data-charts="([^"]*)"', dashboard).group(1)))
    bar = next(b for b in charts["by_chain"] if b["name"] == "铝基新材料")
    assert bar["value"] >= 1 and bar["link"] == "/projects/?chain=aluminium"
    listed = client.get(bar["link"]).get_data(as_text=True)
    assert "鼎胜电池铝箔项目" in listed


def test_projects_made_before_are_given_their_enterprises_primary_segment_by_the_cli(world, app):
    firm = f.make_enterprise(world.admin, name="江苏鼎胜电池铝箔有限公司")
    old = create_project(world.officer_a, firm, {"name": "早先签约的电池铝箔项目"})  # firm not mapped yet: none
    change_stage(world.officer_a, old, "签约", on_date=date.today(), contract_investment=AMOUNT)
    chosen = create_project(world.officer_a, firm, {"name": "已选环节的项目"})
    chosen.segments = [segment("AL-SHEET")]
    db.session.add(EnterpriseSegment(enterprise_id=firm.id, segment_id=segment(CODE).id, is_primary=True))
    db.session.commit()
    assert old.segments == [] and _record(world.chief_a, world.zone_a.id).status == "missing"

    runner = app.test_cli_runner()
    dry = runner.invoke(fill_project_segments, ["--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "早先签约的电池铝箔项目 → 电池铝箔（AL-FOIL-BATTERY）" in dry.output and "已选环节的项目" not in dry.output
    db.session.expire_all()
    assert db.session.get(Project, old.id).segments == []

    done = runner.invoke(fill_project_segments, [])
    assert done.exit_code == 0 and "已为 1 个项目补上企业主环节" in done.output
    db.session.expire_all()
    assert [s.code for s in db.session.get(Project, old.id).segments] == [CODE]
    assert [s.code for s in db.session.get(Project, chosen.id).segments] == ["AL-SHEET"]
    assert _record(world.chief_a, world.zone_a.id).status == "weak"
    again = runner.invoke(fill_project_segments, [])
    assert "已为 0 个项目" in again.output
