"""Reading a ledger file (.xlsx or .csv) into a table, safely, and turning its cells into values.

Nothing here touches the database. ``read_table`` checks the file before any parser sees it (size,
type by content, the zip's entries and compression ratios, macros, encryption), then finds the
header row under any title rows, fills merged cells, drops blank rows and keeps each row's number
as the person sees it in Excel. The ``parse_*`` helpers turn one cell into a value or raise
``ValueProblem`` with a Chinese message.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel

from crm import fields

# Zip inspection before openpyxl opens anything.
MAX_ZIP_ENTRIES = 1000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small parts (styles, shared strings of a short sheet) compress very well and are harmless at any
# ratio; the ratio test applies to entries that would inflate beyond this.
RATIO_CHECK_FROM_BYTES = 1024 * 1024
MAX_COLUMNS = 200
MAX_MERGES = 20000
HEADER_SEARCH_ROWS = 10
MAX_SHEETS = 30
# openpyxl reads the shared strings, workbook.xml and each worksheet row whole: bound them before it does.
MAX_SHARED_STRINGS = 500_000
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
MAX_PART_BYTES = 4 * 1024 * 1024
MAX_ROW_BYTES = 1024 * 1024
MAX_OUTSIDE_ROWS_BYTES = 2 * 1024 * 1024
_SI_TAG = re.compile(rb"<(?:\w+:)?si[\s>/]")
_ROW_TAG = re.compile(rb"<(/?)(?:\w+:)?row[\s>/]")
TOO_LARGE_PART = "文件结构异常（单个部件或单行内容过大），已拒绝：请在 Excel 中打开并另存为 .xlsx 后再导入"

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

NOT_XLSX = "文件内容不是有效的 Excel（.xlsx）文件，可能是改了扩展名的其他文件"
ENCRYPTED = "文件已加密或为旧版 .xls：请在 Excel 中取消密码，并另存为 .xlsx 后再导入"
MACRO = "不支持启用宏的 .xlsm 文件：请在 Excel 中另存为 .xlsx（不含宏）后再导入"
WRONG_TYPE = "只支持 .xlsx 和 .csv 文件"
NOT_CSV = "文件不是文本格式的 CSV：请用 Excel 另存为 .xlsx 或 “CSV UTF-8” 后再导入"


class ImportRefused(Exception):
    """The whole file is refused; nothing is read further and nothing is written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValueProblem(ValueError):
    """One cell cannot be read; the message is for the person who fills in the ledger."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Row:
    number: int  # the row number the person sees in Excel (the line number in a CSV)
    values: list[Any]

    def get(self, index: int) -> Any:
        return self.values[index] if index < len(self.values) else None


@dataclass
class Table:
    headers: list[str]  # one display header per column, '' where the column has none
    rows: list[Row]
    header_row: int  # Excel row number of the (last) header row
    file_type: str  # "xlsx" or "csv"
    sheet: str | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, why) — totals, notes

    def letter(self, index: int) -> str:
        return get_column_letter(index + 1)

    def samples(self, index: int, count: int = 3) -> list[str]:
        found = []
        for row in self.rows:
            value = row.get(index)
            if value is not None:
                found.append(display_value(value))
                if len(found) == count:
                    break
        return found


# ---------------------------------------------------------------------------------------------
# Header synonyms: target field → the headers zones use for it. Matching is on ``header_key``.
# ---------------------------------------------------------------------------------------------
_ENTERPRISE_NAME = ["企业名称", "公司名称", "单位名称", "企业全称", "企业名", "公司全称", "单位全称", "客户名称",
                    "投资方", "投资主体", "投资企业", "投资方名称", "签约企业", "企业", "公司", "名称"]
_USCC = ["统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码", "统一代码", "税号", "纳税人识别号"]
_LOCAL = ["在园", "是否在园", "在园企业", "是否在园企业", "是否园区企业", "园区企业"]

HEADER_SYNONYMS: dict[str, dict[str, list[str]]] = {
    "enterprises": {
        "name": _ENTERPRISE_NAME,
        "uscc": _USCC,
        "aliases": ["曾用名", "简称", "企业简称", "别名", "曾用名简称"],
        "region_province": ["省", "省份", "所在省", "所在省份", "所属省份"],
        "region_city": ["市", "城市", "所在市", "地市", "所在城市", "所属城市"],
        "region_county": ["区县", "县区", "区", "县", "所在区县", "所属区县"],
        "address": ["地址", "注册地址", "企业地址", "详细地址", "经营地址", "注册地"],
        "industry_code": ["行业代码", "国民经济行业代码", "行业分类代码"],
        "industry_name": ["所属行业", "行业", "行业类别", "行业名称", "国民经济行业分类", "行业分类", "产业类别"],
        "main_products": ["主营产品", "主要产品", "主营业务", "主导产品", "产品"],
        "registered_capital": ["注册资本", "注册资金"],
        "annual_revenue": ["营业收入", "年营收", "年营业收入", "营收", "销售收入", "年销售收入", "主营业务收入",
                           "年产值", "上年营收"],
        "employees": ["员工人数", "从业人数", "职工人数", "员工数", "人数", "用工人数", "从业人员"],
        "above_scale": ["规上", "是否规上", "规模以上", "规模以上企业", "是否规模以上", "规上企业", "是否规上企业"],
        "tags": ["标签", "企业标签", "企业类型", "资质", "企业资质", "荣誉资质"],
        "website": ["网站", "官网", "网址", "企业网站"],
        "notes": ["备注", "说明", "其他"],
        "local": _LOCAL,
    },
    "projects": {
        "name": ["项目名称", "项目", "项目名", "项目全称"],
        "enterprise_name": _ENTERPRISE_NAME,
        "uscc": _USCC,
        "stage": ["阶段", "项目阶段", "进展阶段", "当前阶段", "项目状态", "状态", "推进阶段"],
        "planned_investment": ["计划投资", "计划投资额", "投资额", "总投资", "计划总投资", "总投资额", "投资总额",
                               "拟投资额", "拟投资", "投资规模"],
        "contract_investment": ["协议投资额", "协议投资", "签约金额", "签约投资额", "合同投资额", "协议金额",
                                "合同金额", "协议总投资"],
        "signed_date": ["签约日期", "签约时间", "协议签订日期", "签订日期", "签约日"],
        "registered_date": ["注册日期", "注册时间"],
        "started_date": ["开工日期", "开工时间"],
        "production_date": ["投产日期", "投产时间"],
        "full_production_date": ["达产日期", "达产时间"],
        "owner": ["负责人", "责任人", "跟进人", "项目负责人", "招商负责人", "经办人", "招商责任人", "责任领导人"],
        "source": ["来源", "项目来源", "招商方式", "信息来源", "线索来源"],
        "land_area": ["用地", "用地面积", "用地亩数", "占地面积", "占地", "亩数", "土地面积", "用地规模"],
        "priority": ["优先级", "重要程度"],
        "description": ["项目情况", "项目简介", "项目概况", "建设内容", "项目内容", "备注"],
        "stage_note": ["原因", "搁置原因", "终止原因", "阶段说明"],
        "confidential": ["保密", "是否保密", "保密项目"],
        # 产业链环节 and 所属产业链 read alike: a ledger may keep both columns, or either alone.
        "segments": ["产业环节", "产业链环节", "所属环节", "所属产业链环节", "环节", "链条环节", "产业链及环节",
                     "所属产业环节"],
        "chain": ["所属产业链", "产业链", "所属链条", "产业链条"],
        "local": _LOCAL,
    },
    "visits": {
        "enterprise_name": _ENTERPRISE_NAME,
        "uscc": _USCC,
        "project_name": ["项目名称", "项目", "关联项目"],
        "visit_date": ["走访日期", "日期", "走访时间", "洽谈日期", "洽谈时间", "拜访日期", "时间", "接洽日期"],
        "kind": ["走访方式", "方式", "洽谈方式", "形式", "走访形式", "类型", "走访类型"],
        "our_people": ["我方人员", "参加人员", "我方参加人员", "走访人员", "参与人员"],
        "our_leader": ["我方领导", "带队领导", "参加领导", "最高领导", "我方最高领导"],
        "their_people": ["对方人员", "企业人员", "对方参加人员", "企业参加人员", "接待人", "企业对接人"],
        "summary": ["洽谈内容", "走访内容", "内容", "主要内容", "洽谈情况", "走访情况", "情况", "交流内容"],
        "outcome": ["成果", "成果/结论", "洽谈成果", "走访成果", "结果", "成效"],
        "next_step": ["下一步", "下一步工作", "下一步计划", "后续工作", "跟进事项", "下步工作"],
        "next_step_due": ["期限", "完成时限", "完成期限", "时限", "下一步期限", "完成时间", "完成日期"],
        "officer": ["跟进人", "走访人", "记录人", "负责人", "责任人", "经办人"],
        "local": _LOCAL,
    },
}

# Each import field's entry in the field table (crm/fields.py): its label, unit and bounds. The label
# is always an accepted header, so a template filled in imports as it is.
FIELD_KEYS: dict[str, dict[str, str]] = {
    "enterprises": {
        **{f: f for f in HEADER_SYNONYMS["enterprises"]}, "name": "enterprise_name",
    },
    "projects": {
        **{f: f for f in HEADER_SYNONYMS["projects"]}, "name": "project_name",
    },
    "visits": {f: f for f in HEADER_SYNONYMS["visits"]},
}


def field_spec(kind: str, target: str) -> fields.Field:
    """The field table's entry for an import field of ``kind``."""
    return fields.field(FIELD_KEYS[kind][target])


