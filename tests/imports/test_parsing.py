"""Reading ledger files: values, headers, messy layouts, and the files refused before any parsing."""
from __future__ import annotations

import zlib
from datetime import date, datetime
from decimal import Decimal

import pytest

from crm.imports.reading import ENCRYPTED, header_key, header_unit, ImportRefused, MACRO, NOT_XLSX, parse_amount, parse_area, parse_bool, parse_count, parse_date, read_table, suggest_mapping, ValueProblem
from tests.imports.builders import csv_bytes, with_entry, xlsx, zip_bytes

pytestmark = pytest.mark.no_db
LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_rows": 1000}


@pytest.mark.parametrize("cell, header, expected", [
    ("1.2亿元", None, "12000.00"),
    ("1.2亿", None, "12000.00"),
    ("3,500万元", None, "3500.00"),
    ("３，５００万", None, "3500.00"),  # full-width digits and comma
    ("5,000,000元", None, "500.00"),
    ("￥8000", None, "8000.00"),
    (1.5, "投资额（亿元）", "15000.00"),
    (2500000, "金额（元）", "250.00"),
    ("２５００", "计划投资（万元）", "2500.00"),
    (Decimal("12.345"), None, "12.35"),
    ("—", None, None),
    ("无", None, None),
    (None, None, None),
])
def test_amounts_come_out_in_wan_yuan(cell, header, expected):
    result = parse_amount(cell, header_unit(header))
    assert result == (Decimal(expected) if expected else None)


@pytest.mark.parametrize("cell, message", [
    ("-200", "不能为负数"),
    (-3, "不能为负数"),
    ("约三千万", "无法识别的金额"),
    ("3000美元", "无法识别的金额"),
    ("20000000亿元", "金额过大"),
    (datetime(2024, 3, 5), "日期格式"),
])
def test_bad_amounts_are_refused_with_a_reason(cell, message):
    with pytest.raises(ValueProblem, match=message):
        parse_amount(cell)


@pytest.mark.parametrize("cell", [
    datetime(2024, 3, 5), date(2024, 3, 5), "2024年3月5日", "2024年03月05日", "2024.3.5", "2024/3/5", "2024-03-05",
    "２０２４年３月５日", "20240305", 20240305, 45356, 45356.0, "2024-03-05 00:00:00", " 2024 年 3 月 5 日 ",
])
def test_dates_in_every_form_zones_write_them(cell):
    assert parse_date(cell) == date(2024, 3, 5)


@pytest.mark.parametrize("cell, message", [
    ("2024年2月30日", "日期不存在"), ("下半年", "无法识别的日期"), ("2024年3月", "无法识别的日期"),
    ("1800.1.1", "年份不合理"), (True, "无法识别的日期"),
])
def test_bad_dates_are_refused(cell, message):
    with pytest.raises(ValueProblem, match=message):
        parse_date(cell)


def test_counts_areas_and_booleans():
    assert parse_count("１，２００人") == 1200
    assert parse_count(300.0) == 300
    with pytest.raises(ValueProblem, match="整数"):
        parse_count("12.5")
    with pytest.raises(ValueProblem, match="负数"):
        parse_count("-1")
    assert parse_area("50亩") == Decimal("50.00")
    with pytest.raises(ValueProblem, match="亩"):
        parse_area("3000平方米")
    assert [parse_bool(v) for v in ("是", "否", "√", "Y", None, "在园")] == [True, False, True, True, None, True]
    with pytest.raises(ValueProblem, match="是.*否"):
        parse_bool("也许")


