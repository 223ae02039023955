"""亩均效益: entering and importing a firm's yearly figures, a zone's method, running a year's evaluation
(stored, replacing that year's results) and reading the ranking, distributions and a firm's history.

Every write asks the policy (``efficiency.enter`` for figures, ``efficiency.evaluate`` for the method
and the run) and flushes; the view or CLI commits. The score is ``crm.efficiency.method.evaluate``'s.
"""
from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from crm import records
from crm.catalog.models import Chain, EnterpriseSegment, Segment
from crm.efficiency import columns, method as rules
from crm.efficiency.models import FIGURE_COLUMNS, EfficiencyFigures, EfficiencyMethod, EfficiencyResult
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports.reading import ImportRefused, Table, ValueProblem, read_table
from crm.library.models import Enterprise
from crm.permissions import require, scope

MIN_YEAR, MAX_YEAR = 2000, 2100


def check_year(year) -> int:
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ServiceError(f"年度应在 {MIN_YEAR} 至 {MAX_YEAR} 之间", "year")
    return year


# --- figures --------------------------------------------------------------------------------------
def figures_of(enterprise_id: int, year: int, *, include_deleted: bool = False) -> EfficiencyFigures | None:
    stmt = select(EfficiencyFigures).where(EfficiencyFigures.enterprise_id == enterprise_id,
                                           EfficiencyFigures.year == year)
    if not include_deleted:
        stmt = stmt.where(EfficiencyFigures.deleted_at.is_(None))
    return db.session.scalar(stmt)


def _checked(data: dict) -> dict:
    """The figures as stored: Decimal (employees a whole number), none negative, unknown keys ignored."""
    values = {}
    for key in FIGURE_COLUMNS:
        value = data.get(key)
        if value is None or value == "":
            values[key] = None
            continue
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            raise ServiceError(f"{rules.FIGURE_LABELS[key]}应为数字", key) from None
        if not number.is_finite():
            raise ServiceError(f"{rules.FIGURE_LABELS[key]}应为数字", key)
        if number < 0:
            raise ServiceError(f"{rules.FIGURE_LABELS[key]}不能为负数", key)
        if number > columns.MAX_FIGURE[key]:
            raise ServiceError(f"{rules.FIGURE_LABELS[key]}过大，请检查单位（{rules.FIGURE_UNITS[key]}）", key)
        if key == "employees":
            if number != number.to_integral_value():
                raise ServiceError("年均职工人数应为整数", key)
            number = int(number)
        values[key] = number
    return values


def save_figures(actor, enterprise: Enterprise, year: int, data: dict) -> EfficiencyFigures:
    """Enter (or correct) a local firm's figures for ``year``, in its zone; a deleted row comes back."""
    require(actor, "efficiency.enter", enterprise)
    if enterprise.zone_id is None:
        raise ServiceError("只有在园企业才能填报亩均效益数据", "zone_id")
    check_year(year)
    values = _checked(data)
    row = figures_of(enterprise.id, year, include_deleted=True)
    if row is None:
        row = EfficiencyFigures(enterprise_id=enterprise.id, year=year, zone_id=enterprise.zone_id)
        db.session.add(row)
    row.deleted_at = None
    row.zone_id = enterprise.zone_id
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def delete_figures(actor, row: EfficiencyFigures) -> None:
    records.soft_delete(actor, row)


def history(user, enterprise: Enterprise) -> list[dict]:
    """The firm's years, newest first: its figures and the stored result of its zone for that year,
    as far as ``user``'s zones reach (``scope``)."""
    figures = db.session.scalars(scope(select(EfficiencyFigures).where(
        EfficiencyFigures.enterprise_id == enterprise.id), EfficiencyFigures, user)).all()
    results = db.session.scalars(scope(select(EfficiencyResult).where(EfficiencyResult.enterprise_id == enterprise.id),
                                       EfficiencyResult, user)).all()
    by_year: dict[int, dict] = defaultdict(dict)
    for row in figures:
        by_year[row.year]["figures"] = row
    for result in results:
        by_year[result.year]["result"] = result
    return [{"year": year, **by_year[year]} for year in sorted(by_year, reverse=True)]


# --- the method -------------------------------------------------------------------------------------
def method_of(zone_id: int) -> dict:
    stored = db.session.scalar(select(EfficiencyMethod).where(EfficiencyMethod.zone_id == zone_id))
    return stored.method if stored else rules.default_method()


def set_method(actor, zone_id: int, method: dict | None) -> None:
    """Store the zone's method (validated); None goes back to the default."""
    require(actor, "efficiency.evaluate", zone_id)
    stored = db.session.scalar(select(EfficiencyMethod).where(EfficiencyMethod.zone_id == zone_id))
    if method is None:
        if stored:
            db.session.delete(stored)
        db.session.flush()
        return
    problems = rules.validate_method(method)
    if problems:
        raise ServiceError("；".join(problems), "method")
    if stored is None:
        db.session.add(EfficiencyMethod(zone_id=zone_id, method=method))
    else:
        stored.method = method
    db.session.flush()


