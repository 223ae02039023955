"""月度招商项目台账: the monthly pipeline ledger as an Excel workbook a leader can print as it is.

Built with openpyxl in write-only mode, streaming rows from the database, so memory stays flat
however many rows there are. Column widths are measured in SQL before the rows are written.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any, Callable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from sqlalchemy import select

from crm.excel import DATE_FORMAT, CellStyle, INTEGER_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, cell, display_width, set_widths
from crm.extensions import db
from crm.formatting import LOCAL_TZ
from crm.ledger.models import FundsInPlace
from crm.pipeline.models import Project
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.accounts.zones import Zone
from crm.permissions import MASKED_NAME, scope, sees_in_full, visible_zone_ids
from crm.fields import header
from crm.ledger import figures
from crm.ledger import service as ledger
from crm.pipeline.lifecycle import DROPPED, NEGOTIATION_STAGES
from crm.inputs import month_bounds

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
HEADER_BORDER = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
TOTAL_FONT = Font(bold=True)
YIELD_PER = 1000


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    number_format: str | None = None
    total: bool = False
    width: int | None = None  # fixed width; otherwise measured
    shown: Callable[[Any, Any], Any] | None = None  # (row, value) → what the cell shows; see ``masked``


HEADER_STYLE = CellStyle(HEADER_FONT, HEADER_FILL, HEADER_BORDER,
                         Alignment(horizontal="center", vertical="center", wrap_text=True))
TITLE_STYLE = CellStyle(TITLE_FONT)
TOTAL_STYLE = CellStyle(TOTAL_FONT)


def export_ledger(user: User, month: str, out: IO[bytes], zone_id: int | None = None,
                  printed_at: datetime | None = None) -> dict:
    """Write the ledger for ``month`` of the user's zone (or ``zone_id``; admin: all zones) to ``out``."""
    start, end = month_bounds(month)
    zone_ids = [zone_id] if zone_id else visible_zone_ids(user)
    zones = db.session.scalars(select(Zone).where(Zone.id.in_(zone_ids)) if zone_ids is not None
                               else select(Zone)).all()
    zone_label = "、".join(z.name for z in zones) if zone_ids is not None else "全市各园区"
    printed = (printed_at or datetime.now(LOCAL_TZ)).strftime("%Y-%m-%d %H:%M")
    title = f"{zone_label} {start.year}年{start.month}月招商项目台账"
    as_of = min(end, (printed_at or datetime.now(LOCAL_TZ)).date())
    subtitle = f"统计截至 {as_of.isoformat()}，打印于 {printed}"

    def projects(stmt):
        stmt = scope(stmt, Project, user)
        return stmt.where(Project.zone_id.in_(zone_ids)) if zone_ids is not None else stmt

    workbook = Workbook(write_only=True)
    counts = {}
    counts["汇总"] = _summary_sheet(workbook, user, zone_ids, start, end, title, subtitle)
    counts["在谈项目"] = _write_sheet(
        workbook, "在谈项目", title, subtitle, masked(user, NEGOTIATION_COLUMNS),
        projects(select(Project).where(Project.stage.in_(NEGOTIATION_STAGES),
                                       Project.created_at <= _end_of(end)))
        .order_by(Project.zone_id, Project.stage, Project.id),
    )
    signed = projects(select(Project).where(Project.signed_date <= end, Project.stage != DROPPED))
    signed_ids = signed.with_only_columns(Project.id)
    totals = Cumulative(ledger.funds_by_project(signed_ids, until=end),
                        ledger.increases_by_project(signed_ids, until=end))
    counts["签约项目"] = _write_sheet(workbook, "签约项目", title, subtitle, masked(user, signed_columns(totals)),
                                     signed.order_by(Project.zone_id, Project.signed_date, Project.id))
    counts["节点与预警"] = _write_sheet(workbook, "节点与预警", title, subtitle,
                                      masked(user, milestone_columns(totals, as_of)),
                                      signed.order_by(Project.zone_id, Project.signed_date, Project.id))
    # The month's funds of the projects the ledger counts (signed, not 终止): the 汇总's 到资 本月 is their sum.
    funds = (scope(select(FundsInPlace), FundsInPlace, user)
             .join(Project, Project.id == FundsInPlace.project_id)
             .where(FundsInPlace.month.between(start, end), Project.signed_date <= end, Project.stage != DROPPED,
                    Project.deleted_at.is_(None)))
    if zone_ids is not None:
        funds = funds.where(FundsInPlace.zone_id.in_(zone_ids))
    counts["本月到资"] = _write_sheet(workbook, "本月到资", title, subtitle,
                                     masked(user, funds_columns(totals), lambda f: f.project),
                                     funds.order_by(FundsInPlace.zone_id, FundsInPlace.project_id))
    visits = scope(select(Visit), Visit, user).where(Visit.visit_date.between(start, end))
    if zone_ids is not None:
        visits = visits.where(Visit.zone_id.in_(zone_ids))
    counts["本月走访"] = _write_sheet(workbook, "本月走访", title, subtitle, masked(user, VISIT_COLUMNS, lambda v: v.project),
                                     visits.order_by(Visit.visit_date, Visit.id))
    workbook.save(out)
    return counts


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), LOCAL_TZ)


