"""亩均评价 through the services and the pages: entering figures, the year's run (stored, replacing the
year's results, audited), the ranking with points, class changes and distributions, a firm's history,
the workbook, the import's dry run and all-or-nothing commit, trash and restore, per role."""
from __future__ import annotations

import io
import re
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.audit.log import acting_as
from crm.audit.models import AuditEntry
from crm.catalog.models import EnterpriseSegment, Segment
from crm.efficiency import service
from crm.efficiency.models import EfficiencyFigures, EfficiencyResult
from crm.errors import ServiceError
from crm.extensions import db
from crm.permissions import NotAllowed
from tests import factories as f
from tests.efficiency.test_method import FIVE
from tests.imports.builders import xlsx

YEAR = 2025


@pytest.fixture
def five(world):
    """The five hand-computed firms, local to zone A, with their YEAR figures entered by officer_a."""
    firms = {}
    with acting_as(db.session, world.officer_a):
        for n, figures in FIVE.items():
            firm = f.make_enterprise(world.officer_a, name=f"亩均测试{n}号有限公司", zone_id=world.zone_a.id,
                                     uscc=f.valid_uscc(500 + n))
            service.save_figures(world.officer_a, firm, YEAR, {k: D(str(v)) for k, v in figures.items()})
            firms[n] = firm
    db.session.commit()
    return firms


def _run(world, year=YEAR):
    with acting_as(db.session, world.chief_a):
        made = service.run_evaluation(world.chief_a, world.zone_a.id, year)
    db.session.commit()
    return made


def test_the_run_stores_the_hand_computed_results_and_a_rerun_replaces_them(world, five):
    made = _run(world)
    got = {r.enterprise_id: (r.rank, r.score, r.klass) for r in made}
    assert got == {five[3].id: (1, D("153.34"), "A"), five[1].id: (2, D("131.66"), "B"),
                   five[2].id: (3, D("54.17"), "B"), five[4].id: (4, D("41.17"), "B"),
                   five[5].id: (5, D("27.17"), "C")}
    missing = next(r for r in made if r.enterprise_id == five[4].id)
    assert missing.missing == ["energy_tce"] and missing.points["va_per_energy"] == "0.00"
    # Firm 5 improves; the rerun replaces the year's five rows (each replaced and each new one audited).
    with acting_as(db.session, world.officer_a):
        service.save_figures(world.officer_a, five[5], YEAR, {**FIVE[5], "tax": 15000})
    db.session.commit()
    _run(world)
    rows = db.session.scalars(select(EfficiencyResult).where(EfficiencyResult.year == YEAR)).all()
    assert len(rows) == 5 and {r.enterprise_id: r.klass for r in rows}[five[5].id] == "A"
    audited = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "EfficiencyResult", AuditEntry.action == "delete"))
    assert audited == 5


def test_who_may_enter_and_run(world, five):
    with pytest.raises(NotAllowed):
        service.run_evaluation(world.officer_a, world.zone_a.id, YEAR)
    with pytest.raises(NotAllowed):
        service.run_evaluation(world.chief_b, world.zone_a.id, YEAR)
    with pytest.raises(NotAllowed):
        service.save_figures(world.officer_b, five[1], YEAR, {"tax": 1})
    with pytest.raises(ServiceError, match="在园企业"):  # a target firm (no zone) has no yearly figures
        service.save_figures(world.admin, world.enterprise, YEAR, {"tax": 1})
    with pytest.raises(ServiceError, match="还没有"):
        service.run_evaluation(world.chief_a, world.zone_a.id, YEAR + 1)
    with pytest.raises(ServiceError, match="不能为负数"):
        service.save_figures(world.officer_a, five[1], YEAR, {"tax": D(-1)})