# Fields matched only by their exact header (a planned "计划开工时间" is not the actual 开工日期).
EXACT_ONLY = {"registered_date", "started_date", "production_date", "full_production_date", "signed_date"}
# Containment matching is for synonyms long enough to mean something on their own.
MIN_CONTAINED_SYNONYM = 3

_BRACKETED = re.compile(r"[(\[【《{<]([^)\]】》}>]*)[)\]】》}>]")
_SEPARATORS = re.compile(r"[\s*:：/\\_\-—·.,，、;；'\"“”‘’#№]+")
_UNIT_SUFFIX = re.compile(r"(亿元|万元|元|亩|人|个)$")


def to_halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def header_key(text: Any) -> str:
    """A header reduced to what identifies it: half-width, no spaces, brackets, units or markers."""
    if text is None:
        return ""
    value = to_halfwidth(str(text))
    value = _BRACKETED.sub("", value)
    value = _SEPARATORS.sub("", value)
    value = re.sub(r"^\d+", "", value)  # "1.企业名称" → 企业名称 (the dot went with the separators)
    stripped = _UNIT_SUFFIX.sub("", value)
    return (stripped or value).lower()


def header_unit(text: Any) -> str | None:
    """The money unit a header states: 亿元, 万元 or 元; None when it says nothing."""
    if text is None:
        return None
    value = to_halfwidth(str(text)).replace(" ", "")
    if "亿" in value:
        return "亿元"
    if "万" in value:
        return "万元"
    if re.search(r"(\(元\)|（元）|单位:?元|元$)", value):
        return "元"
    return None


