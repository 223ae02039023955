"""履约监管 in Chromium (CSRF on): a zone chief finds a project flagged as idle land and records a 约谈."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]


def _idle_project(live_server) -> tuple[int, str]:
    """A project of chief1's zone, signed two years ago, agreed to start 18 months ago, never started."""
    from crm.accounts.models import User
    from crm.audit.log import acting_as
    from crm.extensions import db
    from crm.ledger.service import update_commitments
    from crm.library.models import Enterprise
    from crm.pipeline.service import change_stage, create_project

    today = date.today()
    with live_server.app.app_context():
        try:
            chief = db.session.scalar(select(User).where(User.username == "chief1"))
            firm = db.session.scalars(select(Enterprise).where(Enterprise.zone_id.is_(None)).order_by(Enterprise.id)).first()
            with acting_as(db.session, chief):
                project = create_project(chief, firm, {"name": "浏览器闲置土地项目", "zone_id": chief.zone_ids[0]})
                change_stage(chief, project, "签约", contract_investment=8000, on_date=today - timedelta(days=730))
                update_commitments(chief, project, {"due_started": today - timedelta(days=540)})
            db.session.commit()
            return project.id, project.zone_id
        finally:
            db.session.remove()


def test_a_chief_flags_idle_land_and_records_an_action(page, live_server):
    project_id, zone_id = _idle_project(live_server)
    sign_in(page, "chief1")
    page.get_by_role("link", name="履约监管").first.click()
    page.wait_for_url(re.compile(r"/compliance/"))
    row = page.locator("tr", has_text="浏览器闲置土地项目")
    assert "满一年未动工" in row.inner_text()
    page.goto(f"/compliance/?zone_id={zone_id}&flagged=1")
    assert page.locator("tr[data-flagged]", has_text="浏览器闲置土地项目").count() == 1
    page.locator("tr", has_text="浏览器闲置土地项目").get_by_role("link", name="履约").click()
    page.wait_for_url(re.compile(rf"/compliance/projects/{project_id}$"))
    assert "仍未动工" in page.locator("[data-role=idle-flags]").inner_text()
    page.get_by_label("处置方式").select_option("限期整改")
    page.get_by_label("处置日期").fill(date.today().isoformat())
    page.get_by_label("整改期限").fill((date.today() + timedelta(days=90)).isoformat())
    page.get_by_label("文件/文号").fill("江开〔2026〕12号")
    page.get_by_role("button", name="登记处置").click()
    assert page.get_by_text("处置已登记：限期整改").is_visible()
    actions = page.locator("[data-role=actions]").inner_text()
    assert "限期整改" in actions and "江开〔2026〕12号" in actions
    screenshot(page, "flow-compliance-action")
    page.goto(f"/compliance/?zone_id={zone_id}")
    assert "限期整改" in page.locator("tr", has_text="浏览器闲置土地项目").inner_text()