# --- the evaluation -------------------------------------------------------------------------------
def _text(value) -> str | None:
    return None if value is None else str(value)


def run_evaluation(actor, zone_id: int, year: int) -> list[EfficiencyResult]:
    """Evaluate the zone's local firms with figures for ``year``; the year's stored results are replaced."""
    require(actor, "efficiency.evaluate", zone_id)
    check_year(year)
    rows = db.session.scalars(select(EfficiencyFigures).join(Enterprise, Enterprise.id == EfficiencyFigures.enterprise_id)
                              .where(EfficiencyFigures.zone_id == zone_id, EfficiencyFigures.year == year,
                                     EfficiencyFigures.deleted_at.is_(None), Enterprise.deleted_at.is_(None),
                                     Enterprise.zone_id == zone_id)).all()
    if not rows:
        raise ServiceError(f"{year} 年还没有本园区企业的亩均效益数据", "year")
    evaluated = rules.evaluate({row.enterprise_id: row.as_figures() for row in rows}, method_of(zone_id))
    for old in db.session.scalars(select(EfficiencyResult).where(EfficiencyResult.zone_id == zone_id,
                                                                 EfficiencyResult.year == year)).all():
        db.session.delete(old)  # audited, one entry per replaced result
    db.session.flush()
    made = [EfficiencyResult(zone_id=zone_id, year=year, enterprise_id=r["id"], rank=r["rank"], score=r["score"],
                             klass=r["klass"], small=r["small"], missing=r["missing"],
                             points={k: str(v) for k, v in r["points"].items()},
                             values={k: _text(v) for k, v in r["values"].items()},
                             evaluated_by_id=getattr(actor, "id", None)) for r in evaluated]
    db.session.add_all(made)
    db.session.flush()
    return made


@dataclass
class Ranking:
    zone_id: int
    year: int
    method: dict
    results: list
    last_year: dict  # enterprise id → last year's class
    indicators: list = field(default_factory=list)

    def change(self, result) -> int | None:
        return rules.class_change(self.last_year.get(result.enterprise_id), result.klass)

    @property
    def by_class(self) -> dict[str, int]:
        counts = Counter(r.klass for r in self.results)
        return {k: counts.get(k, 0) for k in rules.CLASSES}


def ranking(user, zone_id: int, year: int) -> Ranking:
    """The zone-year's stored results (none for a zone ``user`` cannot see: ``scope``) and last year's classes."""
    method = method_of(zone_id)
    results = db.session.scalars(scope(select(EfficiencyResult).where(EfficiencyResult.zone_id == zone_id,
                                                                      EfficiencyResult.year == year),
                                       EfficiencyResult, user).order_by(EfficiencyResult.rank)).all()
    last = dict(db.session.execute(scope(select(EfficiencyResult.enterprise_id, EfficiencyResult.klass).where(
        EfficiencyResult.zone_id == zone_id, EfficiencyResult.year == year - 1), EfficiencyResult, user)).all())
    keys = rules.indicator_keys(method)
    for r in results:
        keys += [k for k in r.points if k not in keys]
    return Ranking(zone_id, year, method, results, last, [rules.INDICATORS[k] for k in keys if k in rules.INDICATORS])


def by_chain(user, zone_id: int, year: int) -> list[dict]:
    """Per chain (a firm counted under every chain it is mapped onto): its firms by class."""
    rows = db.session.execute(scope(
        select(Chain.name, EfficiencyResult.klass, func.count(func.distinct(EfficiencyResult.enterprise_id)))
        .join(EnterpriseSegment, EnterpriseSegment.enterprise_id == EfficiencyResult.enterprise_id)
        .join(Segment, Segment.id == EnterpriseSegment.segment_id).join(Chain, Chain.id == Segment.chain_id)
        .where(EfficiencyResult.zone_id == zone_id, EfficiencyResult.year == year)
        .group_by(Chain.name, EfficiencyResult.klass).order_by(Chain.name), EfficiencyResult, user)).all()
    table: dict[str, dict] = {}
    for name, klass, count in rows:
        table.setdefault(name, dict.fromkeys(rules.CLASSES, 0))[klass] = count
    return [{"chain": name, **counts, "total": sum(counts.values())} for name, counts in table.items()]


def years_evaluated(zone_id: int) -> list[int]:
    return list(db.session.scalars(select(EfficiencyResult.year).where(EfficiencyResult.zone_id == zone_id)
                                   .distinct().order_by(EfficiencyResult.year.desc())))