def accepted_headers(kind: str, target: str) -> list[str]:
    """The headers a column of ``target`` may carry: the field table's label first, then the synonyms."""
    label = field_spec(kind, target).label
    return list(dict.fromkeys([label, *HEADER_SYNONYMS[kind][target]]))


_KEYED: dict[str, list[tuple[str, str]]] = {
    kind: [(header_key(s), f) for f in targets for s in accepted_headers(kind, f)]
    for kind, targets in HEADER_SYNONYMS.items()
}
_ALL_KEYS = {key for pairs in _KEYED.values() for key, _ in pairs}


def match_header(header: Any, kind: str) -> tuple[str | None, bool]:
    """The field a header names for ``kind``, and whether the match was exact."""
    key = header_key(header)
    if not key:
        return None, False
    for synonym, target in _KEYED[kind]:
        if synonym == key:
            return target, True
    best: tuple[int, str] | None = None
    for synonym, target in _KEYED[kind]:
        if target in EXACT_ONLY or len(synonym) < MIN_CONTAINED_SYNONYM:
            continue
        if synonym in key and (best is None or len(synonym) > best[0]):
            best = (len(synonym), target)
    return (best[1], False) if best else (None, False)


def suggest_mapping(headers: list[str], kind: str) -> dict[int, str]:
    """{column index: field} for the headers recognised; each field goes to one column at most.

    Exact matches win over contained ones; among equals the leftmost column wins.
    """
    if kind not in HEADER_SYNONYMS:
        raise ValueError(f"unknown import kind {kind!r}")
    matches = [(index, *match_header(header, kind)) for index, header in enumerate(headers)]
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for want_exact in (True, False):
        for index, target, exact in matches:
            if target and exact == want_exact and target not in taken and index not in mapping:
                mapping[index] = target
                taken.add(target)
    return dict(sorted(mapping.items()))


def _recognised(header: Any, kind: str | None = None) -> bool:
    """Whether a header names a field of ``kind`` (of any kind when None)."""
    key = header_key(header)
    if not key:
        return False
    if kind is not None:
        return match_header(header, kind)[0] is not None
    return key in _ALL_KEYS or any(match_header(header, k)[0] for k in HEADER_SYNONYMS)


