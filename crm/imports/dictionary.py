"""The import's column dictionary and the blank template of each kind (企业 / 招商项目 / 走访).

Both read the one field table (crm/fields.py) and the header synonyms (crm/imports/reading.py), so
the template's headers, the accepted headers listed on the import page and the problem report's
labels are the same words. A filled-in template imports as it is.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from crm.excel import CellStyle, cell, display_width, set_widths
from crm.fields import amount_text
from crm.imports.reading import accepted_headers, FIELD_KEYS, field_spec
from crm.imports.service import FIELD_LABELS, KIND_LABELS, REQUIRED
from crm.pipeline.lifecycle import MILESTONE_COLUMNS, STAGES
from crm.library.models import ENTERPRISE_TAGS
from crm.pipeline.models import PRIORITIES, PROJECT_SOURCES
from crm.visits.models import VISIT_KINDS

_CHOICES = {"stage": STAGES, "source": PROJECT_SOURCES, "priority": PRIORITIES, "kind": VISIT_KINDS,
            "tags": ENTERPRISE_TAGS}
_KIND_FORMATS = {"text": "文字", "choice": "从可选值中选填", "flag": "是 / 否", "person": "文字"}
# Required only in some rows, or with a rule worth saying next to the column.
_CONDITIONS = {
    ("projects", "contract_investment"): "签约及以后阶段（注册、开工、投产、达产）必填",
    ("projects", "signed_date"): "签约及以后阶段必填；未填阶段而填了签约日期的行视为“签约”",
    ("projects", "owner"): "以系统身份（命令行）导入时必填；不填为导入人本人",
    ("visits", "officer"): "以系统身份（命令行）导入时必填；不填为导入人本人",
}
_NOTES = {
    ("projects", "planned_investment"): "台账只有这一列投资额、没有协议投资额列时，签约及以后阶段的行按此列计协议投资额（逐行提示）",
    ("projects", "stage"): "不填时新项目为“线索”；已有项目只前进不后退",
    ("projects", "stage_note"): "转为搁置、终止时记作原因",
    **{("projects", column): "阶段已到该节点而未填日期时，该日期留空，不按其他日期推算"
       for stage, column in MILESTONE_COLUMNS.items() if stage != "签约"},
    ("projects", "local"): "企业是否为本园区在园企业（新建企业时）",
    ("visits", "project_name"): "须为本园区该企业已有的项目",
    ("visits", "local"): "企业是否为本园区在园企业（新建企业时）",
    ("enterprises", "tags"): "多个用顿号或逗号分隔",
    ("enterprises", "local"): "不填时按上传页的“按在园企业导入”选项",
}
DICTIONARY_HEADERS = ["列名", "可用的表头", "单位", "格式", "是否必填", "可选值", "说明"]


@dataclass(frozen=True)
class Column:
    target: str
    header: str  # the template's header: the label with its unit
    accepted: list[str]
    unit: str
    format: str
    required: str
    choices: str
    note: str

    def row(self) -> list[str]:
        return [self.header, "、".join(self.accepted), self.unit, self.format, self.required, self.choices, self.note]


def columns(kind: str) -> list[Column]:
    """Every column an import of ``kind`` accepts, in the template's order."""
    found = []
    for target in FIELD_KEYS[kind]:
        spec = field_spec(kind, target)
        fmt = spec.format or _KIND_FORMATS.get(spec.kind, "")
        if spec.max_length and spec.kind in {"text", "person"}:
            fmt = f"{fmt}，最多 {spec.max_length} 字"
        if target == "uscc":
            fmt = spec.format
        if target in REQUIRED[kind]:
            required = "必填"
        else:
            required = _CONDITIONS.get((kind, target), "选填")
        choices = "、".join(_CHOICES[target]) if target in _CHOICES else ("是、否" if spec.kind == "flag" else "")
        note = _NOTES.get((kind, target), "")
        if spec.kind == "amount" and spec.max_value:
            note = "；".join(filter(None, [note, f"不超过 {amount_text(spec.max_value)}"]))
        found.append(Column(target, FIELD_LABELS[kind][target], accepted_headers(kind, target), spec.unit or "",
                            fmt, required, choices, note))
    return found


def template_workbook(kind: str) -> bytes:
    """The blank template of ``kind``: its header row, and a 字段说明 sheet describing every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    header_style = CellStyle(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"),
                             alignment=Alignment(horizontal="center", vertical="center", wrap_text=True))
    wrap = CellStyle(alignment=Alignment(wrap_text=True, vertical="top"))
    items = columns(kind)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(KIND_LABELS[kind])
    sheet.freeze_panes = "A2"
    set_widths(sheet, [max(display_width(c.header), 10) for c in items])
    sheet.append([cell(sheet, c.header, style=header_style) for c in items])

    guide = workbook.create_sheet("字段说明")
    set_widths(guide, [18, 50, 6, 30, 24, 40, 50], maximum=60)
    guide.append([cell(guide, f"{KIND_LABELS[kind]}导入模板：字段说明（第一个工作表填数据，一行一条；表头可用下列任一写法）",
                       style=CellStyle(font=Font(bold=True, size=13)))])
    guide.append([cell(guide, h, style=header_style) for h in DICTIONARY_HEADERS])
    for item in items:
        guide.append([cell(guide, value, style=wrap) for value in item.row()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