@dataclass(frozen=True)
class Cumulative:
    """Funds in place and capital increases per project, both summed up to the ledger's end date."""

    funds: dict[int, Decimal]
    increases: dict[int, Decimal]

    def funds_of(self, project_id: int) -> Decimal:
        return self.funds.get(project_id, Decimal(0))

    def committed(self, project) -> Decimal:
        return figures.committed(project.contract_investment, self.increases.get(project.id, Decimal(0)))

    def rate(self, project) -> float | None:
        return figures.funds_rate(self.funds_of(project.id), project.contract_investment,
                                  self.increases.get(project.id, Decimal(0)))


NEGOTIATION_COLUMNS = (
    Column("园区", lambda p: p.zone.name),
    Column("项目名称", lambda p: p.name),
    Column("企业名称", lambda p: p.enterprise.name),
    Column("统一社会信用代码", lambda p: p.enterprise.uscc or "", width=20),
    Column("阶段", lambda p: p.stage, width=6),
    Column(header("planned_investment"), lambda p: p.planned_investment, MONEY_FORMAT, total=True, width=14),
    Column(header("land_area"), lambda p: p.land_area, MONEY_FORMAT, total=True, width=10),
    Column("来源", lambda p: p.source, width=10),
    Column("负责人", lambda p: p.owner.display_name, width=8),
    Column("进入阶段日期", lambda p: p.stage_changed_at.date() if p.stage_changed_at else None, DATE_FORMAT, width=12),
)


def signed_columns(totals: Cumulative) -> tuple[Column, ...]:
    return (
        Column("园区", lambda p: p.zone.name),
        Column("项目名称", lambda p: p.name),
        Column("企业名称", lambda p: p.enterprise.name),
        Column("统一社会信用代码", lambda p: p.enterprise.uscc or "", width=20),
        Column("阶段", lambda p: p.stage, width=6),
        Column("签约日期", lambda p: p.signed_date, DATE_FORMAT, width=12),
        Column(header("planned_investment"), lambda p: p.planned_investment, MONEY_FORMAT, total=True, width=14),
        Column(header("contract_investment"), lambda p: p.contract_investment, MONEY_FORMAT, total=True, width=16),
        Column(header("land_area"), lambda p: p.land_area, MONEY_FORMAT, total=True, width=10),
        Column(header("investment_per_mu"), ledger.investment_per_mu, MONEY_FORMAT, width=14),
        Column(header("annual_output_value"), lambda p: p.annual_output_value, MONEY_FORMAT, total=True, width=14),
        Column(header("annual_tax"), lambda p: p.annual_tax, MONEY_FORMAT, total=True, width=14),
        Column(header("jobs"), lambda p: p.jobs, INTEGER_FORMAT, total=True, width=10),
        Column(header("increases"), lambda p: totals.increases.get(p.id, Decimal(0)), MONEY_FORMAT, total=True, width=12),
        Column(header("funds_total"), lambda p: totals.funds_of(p.id), MONEY_FORMAT, total=True, width=14),
        Column(figures.FUNDS_RATE_LABEL, totals.rate, PERCENT_FORMAT, width=8),
        Column("来源", lambda p: p.source, width=10),
        Column("负责人", lambda p: p.owner.display_name, width=8),
    )