# ---------------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------------
def read_table(data: bytes, filename: str, *, max_bytes: int, max_rows: int, kind: str | None = None,
               sheet: str | None = None) -> Table:
    """The ledger's table, or ``ImportRefused`` with a Chinese message for a file that cannot be read.

    ``kind`` (enterprises/projects/visits) makes the headers of that kind decide which sheet of a
    workbook holds the ledger and which row is its header; ``sheet`` names the sheet outright.
    """
    if not data:
        raise ImportRefused("文件是空的")
    if len(data) > max_bytes:
        raise ImportRefused(f"文件太大（{_size(len(data))}），上限为 {_size(max_bytes)}")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in {"xlsm", "xltm", "xlam"}:
        raise ImportRefused(MACRO)
    if data.startswith(OLE2_MAGIC[:4]):
        raise ImportRefused(ENCRYPTED)
    if data.startswith(ZIP_MAGIC):
        _inspect_zip(data)
        raw_rows, merges, sheet = _read_xlsx(data, max_rows, kind, sheet)
        file_type = "xlsx"
    elif extension in {"csv", "txt"}:
        raw_rows, merges, sheet = _read_csv(data, max_rows), [], None
        file_type = "csv"
    elif extension in {"xlsx", "xls"}:
        raise ImportRefused(NOT_XLSX)
    else:
        raise ImportRefused(WRONG_TYPE)
    return _build_table(raw_rows, merges, sheet, file_type, max_rows, kind)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _inspect_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise ImportRefused(NOT_XLSX) from error
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ImportRefused(f"文件结构异常：压缩包内有 {len(infos)} 个部件，超过 {MAX_ZIP_ENTRIES} 个")
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused(NOT_XLSX)
    if any(info.flag_bits & 0x1 for info in infos):
        raise ImportRefused(ENCRYPTED)
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ImportRefused(f"文件解压后过大（{_size(total)}），上限为 {_size(MAX_UNCOMPRESSED_BYTES)}")
    for info in infos:
        if info.file_size > RATIO_CHECK_FROM_BYTES and (
            info.compress_size == 0 or info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
        ):
            raise ImportRefused("文件压缩比异常（疑似“压缩炸弹”），已拒绝")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise ImportRefused(MACRO)
    content_types = archive.getinfo("[Content_Types].xml")
    if content_types.file_size > RATIO_CHECK_FROM_BYTES:
        raise ImportRefused(NOT_XLSX)
    if b"macroenabled" in archive.read(content_types).lower():
        raise ImportRefused(MACRO)
    _inspect_parts(archive, infos)


def _inspect_parts(archive, infos) -> None:
    """Refuse parts openpyxl would hold whole in memory: huge shared strings, XML parts or rows."""
    for info in infos:
        name = info.filename.lower()
        if not name.endswith((".xml", ".rels")):
            continue
        if name.startswith("xl/worksheets/"):
            _inspect_sheet(archive, info)
        elif name.endswith("sharedstrings.xml"):
            _inspect_shared_strings(archive, info)
        elif info.file_size > MAX_PART_BYTES:
            raise ImportRefused(TOO_LARGE_PART)


def _part_chunks(archive, info, size: int = 1 << 20):
    try:
        with archive.open(info) as source:
            while chunk := source.read(size):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise ImportRefused(NOT_XLSX) from error


def _inspect_shared_strings(archive, info) -> None:
    if info.file_size > MAX_SHARED_STRINGS_BYTES:
        raise ImportRefused(TOO_LARGE_PART)
    count, tail = 0, b""
    for chunk in _part_chunks(archive, info):
        text = tail + chunk
        count += len(_SI_TAG.findall(text)) - len(_SI_TAG.findall(tail))
        tail = text[-16:]
        if count > MAX_SHARED_STRINGS:
            raise ImportRefused(TOO_LARGE_PART)


def _inspect_sheet(archive, info) -> None:
    """Stream the sheet's XML: no single row, and no stretch between rows, may exceed its bound."""
    read, last, start, in_row, outside, tail = 0, -1, 0, False, 0, b""
    for chunk in _part_chunks(archive, info):
        text = tail + chunk
        base = read - len(tail)
        for match in _ROW_TAG.finditer(text):
            at = base + match.start()
            if at <= last:
                continue
            last = at
            if in_row and at - start > MAX_ROW_BYTES:
                raise ImportRefused(TOO_LARGE_PART)
            if not in_row:
                outside += at - start
            start, in_row = at, not match.group(1)
        read += len(chunk)
        tail = text[-32:]
        open_part = read - start
        if (in_row and open_part > MAX_ROW_BYTES) or (not in_row and outside + open_part > MAX_OUTSIDE_ROWS_BYTES):
            raise ImportRefused(TOO_LARGE_PART)