def workbook(zone_name: str, data: Ranking) -> bytes:
    """The year's evaluation as zones send it upward: one sheet of the ranked firms, one of the classes."""
    from crm.excel import Book

    out = io.BytesIO()
    book = Book(out)
    bold = book.format(look=(("bold", True), ("border", 1), ("text_wrap", True)))
    money = book.format("#,##0.00")
    sheet = book.sheet("亩均效益评价", header_row=1, footer=f"{zone_name} {data.year} 年度")
    sheet.append([f"{zone_name} {data.year} 年度工业企业亩均效益综合评价结果（{data.method.get('name', '')}）"])
    labels = [f"{i.label}（{i.unit}）" for i in data.indicators]
    sheet.append(["排名", "企业名称", "统一社会信用代码", *labels, *[f"{i.label}得分" for i in data.indicators],
                  "总分", "分类", "上年分类", "缺少数据"], [bold] * (6 + 2 * len(labels) + 1))
    for r in data.results:
        values = [Decimal(r.values[i.key]) if r.values.get(i.key) is not None else None for i in data.indicators]
        points = [Decimal(r.points[i.key]) if i.key in r.points else None for i in data.indicators]
        sheet.append([r.rank, r.enterprise.name, r.enterprise.uscc or "", *values, *points, r.score, r.klass,
                      data.last_year.get(r.enterprise_id, ""),
                      "、".join(rules.FIGURE_LABELS[k] for k in r.missing)],
                     [None, None, None, *[money] * (2 * len(labels) + 1)])
    sheet.set_widths([6, 30, 20, *[12] * (2 * len(labels)), 8, 6, 8, 24])
    summary = book.sheet("分类汇总", header_row=0)
    summary.append(["分类", "企业数"], [bold, bold])
    for klass, count in data.by_class.items():
        summary.append([klass, count])
    book.close()
    return out.getvalue()


# --- the import ------------------------------------------------------------------------------------
@dataclass
class Problem:
    row: int
    column: str  # letter, '' for the whole row
    header: str
    message: str


@dataclass
class Plan:
    year: int
    rows: list = field(default_factory=list)  # (row number, enterprise, values)
    problems: list = field(default_factory=list)


def plan_import(actor, zone_id: int, year: int, table: Table) -> Plan:
    """What the file would write, or its problems by row and column; reads only."""
    check_year(year)
    plan = Plan(year)
    found = columns.mapping(table.headers)
    keys = set(found.values())
    if not keys & {"uscc", "name"}:
        plan.problems.append(Problem(table.header_row, "", "", "找不到“统一社会信用代码”或“企业名称”列"))
        return plan
    if not keys & set(FIGURE_COLUMNS):
        plan.problems.append(Problem(table.header_row, "", "", "找不到任何亩均效益数据列（用地面积、税收、营业收入……）"))
        return plan
    firms = db.session.scalars(select(Enterprise).where(Enterprise.deleted_at.is_(None), Enterprise.zone_id == zone_id)).all()
    by_uscc = {e.uscc: e for e in firms if e.uscc}
    by_name = {e.name: e for e in firms}
    seen: dict[int, int] = {}
    for row in table.rows:
        cells = {key: row.get(index) for index, key in found.items()}
        letter = {key: table.letter(index) for index, key in found.items()}
        header = {key: table.headers[index] for index, key in found.items()}
        uscc, name = (str(cells.get("uscc") or "").strip().upper(), str(cells.get("name") or "").strip())
        firm = by_uscc.get(uscc) if uscc else by_name.get(name)
        where = "uscc" if uscc else "name"
        if firm is None:
            plan.problems.append(Problem(row.number, letter.get(where, ""), header.get(where, ""),
                                         f"“{uscc or name}”不是本园区的在园企业" if uscc or name else "缺少企业名称或信用代码"))
            continue
        if firm.id in seen:
            plan.problems.append(Problem(row.number, letter.get(where, ""), header.get(where, ""),
                                         f"与第 {seen[firm.id]} 行是同一家企业"))
            continue
        seen[firm.id] = row.number
        values, bad = {}, False
        for key in FIGURE_COLUMNS:
            if key not in cells:
                continue
            try:
                values[key] = columns.parse(key, cells[key])
            except ValueProblem as problem:
                plan.problems.append(Problem(row.number, letter[key], header[key], problem.message))
                bad = True
        if not bad:
            plan.rows.append((row.number, firm, values))
    return plan


def read_upload(data: bytes, filename: str, limits: dict) -> Table:
    return read_table(data, filename, max_bytes=limits["max_bytes"], max_rows=limits["max_rows"])


def commit_import(actor, zone_id: int, year: int, table: Table) -> int:
    """Plan afresh and write every row, or nothing when any row has a problem (``ImportRefused``)."""
    require(actor, "import.run", zone_id)
    plan = plan_import(actor, zone_id, year, table)
    if plan.problems:
        raise ImportRefused(f"文件有 {len(plan.problems)} 处问题，未写入任何数据")
    for _, firm, values in plan.rows:
        existing = figures_of(firm.id, year)
        merged = {k: getattr(existing, k) for k in FIGURE_COLUMNS} if existing else {}
        merged.update(values)
        save_figures(actor, firm, year, merged)
    return len(plan.rows)