def milestone_columns(totals: Cumulative, as_of: date) -> tuple[Column, ...]:
    def warnings(p):
        return "；".join(ledger.warnings_for(p, p.zone, totals.funds_of(p.id), totals.committed(p), today=as_of))

    return (
        Column("园区", lambda p: p.zone.name),
        Column("项目名称", lambda p: p.name),
        Column("阶段", lambda p: p.stage, width=6),
        Column("签约日期", lambda p: p.signed_date, DATE_FORMAT, width=12),
        Column("约定注册", lambda p: p.due_registered, DATE_FORMAT, width=12),
        Column("实际注册", lambda p: p.registered_date, DATE_FORMAT, width=12),
        Column("约定开工", lambda p: p.due_started, DATE_FORMAT, width=12),
        Column("实际开工", lambda p: p.started_date, DATE_FORMAT, width=12),
        Column("约定投产", lambda p: p.due_production, DATE_FORMAT, width=12),
        Column("实际投产", lambda p: p.production_date, DATE_FORMAT, width=12),
        Column("约定达产", lambda p: p.due_full_production, DATE_FORMAT, width=12),
        Column("实际达产", lambda p: p.full_production_date, DATE_FORMAT, width=12),
        Column("预警", warnings, width=40),
    )


def funds_columns(totals: Cumulative) -> tuple[Column, ...]:
    return (
        Column("园区", lambda f: f.project.zone.name),
        Column("项目名称", lambda f: f.project.name),
        Column("月份", lambda f: f.month.strftime("%Y-%m"), width=8),
        Column(header("funds_this_month"), lambda f: f.amount, MONEY_FORMAT, total=True, width=14),
        Column(header("funds_total"), lambda f: totals.funds_of(f.project_id), MONEY_FORMAT, width=14),
        Column(header("committed"), lambda f: totals.committed(f.project), MONEY_FORMAT, width=16),
        Column(figures.FUNDS_RATE_LABEL, lambda f: totals.rate(f.project), PERCENT_FORMAT, width=8),
        Column("备注", lambda f: f.note, width=20),
    )


VISIT_COLUMNS = (
    Column("日期", lambda v: v.visit_date, DATE_FORMAT, width=12),
    Column("企业名称", lambda v: v.enterprise.name),
    Column("项目名称", lambda v: v.project.name if v.project else ""),
    Column("方式", lambda v: v.kind, width=10),
    Column("我方带队领导", lambda v: v.our_leader, width=12),
    Column("我方人员", lambda v: v.our_people, width=16),
    Column("对方人员", lambda v: v.their_people, width=16),
    Column("洽谈内容", lambda v: v.summary, width=40),
    Column("成果", lambda v: v.outcome, width=20),
    Column("下一步", lambda v: v.next_step, width=20),
    Column("期限", lambda v: v.next_step_due, DATE_FORMAT, width=12),
    Column("记录人", lambda v: v.officer.display_name, width=8),
)


# 保密项目: a row of a confidential project the reader may not see in full keeps its place and these
# cells (and every date); its name reads "保密项目" and every other cell (firm, 统一社会信用代码,
# amounts, rates, notes, visit contents, warnings) is left blank. The totals still add its values.
KEPT_WHEN_MASKED = frozenset({"园区", "阶段", "来源", "负责人", "月份", "方式", "记录人"})


def masked(user: User, columns: tuple[Column, ...], project_of: Callable[[Any], Any] = lambda p: p) -> tuple[Column, ...]:
    """``columns`` as ``user`` may read them: each gets a ``shown`` hiding a masked project's cells
    (crm.permissions.sees_in_full), whatever the column computes."""
    def hiding(col: Column):
        keep = col.header in KEPT_WHEN_MASKED or col.number_format == DATE_FORMAT

        def shown(row, value):
            if keep or sees_in_full(user, project_of(row)):
                return value
            return MASKED_NAME if col.header == "项目名称" else None

        return shown

    return tuple(replace(col, shown=hiding(col)) for col in columns)


def _cells(columns: tuple[Column, ...], row) -> tuple[list, list]:
    """(the values, for the totals; what each cell shows)."""
    values = [col.value(row) for col in columns]
    return values, [col.shown(row, v) if col.shown else v for v, col in zip(values, columns)]


def _measured_widths(columns: tuple[Column, ...], rows_stmt, sample: int = 200) -> list[int]:
    """Fixed widths where given; others from the header and the longest of the first rows."""
    widths = [col.width or display_width(col.header) for col in columns]
    if any(col.width is None for col in columns):
        for row in db.session.scalars(rows_stmt.limit(sample)):
            for i, col in enumerate(columns):
                if col.width is None:
                    widths[i] = max(widths[i], display_width(_cells((col,), row)[1][0]))
    return [max(w, display_width(col.header)) if col.width is None else w for w, col in zip(widths, columns)]