def _read_xlsx(data: bytes, max_rows: int, kind: str | None, wanted: str | None) -> tuple[list, list, str]:
    from openpyxl import load_workbook  # uses defusedxml when it is installed

    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, styles); they do not matter here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheets = workbook.worksheets[:MAX_SHEETS]
                if not sheets:
                    raise ImportRefused("工作簿中没有工作表")
                if wanted is not None:
                    sheet = next((ws for ws in workbook.worksheets if ws.title == wanted), None)
                    if sheet is None:
                        names = "、".join(f"“{ws.title}”" for ws in sheets)
                        raise ImportRefused(f"工作簿中没有名为“{wanted}”的工作表（有：{names}）")
                else:
                    sheet = max(sheets, key=lambda ws: (_sheet_score(ws, kind), -sheets.index(ws)))
                merges = _merged_ranges(workbook, sheet)
                rows = list(_sheet_rows(sheet, max_rows))
            finally:
                workbook.close()
    except ImportRefused:
        raise
    except Exception as error:  # a damaged part inside an otherwise valid zip: refuse, do not crash
        raise ImportRefused("无法读取该 Excel 文件，文件可能已损坏：请在 Excel 中打开并另存为 .xlsx 后再试") from error
    return rows, merges, sheet.title


def _sheet_score(sheet, kind: str | None) -> int:
    """How header-like the first rows of a sheet are: the sheet with the ledger wins over 说明 sheets."""
    best = 0
    for number, values in _sheet_rows(sheet, HEADER_SEARCH_ROWS, limit_raw=HEADER_SEARCH_ROWS):
        best = max(best, sum(1 for value in set(values) if isinstance(value, str) and _recognised(value, kind)))
    return best


def _sheet_rows(sheet, max_rows: int, limit_raw: int | None = None):
    """(row number, values) for every row with a value, trailing empty cells trimmed."""
    sheet.reset_dimensions()  # a wrong <dimension> would pad every row to it
    raw_limit = limit_raw or (max_rows * 3 + HEADER_SEARCH_ROWS + 1000)
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > raw_limit:
            if limit_raw:
                return
            raise ImportRefused(f"表格行数（含空行）超过上限 {max_rows} 行，请删除空行或拆分后分批导入")
        cleaned = _clean_row(number, values)
        if cleaned:
            yield number, cleaned


_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]{1,3}[0-9]+:[A-Z]{1,3}[0-9]+)\"")


def _merged_ranges(workbook, sheet) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges (min_col, min_row, max_col, max_row), read from its XML by pattern.

    Read-only mode does not expose merges; the value of a merged block sits in its first cell.
    """
    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if not path or archive is None:
        return []
    found, tail = [], b""
    with archive.open(path) as source:
        while chunk := source.read(1 << 20):
            text = tail + chunk
            last_end = 0
            for match in _MERGE_REF.finditer(text):
                found.append(range_boundaries(match.group(1).decode()))
                last_end = match.end()
                if len(found) > MAX_MERGES:
                    raise ImportRefused("合并单元格过多，请取消合并后再导入")
            tail = text[max(last_end, len(text) - 200):]
    return [(c1, r1, min(c2, MAX_COLUMNS), r2) for c1, r1, c2, r2 in found if c1 <= MAX_COLUMNS]


def _read_csv(data: bytes, max_rows: int) -> list[tuple[int, list]]:
    text = _decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            if number > max_rows * 3 + HEADER_SEARCH_ROWS + 1000:
                raise ImportRefused(f"表格行数（含空行）超过上限 {max_rows} 行，请删除空行或拆分后分批导入")
            cleaned = _clean_row(number, values)
            if cleaned:
                rows.append((number, cleaned))
    except csv.Error as error:
        raise ImportRefused("CSV 格式有误：某个单元格过长或引号不成对，请用 Excel 打开后另存为 .xlsx 再导入") from error
    return rows


def _decode_csv(data: bytes) -> str:
    if b"\x00" in data[:65536]:  # text in any of the accepted encodings has no NUL bytes
        raise ImportRefused(NOT_CSV)
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused("无法识别 CSV 文件的编码：请另存为 “CSV UTF-8” 后再导入")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n")
    if "\x00" in text or controls > len(text[:65536]) // 100:
        raise ImportRefused(NOT_CSV)
    return text


def _clean_cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("\u00a0", " ").replace("\u3000", " ").strip()
        return value or None
    return value


# 合计, or 合计（12 项） as this application's own ledger writes it.
def _clean_row(number: int, values) -> list:
    """A row's cleaned cells without trailing blanks (empty for a blank row); too wide a row is refused."""
    cleaned = [_clean_cell(v) for v in values]
    while cleaned and cleaned[-1] is None:
        cleaned.pop()
    if len(cleaned) > MAX_COLUMNS:
        raise ImportRefused(f"第 {number} 行超过 {MAX_COLUMNS} 列，请只保留台账所需的列")
    return cleaned