def test_ranking_page_shows_points_class_change_and_distributions(world, five, login_as, count_queries):
    # Last year only firms 1 (first: A) and 3 (second: C, as B ends at round(1.4) = 1) were evaluated.
    with acting_as(db.session, world.officer_a):
        service.save_figures(world.officer_a, five[1], YEAR - 1, {**FIVE[1], "tax": 4000})
        service.save_figures(world.officer_a, five[3], YEAR - 1, {**FIVE[3], "tax": 1})
    segment = db.session.scalars(select(Segment).order_by(Segment.id).limit(1)).one()
    db.session.add(EnterpriseSegment(enterprise_id=five[1].id, segment_id=segment.id, is_primary=True))
    db.session.commit()
    _run(world, YEAR - 1)
    _run(world)
    client = login_as(world.viewer_a)
    with count_queries() as queries:
        page = client.get(f"/efficiency/?zone_id={world.zone_a.id}&year={YEAR}").get_data(as_text=True)
    assert "亩均测试3号有限公司" in page and "153.34" in page and "66.67" in page  # points per indicator
    rows = {m[0]: m[1] for m in re.findall(r'>(亩均测试\d号有限公司)</a>.*?<td>([^<]*(?:<span[^>]*>[^<]*</span>)?)</td>\s*<td class="small">',
                                          page, re.S)}
    assert rows["亩均测试3号有限公司"] == "↑ 升 2 档（C）"  # C last year, A now
    assert rows["亩均测试1号有限公司"] == "↓ 降 1 档（A）"  # A last year, B now
    assert "上年未评" in rows["亩均测试2号有限公司"]
    assert "综合能耗" in page  # firm 4's missing figure is named
    assert "开展评价" not in page and "重新评价" not in page  # a viewer reads, does not run
    assert len(queries) <= 14
    chief = login_as(world.chief_a).get(f"/efficiency/?zone_id={world.zone_a.id}&year={YEAR}").get_data(as_text=True)
    assert "重新评价" in chief
    chains = service.by_chain(world.viewer_a, world.zone_a.id, YEAR)
    assert len(chains) == 1 and chains[0]["B"] == 1 and chains[0]["total"] == 1
    assert f"<td>{chains[0]['chain']}</td>" in page
    assert service.ranking(world.viewer_a, world.zone_a.id, YEAR).by_class == {"A": 1, "B": 3, "C": 1, "D": 0}


def test_pages_per_role(world, five, login_as):
    _run(world)
    firm = five[4]
    ranking = f"/efficiency/?zone_id={world.zone_a.id}&year={YEAR}"
    assert login_as(world.officer_a).get(ranking).status_code == 403  # reports are for readers of reports
    assert login_as(world.chief_b).get(ranking).status_code == 404  # another zone's
    officer = login_as(world.officer_a).get(f"/efficiency/enterprises/{firm.id}").get_data(as_text=True)
    assert "41.17" in officer and "缺少数据（该项计 0 分）：综合能耗" in officer and "填报年度数据" in officer
    viewer = login_as(world.viewer_a).get(f"/efficiency/enterprises/{firm.id}").get_data(as_text=True)
    assert "41.17" in viewer and "填报年度数据" not in viewer
    assert login_as(world.viewer_a).get(f"/efficiency/enterprises/{firm.id}/figures").status_code == 403
    assert login_as(world.officer_b).get(f"/efficiency/enterprises/{firm.id}").status_code == 404
    detail = login_as(world.officer_a).get(f"/enterprises/{firm.id}").get_data(as_text=True)
    assert f"/efficiency/enterprises/{firm.id}" in detail  # the block on the enterprise page
    # The form: a negative figure is refused beside its field, nothing written.
    client = login_as(world.officer_a)
    response = client.post(f"/efficiency/enterprises/{firm.id}/figures",
                           data={"year": YEAR, "land_mu": "-5", "tax": "30"})
    assert response.status_code == 200 and "不能为负数" in response.get_data(as_text=True)
    assert service.figures_of(firm.id, YEAR).land_mu == D(5)
    response = client.post(f"/efficiency/enterprises/{firm.id}/figures",
                           data={"year": YEAR, "land_mu": "5", "tax": "30", "energy_tce": "100"})
    assert response.status_code == 302
    db.session.expire_all()
    assert service.figures_of(firm.id, YEAR).energy_tce == D(100)


def test_method_setting_is_validated_and_used(world, five, login_as):
    client = login_as(world.chief_a)
    url = f"/efficiency/zones/{world.zone_a.id}/method"
    bad = client.post(url, data={"method": '{"indicators": [], "classes": {"by": "share"}}'}).get_data(as_text=True)
    assert "至少需要一项指标" in bad
    assert "不是有效的 JSON" in client.post(url, data={"method": "{"}).get_data(as_text=True)
    method = ('{"name": "只看亩均税收", "indicators": [{"key": "tax_per_mu", "weight": 100, "benchmark": 10}],'
              ' "classes": {"by": "score", "thresholds": {"A": 150, "B": 100, "C": 50}}}')
    assert client.post(url, data={"method": method}).status_code == 302
    made = {r.enterprise_id: (r.score, r.klass) for r in _run(world)}
    assert made[five[1].id] == (D("200.00"), "A") and made[five[5].id] == (D("30.00"), "D")
    assert made[five[3].id] == (D("200.00"), "A")  # no small-firm rules in this method
    assert login_as(world.viewer_a).post(url, data={"method": method}).status_code == 403


def test_workbook_export(world, five, login_as):
    _run(world)
    response = login_as(world.chief_a).post(f"/efficiency/zones/{world.zone_a.id}/ranking.xlsx?year={YEAR}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1]) for r in rows] == [(1, "亩均测试3号有限公司"), (2, "亩均测试1号有限公司"),
                                            (3, "亩均测试2号有限公司"), (4, "亩均测试4号有限公司"),
                                            (5, "亩均测试5号有限公司")]
    header = [c.value for c in sheet[2]]
    assert rows[0][header.index("总分")] == pytest.approx(153.34) and rows[4][header.index("分类")] == "C"
    assert rows[3][header.index("缺少数据")] == "综合能耗"


