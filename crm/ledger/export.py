"""月度招商项目台账: the monthly pipeline ledger as an Excel workbook a leader can print as it is.

Written with XlsxWriter in constant-memory mode (``crm.excel.Book``): each row goes to its sheet's
temporary file as soon as the next one starts, and the rows come from the database as plain tuples
(Core selects, ``yield_per``), never ORM objects, so memory stays flat however many rows there are.
Every figure on a row is computed by ``crm.ledger.figures`` from the row's facts; the signed projects
and their funds and capital increases summed up to the month's end come from
``crm.ledger.service.signed_rows``, the same query the 汇总 (``period_figures``) reads.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from operator import attrgetter
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any, Callable

from sqlalchemy import Select, func, or_, select

from crm.accounts.models import User
from crm.accounts.zones import Zone
from crm.excel import BOLD, DATE_FORMAT, HEADER, INTEGER_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, TITLE, Book, display_width
from crm.extensions import db
from crm.fields import header
from crm.formatting import LOCAL_TZ
from crm.inputs import month_bounds
from crm.ledger import figures
from crm.ledger import service as ledger
from crm.ledger.models import FundsInPlace
from crm.library.models import Enterprise
from crm.permissions import MASKED_NAME, in_full_condition, scope, visible_zone_ids
from crm.pipeline.lifecycle import NEGOTIATION_STAGES
from crm.pipeline.models import Project
from crm.visits.models import Visit

YIELD_PER = 500  # rows fetched at a time: the buffer, the same for any size of ledger
WIDTH_SAMPLE = 200  # columns without a fixed width fit the header and the longest of the first rows
ZERO = Decimal(0)
FOOTER = "第 &P 页，共 &N 页"


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]  # the row → the cell's value (what the totals add)
    number_format: str | None = None
    total: bool = False
    width: int | None = None  # fixed width; otherwise measured
    # What the cell shows on a row the reader sees masked, given its value; None: the value (see ``masked``).
    when_masked: Callable[[Any], Any] | None = None


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
    as_of = figures.as_of_day(end, (printed_at or datetime.now(LOCAL_TZ)).date())
    subtitle = f"统计截至 {as_of.isoformat()}，打印于 {printed}"
    zone_of = {z.id: z for z in zones}
    queries = LedgerQueries(user, start, end, zone_ids)

    book = Book(out)
    signoff = ledger.signoff_lines(zones, (printed_at or datetime.now(LOCAL_TZ)).date())
    counts = {"汇总": _summary_sheet(book, user, zone_ids, start, end, title, subtitle, signoff)}
    for name, columns, rows in (
        ("在谈项目", NEGOTIATION_COLUMNS, queries.negotiations()),
        ("签约项目", SIGNED_SHEET_COLUMNS, queries.signed()),
        ("节点与预警", milestone_columns(zone_of, as_of), queries.signed()),
        ("本月到资", FUNDS_COLUMNS, queries.funds()),
        ("本月走访", VISIT_COLUMNS, queries.visits()),
    ):
        counts[name] = _write_sheet(book, name, title, subtitle, masked(columns), rows, signoff)
    book.close()
    return counts


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), LOCAL_TZ)


# --- the rows: one select per sheet, plain tuples ------------------------------------------------------

PROJECT_COLUMNS = (Project.id, Project.zone_id, Zone.name.label("zone_name"), Project.name, Project.stage,
                   Project.source, Project.land_area)
FIRM_COLUMNS = (Enterprise.name.label("enterprise_name"), Enterprise.uscc)
SIGNED_COLUMNS = (Project.signed_date, Project.contract_investment, Project.planned_investment,
                  Project.annual_output_value, Project.annual_tax, Project.jobs,
                  Project.due_registered, Project.registered_date, Project.due_started, Project.started_date,
                  Project.due_production, Project.production_date, Project.due_full_production,
                  Project.full_production_date)


@dataclass(frozen=True)
class LedgerQueries:
    """The rows of each sheet for ``user``, each with ``in_full``: whether the user sees the row's
    project in full (``crm.permissions.in_full_condition``, the SQL of ``sees_in_full``)."""

    user: User
    start: date
    end: date
    zone_ids: list[int] | None

    def _in_zones(self, stmt: Select, model) -> Select:
        return stmt.where(model.zone_id.in_(self.zone_ids)) if self.zone_ids is not None else stmt

    def _owner(self, stmt: Select) -> Select:
        return (stmt.join(Zone, Zone.id == Project.zone_id).join(Enterprise, Enterprise.id == Project.enterprise_id)
                .join(User, User.id == Project.owner_id))

    def negotiations(self) -> Select:
        stmt = scope(select(*PROJECT_COLUMNS, *FIRM_COLUMNS, Project.planned_investment, Project.stage_changed_at,
                            User.display_name.label("owner_name"), in_full_condition(self.user).label("in_full")),
                     Project, self.user).select_from(Project)
        stmt = self._owner(stmt).where(Project.stage.in_(NEGOTIATION_STAGES), Project.created_at <= _end_of(self.end))
        return self._in_zones(stmt, Project).order_by(Project.zone_id, Project.stage, Project.id)

    def signed(self) -> Select:
        """The counting projects signed by the month's end, with funds and increases up to it."""
        stmt = ledger.signed_rows(self.user, self.start, self.end, self.zone_ids, *PROJECT_COLUMNS,
                                  *FIRM_COLUMNS, *SIGNED_COLUMNS, User.display_name.label("owner_name"),
                                  in_full_condition(self.user).label("in_full"))
        return self._owner(stmt).order_by(Project.zone_id, Project.signed_date, Project.id)

    def funds(self) -> Select:
        """The month's funds of the projects the ledger counts: the 汇总's 到资 本月 is their sum."""
        stmt = ledger.signed_rows(self.user, self.start, self.end, self.zone_ids, Zone.name.label("zone_name"),
                                  Project.name, Project.contract_investment, FundsInPlace.month, FundsInPlace.amount,
                                  FundsInPlace.note, in_full_condition(self.user).label("in_full"))
        stmt = stmt.join(FundsInPlace, FundsInPlace.project_id == Project.id).join(Zone, Zone.id == Project.zone_id)
        stmt = scope(stmt, FundsInPlace, self.user)
        stmt = stmt.where(FundsInPlace.month.between(self.start, self.end))
        return self._in_zones(stmt, FundsInPlace).order_by(FundsInPlace.zone_id, FundsInPlace.project_id)

    def visits(self) -> Select:
        stmt = (scope(select(Visit.visit_date, Enterprise.name.label("enterprise_name"),
                             Project.name.label("project_name"), Visit.kind, Visit.our_leader, Visit.our_people,
                             Visit.their_people, Visit.summary, Visit.outcome, Visit.next_step, Visit.next_step_due,
                             User.display_name.label("officer_name"),
                             or_(Visit.project_id.is_(None), in_full_condition(self.user)).label("in_full")),
                      Visit, self.user)
                .select_from(Visit)
                .join(Enterprise, Enterprise.id == Visit.enterprise_id)
                .outerjoin(Project, Project.id == Visit.project_id)
                .join(User, User.id == Visit.officer_id)
                .where(Visit.visit_date.between(self.start, self.end)))
        return self._in_zones(stmt, Visit).order_by(Visit.visit_date, Visit.id)