_TOTAL_ROW = re.compile(r"^(合计|总计|小计|总合计)(\(.*\))?$")
_NOTE_PREFIXES = ("注:", "注：", "说明:", "说明：", "填表说明", "备注:", "备注：", "填报说明")


def _build_table(raw_rows: list[tuple[int, list]], merges, sheet, file_type: str, max_rows: int,
                 kind: str | None = None) -> Table:
    raw_rows = _fill_merges(raw_rows, merges)
    if not raw_rows:
        raise ImportRefused("文件中没有数据")
    top = raw_rows[:HEADER_SEARCH_ROWS + 1]
    header_at, headers, used = _find_header(top, kind)
    header_keys = {header_key(h) for h in headers if h}
    width = len(headers)
    table = Table(headers=headers, rows=[], header_row=raw_rows[header_at + used - 1][0], file_type=file_type,
                  sheet=sheet)
    for number, values in raw_rows[header_at + used:]:
        first = next((to_halfwidth(str(v)).replace(" ", "") for v in values if v is not None), "")
        if _TOTAL_ROW.match(first):
            table.skipped.append((number, "合计行，未导入"))
            continue
        if first.startswith(_NOTE_PREFIXES):
            table.skipped.append((number, "说明文字，未导入"))
            continue
        present = [v for v in values if v is not None]
        if len(present) >= 2 and all(isinstance(v, str) for v in present) \
                and sum(1 for v in present if header_key(v) in header_keys) >= max(2, len(present) - 1):
            table.skipped.append((number, "重复的表头行，未导入"))
            continue
        if len(table.rows) >= max_rows:
            raise ImportRefused(f"数据超过 {max_rows} 行的上限，请拆分后分批导入")
        width = max(width, len(values))
        table.rows.append(Row(number, values))
    if not table.rows:
        raise ImportRefused(f"表头（第 {table.header_row} 行）下面没有数据行")
    table.headers = headers + [""] * (width - len(headers))
    return table


def _fill_merges(raw_rows: list[tuple[int, list]], merges) -> list[tuple[int, list]]:
    """Give every cell of a merged block the block's value (openpyxl read-only leaves them empty)."""
    if not merges:
        return raw_rows
    width = max((len(values) for _, values in raw_rows), default=0)
    by_number = {number: values for number, values in raw_rows}
    for min_col, min_row, max_col, max_row in merges:
        max_col = min(max_col, width)  # a title merged across A:XFD spans only the used columns
        first = by_number.get(min_row)
        value = first[min_col - 1] if first and min_col - 1 < len(first) else None
        if value is None:
            continue
        # Only rows that hold something else: a block never invents a row of its own.
        if max_row - min_row <= len(by_number):
            numbers = [n for n in range(min_row, max_row + 1) if n in by_number]
        else:
            numbers = [n for n in by_number if min_row <= n <= max_row]
        for number in numbers:
            values = by_number[number]
            if len(values) < max_col:
                values.extend([None] * (max_col - len(values)))
            for col in range(min_col, max_col + 1):
                if values[col - 1] is None:
                    values[col - 1] = value
    return sorted(by_number.items())


def _header_score(values: list, kind: str | None) -> int:
    return len({header_key(v) for v in values if isinstance(v, str) and _recognised(v, kind)})


def _is_texty(values: list) -> bool:
    return all(isinstance(v, str) for v in values if v is not None)


def _combine(top: list, bottom: list, kind: str | None) -> list[str]:
    """Two header rows as one: 投资额（万元）over 计划 | 协议 → 计划投资额（万元）| 协议投资额（万元）."""
    width = max(len(top), len(bottom))
    combined = []
    for i in range(width):
        a = top[i] if i < len(top) else None
        b = bottom[i] if i < len(bottom) else None
        if a is None or a == b:
            combined.append(b or a or "")
        elif b is None:
            combined.append(a)
        else:
            candidates = [b + a, a + b, b, a]
            exact = [c for c in candidates if header_key(c) in _ALL_KEYS]
            combined.append(next(iter(exact), None) or next((c for c in candidates if _recognised(c, kind)), a + b))
    return combined


