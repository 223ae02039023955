"""企业诉求 end to end in Chromium (CSRF on): take a request, close it with a reply, rate it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]


def _local_firm(live_server):
    from crm.accounts.models import User
    from crm.extensions import db
    from crm.library.models import Enterprise

    with live_server.app.app_context():
        try:
            officer = db.session.scalars(select(User).where(User.username == "officer1")).one()
            return db.session.scalars(select(Enterprise.id).where(
                Enterprise.zone_id.in_(officer.zone_ids), Enterprise.deleted_at.is_(None))
                .order_by(Enterprise.id)).first()
        finally:
            db.session.remove()


def test_take_close_and_rate_a_request(page, live_server):
    firm_id = _local_firm(live_server)
    sign_in(page, "officer1")
    page.goto(f"/enterprises/{firm_id}")
    page.get_by_role("link", name="受理诉求").click()
    page.get_by_role("button", name="保存").click()  # no category yet
    assert page.get_by_text("请选择诉求类别").is_visible()
    page.get_by_label("诉求类别").select_option("水电气")
    page.get_by_label("诉求内容").fill("新厂房需增容 2000kVA")
    page.get_by_label("承办部门").fill("供电公司")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/service/\d+$"))
    page.get_by_role("button", name="开始办理").click()
    page.get_by_label("答复意见").fill("已协调供电公司，月底送电")
    page.get_by_role("button", name="办结").click()
    assert page.locator("[data-status]").inner_text() == "办结"
    page.get_by_label("企业满意度").select_option("满意")
    page.get_by_role("button", name="记录评价").click()
    assert page.locator("[data-rating]").inner_text() == "满意"
    assert "月底送电" in page.locator("[data-reply]").inner_text()
    screenshot(page, "flow-service-request")