# --- the columns: what each cell shows, from the row's facts by crm.ledger.figures ----------------------

def committed(row) -> Decimal:
    return figures.committed(row.contract_investment, row.increases_to_end)


def funds_rate(row) -> float | None:
    return figures.funds_rate(row.funds_to_end, row.contract_investment, row.increases_to_end)


# Who and what a project row is, at the head of the 在谈项目 and 签约项目 sheets.
PROJECT_SHEET_HEAD = (
    Column("园区", attrgetter("zone_name")),
    Column("项目名称", attrgetter("name")),
    Column("企业名称", attrgetter("enterprise_name")),
    Column("统一社会信用代码", attrgetter("uscc"), width=20),
    Column("阶段", attrgetter("stage"), width=6),
)


NEGOTIATION_COLUMNS = (
    *PROJECT_SHEET_HEAD,
    Column(header("planned_investment"), attrgetter("planned_investment"), MONEY_FORMAT, total=True, width=14),
    Column(header("land_area"), attrgetter("land_area"), MONEY_FORMAT, total=True, width=10),
    Column("来源", attrgetter("source"), width=10),
    Column("负责人", attrgetter("owner_name"), width=8),
    Column("进入阶段日期", lambda r: r.stage_changed_at.date() if r.stage_changed_at else None, DATE_FORMAT,
           width=12),
)


SIGNED_SHEET_COLUMNS = (
    *PROJECT_SHEET_HEAD,
    Column("签约日期", attrgetter("signed_date"), DATE_FORMAT, width=12),
    Column(header("planned_investment"), attrgetter("planned_investment"), MONEY_FORMAT, total=True, width=14),
    Column(header("contract_investment"), attrgetter("contract_investment"), MONEY_FORMAT, total=True, width=16),
    Column(header("land_area"), attrgetter("land_area"), MONEY_FORMAT, total=True, width=10),
    Column(header("investment_per_mu"), ledger.investment_per_mu, MONEY_FORMAT, width=14),
    Column(header("annual_output_value"), attrgetter("annual_output_value"), MONEY_FORMAT, total=True, width=14),
    Column(header("annual_tax"), attrgetter("annual_tax"), MONEY_FORMAT, total=True, width=14),
    Column(header("jobs"), attrgetter("jobs"), INTEGER_FORMAT, total=True, width=10),
    Column(header("increases"), lambda r: r.increases_to_end or ZERO, MONEY_FORMAT, total=True, width=12),
    Column(header("funds_total"), lambda r: r.funds_to_end or ZERO, MONEY_FORMAT, total=True, width=14),
    Column(figures.FUNDS_RATE_LABEL, funds_rate, PERCENT_FORMAT, width=8),
    Column("来源", attrgetter("source"), width=10),
    Column("负责人", attrgetter("owner_name"), width=8),
)


