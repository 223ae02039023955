"""The chain builder: an Excel template in, the data files' checks by row and column, a preview, an audited save."""
from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.catalog.models import Chain, Segment, SegmentLink
from crm.chains.building import CHAIN_COLUMNS, LINK_COLUMNS, SEGMENT_COLUMNS
from crm.extensions import db

CHAIN_ROW = ["hydrogen", "氢能", "Hydrogen", "新能源", "2026.1"]
SEGMENTS = [
    ["H2-ELECTROLYSER", "电解槽", "Electrolyser", "上游", 3, "碱性电解槽、PEM 电解槽", "电解槽、制氢设备"],
    ["H2-PRODUCTION", "制氢", "Hydrogen production", "中游", 2, "绿氢", "制氢、绿氢"],
    ["H2-FUEL-CELL", "燃料电池", "Fuel cell", "下游", 5, "燃料电池电堆", "燃料电池、电堆"],
]
LINKS = [["H2-ELECTROLYSER", "H2-PRODUCTION"], ["H2-PRODUCTION", "H2-FUEL-CELL"], ["AL-SHEET", "H2-ELECTROLYSER"]]


def workbook(chain=CHAIN_ROW, segments=SEGMENTS, links=LINKS) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, columns, rows in (("产业链", CHAIN_COLUMNS, [chain]), ("环节", SEGMENT_COLUMNS, segments),
                                ("链接", LINK_COLUMNS, links)):
        sheet = book.create_sheet(name)
        sheet.append([label for _, label in columns])
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name="氢能.xlsx"):
    return client.post("/chains/build", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _payload(page: str) -> str:
    return unescape(re.search(r'name="payload"[^>]*value="([^"]*)"', page).group(1))


def test_the_template_has_the_three_sheets_with_their_headers(world, login_as):
    response = login_as(world.admin).get("/chains/build/template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["产业链", "环节", "链接", "填写说明"]
    assert [c.value for c in book["环节"][1]] == [label for _, label in SEGMENT_COLUMNS]


def test_upload_previews_then_saves_the_chain_at_once_and_audited(world, login_as):
    client = login_as(world.admin)
    response = upload(client, workbook())
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "预览：氢能" in page and "电解槽" in page and "AL-SHEET → H2-ELECTROLYSER" in page
    # Tiers in order, each segment under its tier.
    assert page.index("上游") < page.index("H2-ELECTROLYSER") < page.index("中游") < page.index("H2-PRODUCTION")
    assert db.session.scalar(select(func.count()).select_from(Chain).where(Chain.code == "hydrogen")) == 0

    response = client.post("/chains/build/save", data={"payload": _payload(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/chains/hydrogen")
    chain = db.session.scalars(select(Chain).where(Chain.code == "hydrogen")).one()
    segments = {s.code: s for s in db.session.scalars(select(Segment).where(Segment.chain_id == chain.id))}
    assert set(segments) == {"H2-ELECTROLYSER", "H2-PRODUCTION", "H2-FUEL-CELL"}
    assert segments["H2-ELECTROLYSER"].products == ["碱性电解槽", "PEM 电解槽"]
    assert segments["H2-FUEL-CELL"].value_add == 5
    assert db.session.scalar(select(func.count()).select_from(SegmentLink).where(
        SegmentLink.to_segment_id == segments["H2-ELECTROLYSER"].id)) == 1
    created = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type.in_(["Chain", "Segment", "SegmentLink"]), AuditEntry.action == "create",
        AuditEntry.actor_id == world.admin.id)).all()
    assert sorted(e.entity_type for e in created) == ["Chain"] + ["Segment"] * 3 + ["SegmentLink"] * 3
    assert client.get("/chains/hydrogen").status_code == 200
    # The same payload again: the chain exists now, nothing more is written.
    again = client.post("/chains/build/save", data={"payload": _payload(page)})
    assert again.status_code == 400 and "链代码 hydrogen 已存在" in again.get_data(as_text=True)


@pytest.mark.parametrize("segments, links, message", [
    ([SEGMENTS[0], ["H2-PRODUCTION", "制氢", "", "中间", 2, "", ""]], [], "环节表第 3 行 D 列（层级） (H2-PRODUCTION): 层级 tier 必须是"),
    ([SEGMENTS[0], ["H2-PRODUCTION", "制氢", "", "中游", 9, "", ""]], [], "环节表第 3 行 E 列（价值层级）"),
    ([SEGMENTS[0], ["H2-PRODUCTION", "制氢", "", "中游", 2, "", "氢"]], [], "环节表第 3 行 G 列（关键词）"),
    ([SEGMENTS[0], ["h2 production", "制氢", "", "中游", 2, "", ""]], [], "环节表第 3 行 A 列（环节代码）"),
    ([SEGMENTS[0], SEGMENTS[0]], [], "重复的环节代码 H2-ELECTROLYSER (环节 第 2 行 与 第 3 行)"),
    (SEGMENTS, [["H2-ELECTROLYSER", "H2-NOPE"]], "链接表第 2 行 [H2-ELECTROLYSER → H2-NOPE]: 未知环节代码 H2-NOPE"),
    (SEGMENTS, [["H2-ELECTROLYSER", "XX-NOPE"]], "未知环节代码 XX-NOPE"),
    ([["AL-NEW", "新环节", "", "上游", 2, "", ""]], [], "环节前缀 AL- 已被其他产业链使用"),
])
def test_problems_are_named_by_row_and_column_and_nothing_is_saved(world, login_as, segments, links, message):
    before = db.session.scalar(select(func.count()).select_from(Segment))
    page = upload(login_as(world.admin), workbook(segments=segments, links=links)).get_data(as_text=True)
    assert "未保存任何内容" in page and message in unescape(page), unescape(page)
    assert 'name="payload"' not in page
    assert db.session.scalar(select(func.count()).select_from(Segment)) == before


def test_an_existing_chain_code_is_refused(world, login_as):
    page = upload(login_as(world.admin), workbook(chain=["aluminium", "铝", "", "", "1"])).get_data(as_text=True)
    assert "链代码 aluminium 已存在" in page


@pytest.mark.parametrize("data, name, message", [
    (b"code,name\n", "chain.csv", "请上传下载的 .xlsx 模板"),
    (b"not a zip", "chain.xlsx", "文件"),
])
def test_files_that_are_not_the_template_are_refused_in_chinese(world, login_as, data, name, message):
    response = upload(login_as(world.admin), data, name)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert "1 处问题" in page  # said once, not once per sheet


def test_a_missing_sheet_or_column_is_named(world, login_as):
    book = Workbook()
    book.active.title = "产业链"
    book.active.append([label for _, label in CHAIN_COLUMNS])
    book.active.append(CHAIN_ROW)
    segments = book.create_sheet("环节")
    segments.append(["环节代码", "环节名称", "层级"])
    segments.append(["H2-X", "氢", "上游"])
    buffer = io.BytesIO()
    book.save(buffer)
    page = upload(login_as(world.admin), buffer.getvalue()).get_data(as_text=True)
    assert "环节表缺少列“价值层级”" in page and "链接表：工作簿中没有名为“链接”的工作表" in page


def test_a_forged_payload_is_checked_again(world, login_as):
    client = login_as(world.admin)
    bad = {"code": "hydrogen", "name": "氢能", "version": "1",
           "segments": [{"code": "H2-X", "name": "x", "tier": "顶游", "value_add": 3}], "links": []}
    for payload in (json.dumps(bad), "not json", json.dumps([1, 2])):
        response = client.post("/chains/build/save", data={"payload": payload})
        assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Chain).where(Chain.code == "hydrogen")) == 0


@pytest.mark.parametrize("role", ["officer_a", "chief_a", "viewer_a"])
def test_only_the_admin_builds_chains(world, login_as, role):
    client = login_as(getattr(world, role))
    assert client.get("/chains/build").status_code == 403
    assert upload(client, workbook()).status_code == 403
    assert client.post("/chains/build/save", data={"payload": "{}"}).status_code == 403


# --- a zone's leading chains ---------------------------------------------------------------


def test_a_chief_chooses_the_zone_leading_chains_on_the_index(world, login_as):
    client = login_as(world.chief_a)
    page = client.get(f"/chains/?zone_id={world.zone_a.id}").get_data(as_text=True)
    assert 'data-testid="leading-chains-form"' in page
    response = client.post(f"/chains/leading/{world.zone_a.id}", data={"chains": ["electronics", "aluminium"]})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(world.zone_a), world.zone_a.id).leading_chains == ["aluminium", "electronics"]
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "Zone", AuditEntry.action == "update", AuditEntry.actor_id == world.chief_a.id)).one()
    assert entry.after["leading_chains"] == ["aluminium", "electronics"]
    page = client.get(f"/chains/?zone_id={world.zone_a.id}").get_data(as_text=True)
    assert "主导产业" in page


def test_an_unknown_chain_is_refused_and_others_may_not_choose(world, login_as):
    before = list(world.zone_a.leading_chains or [])
    login_as(world.chief_a).post(f"/chains/leading/{world.zone_a.id}", data={"chains": ["nope"]})
    db.session.expire_all()
    assert db.session.get(type(world.zone_a), world.zone_a.id).leading_chains == before
    assert login_as(world.officer_a).post(f"/chains/leading/{world.zone_a.id}", data={"chains": []}).status_code == 403
    assert login_as(world.chief_a).post(f"/chains/leading/{world.zone_b.id}", data={"chains": []}).status_code == 404
    officer_page = login_as(world.officer_a).get(f"/chains/?zone_id={world.zone_a.id}").get_data(as_text=True)
    assert 'data-testid="leading-chains-form"' not in officer_page