def _find_header(top: list[tuple[int, list]], kind: str | None) -> tuple[int, list[str], int]:
    """(index into the rows, headers, number of header rows used).

    The header is the row — or pair of rows, when merged cells show a two-level header — with the
    most recognised headers among the first rows; a pair must beat every single row. Without any
    recognised header, it is the first text row with the most distinct values (not a merged title).
    """
    best = None  # ((score, -rows used, -index), index, headers, rows used)
    for index, (_, values) in enumerate(top[:HEADER_SEARCH_ROWS]):
        if not _is_texty(values):
            continue
        candidates = [([v or "" for v in values], 1)]
        if index + 1 < len(top):
            below = top[index + 1][1]
            merged_down = any(a is not None and a == b for a, b in zip(values, below))
            if _is_texty(below) and merged_down:
                candidates.append((_combine(values, below, kind), 2))
        for headers, used in candidates:
            score = _header_score(headers, kind)
            rank = (score, -used, -index)
            if score and (best is None or rank > best[0]):
                best = (rank, index, headers, used)
    if best is not None:
        _, index, headers, used = best
        return index, [str(h) if h else "" for h in headers], used
    texty = [(len({v for v in values if v is not None}), -i)
             for i, (_, values) in enumerate(top[:HEADER_SEARCH_ROWS]) if _is_texty(values)]
    if not texty:
        raise ImportRefused("前 10 行中找不到表头行：请确认台账的表头是文字")
    index = -max(texty)[1]
    return index, [str(v) if v is not None else "" for v in top[index][1]], 1


