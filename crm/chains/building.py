"""The chain builder: a chain from the Excel template, checked like the data files, previewed, then saved.

``template_workbook`` is the blank template (产业链 / 环节 / 链接 sheets and a 填写说明 sheet).
``read_workbook`` reads an upload through the imports' safe reader (crm.imports.reading) into the
same mapping a chain's YAML file holds, and validates it with the data files' one validator
(``chains.definitions.parse_chain``): every problem names its sheet, row and column in Chinese.
``database_problems`` adds what only the database knows (a code already taken, a link to a segment
of another chain that does not exist). ``preview`` orders the segments per tier as the map's layered
layout does; ``save_chain`` writes the chain, its segments and links in one flush (audited by the
models' listener), the view commits.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from chains.definitions import TIERS, ChainDef, parse_chain, segment_prefix
from chains.layout import layered_layout
from chains.model import build_graph, columns_of
from crm.catalog.models import Chain, Segment
from crm.catalog.service import sync_chains
from crm.errors import ServiceError
from crm.extensions import db
from crm.imports.reading import ImportRefused, Table, header_key, read_table

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 500
CHAIN_SHEET, SEGMENT_SHEET, LINK_SHEET = "产业链", "环节", "链接"
CHAIN_COLUMNS = (("code", "链代码"), ("name", "链名称"), ("name_en", "英文名称"), ("group", "分组"),
                 ("version", "版本"))
SEGMENT_COLUMNS = (("code", "环节代码"), ("name", "环节名称"), ("name_en", "英文名称"), ("tier", "层级"),
                   ("value_add", "价值层级"), ("products", "主要产品"), ("keywords", "关键词"))
LINK_COLUMNS = (("from", "供应方环节代码"), ("to", "采购方环节代码"))
REQUIRED = {CHAIN_SHEET: ("code", "name", "version"), SEGMENT_SHEET: ("code", "name", "tier", "value_add"),
            LINK_SHEET: ("from", "to")}
# /chains/<code> would be shadowed by the builder's own pages for these codes.
RESERVED_CODES = {"build", "mapping", "links", "segments"}
GUIDE = (
    ("产业链", "只填一行：链代码（小写英文，如 new_energy）、链名称、英文名称、分组、版本（如 2026.1）"),
    ("环节", "一行一个环节：环节代码（大写、带本链前缀，如 NE-CELL）、环节名称、英文名称、层级（上游/中游/下游）、"
             "价值层级（1–5 的整数）、主要产品与关键词（用顿号、逗号或换行分隔，关键词每个至少 2 个字）"),
    ("链接", "一行一条供应关系：供应方环节代码 → 采购方环节代码；可以链接到其他产业链已有的环节"),
)
_WORDS = re.compile(r"[,，、;；\n\r]+")
_NO_ROWS = "下面没有数据行"


@dataclass
class Draft:
    """What an upload became: the chain's mapping, and the chain when it has no problem."""

    data: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    chain: ChainDef | None = None


def template_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from crm.excel import CellStyle, cell, display_width, set_widths

    header = CellStyle(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"),
                       alignment=Alignment(horizontal="center", vertical="center"))
    workbook = Workbook(write_only=True)
    for name, columns in ((CHAIN_SHEET, CHAIN_COLUMNS), (SEGMENT_SHEET, SEGMENT_COLUMNS), (LINK_SHEET, LINK_COLUMNS)):
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        set_widths(sheet, [max(display_width(label) + 4, 14) for _, label in columns])
        sheet.append([cell(sheet, label, style=header) for _, label in columns])
    guide = workbook.create_sheet("填写说明")
    set_widths(guide, [12, 90], maximum=100)
    guide.append([cell(guide, "工作表", style=header), cell(guide, "怎么填", style=header)])
    for row in GUIDE:
        guide.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading an upload ------------------------------------------------------------------


def _columns(table: Table, sheet: str, columns: tuple, errors: list[str]) -> dict[str, int]:
    found = {}
    keys = [header_key(h) for h in table.headers]
    for key, label in columns:
        if header_key(label) in keys:
            found[key] = keys.index(header_key(label))
        elif key in REQUIRED[sheet]:
            errors.append(f"{sheet}表缺少列“{label}”（请使用下载的模板）")
    return found


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value  # the validator names what is wrong with it


def _words(value: Any) -> list[str] | None:
    text = _text(value)
    return None if text is None else [w.strip() for w in _WORDS.split(text) if w.strip()]


def _read_sheet(data: bytes, filename: str, sheet: str, errors: list[str]) -> Table | None:
    try:
        table = read_table(data, filename, max_bytes=MAX_BYTES, max_rows=MAX_ROWS, sheet=sheet)
    except ImportRefused as refused:
        if sheet == LINK_SHEET and _NO_ROWS in refused.message:
            return None  # a chain without links is allowed
        errors.append(f"{sheet}表：{refused.message}")
        return None
    if table.file_type != "xlsx":
        raise ImportRefused("请上传下载的 .xlsx 模板（产业链、环节、链接三个工作表）")
    return table