def milestone_columns(zone_of: dict[int, Zone], as_of: date) -> tuple[Column, ...]:
    def warnings(r):
        return "；".join(ledger.warnings_for(r, zone_of[r.zone_id], r.funds_to_end or ZERO, committed(r),
                                            today=as_of))

    return (
        Column("园区", attrgetter("zone_name")),
        Column("项目名称", attrgetter("name")),
        Column("阶段", attrgetter("stage"), width=6),
        Column("签约日期", attrgetter("signed_date"), DATE_FORMAT, width=12),
        Column("约定注册", attrgetter("due_registered"), DATE_FORMAT, width=12),
        Column("实际注册", attrgetter("registered_date"), DATE_FORMAT, width=12),
        Column("约定开工", attrgetter("due_started"), DATE_FORMAT, width=12),
        Column("实际开工", attrgetter("started_date"), DATE_FORMAT, width=12),
        Column("约定投产", attrgetter("due_production"), DATE_FORMAT, width=12),
        Column("实际投产", attrgetter("production_date"), DATE_FORMAT, width=12),
        Column("约定达产", attrgetter("due_full_production"), DATE_FORMAT, width=12),
        Column("实际达产", attrgetter("full_production_date"), DATE_FORMAT, width=12),
        Column("预警", warnings, width=40),
    )


FUNDS_COLUMNS = (
    Column("园区", attrgetter("zone_name")),
    Column("项目名称", attrgetter("name")),
    Column("月份", lambda r: r.month.strftime("%Y-%m"), width=8),
    Column(header("funds_this_month"), attrgetter("amount"), MONEY_FORMAT, total=True, width=14),
    Column(header("funds_total"), lambda r: r.funds_to_end or ZERO, MONEY_FORMAT, width=14),
    Column(header("committed"), committed, MONEY_FORMAT, width=16),
    Column(figures.FUNDS_RATE_LABEL, funds_rate, PERCENT_FORMAT, width=8),
    Column("备注", attrgetter("note"), width=20),
)


VISIT_COLUMNS = (
    Column("日期", attrgetter("visit_date"), DATE_FORMAT, width=12),
    Column("企业名称", attrgetter("enterprise_name")),
    Column("项目名称", attrgetter("project_name")),
    Column("方式", attrgetter("kind"), width=10),
    Column("我方带队领导", attrgetter("our_leader"), width=12),
    Column("我方人员", attrgetter("our_people"), width=16),
    Column("对方人员", attrgetter("their_people"), width=16),
    Column("洽谈内容", attrgetter("summary"), width=40),
    Column("成果", attrgetter("outcome"), width=20),
    Column("下一步", attrgetter("next_step"), width=20),
    Column("期限", attrgetter("next_step_due"), DATE_FORMAT, width=12),
    Column("记录人", attrgetter("officer_name"), width=8),
)


# 保密项目: a row of a confidential project the reader may not see in full (its ``in_full`` false) keeps
# its place and these cells (and every date); its name reads "保密项目" and every other cell (firm,
# 统一社会信用代码, amounts, rates, notes, visit contents, warnings) is left blank. The totals still add
# its values.
KEPT_WHEN_MASKED = frozenset({"园区", "阶段", "来源", "负责人", "月份", "方式", "记录人"})


def _blank(value) -> None:
    return None


def _masked_name(value) -> str:
    return MASKED_NAME


