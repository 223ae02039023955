"""In Chromium: a project signed for a firm of a 缺 segment shows on the chain map's panel at once."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_chain_map import _NODE_PIXEL, _wait_for_chart

pytestmark = [pytest.mark.no_db, pytest.mark.browser]


def _missing_segment_with_a_target(live_server) -> tuple[str, str, int]:
    """(chain code, segment code, firm id): a segment officer1's zone lacks, and a target firm whose primary it is."""
    from crm.accounts.models import User
    from crm.catalog.models import EnterpriseSegment, Segment
    from crm.chains import gaps as analysis
    from crm.extensions import db
    from crm.library.models import Enterprise
    from crm.pipeline.models import Project

    with live_server.app.app_context():
        try:
            officer = db.session.scalars(select(User).where(User.username == "officer1")).one()
            worked = set(db.session.scalars(select(Project.enterprise_id)))
            for chain in ("aluminium", "lithium", "photovoltaic", "nev", "food", "pharma"):
                report = analysis.analyse_chain(officer, chain)
                panel_free = {code for code in report.own_codes()
                              if report.record_by_code[code].status == "missing"
                              and not report.pipeline.by_stage.get(code)}
                rows = db.session.execute(
                    select(Segment.code, Enterprise.id)
                    .join(EnterpriseSegment, EnterpriseSegment.segment_id == Segment.id)
                    .join(Enterprise, Enterprise.id == EnterpriseSegment.enterprise_id)
                    .where(Segment.code.in_(panel_free), EnterpriseSegment.is_primary.is_(True),
                           Enterprise.zone_id.is_(None), Enterprise.deleted_at.is_(None))
                    .order_by(Segment.code, Enterprise.id)
                ).tuples().all()
                for code, firm_id in rows:
                    if firm_id not in worked and not analysis.active_projects(officer, code, report.zone_ids):
                        return chain, code, firm_id
        finally:
            db.session.remove()
    pytest.skip("the demo city has no missing segment with a target firm")


def _open_panel(page, chain: str, code: str):
    page.goto(f"/chains/{chain}")
    _wait_for_chart(page)
    x, y = page.evaluate(_NODE_PIXEL, code)
    box = page.locator("#chain-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.get_by_test_id("panel-title").wait_for()
    return page.get_by_test_id("segment-panel")


def test_a_signed_project_fills_the_panel_of_a_missing_segment(page, live_server):
    chain, code, firm_id = _missing_segment_with_a_target(live_server)
    sign_in(page, "officer1")
    panel = _open_panel(page, chain, code)
    assert "缺" in page.get_by_test_id("panel-title").inner_text()
    assert "暂无关联该环节的在办项目" in panel.inner_text()

    page.goto(f"/enterprises/{firm_id}")
    page.get_by_role("link", name="新建项目").click()
    selected = page.locator("#segment_ids option:checked")
    assert selected.count() == 1 and code in selected.inner_text()  # the firm's primary segment, preselected
    page.get_by_label("项目名称").fill("浏览器测试环节项目")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    assert code not in page.get_by_test_id("project-segments").inner_text()  # names, not codes
    page.get_by_label("目标阶段").select_option("签约")
    page.get_by_label("节点日期").fill(date.today().isoformat())
    page.get_by_label("协议投资额（万元）").fill("118000")
    page.get_by_role("button", name="确认").click()
    assert page.get_by_text("项目已推进到“签约”").is_visible()
    page.get_by_test_id("project-segments").get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/chains/{chain}\?zone_id=\d+$"))

    panel = _open_panel(page, chain, code)
    text = panel.inner_text()
    assert "暂无关联该环节的在办项目" not in text
    assert "浏览器测试环节项目" in text and "签约/在建项目 1 个" in text
    assert "弱" in page.get_by_test_id("panel-title").inner_text()
    screenshot(page, "flow-segment-project-panel")
