"""The chain-gap report as an Excel workbook, for the zone chief to file or print."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from crm.excel import INTEGER_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, WRAP, Book, display_width, style
from crm.formatting import local_datetime
from crm.pipeline.models import ACTIVE_LEAD_STAGES
from crm.chains.gaps import ChainReport, report_dict, STATUS_LABELS, Target

TITLE_STYLE = style(bold=True, font_size=13)
HEADER_STYLE = style(bold=True, bg_color="#DDE6F4", align="center", valign="vcenter")

@dataclass(frozen=True)
class _Formatted:
    """A value with its own number format, where a column holds values of different kinds."""

    value: Any
    number_format: str


def report_workbook(report: ChainReport, targets: dict[str, list[Target]]) -> bytes:
    """The gap report as an .xlsx: 概览 / 缺口排序 / 卡脖子环节 / 招商目标 / 在谈线索.

    Every sheet starts with a title row naming the chain, the zone and the data date, then a
    frozen header row; every value goes through ``crm.excel.Sheet`` (formula-like text stays text).
    Printed, each sheet fits the width of an A4 page in landscape and repeats its header.
    """
    data_date = local_datetime(report.generated_at)
    title = (f"{report.chain['name']}产业链缺口报告 — {report.scope_label}"
             f"（数据日期 {data_date}）")
    buffer = io.BytesIO()
    book = Book(buffer)

    def sheet(name: str, headers: list[str], rows: list[list], formats: dict[int, str] | None = None,
              wrap: set[int] = frozenset()):
        ws = book.sheet(name, header_row=1, repeat_from=0)
        widths = [display_width(h) for h in headers]
        for row in rows:
            for index, value in enumerate(row):
                value = value.value if isinstance(value, _Formatted) else value
                shown = f"{value:,.2f}" if isinstance(value, float) else value
                widths[index] = max(widths[index], min(display_width(shown), 60))
        ws.set_widths(widths)
        ws.append([title], [book.format(look=TITLE_STYLE)])
        ws.append(headers, [book.format(look=HEADER_STYLE)] * len(headers))
        column_formats = [book.format((formats or {}).get(index), WRAP if index in wrap else ())
                          for index in range(len(headers))]
        for row in rows:
            ws.append([value.value if isinstance(value, _Formatted) else value for value in row],
                      [book.format(value.number_format) if isinstance(value, _Formatted) else column_formats[index]
                       for index, value in enumerate(row)])
        return ws

    kpis = report.kpis
    sheet("概览", ["指标", "数值"], [
        ["产业链", report.chain["name"]],
        ["分析范围", report.scope_label],
        ["环节总数", kpis["total_segments"]],
        ["已有环节（含签约/在建）", kpis["present_segments"]],
        ["环节覆盖率", _Formatted(kpis["coverage"], PERCENT_FORMAT)],
        ["强", kpis["by_status"]["strong"]],
        ["弱", kpis["by_status"]["weak"]],
        ["缺", kpis["by_status"]["missing"]],
        ["建议补链", kpis["by_action"]["补链"]],
        ["建议延链", kpis["by_action"]["延链"]],
        ["建议强链", kpis["by_action"]["强链"]],
        ["有链主企业的环节", kpis["leader_count"]],
        ["本地产值合计（万元，按企业年营业收入）", _Formatted(kpis["total_output"], MONEY_FORMAT)],
        ["数据日期（生成时间）", data_date],
        ["企业环节映射最近更新", local_datetime(report.mappings_updated_at) or "—"],
        ["方法", "优先级 = 100 × 缺口度 × (0.35·相邻配套 + 0.25·瓶颈 + 0.25·价值 + 0.15·在谈)；缺 1、弱 0.5、强 0"],
    ])
    gap_rows = [
        [rank, r.code, r.name, r.tier, STATUS_LABELS[r.status], r.action or "—", r.priority,
         round(r.contributions["adj"], 2), round(r.contributions["bott"], 2), round(r.contributions["val"], 2),
         round(r.contributions["pipe"], 2), "；".join(r.reasons)]
        for rank, r in enumerate(report.gaps, start=1)
    ]
    sheet("缺口排序", ["排名", "环节代码", "环节", "层级", "现状", "建议", "优先级", "相邻配套（分）", "瓶颈（分）",
                   "价值（分）", "在谈（分）", "理由"], gap_rows,
          formats={6: "0.00", 7: "0.00", 8: "0.00", 9: "0.00", 10: "0.00"}, wrap={11})
    names = {code: report.name_of(code) for code in report.graph}
    choke_rows = [
        ["供给咽喉（支配点）", code, names[code], "、".join(names[d] for d in dominated)]
        for code, dominated in report.choke["dominators"].items()
    ] + [["割点（断开即分裂链条）", code, names[code], ""] for code in report.choke["articulation_points"]]
    sheet("卡脖子环节", ["类型", "环节代码", "环节", "其供给必经该环节的本地环节"], choke_rows, wrap={3})
    target_rows = [
        [names.get(code, code), code, t.rank, t.name, t.place, "、".join(t.tags), "是" if t.above_scale else "",
         "是" if t.leader else "", t.revenue, t.projects, t.visits, t.last_visit or ""]
        for code in [r.code for r in report.gaps] for t in targets.get(code, [])
    ]
    sheet("招商目标", ["缺口环节", "环节代码", "排名", "企业", "所在地", "标签", "规上", "链主", "营业收入（万元）",
                   "已有项目", "走访次数", "最近走访"], target_rows, formats={8: MONEY_FORMAT, 9: INTEGER_FORMAT,
                                                                 10: INTEGER_FORMAT})
    pipeline_rows = [
        [row["code"], row["name"], *(row["by_stage"].get(s, 0) for s in ACTIVE_LEAD_STAGES), row["weighted"],
         row["partial"]]
        for row in report_dict(report)["pipeline"]
    ]
    sheet("在谈线索", ["环节代码", "环节", *ACTIVE_LEAD_STAGES, "加权线索", "签约/在建项目"], pipeline_rows,
          formats={6: "0.00"})
    book.close()
    return buffer.getvalue()
