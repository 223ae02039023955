"""The import pages: upload → preview with problems → fix the mapping → commit → the records are there."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.extensions import db
from crm.imports.models import ImportBatch, ImportUpload
from crm.jobs.models import Job
from crm.pipeline.models import Project
from tests.imports.builders import xlsx
from tests.imports.conftest import count

PROJECT_ROWS = [
    ["2024年甲园区项目台账"],
    ["项目称谓", "企业名称", "阶段", "计划投资（万元）", "签约时间（预计）"],
    ["页面导入项目一", "页面导入企业一有限公司", "洽谈", "3,000", None],
    ["页面导入项目二", "页面导入企业二有限公司", "接洽", "0.5亿元", "下半年"],
    ["页面导入项目三", "江苏宏达铝业有限公司", "线索", None, None],
]


def upload(client, rows_or_data, filename="台账.xlsx", follow_redirects=False, **form):
    data = rows_or_data if isinstance(rows_or_data, bytes) else xlsx(rows_or_data)
    return client.post("/imports/", data={"file": (io.BytesIO(data), filename), "kind": "projects", **form},
                       content_type="multipart/form-data", follow_redirects=follow_redirects)


def token_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return re.fullmatch(r".*/imports/([A-Za-z0-9_-]{32})", response.headers["Location"]).group(1)


def test_upload_preview_fix_mapping_commit_and_see_the_projects(world, login_as, uploads):
    client = login_as(world.officer_a)
    token = token_of(upload(client, PROJECT_ROWS))
    assert uploads() == [token]
    stored = db.session.scalars(select(ImportUpload)).one()
    assert (stored.uploader_id, stored.zone_id, stored.kind) == (world.officer_a.id, world.zone_a.id, "projects")
    assert stored.plan is not None  # the dry run (a job) planned it once; every preview reads this

    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert "缺少必填列“项目名称”" in page
    assert "第 4 行" in page and "无法识别的日期“下半年”" in page
    assert 'data-testid="commit" disabled' in page
    assert "表头在第 2 行" in page and "计划投资（万元）" in page

    # 项目称谓 is 项目名称; the “expected signing” column is a plan, not a date to import.
    mapping = {"col_0": "name", "col_1": "enterprise_name", "col_2": "stage", "col_3": "planned_investment",
               "col_4": ""}
    assert client.post(f"/imports/{token}/mapping", data=mapping).status_code == 302
    page = client.get(f"/imports/{token}").get_data(as_text=True)
    assert "检查通过" in page and 'data-testid="commit" disabled' not in page
    assert "新建项目 3 条" in page and "按名称匹配到已有企业“江苏宏达铝业有限公司”" in page

    response = client.post(f"/imports/{token}/commit")
    batch = db.session.scalars(select(ImportBatch)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/batches/{batch.id}")
    assert uploads() == []  # the upload is gone once imported
    job = db.session.scalars(select(Job).where(Job.kind == "import_commit")).one()
    assert (job.state, job.owner_id, job.result_ref["args"]) == ("done", world.officer_a.id, {"batch_id": batch.id})
    receipt = client.get(f"/imports/batches/{batch.id}").get_data(as_text=True)
    assert "页面导入项目一" in receipt and "撤销本批次" not in receipt  # only the admin reverts
    listing = client.get("/projects/").get_data(as_text=True)
    assert all(name in listing for name in ("页面导入项目一", "页面导入项目二", "页面导入项目三"))
    project = db.session.scalars(select(Project).where(Project.name == "页面导入项目二")).one()
    assert str(project.planned_investment) == "5000.00" and project.zone_id == world.zone_a.id


def test_the_error_report_lists_row_column_value_and_problem(world, login_as, uploads):
    client = login_as(world.officer_a)
    token = token_of(upload(client, PROJECT_ROWS))
    response = client.get(f"/imports/{token}/report.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[1] == ["行号", "列", "单元格内容", "问题", "对应字段"]
    assert ["整个文件", "项目名称", None, rows[2][3], "项目名称"] == rows[2] and "缺少必填列" in rows[2][3]
    assert rows[3][:3] == [4, "签约时间（预计）", "下半年"] and "无法识别的日期" in rows[3][3]
    assert rows[3][4] == "签约日期"  # the field, in the field table's words


def test_committing_a_file_with_problems_writes_nothing(world, login_as, uploads):
    client = login_as(world.officer_a)
    token = token_of(upload(client, PROJECT_ROWS))
    before = count(Project)
    page = client.post(f"/imports/{token}/commit", follow_redirects=True).get_data(as_text=True)
    assert "未导入任何数据" in page
    assert count(Project) == before and count(ImportBatch) == 0


@pytest.mark.parametrize("data, filename, message", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "台账.xlsx", "不是有效的 Excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "台账.xlsx", "文件已加密或为旧版 .xls"),
    (xlsx([["企业名称"], ["甲"]]), "台账.xlsm", "不支持启用宏的 .xlsm"),
])
def test_a_refused_upload_says_why_and_keeps_nothing(world, login_as, uploads, data, filename, message):
    client = login_as(world.officer_a)
    response = upload(client, data, filename, follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert uploads() == []


def test_size_and_row_limits_come_from_settings(world, login_as, uploads, app, monkeypatch):
    client = login_as(world.officer_a)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 2)
    assert "超过 2 行的上限" in upload(client, PROJECT_ROWS, follow_redirects=True).get_data(as_text=True)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 100)
    assert "文件太大" in upload(client, PROJECT_ROWS).get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    assert upload(client, PROJECT_ROWS).status_code == 413


def test_an_upload_is_the_uploaders_alone_and_expires(world, login_as, uploads, client):
    token = token_of(upload(login_as(world.officer_a), PROJECT_ROWS))
    other = login_as(world.chief_a)
    assert other.get(f"/imports/{token}").status_code == 404
    assert other.post(f"/imports/{token}/commit").status_code == 404
    assert other.get("/imports/../../config.py").status_code == 404
    mine = login_as(world.officer_a)
    stored = db.session.scalars(select(ImportUpload).where(ImportUpload.token == token)).one()
    stored.created_at = datetime.now(UTC) - timedelta(days=2)
    db.session.commit()
    assert mine.get(f"/imports/{token}").status_code == 404


def test_discard_removes_the_upload(world, login_as, uploads):
    client = login_as(world.officer_a)
    token = token_of(upload(client, PROJECT_ROWS))
    assert client.post(f"/imports/{token}/discard").status_code == 302
    assert uploads() == []


@pytest.mark.parametrize("role, expected", [("officer_a", 200), ("chief_a", 200), ("admin", 200), ("viewer_a", 403)])
def test_writers_only(world, login_as, role, expected):
    client = login_as(getattr(world, role))
    assert client.get("/imports/").status_code == expected
    assert client.post("/imports/", data={}).status_code in ({200} if expected == 200 else {403})


def test_the_nav_shows_import_to_writers_only(world, login_as):
    assert 'href="/imports/"' in login_as(world.officer_a).get("/").get_data(as_text=True)
    assert 'href="/imports/"' not in login_as(world.viewer_a).get("/").get_data(as_text=True)


def test_admin_reverts_a_batch_from_its_page(world, login_as, uploads):
    client = login_as(world.admin)
    token = token_of(upload(client, [["企业名称", "项目名称", "负责人"], ["撤销页企业有限公司", "撤销页项目", "officer_a"]],
                            zone_id=world.zone_a.id))
    client.post(f"/imports/{token}/commit")
    batch = db.session.scalars(select(ImportBatch)).one()
    assert login_as(world.officer_a).post(f"/imports/batches/{batch.id}/revert").status_code == 403
    client = login_as(world.admin)
    assert "撤销本批次" in client.get(f"/imports/batches/{batch.id}").get_data(as_text=True)
    page = client.post(f"/imports/batches/{batch.id}/revert", follow_redirects=True).get_data(as_text=True)
    assert "已撤销" in page
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch.id).status == "reverted"
    assert db.session.scalars(select(Project).where(Project.name == "撤销页项目")).one().deleted_at is not None


def test_preview_and_batch_pages_run_a_bounded_number_of_queries(world, login_as, uploads, count_queries):
    client = login_as(world.officer_a)
    small = [["项目名称", "企业名称"]] + [[f"查询项目{i}", f"查询企业{i}有限公司"] for i in range(3)]
    large = [["项目名称", "企业名称"]] + [[f"查询项目{i}", f"查询企业{i}有限公司"] for i in range(60)]
    counts = []
    for rows in (small, large):
        token = token_of(upload(client, rows))
        with count_queries() as statements:
            assert client.get(f"/imports/{token}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    token = token_of(upload(client, large))
    client.post(f"/imports/{token}/commit")
    batch = db.session.scalars(select(ImportBatch)).one()
    with count_queries() as statements:
        assert client.get(f"/imports/batches/{batch.id}").status_code == 200
    assert len(statements) <= 12, len(statements)


def test_an_upload_name_with_a_line_break_still_gets_its_problem_report(world, login_as, uploads):
    """Its problem report answered 500: the name went into the Content-Disposition header as it was."""
    client = login_as(world.officer_a)
    token = token_of(upload(client, PROJECT_ROWS, filename="园区\u2028台账\u0085\x0b.xlsx"))
    response = client.get(f"/imports/{token}/report.xlsx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert not any(ch in disposition for ch in "\n\r\x0b\x85\u2028") and "xlsx" in disposition