def _prepare_sheet(workbook, name: str, title: str, subtitle: str, headers: list[str], widths: list[int]):
    sheet = workbook.create_sheet(name)
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    set_widths(sheet, widths)
    sheet.append([cell(sheet, f"{title} · {name}", style=TITLE_STYLE)])
    sheet.append([cell(sheet, subtitle)])
    sheet.append([cell(sheet, header, style=HEADER_STYLE) for header in headers])
    return sheet


def _write_sheet(workbook, name, title, subtitle, columns, rows_stmt) -> int:
    sheet = _prepare_sheet(workbook, name, title, subtitle, [c.header for c in columns],
                           _measured_widths(columns, rows_stmt))
    totals = [Decimal(0) if col.total else None for col in columns]
    count = 0
    for row in _stream(rows_stmt):
        values, shown = _cells(columns, row)
        sheet.append([cell(sheet, value, number_format=col.number_format) for value, col in zip(shown, columns)])
        for i, value in enumerate(values):
            if totals[i] is not None and value is not None:
                totals[i] += Decimal(value)
        count += 1
    label = f"合计（{count} 项）"
    sheet.append([cell(sheet, label if i == 0 else total, number_format=col.number_format, style=TOTAL_STYLE)
                  for i, (total, col) in enumerate(zip(totals, columns))])
    return count


def _stream(stmt) -> Iterator:
    """Rows in batches, so a 100,000-row sheet never sits in memory at once (the session's identity
    map holds rows weakly, so written rows are freed)."""
    yield from db.session.scalars(stmt.execution_options(yield_per=YIELD_PER))


SUMMARY_ROWS = (
    # label, figure key, target key, number format
    ("新签约项目（个）", "signed", "signed_count", INTEGER_FORMAT),
    ("新签协议投资额（万元）", "contract_investment", None, MONEY_FORMAT),
    ("增资（万元）", "increases", None, MONEY_FORMAT),
    ("签约额合计（万元，含增资）", "signed_amount", "signed_amount", MONEY_FORMAT),
    ("到资（万元）", "funds", None, MONEY_FORMAT),
    ("注册率", "register_rate", "register_rate", PERCENT_FORMAT),
    ("开工率", "start_rate", "start_rate", PERCENT_FORMAT),
    ("投产率", "production_rate", "production_rate", PERCENT_FORMAT),
    (figures.FUNDS_RATE_LABEL, "funds_rate", "funds_rate", PERCENT_FORMAT),
)


def _summary_sheet(workbook, user, zone_ids, start: date, end: date, title: str, subtitle: str) -> int:
    """本月 and 本年累计 by ``figures.period_figures``: each fact by its own date, never a later one."""
    year = ledger.period_figures(user, date(start.year, 1, 1), end, zone_ids).as_dict()
    month = ledger.period_figures(user, start, end, zone_ids).as_dict()
    targets = ledger.target_for(zone_ids, start.year)
    sheet = _prepare_sheet(workbook, "汇总", title, subtitle, ["指标", "本月", "本年累计", "年度目标", "完成/差距"],
                           [26, 16, 16, 16, 16])
    for label, key, target_key, fmt in SUMMARY_ROWS:
        target = targets[target_key] if target_key else None
        year_value = year[key]
        gap = None
        if target not in (None, 0) and year_value is not None:
            gap = float(year_value) / float(target) if fmt != PERCENT_FORMAT else float(year_value) - float(target)
        sheet.append([
            cell(sheet, label),
            cell(sheet, month[key], number_format=fmt),
            cell(sheet, year_value, number_format=fmt),
            cell(sheet, target, number_format=fmt),
            cell(sheet, gap, number_format=PERCENT_FORMAT),
        ])
    sheet.append([cell(sheet, "注：新签约按首次签约日期计，增资按增资日期计，到资按到资月份计；比率按期内新签约项目计算（不含终止项目）；"
                              f"{figures.FUNDS_RATE_NOTE}；“完成/差距”列：金额和个数为完成比例，比率为与目标之差。")])
    return len(SUMMARY_ROWS)