def read_workbook(data: bytes, filename: str) -> Draft:
    """The upload as the data files' mapping, validated; ImportRefused for a file that cannot be read."""
    if not filename.lower().endswith(".xlsx"):
        raise ImportRefused("请上传下载的 .xlsx 模板（产业链、环节、链接三个工作表）")
    draft = Draft()
    errors = draft.errors
    tables = {name: _read_sheet(data, filename, name, errors) for name in (CHAIN_SHEET, SEGMENT_SHEET, LINK_SHEET)}
    messages = {error.split("：", 1)[1] for error in errors}
    if len(errors) > 1 and len(messages) == 1:
        raise ImportRefused(messages.pop())  # the file itself, not one sheet: say it once
    columns = {name: _columns(table, name, spec, errors) if table else {}
               for (name, spec), table in zip(((CHAIN_SHEET, CHAIN_COLUMNS), (SEGMENT_SHEET, SEGMENT_COLUMNS),
                                               (LINK_SHEET, LINK_COLUMNS)), tables.values())}
    if errors:
        return draft

    chain_table = tables[CHAIN_SHEET]
    if len(chain_table.rows) > 1:
        errors.append(f"{CHAIN_SHEET}表只填一行（第 {chain_table.rows[1].number} 行起多了）")
    chain_row = chain_table.rows[0]
    data_ = {key: _text(chain_row.get(i)) for key, i in columns[CHAIN_SHEET].items()}
    data_ = {key: value for key, value in data_.items() if value is not None}

    segment_table = tables[SEGMENT_SHEET]
    segments = []
    for row in segment_table.rows:
        entry = {}
        for key, index in columns[SEGMENT_SHEET].items():
            value = row.get(index)
            value = (_integer(value) if key == "value_add" else
                     _words(value) if key in ("products", "keywords") else _text(value))
            if value is not None:
                entry[key] = value
        segments.append(entry)
    data_["segments"] = segments

    link_table = tables[LINK_SHEET]
    link_rows = link_table.rows if link_table else []
    data_["links"] = [[_text(row.get(columns[LINK_SHEET]["from"])) or "", _text(row.get(columns[LINK_SHEET]["to"])) or ""]
                      for row in link_rows]
    draft.data = data_

    seg_letters = {key: segment_table.letter(i) for key, i in columns[SEGMENT_SHEET].items()}
    seg_labels = dict(SEGMENT_COLUMNS)

    def segment_label(number: int, code: Any, key: str | None) -> str:
        where = f"{SEGMENT_SHEET}表第 {segment_table.rows[number - 1].number} 行"
        if key in seg_letters:
            where += f" {seg_letters[key]} 列（{seg_labels[key]}）"
        return f"{where} ({code})" if code else where

    def link_label(number: int, source: Any, target: Any) -> str:
        where = f"{LINK_SHEET}表第 {link_rows[number - 1].number} 行"
        return f"{where} [{source} → {target}]" if source or target else where

    def position(number: int) -> str:
        return f"第 {segment_table.rows[number - 1].number} 行"

    chain, problems = parse_chain(data_, f"{CHAIN_SHEET}表第 {chain_row.number} 行", segment_label=segment_label,
                                  link_label=link_label, segment_position=position)
    errors += problems
    if chain is not None and not errors:
        errors += database_problems(chain)
    draft.chain = chain if not errors else None
    return draft


def check_data(data: Any) -> Draft:
    """A mapping sent back from the preview page: validated again, as if it were a file."""
    draft = Draft(data=data if isinstance(data, dict) else {})
    if not isinstance(data, dict):
        draft.errors.append("预览内容无法读取，请重新上传")
        return draft
    chain, draft.errors = parse_chain(data, "导入内容")
    if chain is not None and not draft.errors:
        draft.errors += database_problems(chain)
    draft.chain = chain if not draft.errors else None
    return draft


def database_problems(chain: ChainDef) -> list[str]:
    """What the files' validator cannot know: codes the database already holds, links to unknown segments."""
    problems = []
    if chain.code in RESERVED_CODES:
        problems.append(f"链代码 {chain.code} 是系统保留字，请换一个")
    if db.session.scalar(select(Chain.id).where(Chain.code == chain.code)):
        problems.append(f"链代码 {chain.code} 已存在：新建的链需要新的代码（修改已有的链请到链的环节编辑页）")
    existing = set(db.session.scalars(select(Segment.code)))
    prefixes = {segment_prefix(code) for code in existing}
    if chain.prefix in prefixes:
        problems.append(f"环节前缀 {chain.prefix}- 已被其他产业链使用")
    problems += [f"环节代码 {seg.code} 已存在" for seg in chain.segments if seg.code in existing]
    own = {seg.code for seg in chain.segments}
    for source, target in chain.links:
        problems += [f"链接 [{source} → {target}]：未知环节代码 {code}"
                     for code in (source, target) if code not in own and code not in existing]
    return problems


# --- preview and save -------------------------------------------------------------------


def preview(chain: ChainDef) -> list[tuple[str, list[list]]]:
    """[(tier, [column of segments top to bottom, …])]: the map's columns, ordered as the layered layout."""
    own = {seg.code for seg in chain.segments}
    inner = replace(chain, links=tuple(link for link in chain.links if set(link) <= own))
    graph = build_graph([inner], chain.code)
    columns = columns_of(graph)
    positions = layered_layout(graph).positions
    by_code = {seg.code: seg for seg in chain.segments}
    result = []
    for tier in TIERS:
        codes = [code for code in own if by_code[code].tier == tier]
        cols = sorted({columns[code] for code in codes})
        result.append((tier, [[by_code[code] for code in sorted(
            (c for c in codes if columns[c] == col), key=lambda c: positions[c][1])] for col in cols]))
    return result


def save_chain(actor, chain: ChainDef) -> Chain:
    """Write the chain, its segments and links (all or nothing: the caller commits or rolls back)."""
    problems = database_problems(chain)
    if problems:
        raise ServiceError("；".join(problems))
    sync_chains([chain])
    return db.session.scalar(select(Chain).where(Chain.code == chain.code))