# ---------------------------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------------------------
_BLANKS = {"-", "—", "--", "——", "/", "无", "暂无", "n/a", "na", "null", "none", "空"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
MAX_AMOUNT = fields.MAX_AMOUNT  # 万元: the field table's bound of a project amount
CENT = Decimal("0.01")


def display_value(value: Any) -> str:
    """A cell as the person typed it, for messages and the error report."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and to_halfwidth(value).strip().lower() in _BLANKS)


def parse_text(value: Any, max_length: int | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = display_value(value).strip()
    if not text:
        return None
    if max_length and len(text) > max_length:
        raise ValueProblem(f"内容过长（{len(text)} 字），最多 {max_length} 字")
    return text


def _to_decimal(value: Any, what: str) -> tuple[Decimal, str | None]:
    """The number in a cell and the unit written with it, if any."""
    if isinstance(value, bool):
        raise ValueProblem(f"无法识别的{what}“{display_value(value)}”")
    if isinstance(value, (int, Decimal)):
        return Decimal(value), None
    if isinstance(value, float):
        return Decimal(repr(value)), None
    if isinstance(value, (datetime, date, timedelta)):
        raise ValueProblem(f"无法识别的{what}“{display_value(value)}”：单元格是日期格式")
    text = to_halfwidth(str(value)).strip().replace(" ", "").replace(",", "").replace("¥", "")
    unit = None
    match = re.search(r"(亿元|亿|万元|万|元|亩|人|名|个)$", text)
    if match:
        unit = {"亿": "亿元", "万": "万元"}.get(match.group(1), match.group(1))
        text = text[: match.start()]
    if not _NUMBER.match(text):
        raise ValueProblem(f"无法识别的{what}“{value}”")
    try:
        return Decimal(text), unit
    except InvalidOperation as error:  # pragma: no cover - the pattern already guards this
        raise ValueProblem(f"无法识别的{what}“{value}”") from error


def parse_amount(value: Any, header_unit_: str | None = None, maximum: Decimal = MAX_AMOUNT) -> Decimal | None:
    """An amount in 万元: “1.2亿元” → 12000; “3,500万” → 3500; “5,000,000元” → 500; a bare number is in
    the header's unit (万元 unless the header says 亿元 or 元). Past ``maximum`` (万元) it is refused."""
    if _is_blank(value):
        return None
    number, unit = _to_decimal(value, "金额")
    unit = unit or header_unit_ or "万元"
    if unit not in {"亿元", "万元", "元"}:
        raise ValueProblem(f"金额单位“{unit}”无法识别，请用万元")
    number = number * {"亿元": Decimal(10000), "万元": Decimal(1), "元": Decimal("0.0001")}[unit]
    if number < 0:
        raise ValueProblem("金额不能为负数")
    if number > maximum:
        raise ValueProblem(f"金额过大（超过 {fields.amount_text(maximum)}），请检查单位：“{display_value(value)}”"
                           f"折合 {fields.amount_text(number)}")
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_area(value: Any) -> Decimal | None:
    """Land in 亩."""
    if _is_blank(value):
        return None
    if isinstance(value, str) and re.search(r"(平方米|平米|㎡|m2|公顷)$", to_halfwidth(value).strip()):
        raise ValueProblem(f"用地面积请以亩为单位（1 亩约 666.7 平方米），不是“{value}”")
    number, unit = _to_decimal(value, "面积")
    if unit not in {None, "亩"}:
        raise ValueProblem(f"面积单位“{unit}”无法识别，请用亩")
    if number < 0:
        raise ValueProblem("用地面积不能为负数")
    if number > fields.MAX_AREA:
        raise ValueProblem(f"用地面积过大（超过 {fields.area_text(fields.MAX_AREA)}），请检查单位（亩）")
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_count(value: Any) -> int | None:
    if _is_blank(value):
        return None
    number, unit = _to_decimal(value, "人数")
    if unit not in {None, "人", "名", "个"}:
        raise ValueProblem(f"无法识别的人数“{value}”")
    if number != number.to_integral_value():
        raise ValueProblem(f"人数应为整数：“{value}”")
    if number < 0:
        raise ValueProblem("人数不能为负数")
    if number > fields.MAX_COUNT:
        raise ValueProblem(f"人数过大（超过 {fields.MAX_COUNT:,} 人）")
    return int(number)


_DATE_TEXT = re.compile(r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_SUFFIX = re.compile(r"[\sT]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
DATE_HINT = "请写成 2024-03-05、2024年3月5日 或 2024.3.5"


def parse_date(value: Any) -> date | None:
    """Excel dates and serial numbers, 2024年3月5日, 2024.3.5, 2024/3/5, 2024-03-05, 20240305."""
    if _is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            return parse_date(str(int(value)))
        if 1 <= value < 100000:  # an Excel serial date stored as a plain number
            return from_excel(value).date()
        raise ValueProblem(f"无法识别的日期“{display_value(value)}”，{DATE_HINT}")
    text = _TIME_SUFFIX.sub("", to_halfwidth(str(value)).strip())
    match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if not match:
        if re.fullmatch(r"\d{5}", text):
            return parse_date(int(text))
        raise ValueProblem(f"无法识别的日期“{value}”，{DATE_HINT}")
    year, month, day = (int(g) for g in match.groups())
    if not 1900 <= year <= 2100:
        raise ValueProblem(f"日期年份不合理：“{value}”")
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueProblem(f"日期不存在：“{value}”") from error


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "在园", "有", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "✘", "x", "不在园", "外地", "无", "不是"}


def parse_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = to_halfwidth(display_value(value)).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(f"请填写“是”或“否”，不是“{value}”")


# Several names in one cell: 电池铝箔、铝板带 / 电池铝箔，铝板带 / 电池铝箔;铝板带 / 铝基新材料/电池铝箔.
_NAME_LIST_SEPARATORS = re.compile(r"[、,;/\n]+")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff]")
MAX_LISTED_NAMES = 20


def parse_name_list(value: Any, max_length: int = 100) -> list[str] | None:
    """The names a cell lists (half-width, each once, in order); None for a blank cell."""
    text = parse_text(value)
    if text is None or _is_blank(text):
        return None
    names: list[str] = []
    for part in _NAME_LIST_SEPARATORS.split(_ZERO_WIDTH.sub("", to_halfwidth(text))):
        part = part.strip()
        if not part or _is_blank(part) or part in names:
            continue
        if len(part) > max_length:
            raise ValueProblem(f"“{part[:20]}…”过长（{len(part)} 字），最多 {max_length} 字")
        names.append(part)
    if len(names) > MAX_LISTED_NAMES:
        raise ValueProblem(f"一格最多填写 {MAX_LISTED_NAMES} 项，这里有 {len(names)} 项")
    return names or None


def parse_choice(value: Any, choices: tuple[str, ...], aliases: dict[str, str] | None = None,
                 what: str = "值") -> str | None:
    """One of ``choices``: exact, by alias, after dropping a leading 已, or the one choice it names."""
    text = parse_text(value)
    if text is None:
        return None
    text = to_halfwidth(text).replace(" ", "")
    for candidate in (text, text.removeprefix("已")):
        if candidate in choices:
            return candidate
        if aliases and candidate in aliases:
            return aliases[candidate]
    near = [c for c in choices if text in c or c in text]
    if len(near) == 1:
        return near[0]
    raise ValueProblem(f"未知的{what}“{value}”，可选：{'、'.join(choices)}")
