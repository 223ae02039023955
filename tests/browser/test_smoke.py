"""The smallest journey: sign in, see the dashboard, sign out, and stay out."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]


def test_sign_in_see_the_dashboard_sign_out(page, live_server):
    sign_in(page, "officer1")
    assert re.fullmatch(rf"{re.escape(live_server.url)}/", page.url)
    assert page.get_by_role("heading", name="工作台").is_visible()
    whoami = page.get_by_test_id("whoami")
    assert "王晓明" in whoami.inner_text()
    assert "江州经济技术开发区" in whoami.inner_text()  # officer1's zone
    assert int(page.get_by_test_id("kpi-total").inner_text()) > 0  # the demo pipeline is there
    assert screenshot(page, "smoke-dashboard").stat().st_size > 0

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert page.get_by_role("button", name="登录").is_visible()
    assert page.get_by_text("已退出登录").is_visible()

    page.goto("/")
    assert re.search(r"/login\?next=%2F$", page.url), page.url
    assert page.get_by_role("button", name="登录").is_visible()


def test_a_wrong_password_in_the_browser_shows_the_chinese_message(page):
    sign_in_failed = page.goto("/login")
    assert sign_in_failed.ok
    page.get_by_label("用户名").fill("officer1")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert page.get_by_text("用户名或密码错误").is_visible()
    assert page.url.endswith("/login")
