"""The 履约监管 workbook of a zone: one row per signed project, with each agreed figure against the
actual one, the idle-land flags and the actions taken (``crm.excel.Book``). A 保密项目 the reader may
not see in full keeps its row, zone, stage, dates and flags' rules, with no name or amounts."""
from __future__ import annotations

from datetime import date
from io import BytesIO

from crm.compliance.service import ComplianceRow
from crm.excel import DATE_FORMAT, HEADER, MONEY_FORMAT, TITLE, WRAP, Book
from crm.permissions import MASKED_NAME, sees_in_full

HEADERS = ("园区", "项目名称", "阶段", "签约日期", "约定开工日期", "开工日期", "开工差距",
           "约定投产日期", "投产日期", "投产差距", "约定达产日期", "达产日期", "达产差距",
           "协议投资额（含增资）（万元）", "累计到资（万元）", "投资差距（万元）",
           "约定年产值（万元）", "实际年产值（万元）", "约定年税收（万元）", "实际年税收（万元）",
           "约定就业（人）", "实际就业（人）", "用地（亩）", "已开发（亩）", "闲置土地", "处置记录")
MONEY_COLUMNS = {13, 14, 15, 16, 17, 18, 19, 22, 23}
DATE_COLUMNS = {3, 4, 5, 7, 8, 10, 11}


def _row(user, row: ComplianceRow) -> list:
    p = row.project
    gaps = {g.label: g for g in row.gaps}
    full = sees_in_full(user, p)
    flags = "\n".join(f"【{f.rule}】{f.message}" if full else f"【{f.rule}】" for f in row.flags)
    actions = "\n".join(f"{a.action_date.isoformat()} {a.kind}" + (f"（期限 {a.deadline.isoformat()}）" if a.deadline else "")
                        + (f" 文件：{a.document}" if a.document and full else "") for a in row.actions)
    money = (lambda v: v) if full else (lambda v: None)
    invest = gaps["投资额"]
    values = [p.zone.name, p.name if full else MASKED_NAME, p.stage, p.signed_date,
              p.due_started, p.started_date, gaps["开工日期"].message,
              p.due_production, p.production_date, gaps["投产日期"].message,
              p.due_full_production, p.full_production_date, gaps["达产日期"].message,
              money(row.committed), money(row.invested), money(invest.gap),
              money(p.annual_output_value), money(row.actual.output_value if row.actual else None),
              money(p.annual_tax), money(row.actual.tax if row.actual else None),
              money(p.jobs), money(row.actual.jobs if row.actual else None),
              money(row.land_area), money(row.developed.area if row.developed else None), flags, actions]
    return values


def compliance_workbook(user, rows: list[ComplianceRow], title: str, as_of: date) -> bytes:
    buffer = BytesIO()
    book = Book(buffer)
    sheet = book.sheet("履约监管", header_row=1, footer="&P / &N")
    sheet.append([f"{title}（统计截止 {as_of.isoformat()}）"], [book.format(look=TITLE)])
    sheet.append(HEADERS, [book.format(look=HEADER)] * len(HEADERS))
    formats = [book.format(MONEY_FORMAT) if i in MONEY_COLUMNS else book.format(DATE_FORMAT) if i in DATE_COLUMNS
               else book.format(look=WRAP) if i in (24, 25) else None for i in range(len(HEADERS))]
    for row in rows:
        sheet.append(_row(user, row), formats)
    sheet.set_widths([12, 24, 6, 11, 11, 11, 12, 11, 11, 12, 11, 11, 12, 14, 12, 12, 12, 12, 12, 12, 8, 8, 10, 10, 50, 40])
    book.close()
    return buffer.getvalue()
