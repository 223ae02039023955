"""Import a projects ledger in the browser: upload, see the dry-run errors, fix the mapping, commit."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.imports.builders import xlsx

pytestmark = [pytest.mark.no_db, pytest.mark.browser]

ROWS = [
    ["2024年3月经开区招商项目台账"],
    ["项目称谓", "企业名称", "阶段", "计划投资（万元）", "签约时间（预计）", "负责人"],
    ["浏览器导入铝箔项目", "浏览器导入铝业有限公司", "洽谈", "1.2亿元", None, "officer1"],
    ["浏览器导入电池项目", "浏览器导入新能源有限公司", "接洽", "3,000", "下半年", "王晓明"],
    ["浏览器导入食品项目", "浏览器导入食品有限公司", "线索", None, None, None],
]


def test_upload_see_errors_fix_the_mapping_commit_see_the_projects(page, live_server, tmp_path):
    ledger = tmp_path / "三月项目台账.xlsx"
    ledger.write_bytes(xlsx(ROWS, merges=("A1:F1",)))
    sign_in(page, "officer1")

    page.get_by_role("link", name="导入").click()
    page.get_by_label("台账文件（.xlsx 或 .csv）").set_input_files(str(ledger))
    page.get_by_label("导入内容").select_option("projects")
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_url(re.compile(r"/imports/[A-Za-z0-9_-]{32}$"))

    problems = page.get_by_test_id("problems")
    assert "缺少必填列“项目名称”" in problems.inner_text()
    row = problems.get_by_role("row").filter(has_text="下半年")
    assert "第 4 行" in row.inner_text() and "签约时间（预计）" in row.inner_text()
    assert page.get_by_test_id("commit").is_disabled()
    assert page.get_by_test_id("report-link").is_visible()
    screenshot(page, "import-preview-errors")

    page.get_by_label("项目称谓").select_option("name")
    page.get_by_label("签约时间（预计）").select_option("")
    page.get_by_role("button", name="按此对应重新检查").click()
    page.wait_for_load_state()
    assert "检查通过" in page.get_by_test_id("plan-ok").inner_text()
    assert page.get_by_test_id("problems").count() == 0
    plan = page.get_by_test_id("plan").inner_text()
    assert "新建项目" in plan and "浏览器导入电池项目" in plan

    page.once("dialog", lambda dialog: dialog.accept())  # the “确认导入？” confirmation
    page.get_by_test_id("commit").click()
    page.wait_for_url(re.compile(r"/imports/batches/\d+$"))
    assert "已导入" in page.get_by_role("alert").first.inner_text()

    page.goto("/projects/?q=浏览器导入")
    listing = page.get_by_role("table").inner_text()
    for name in ("浏览器导入铝箔项目", "浏览器导入电池项目", "浏览器导入食品项目"):
        assert name in listing
    assert "王晓明" in listing