def test_headers_are_normalised_before_matching():
    assert header_key(" 计划投资\n（万元） ") == "计划投资"
    assert header_key("*企业名称：") == "企业名称"
    assert header_key("1.统一社会信用代码") == "统一社会信用代码"
    assert header_key("用地(亩)") == "用地"
    headers = ["序号", "单位名称", "信用代码", "总投资（亿元）", "协议投资额", "签约时间", "项目阶段", "跟进人", "用地面积",
               "项目来源", "项目名称", "备注说明"]
    assert suggest_mapping(headers, "projects") == {
        1: "enterprise_name", 2: "uscc", 3: "planned_investment", 4: "contract_investment", 5: "signed_date",
        6: "stage", 7: "owner", 8: "land_area", 9: "source", 10: "name",
    }
    visits = suggest_mapping(["企业名称", "走访时间", "方式", "洽谈内容", "成果", "下一步工作", "完成时限", "带队领导"], "visits")
    assert visits == {0: "enterprise_name", 1: "visit_date", 2: "kind", 3: "summary", 4: "outcome", 5: "next_step",
                      6: "next_step_due", 7: "our_leader"}


def test_a_planned_date_is_not_taken_for_the_actual_one():
    # Milestone dates match only exactly: “计划开工时间” is a plan, not the 开工日期.
    assert suggest_mapping(["项目名称", "企业名称", "计划开工时间"], "projects") == {0: "name", 1: "enterprise_name"}


def test_each_field_goes_to_one_column_exact_matches_first():
    mapping = suggest_mapping(["企业联系人", "企业名称", "企业名称"], "enterprises")
    assert mapping == {1: "name"}


def test_messy_sheet_title_merged_two_level_header_blank_rows_totals():
    rows = [
        ["2024年江州经开区重点项目台账"],
        ["填报单位：招商局"],
        ["序号", "项目名称", "企业名称", "投资额（万元）", None, "签约日期"],
        [None, None, None, "计划", "协议", None],
        [1, "铝箔项目", "宏达铝业", "1.2亿元", "１，０００", "2024年3月5日"],
        [],
        [None, None, None, None, None, None],
        [2, "电池项目", "瑞丰新能源", 3000, None, None],
        ["合计", None, None, 15000],
        ["注：金额单位为万元"],
    ]
    data = xlsx(rows, merges=("A1:F1", "A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:F4"))
    table = read_table(data, "台账.xlsx", **LIMITS)
    assert table.header_row == 4
    assert table.headers == ["序号", "项目名称", "企业名称", "计划投资额（万元）", "协议投资额（万元）", "签约日期"]
    assert [row.number for row in table.rows] == [5, 8]
    assert table.rows[0].values[3] == "1.2亿元"
    assert table.skipped == [(9, "合计行，未导入"), (10, "说明文字，未导入")]
    assert suggest_mapping(table.headers, "projects") == {
        1: "name", 2: "enterprise_name", 3: "planned_investment", 4: "contract_investment", 5: "signed_date",
    }


def test_merged_cells_down_a_column_fill_every_row():
    rows = [["企业名称", "项目名称"], ["宏达铝业", "一期"], [None, "二期"], [None, "三期"]]
    table = read_table(xlsx(rows, merges=("A2:A4",)), "a.xlsx", **LIMITS)
    assert [row.values for row in table.rows] == [["宏达铝业", "一期"], ["宏达铝业", "二期"], ["宏达铝业", "三期"]]


def test_the_sheet_with_the_ledger_is_chosen_over_a_notes_sheet():
    data = xlsx([["企业名称", "统一社会信用代码"], ["宏达", None]], title="台账",
                sheets={"填表说明": [["本表用于报送"], ["请如实填写"]]})
    table = read_table(data, "a.xlsx", **LIMITS)
    assert table.sheet == "台账" and table.headers == ["企业名称", "统一社会信用代码"]


