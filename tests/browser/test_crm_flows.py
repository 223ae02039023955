"""The officer's daily flows, end to end in Chromium against the demo city (CSRF on)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]


def _query(live_server, fn):
    from crm.extensions import db

    with live_server.app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def test_create_an_enterprise_and_see_the_duplicate_warning(page, live_server):
    from crm.library.models import Enterprise

    existing = _query(live_server, lambda s: s.scalars(
        select(Enterprise.name).where(Enterprise.name.like("%有限公司")).order_by(Enterprise.id)).first())
    variant = existing.replace("有限公司", "（中国）有限公司", 1)
    sign_in(page, "officer1")
    page.goto("/enterprises/new")
    page.get_by_label("企业名称").fill(variant)
    page.get_by_role("button", name="保存").click()
    warning = page.get_by_test_id("duplicate-warning")
    assert warning.is_visible() and existing in warning.inner_text()
    screenshot(page, "flow-duplicate-warning")
    page.get_by_label("我已核对疑似重复企业，仍要保存").check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert page.get_by_role("heading", name=variant).is_visible()


def test_create_a_project_and_advance_it_to_signing(page, live_server):
    from crm.library.models import Enterprise

    firm_id = _query(live_server, lambda s: s.scalars(
        select(Enterprise.id).where(Enterprise.zone_id.is_(None)).order_by(Enterprise.id.desc())).first())
    sign_in(page, "officer1")
    page.goto(f"/enterprises/{firm_id}")
    page.get_by_role("link", name="新建项目").click()
    page.get_by_label("项目名称").fill("浏览器测试签约项目")
    page.get_by_label("计划投资额（万元）").fill("20000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    for stage in ("接洽", "考察", "洽谈"):
        page.get_by_label("目标阶段").select_option(stage)
        page.get_by_role("button", name="确认").click()
        assert page.get_by_text(f"项目已推进到“{stage}”").is_visible()
    page.get_by_label("目标阶段").select_option("签约")
    page.get_by_role("button", name="确认").click()
    assert page.get_by_text("签约须填写协议投资额").is_visible()
    page.get_by_label("目标阶段").select_option("签约")
    page.get_by_label("节点日期").fill(date.today().isoformat())
    page.get_by_label("协议投资额（万元）").fill("18000")
    page.get_by_role("button", name="确认").click()
    assert page.get_by_text("项目已推进到“签约”").is_visible()
    timeline = page.get_by_test_id("timeline").inner_text()
    assert [line for line in timeline.splitlines() if "→" in line][-1].strip() == "洽谈 → 签约"
    assert page.get_by_test_id("ledger-card").is_visible()
    screenshot(page, "flow-project-signed")


def test_log_a_visit_and_see_its_next_step_in_my_work(page, live_server):
    from crm.library.models import Enterprise

    firm_id = _query(live_server, lambda s: s.scalars(select(Enterprise.id).order_by(Enterprise.id)).first())
    sign_in(page, "officer2")
    page.goto(f"/visits/new?enterprise_id={firm_id}")
    page.get_by_label("方式").select_option("来访考察")
    page.get_by_label("走访日期", exact=True).fill(date.today().isoformat())
    page.get_by_label("洽谈内容").fill("企业高管来园考察标准厂房")
    page.get_by_label("下一步工作").fill("浏览器测试：寄送厂房租金方案")
    page.get_by_label("下一步期限").fill((date.today() + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/visits/\d+$"))
    page.get_by_role("link", name="我的工作").click()
    upcoming = page.get_by_test_id("upcoming")
    assert "浏览器测试：寄送厂房租金方案" in upcoming.inner_text()
    screenshot(page, "flow-my-work")


def test_admin_resolves_a_first_report_conflict(page, browser, live_server, browser_log):
    from crm.library.models import Enterprise
    from crm.pipeline.models import Project
    from crm.accounts.zones import Zone

    def held_by_zone_two(s):
        zone_two = s.scalars(select(Zone.id).order_by(Zone.id).offset(1)).first()
        return s.execute(
            select(Enterprise.id, Enterprise.name).join(Project, Project.enterprise_id == Enterprise.id)
            .where(Project.zone_id == zone_two, Project.stage.in_(["线索", "接洽", "考察", "洽谈"]),
                   Project.deleted_at.is_(None))
            .order_by(Enterprise.id)).first()

    firm_id, firm_name = _query(live_server, held_by_zone_two)
    sign_in(page, "officer1")
    page.goto(f"/projects/new?enterprise_id={firm_id}")
    assert "江州高新技术产业开发区" in page.get_by_test_id("first-report-warning").inner_text()
    page.get_by_label("项目名称").fill("首报争议测试项目")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_text("已提交市投促中心裁定").is_visible()

    admin = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    try:
        sign_in(admin, "admin")
        admin.goto("/admin/first-reports")
        card = admin.get_by_test_id("conflict").filter(has_text="首报争议测试项目")
        card.get_by_label(re.compile("由江州高新技术产业开发区保留")).check()
        card.get_by_placeholder("裁定理由").fill("乙园区首报在先，已完成考察")
        card.get_by_role("button", name="裁定").click()
        assert admin.get_by_text("已裁定：江州高新技术产业开发区 保留该企业").is_visible()
        decided = admin.get_by_test_id("conflict").filter(has_text="首报争议测试项目")
        assert "已裁定" in decided.inner_text()
        screenshot(admin, "flow-first-report-decided")
    finally:
        admin.context.close()

    page.goto("/projects/?q=首报争议测试项目")
    page.get_by_role("link", name="首报争议测试项目").click()
    # officer1's zone lost: its project is dropped with the ruling as the reason, on the timeline too.
    assert page.get_by_text(re.compile("^原因：首报首谈裁定：由江州高新技术产业开发区继续跟进")).is_visible()
    assert "→ 终止" in page.get_by_test_id("timeline").inner_text()
    assert firm_name in page.content()