def _upload(client, world, rows):
    response = client.post(f"/efficiency/zones/{world.zone_a.id}/import",
                           data={"year": YEAR + 1, "file": (io.BytesIO(xlsx(rows)), "亩均.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_import_reports_bad_rows_by_row_and_column_and_writes_nothing(world, five, login_as):
    client = login_as(world.officer_a)
    head = ["企业名称", "统一社会信用代码", "用地面积（亩）", "税收（万元）", "营业收入（万元）", "年均职工人数"]
    preview = _upload(client, world, [head,
                                      ["亩均测试1号有限公司", five[1].uscc, -3, 500, 100, 10],  # negative land
                                      ["亩均测试2号有限公司", five[2].uscc, 10, -1, 100, 10],  # negative tax
                                      ["亩均测试3号有限公司", five[3].uscc, 2, 900, 100, 10],  # tax > revenue: fine
                                      ["不存在的企业有限公司", "", 5, 1, 1, 1]])
    page = client.get(preview).get_data(as_text=True)
    problems = re.findall(r"<tr><td>(\d+)</td><td>([A-Z]*)</td><td>[^<]*</td><td>([^<]+)</td></tr>", page)
    assert ("2", "C", "用地面积不能为负数") in problems
    assert ("3", "D", "金额不能为负数") in problems
    assert any(row == "5" and column == "A" and "不是本园区的在园企业" in text for row, column, text in problems)
    assert len(problems) == 3 and "确认导入" not in page
    commit = preview.replace("?", "/commit?", 1)
    response = client.post(commit)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(EfficiencyFigures)
                             .where(EfficiencyFigures.year == YEAR + 1)) == 0


def test_import_commits_every_row(world, five, login_as):
    client = login_as(world.officer_a)
    preview = _upload(client, world, [["统一社会信用代码", "用地面积", "税收", "营业收入", "工业增加值", "用电量（千瓦时）"],
                                      [five[1].uscc, 20, 450, 8000, 2400, 100000],
                                      [five[3].uscc, 2, 40, "800", "", 400000]])
    page = client.get(preview).get_data(as_text=True)
    assert "将写入 2 家企业" in page and "确认导入" in page
    # Another person's upload is not there for them; the ledger import's pages do not open it either.
    assert login_as(world.chief_a).get(preview).status_code == 404
    token = preview.split("/import/")[1].split("?")[0]
    assert login_as(world.officer_a).get(f"/imports/{token}").status_code == 404
    client = login_as(world.officer_a)
    assert client.post(preview.replace("?", "/commit?", 1)).status_code == 302
    db.session.expire_all()
    assert service.figures_of(five[1].id, YEAR + 1).tax == D(450)
    assert service.figures_of(five[3].id, YEAR + 1).electricity_kwh == D(400000)
    assert login_as(world.officer_a).get(preview).status_code == 404  # written: the upload is gone


def test_deleted_figures_leave_the_run_and_come_back_from_the_trash(world, five, login_as):
    row = service.figures_of(five[5].id, YEAR)
    client = login_as(world.officer_a)
    assert client.post(f"/efficiency/figures/{row.id}/delete").status_code == 302
    assert len(_run(world)) == 4
    admin = login_as(world.admin)
    assert "亩均测试5号有限公司 2025 年" in admin.get("/admin/trash?kind=efficiency").get_data(as_text=True)
    assert admin.post(f"/admin/trash/efficiency/{row.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(EfficiencyFigures, row.id).deleted_at is None
    assert len(_run(world)) == 5


def test_ranking_and_firm_pages_do_not_query_per_firm(world, five, login_as, count_queries):
    _run(world)
    client = login_as(world.chief_a)
    url = f"/efficiency/?zone_id={world.zone_a.id}&year={YEAR}"
    with count_queries() as few:
        assert client.get(url).status_code == 200
    with acting_as(db.session, world.officer_a):
        for n in range(20):
            firm = f.make_enterprise(world.officer_a, name=f"亩均加测{n}有限公司", zone_id=world.zone_a.id)
            service.save_figures(world.officer_a, firm, YEAR, {"land_mu": 10, "tax": n, "revenue": 100})
    db.session.commit()
    _run(world)
    with count_queries() as many:
        page = client.get(url).get_data(as_text=True)
    assert "亩均加测19有限公司" in page
    assert len(many) == len(few), (len(few), len(many))


def test_reads_are_scoped_to_the_readers_zones(world, five):
    _run(world)
    assert len(service.ranking(world.viewer_a, world.zone_a.id, YEAR).results) == 5
    assert service.ranking(world.chief_b, world.zone_a.id, YEAR).results == []
    assert service.history(world.chief_b, five[1]) == []