def masked(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """``columns`` with what each shows on a masked row (``Column.when_masked``), whatever it computes."""
    def when_masked(col: Column):
        if col.header in KEPT_WHEN_MASKED or col.number_format == DATE_FORMAT:
            return None
        return _masked_name if col.header == "项目名称" else _blank

    return tuple(replace(col, when_masked=when_masked(col)) for col in columns)


def shown(columns: tuple[Column, ...], row) -> tuple[list, list]:
    """(the row's values, for the totals; what each cell shows to the reader the row was selected for)."""
    values = [col.value(row) for col in columns]
    if row.in_full:
        return values, values
    return values, [v if col.when_masked is None else col.when_masked(v) for v, col in zip(values, columns)]


# --- writing -----------------------------------------------------------------------------------------

def signoff_footer(lines) -> str:
    """The page footer: the page number in the centre, the sign-off block (one line per zone) on the left,
    within Excel's 255 characters for a footer (a city-wide ledger keeps the lines that fit)."""
    footer = FOOTER
    for i, line in enumerate(lines):
        left = "\n".join(lines[:i + 1])
        if len(f"&L{left}&C{FOOTER}") > 255:
            break
        footer = f"&L{left}&C{FOOTER}"
    return footer


def _prepare_sheet(book: Book, name: str, title: str, subtitle: str, headers: list[str], signoff=()):
    sheet = book.sheet(name, header_row=2, repeat_from=2, centred=True, footer=signoff_footer(list(signoff)))
    sheet.append([f"{title} · {name}"], [book.format(look=TITLE)])
    sheet.append([subtitle])
    sheet.append(headers, [book.format(look=HEADER)] * len(headers))
    return sheet


def _write_sheet(book: Book, name: str, title: str, subtitle: str, columns: tuple[Column, ...],
                 rows_stmt: Select, signoff: list[str] = ()) -> int:
    sheet = _prepare_sheet(book, name, title, subtitle, [c.header for c in columns], signoff)
    formats = [book.format(col.number_format) for col in columns]
    widths = [col.width or display_width(col.header) for col in columns]
    measured = [i for i, col in enumerate(columns) if col.width is None]
    summed = [i for i, col in enumerate(columns) if col.total]
    totals = [ZERO] * len(columns)
    count = 0
    for row in _stream(rows_stmt):
        values, cells = shown(columns, row)
        sheet.append(cells, formats)
        for i in summed:
            if values[i] is not None:
                totals[i] += values[i]
        if count < WIDTH_SAMPLE:
            for i in measured:
                widths[i] = max(widths[i], display_width(cells[i]))
        count += 1
    sheet.append([f"合计（{count} 项）", *(totals[i] if columns[i].total else None for i in range(1, len(columns)))],
                 [book.format(col.number_format, BOLD) for col in columns])
    sheet.set_widths(widths)
    return count


def _stream(stmt: Select) -> Iterator:
    """Rows as tuples in batches, so a 100,000-row sheet never sits in memory at once."""
    yield from db.session.execute(stmt.execution_options(yield_per=YIELD_PER))


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


def _summary_sheet(book: Book, user, zone_ids, start: date, end: date, title: str, subtitle: str,
                   signoff: list[str] = ()) -> int:
    """本月 and 本年累计 by ``figures.period_figures``: each fact by its own date, never a later one."""
    year = ledger.period_figures(user, date(start.year, 1, 1), end, zone_ids).as_dict()
    month = ledger.period_figures(user, start, end, zone_ids).as_dict()
    targets = ledger.target_for(zone_ids, start.year)
    sheet = _prepare_sheet(book, "汇总", title, subtitle, ["指标", "本月", "本年累计", "年度目标", "完成/差距"],
                           signoff)
    for label, key, target_key, fmt in SUMMARY_ROWS:
        target = targets[target_key] if target_key else None
        year_value = year[key]
        gap = None
        if target not in (None, 0) and year_value is not None:
            gap = float(year_value) / float(target) if fmt != PERCENT_FORMAT else float(year_value) - float(target)
        number = book.format(fmt)
        sheet.append([label, month[key], year_value, target, gap], [None, number, number, number,
                                                                    book.format(PERCENT_FORMAT)])
    sheet.append(["注：新签约按首次签约日期计，增资按增资日期计，到资按到资月份计；比率按期内新签约项目计算（不含终止项目）；"
                  f"{figures.FUNDS_RATE_NOTE}；“完成/差距”列：金额和个数为完成比例，比率为与目标之差。"])
    sheet.set_widths([26, 16, 16, 16, 16])
    return len(SUMMARY_ROWS)


def ledger_title(actor, zone, month: str) -> str:
    """The ledger's name, as its file and its job are called: the zone's; the city's ("全市") when the
    reader sees every zone; otherwise the reader's zones by name (never the vague "本园区")."""
    if zone is not None:
        return f"{zone.name}{month}招商项目台账"
    zone_ids = visible_zone_ids(actor)
    names = db.session.scalars(select(Zone.name).order_by(Zone.id) if zone_ids is None
                               else select(Zone.name).where(Zone.id.in_(zone_ids)).order_by(Zone.id)).all()
    every = db.session.scalar(select(func.count(Zone.id)))
    scope_name = "全市" if zone_ids is None or len(names) == every else "、".join(names)
    return f"{scope_name}{month}招商项目台账"