def test_the_kind_picks_its_sheet_in_a_ledger_workbook():
    data = xlsx([["项目名称", "企业名称", "阶段", "签约日期"], ["甲", "乙", "签约", "2024-03-05"]], title="签约项目",
                sheets={"走访记录": [["企业名称", "走访日期", "走访方式", "洽谈内容", "下一步工作"],
                                     ["乙", "2024-03-01", "电话", "沟通", None]]})
    assert read_table(data, "ledger.xlsx", kind="projects", **LIMITS).sheet == "签约项目"
    assert read_table(data, "ledger.xlsx", kind="visits", **LIMITS).sheet == "走访记录"
    assert read_table(data, "ledger.xlsx", sheet="签约项目", **LIMITS).headers[0] == "项目名称"
    assert "没有名为“到资”的工作表" in _refused(data, "ledger.xlsx", sheet="到资")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(encoding):
    data = csv_bytes([["企业名称", "注册资本（万元）"], ["江苏宏达铝业有限公司", "1,200"]], encoding)
    table = read_table(data, "ledger.csv", **LIMITS)
    assert table.file_type == "csv"
    assert table.headers == ["企业名称", "注册资本（万元）"]
    assert table.rows[0].values == ["江苏宏达铝业有限公司", "1,200"]
    assert table.rows[0].number == 2


def _refused(data: bytes, filename: str, **limits) -> str:
    with pytest.raises(ImportRefused) as refused:
        read_table(data, filename, **{**LIMITS, **limits})
    return refused.value.message


def test_refuses_a_file_over_the_size_setting():
    data = xlsx([["企业名称"], ["宏达"]])
    assert "文件太大" in _refused(data, "a.xlsx", max_bytes=len(data) - 1)


def test_refuses_a_png_renamed_to_xlsx():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    assert _refused(png, "ledger.xlsx") == NOT_XLSX
    assert "不是文本格式的 CSV" in _refused(png, "ledger.csv")


def test_refuses_a_zip_that_is_not_a_workbook():
    assert _refused(zip_bytes({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}), "a.xlsx") == NOT_XLSX


def test_refuses_a_zip_bomb_before_parsing():
    payload = b"0" * (8 * 1024 * 1024)  # deflates about 1000:1
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                      "xl/worksheets/sheet1.xml": payload})
    assert len(bomb) < 100_000 and len(payload) / len(zlib.compress(payload)) > 100
    assert "压缩比异常" in _refused(bomb, "bomb.xlsx")


def test_refuses_too_many_parts_and_too_much_declared_size():
    many = zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>",
                      **{f"xl/media/{i}.bin": b"x" for i in range(1001)}})
    assert "部件" in _refused(many, "a.xlsx")


def test_refuses_macro_workbooks_by_name_and_by_content():
    data = xlsx([["企业名称"], ["宏达"]])
    assert _refused(data, "ledger.xlsm") == MACRO
    assert _refused(with_entry(data, "xl/vbaProject.bin", b"\x00" * 64), "ledger.xlsx") == MACRO
    macro_types = b'<Types><Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>'
    assert _refused(with_entry(data, "xl/extra.xml", b"<x/>", content_types=macro_types), "ledger.xlsx") == MACRO


def test_refuses_password_protected_or_legacy_xls():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048
    assert _refused(ole2, "加密台账.xlsx") == ENCRYPTED
    assert _refused(ole2, "old.xls") == ENCRYPTED
    assert "文件已加密或为旧版 .xls" in ENCRYPTED


def test_refuses_over_the_row_limit():
    rows = [["企业名称"]] + [[f"企业{i}"] for i in range(11)]
    assert "超过 10 行" in _refused(xlsx(rows), "a.xlsx", max_rows=10)
    assert "超过 10 行" in _refused(csv_bytes(rows), "a.csv", max_rows=10)
    assert len(read_table(xlsx(rows), "a.xlsx", **{**LIMITS, "max_rows": 11}).rows) == 11


def test_refuses_empty_and_unknown_files():
    assert _refused(b"", "a.xlsx") == "文件是空的"
    assert "只支持 .xlsx 和 .csv" in _refused(b"hello", "a.pdf")
    assert "没有数据行" in _refused(xlsx([["企业名称", "统一社会信用代码"]]), "a.xlsx")


def test_openpyxl_parses_with_defusedxml():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
