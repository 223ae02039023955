"""Importing the ledgers zones keep (enterprises, projects, visits): dry run, commit, revert.

The flow, shared by the web pages, the CLI and the tests:

1. ``read_table`` (in ``import_parsing``) refuses unsafe or unreadable files and finds the table.
2. ``suggest_mapping`` maps columns to fields from their Chinese headers; the person may correct it.
3. ``dry_run`` validates every row and plans what each row will do — create, update (matched by
   统一社会信用代码, then by normalised name; the match is always shown), leave unchanged or skip —
   and lists every problem by row and column. It writes nothing: it only reads (a few bulk queries),
   so it can run on every page view without locking anything.
4. ``commit_import`` runs the dry run again against the database as it is now, refuses if there is
   any problem (all or nothing), then writes every row through the same services the forms use
   (so every change is validated and audited) inside a savepoint, and records an ``ImportBatch``
   with what it created and the before-values of what it changed. It never commits: the caller
   commits once, or rolls back on any exception, so a failure leaves nothing half-imported.
5. ``revert_batch`` (city admin) soft-deletes what a batch created and restores what it changed,
   unless a record was changed after the import — then it refuses rather than overwrite.

Acting users are passed explicitly. The CLI may act as ``crm.permissions.SYSTEM``: the city admin's rights,
no user row (audit entries and the batch show no user; projects and visits then need a named
负责人/跟进人 in the file).
"""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, Date, DateTime, func, Numeric, select
from sqlalchemy.orm import selectinload

from crm.audit.log import snapshot, to_jsonable, values_changes, values_snapshot, write_entries
from crm.audit.models import AuditEntry
from crm.busy import database_busy, DatabaseBusy
from crm.db import insert_returning_ids, utcnow
from crm.extensions import db
from crm.ledger.models import CapitalIncrease, FundsInPlace
from crm.library.models import Contact, Enterprise, EnterpriseNote
from crm.imports.models import ImportBatch
from crm.pipeline.models import Project
from crm.accounts.models import User
from crm.visits.models import Visit
from crm.imports.summaries import refresh_after_import
from crm.accounts.zones import Zone
from crm.library.models import ENTERPRISE_TAGS
from crm.pipeline.lifecycle import (DROPPED, LEAD, LifecycleError, MILESTONE_COLUMNS, MILESTONE_STAGES, plan_change,
                                    ProjectFacts, SIDE_STAGES, SIGNED, stage_index, StageChange, STAGES, direction,
                                    is_signed_stage)
from crm.pipeline.models import PRIORITIES, PROJECT_SOURCES
from crm.visits.models import VISIT_KINDS
from crm.permissions import STAFF_ROLES, can, in_full_condition, is_zone_staff, refusal, require, scope
from crm.library.service import edit_enterprise, new_enterprise, new_note
from crm.errors import ServiceError
from crm.imports.reading import display_value, FIELD_KEYS, field_spec, HEADER_SYNONYMS, header_unit, ImportRefused, parse_amount, parse_area, parse_bool, parse_choice, parse_count, parse_date, parse_text, read_table, suggest_mapping, Table, to_halfwidth, ValueProblem
from crm.imports.reading import parse_name_list
from crm.imports.segments import restore_segments, segment_codes, SegmentMatcher
from crm.library.names import clean_uscc, normalize_name
from crm.pipeline.service import create_project, update_project
from crm.pipeline.stages import apply_stage_change, refuse_if_ruled_out
from crm.visits.service import new_visit

KINDS = ("enterprises", "projects", "visits")
KIND_LABELS = {"enterprises": "企业", "projects": "招商项目", "visits": "走访洽谈记录"}
ENTITY_LABELS = {"Enterprise": "企业", "Project": "项目", "Visit": "走访记录"}
ACTION_LABELS = {"create": "新建", "update": "更新", "unchanged": "无变化", "skip": "跳过"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
CHUNK = 500
PROGRESS_CHECK = "检查"  # progress(done, total, stage): the dry run's rows checked
PROGRESS_WRITE = "写入"  # the commit's rows written

# Each field's label with its unit, from the one field table (crm/fields.py): the mapping choices,
# the missing-column problems, the problem report and the templates all say the same.
FIELD_LABELS: dict[str, dict[str, str]] = {
    kind: {target: field_spec(kind, target).header for target in targets} for kind, targets in FIELD_KEYS.items()
}
# Column names as the batch page shows the values it restored.
COLUMN_LABELS = {
    **{k: v for labels in FIELD_LABELS.values() for k, v in labels.items()},
    "owner_id": "负责人", "zone_id": "在园园区", "stage_reason": "阶段原因", "uscc": "统一社会信用代码",
}
HIDDEN_COLUMNS = frozenset({"name_normalized", "search_pinyin", "stage_changed_at", "updated_at", "version"})
REQUIRED = {
    "enterprises": ("name",),
    "projects": ("name", "enterprise_name"),
    "visits": ("enterprise_name", "visit_date"),
}
# Milestones after signing: the stage and the column (and ledger field) of its date.
MILESTONE_FIELDS = {stage: column for stage, column in MILESTONE_COLUMNS.items() if stage != "签约"}
STAGE_ALIASES = {
    "在谈": "洽谈", "谈判": "洽谈", "洽谈中": "洽谈", "商谈": "洽谈", "在建": "开工", "建设中": "开工",
    "暂缓": "搁置", "暂停": "搁置", "放弃": "终止", "信息": "线索", "线索信息": "线索", "初步接洽": "接洽",
    "对接": "接洽", "实地考察": "考察", "落地注册": "注册", "全面达产": "达产",
}
KIND_ALIASES = {
    "上门": "上门拜访", "拜访": "上门拜访", "走访": "上门拜访", "外出拜访": "上门拜访", "登门拜访": "上门拜访",
    "来访": "来访考察", "考察": "来访考察", "来园考察": "来访考察", "电话沟通": "电话", "电话联系": "电话",
    "视频": "视频会", "视频会议": "视频会", "线上会议": "视频会", "展会": "展会/推介会", "推介会": "展会/推介会",
}
SOURCE_ALIASES = {"商会": "以商招商", "驻点": "驻点招商", "中介": "中介招商", "基金": "基金招商", "平台": "平台推送"}
TAG_ALIASES = {"高企": "高新技术企业", "国家高新技术企业": "高新技术企业", "上市公司": "上市", "规模以上": "规上",
               "世界500强": "500强", "中国500强": "500强", "专精特新小巨人": "小巨人", "链主企业": "链主"}


class Problem(NamedTuple):
    row: int | None  # the Excel row; None for the file as a whole (a missing column)
    column: str  # the header as in the file, or the field's name when the column is missing
    message: str
    value: str = ""


class ImportHasProblems(ServiceError):
    def __init__(self, plan: ImportPlan):
        super().__init__(f"导入检查发现 {len(plan.problems)} 个问题，未导入任何数据")
        self.plan = plan


class ImportFailed(ServiceError):
    """A row the dry run passed was refused while writing; the caller rolls everything back."""

    def __init__(self, row: int, message: str):
        super().__init__(f"第 {row} 行写入失败：{message}。本次导入已全部撤回，未写入任何数据")
        self.row = row




class Step(NamedTuple):
    """One stage change of an imported project, as the lifecycle planned it (``plan_change``)."""

    stage: str
    change: StageChange
    note: str


@dataclass
class EnterpriseRef:
    """The enterprise a project or visit row refers to: one in the library, or one this file creates."""

    name: str
    uscc: str | None
    local: bool
    first_row: int
    enterprise_id: int | None = None
    how: str = "new"  # uscc / name / new

    @property
    def key(self) -> str:
        return f"id:{self.enterprise_id}" if self.enterprise_id else f"new:{self.first_row}"


@dataclass
class RowAction:
    row: int
    entity: str  # Enterprise / Project / Visit
    action: str  # create / update / unchanged / skip
    label: str
    detail: str
    target_id: int | None = None
    how: str | None = None  # how an existing record was found: uscc / name / project / visit
    data: dict = field(default_factory=dict, repr=False)
    enterprise: EnterpriseRef | None = field(default=None, repr=False)
    steps: list[Step] = field(default_factory=list, repr=False)  # projects: the stage changes, in order
    officer_id: int | None = None
    project_id: int | None = None
    target_version: int | None = None  # the matched record's version when planned: written only over that
    notices: list[str] = field(default_factory=list)  # 提示: what the import inferred, not a problem

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class ImportPlan:
    kind: str
    zone_id: int
    row_count: int
    mapping: dict[int, str]
    problems: list[Problem] = field(default_factory=list)
    actions: list[RowAction] = field(default_factory=list)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)
    new_enterprises: int = 0
    column_fields: dict[str, str] = field(default_factory=dict)  # the file's header → the field it holds
    # What the plan read, for telling whether a later save has changed it: the last audit entry before
    # it, and the credit codes, name keys and ids of the library's firms it looked up.
    audit_mark: int = field(default=0, repr=False)
    watched: tuple[frozenset, frozenset, frozenset] = field(default=(frozenset(), frozenset(), frozenset()),
                                                            repr=False)

    def watch(self, library: _Library) -> None:
        self.watched = (frozenset(library.usccs), frozenset(library.keys), frozenset(_library_ids(library)))

    def field_label(self, column: str) -> str:
        """The field (label with unit, as the field table says) a problem's column holds."""
        labels = FIELD_LABELS[self.kind]
        target = self.column_fields.get(column)
        if target is None and column in labels.values():
            return column
        return labels.get(target, "")

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def refused_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})

    def counts(self) -> Counter:
        counts = Counter((a.entity, a.action) for a in self.actions)
        if self.new_enterprises:
            counts[("Enterprise", "create")] += self.new_enterprises
        return counts

    def summary(self) -> str:
        parts = [f"{ACTION_LABELS[action]}{ENTITY_LABELS[entity]} {n} 条"
                 for (entity, action), n in sorted(self.counts().items(), key=lambda kv: (kv[0][0], kv[0][1]))]
        return "，".join(parts) or "没有要导入的行"

    @property
    def noticed_rows(self) -> list[int]:
        return [a.row for a in self.actions if a.notices]

    def problem(self, row: int | None, column: str, message: str, value: Any = None) -> None:
        self.problems.append(Problem(row, column, message, display_value(value) if value is not None else ""))


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
def limits(config) -> dict[str, int]:
    """The size and row limits from app settings (``IMPORT_MAX_BYTES``, ``IMPORT_MAX_ROWS``)."""
    return {"max_bytes": int(config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)),
            "max_rows": int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))}


def field_choices(kind: str) -> list[tuple[str, str]]:
    return list(FIELD_LABELS[kind].items())


# ---------------------------------------------------------------------------------------------
# Dry run
# ---------------------------------------------------------------------------------------------
def check_access(actor, zone: Zone | None) -> None:
    """Refuse (whole import) an actor who may not write into ``zone``."""
    if not can(actor, "import.run"):
        raise ImportRefused(refusal(actor, "import.run").message)
    if zone is None:
        raise ImportRefused("请选择要导入的园区")
    if not can(actor, "zone.write", zone):
        raise ImportRefused(f"无权向“{zone.name}”导入数据")


def dry_run(actor, kind: str, table: Table, mapping: dict[int, str] | None, zone: Zone, *,
            local: bool = False, filename: str = "", progress=None) -> ImportPlan:
    """Validate every row and plan what it will do; write nothing.

    ``mapping`` is {column index: field}; None uses ``suggest_mapping``. ``local`` imports
    enterprises as local to ``zone`` (在园企业) unless a 在园 column says otherwise per row.
    ``progress(done, total, stage)`` is called once per 500 rows checked.
    """
    if kind not in KINDS:
        raise ImportRefused("请选择导入类型：企业、项目或走访记录")
    check_access(actor, zone)
    mapping = suggest_mapping(table.headers, kind) if mapping is None else _clean_mapping(mapping, kind, table)
    plan = ImportPlan(kind=kind, zone_id=zone.id, row_count=len(table.rows), mapping=mapping,
                      skipped_rows=list(table.skipped),
                      column_fields={column_name(table, index): target for index, target in mapping.items()})
    plan.audit_mark = _audit_mark()
    columns_ok = _check_mapping(plan, kind, table, mapping)
    # Cells are checked even when a column is missing, so one look shows every problem there is;
    # matching and planning need the required columns.
    rows = _parse_rows(plan, kind, table, mapping, progress)
    if columns_ok:
        planner = {"enterprises": _plan_enterprises, "projects": _plan_projects, "visits": _plan_visits}[kind]
        planner(plan, actor, zone, rows, local=local, filename=filename)
    plan.problems.sort(key=lambda p: p.row or 0)  # stable: a row's problems stay in column order
    _remember(table, _plan_key(actor, kind, mapping, zone, local, filename), plan)
    return plan


# A commit right after its dry run in the same transaction (the commit page does both, as does a job
# that checks then writes) takes that plan instead of making it again, when no save since has
# touched what it read (``_changed_since``). One plan is kept, for one table, per session.
_LAST_PLAN = "import_last_plan"


def _plan_key(actor, kind: str, mapping: dict[int, str], zone: Zone, local: bool, filename: str) -> tuple:
    return (getattr(actor, "id", None), getattr(actor, "role", None), kind, tuple(sorted(mapping.items())),
            zone.id, bool(local), filename)


def _remember(table: Table, key: tuple, plan: ImportPlan) -> None:
    db.session.info[_LAST_PLAN] = (table, key, db.session().get_transaction(), plan)


def _remembered(actor, kind: str, table: Table, mapping, zone: Zone, local: bool, filename: str) -> ImportPlan | None:
    kept = db.session.info.pop(_LAST_PLAN, None)
    if kept is None or kind not in KINDS:
        return None
    kept_table, key, transaction, plan = kept
    mapping = suggest_mapping(table.headers, kind) if mapping is None else _clean_mapping(mapping, kind, table)
    if kept_table is not table or key != _plan_key(actor, kind, mapping, zone, local, filename):
        return None
    if transaction is None or transaction is not db.session().get_transaction() or not transaction.is_active:
        return None
    return None if _changed_since(plan) else plan


def _audit_mark() -> int:
    return db.session.scalar(select(func.max(AuditEntry.id))) or 0


# What a plan of each kind reads besides the library's firms (checked by zone).
_PLAN_READS = {
    "enterprises": frozenset({"EnterpriseNote"}),
    "projects": frozenset({"EnterpriseNote", "Project", "Visit", "User", "Zone", "FundsInPlace", "CapitalIncrease",
                           "EnterpriseSegment", "Segment", "Chain"}),
    "visits": frozenset({"Project", "Visit", "User", "Zone"}),
}


def _changed_since(plan: ImportPlan) -> bool:
    """Has a save recorded after ``plan.audit_mark`` touched what the plan read? A firm it looked up or
    one whose credit code or name key the file holds (before or after the save); a project or visit
    of a firm it looked up; for the other records a plan reads, one of the import's zone (or of no
    zone: users, chains)."""
    usccs, keys, ids = plan.watched
    stmt = (select(AuditEntry.entity_type, AuditEntry.entity_id, AuditEntry.zone_id, AuditEntry.before,
                   AuditEntry.after).where(AuditEntry.id > plan.audit_mark))
    hanging: dict[str, set[int]] = {"Project": set(), "Visit": set()}  # records that hang off a firm
    for entity, entity_id, zone_id, before, after in db.session.execute(stmt):
        if entity == "Enterprise":
            if entity_id.isdigit() and int(entity_id) in ids:
                return True
            for values in (before or {}, after or {}):
                if values.get("uscc") in usccs or values.get("name_normalized") in keys:
                    return True
        elif entity in hanging and entity in _PLAN_READS[plan.kind]:
            if any((values or {}).get("enterprise_id") in ids for values in (before, after)):
                return True
            if entity_id.isdigit():
                hanging[entity].add(int(entity_id))
        elif entity in _PLAN_READS[plan.kind] and zone_id in (plan.zone_id, None):
            return True
    for model in (Project, Visit):
        for chunk in _chunks(sorted(hanging[model.__name__])):
            firms = db.session.scalars(select(model.enterprise_id).where(model.id.in_(chunk)))
            if any(firm in ids for firm in firms):
                return True
    return False


def _clean_mapping(mapping: dict, kind: str, table: Table) -> dict[int, str]:
    fields = FIELD_LABELS[kind]
    return {int(i): f for i, f in mapping.items() if f in fields and 0 <= int(i) < len(table.headers)}


def column_name(table: Table, index: int) -> str:
    header = table.headers[index] if index < len(table.headers) else ""
    return header or f"第 {table.letter(index)} 列"


def _check_mapping(plan: ImportPlan, kind: str, table: Table, mapping: dict[int, str]) -> bool:
    labels = FIELD_LABELS[kind]
    columns: dict[str, list[int]] = {}
    for index, target in mapping.items():
        columns.setdefault(target, []).append(index)
    for target, indexes in columns.items():
        if len(indexes) > 1:
            letters = "、".join(f"{table.letter(i)} 列“{column_name(table, i)}”" for i in indexes)
            plan.problem(None, labels[target], f"“{labels[target]}”对应了多列（{letters}），请只保留一列")
    for target in REQUIRED[kind]:
        if target not in columns:
            plan.problem(None, labels[target], f"缺少必填列“{labels[target]}”：请在列对应关系中指定哪一列是{labels[target]}")
    return plan.ok


@dataclass
class _Parsed:
    number: int
    values: dict[str, Any]  # field → value, blanks left out
    columns: dict[str, str]  # field → the header it came from
    cells: dict[str, Any]  # field → the cell as read

    def column(self, name: str, kind: str) -> str:
        return self.columns.get(name) or FIELD_LABELS[kind][name]


def _parse_rows(plan: ImportPlan, kind: str, table: Table, mapping: dict[int, str], progress=None) -> list[_Parsed]:
    parsed = []
    columns = [(index, target, column_name(table, index), _cell_parser(kind, target, table.headers[index]))
               for index, target in mapping.items()]
    total = len(table.rows)
    for done, row in enumerate(table.rows, 1):
        if progress is not None and done % CHUNK == 0:
            progress(done, total, PROGRESS_CHECK)
        item = _Parsed(row.number, {}, {}, {})
        failed = set()
        for index, target, header, parse in columns:
            cell = row.get(index)
            item.columns[target] = header
            item.cells[target] = cell
            try:
                value = parse(cell)
            except ValueProblem as problem:
                plan.problem(row.number, header, problem.message, cell)
                failed.add(target)
                continue
            if value is not None:
                item.values[target] = value
        for target in REQUIRED[kind]:
            if target not in item.values and target not in failed and target in item.columns:
                plan.problem(row.number, item.column(target, kind), f"请填写{FIELD_LABELS[kind][target]}")
                failed.add(target)
        if not failed:
            parsed.append(item)
    return parsed


def _uscc_cell(cell: Any) -> str | None:
    text = parse_text(cell)
    try:
        return clean_uscc(text)
    except ValueError as error:
        raise ValueProblem(str(error)) from error


def _cell_parser(kind: str, target: str, header: str):
    """The function that turns one cell of a column holding ``target`` into its value (chosen once per column)."""
    if target == "uscc":
        return _uscc_cell
    spec = field_spec(kind, target)
    if spec.kind == "amount":
        unit, maximum = header_unit(header), spec.max_value
        return lambda cell: parse_amount(cell, unit, maximum=maximum)
    if target == "land_area":
        return parse_area
    if target == "employees":
        return parse_count
    if target in {"signed_date", "registered_date", "started_date", "production_date", "full_production_date",
                  "visit_date", "next_step_due"}:
        return parse_date
    if target in {"above_scale", "local", "confidential"}:
        return parse_bool
    if target == "tags":
        return _parse_tags
    if kind == "projects" and target in {"segments", "chain"}:
        return parse_name_list
    choices = {"stage": (STAGES, STAGE_ALIASES, "阶段"), "source": (PROJECT_SOURCES, SOURCE_ALIASES, "项目来源"),
               "priority": (PRIORITIES, {"重要": "高", "一般": "中", "较低": "低"}, "优先级"),
               "kind": (VISIT_KINDS, KIND_ALIASES, "走访方式")}
    if target in choices:
        allowed, aliases, label = choices[target]
        return lambda cell: parse_choice(cell, allowed, aliases, label)
    max_length = spec.max_length
    return lambda cell: parse_text(cell, max_length)


def _parse_tags(cell: Any) -> list[str] | None:
    text = parse_text(cell)
    if text is None:
        return None
    tags = []
    for part in filter(None, (p.strip() for p in _split(to_halfwidth(text)))):
        tag = part if part in ENTERPRISE_TAGS else TAG_ALIASES.get(part)
        if tag is None:
            raise ValueProblem(f"未知的标签“{part}”，可选：{'、'.join(ENTERPRISE_TAGS)}")
        if tag not in tags:
            tags.append(tag)
    return tags or None


def _split(text: str) -> list[str]:
    for separator in "，、;；/ ":
        text = text.replace(separator, ",")
    return text.split(",")


# ----- enterprises in the library ------------------------------------------------------------
class _Library:
    """The library's enterprises that the file's rows name, fetched in a few bulk queries."""

    def __init__(self, rows: list[_Parsed], name_field: str):
        usccs = sorted({r.values["uscc"] for r in rows if r.values.get("uscc")})
        keys = sorted({normalize_name(r.values[name_field]) for r in rows if r.values.get(name_field)} - {""})
        self.usccs, self.keys = usccs, keys
        self.by_uscc: dict[str, Enterprise] = {}
        self.by_key: dict[str, list[Enterprise]] = {}
        for chunk in _chunks(usccs):
            for enterprise in db.session.scalars(select(Enterprise).where(Enterprise.uscc.in_(chunk))):
                self.by_uscc[enterprise.uscc] = enterprise
        for chunk in _chunks(keys):
            stmt = select(Enterprise).where(Enterprise.name_normalized.in_(chunk), Enterprise.deleted_at.is_(None))
            for enterprise in db.session.scalars(stmt.order_by(Enterprise.id)):
                self.by_key.setdefault(enterprise.name_normalized, []).append(enterprise)

    def match(self, name: str, uscc: str | None) -> tuple[Enterprise | None, str, str | None, str]:
        """(enterprise, how, problem, note): by credit code, else by normalised name; never silently."""
        if uscc and uscc in self.by_uscc:
            found = self.by_uscc[uscc]
            if found.deleted_at is not None:
                return None, "", f"该统一社会信用代码属于已删除的企业“{found.name}”，请管理员先在回收站恢复该企业", ""
            return found, "uscc", None, ""
        key = normalize_name(name)
        candidates = self.by_key.get(key, [])
        others = [e for e in candidates if uscc and e.uscc and e.uscc != uscc]
        candidates = [e for e in candidates if e not in others]
        if len(candidates) > 1:
            names = "、".join(f"“{e.name}”（#{e.id}）" for e in candidates[:5])
            return None, "", f"名称与多家已有企业相同：{names}，请填写统一社会信用代码以区分", ""
        if candidates:
            return candidates[0], "name", None, ""
        note = ""
        if others:
            note = f"名称与已有企业“{others[0].name}”相近，但统一社会信用代码不同，按另一家企业新建"
        return None, "new", None, note


def _chunks(items: list, size: int | None = None):
    size = size or CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _matched_text(enterprise: Enterprise, how: str, name: str) -> str:
    if how == "uscc":
        return f"按统一社会信用代码匹配到已有企业“{enterprise.name}”（#{enterprise.id}）"
    return f"按名称匹配到已有企业“{enterprise.name}”（#{enterprise.id}，规范化名称“{normalize_name(name)}”相同）"


# ----- enterprises ---------------------------------------------------------------------------
ENTERPRISE_DATA_FIELDS = ("aliases", "region_province", "region_city", "region_county", "address", "industry_code",
                          "industry_name", "main_products", "registered_capital", "annual_revenue", "employees",
                          "above_scale", "tags", "website", "notes")


def _plan_enterprises(plan: ImportPlan, actor, zone: Zone, rows: list[_Parsed], *, local: bool, filename: str):
    library = _Library(rows, "name")
    plan.watch(library)
    labels = FIELD_LABELS["enterprises"]
    seen_uscc: dict[str, int] = {}
    seen_key: dict[str, tuple[int, str | None]] = {}
    seen_target: dict[int, int] = {}
    for row in rows:
        v = row.values
        name, uscc = v["name"], v.get("uscc")
        key = normalize_name(name)
        if uscc and uscc in seen_uscc:
            plan.problem(row.number, row.column("uscc", "enterprises"),
                         f"与第 {seen_uscc[uscc]} 行的统一社会信用代码重复", row.cells.get("uscc"))
            continue
        earlier = seen_key.get(key)
        if earlier and (not earlier[1] or not uscc or earlier[1] == uscc):
            plan.problem(row.number, row.column("name", "enterprises"),
                         f"与第 {earlier[0]} 行是同一家企业（规范化名称“{key}”相同），请合并为一行", name)
            continue
        if uscc:
            seen_uscc[uscc] = row.number
        seen_key.setdefault(key, (row.number, uscc))
        existing, how, problem, note = library.match(name, uscc)
        if problem:
            plan.problem(row.number, row.column("uscc" if uscc else "name", "enterprises"), problem,
                         uscc or name)
            continue
        is_local = v.get("local", local)
        data = {f: v[f] for f in ENTERPRISE_DATA_FIELDS if f in v}
        if existing is None:
            data.update(name=name, uscc=uscc, zone_id=zone.id if is_local else None)
            kind_text = f"在园企业（{zone.name}）" if is_local else "目标企业"
            plan.actions.append(RowAction(row.number, "Enterprise", "create", name,
                                          "；".join(filter(None, [f"新建{kind_text}", note])), data=data))
            continue
        if existing.id in seen_target:
            plan.problem(row.number, row.column("name", "enterprises"),
                         f"与第 {seen_target[existing.id]} 行对应同一家已有企业“{existing.name}”，请合并为一行", name)
            continue
        seen_target[existing.id] = row.number
        if is_local and existing.zone_id != zone.id:
            refused = refusal(actor, "enterprise.rehome", existing, to_zone_id=zone.id)
            if refused:
                where = f"已是“{existing.zone.name}”的在园企业" if existing.zone_id else "是目标企业"
                plan.problem(row.number, row.column("local", "enterprises"),
                             f"该企业{where}：{refused.message}", v.get("local"))
                continue
        note_text = data.pop("notes", "")
        changes = _enterprise_changes(existing, data, name, uscc, zone.id if is_local else None)
        refused = refusal(actor, "enterprise.edit", existing) if changes else None  # shared facts only
        if refused:
            plan.problem(row.number, row.column("name", "enterprises"), refused.message, name)
            continue
        if note_text and not _zone_has_note(existing, zone, note_text):
            changes["notes"] = note_text  # 备注 is the zone's own: written as a note of the importing zone
        detail = _matched_text(existing, how, name)
        if changes:
            detail += "；更新：" + "、".join(labels.get(f, f) for f in changes if f in labels or f == "uscc")
        else:
            detail += "；内容无变化"
        plan.actions.append(RowAction(row.number, "Enterprise", "update" if changes else "unchanged", name, detail,
                                      target_id=existing.id, how=how, data=changes, target_version=existing.version))


def _zone_has_note(enterprise: Enterprise, zone: Zone, text: str) -> bool:
    return db.session.scalar(select(EnterpriseNote.id).where(
        EnterpriseNote.enterprise_id == enterprise.id, EnterpriseNote.zone_id == zone.id,
        EnterpriseNote.text == text.strip(), EnterpriseNote.deleted_at.is_(None)).limit(1)) is not None


def _enterprise_changes(existing: Enterprise, data: dict, name: str, uscc: str | None, zone_id: int | None) -> dict:
    """The fields a row changes: blank cells keep what the library has; tags and aliases are added to."""
    changes: dict[str, Any] = {}
    for key, value in data.items():
        current = getattr(existing, key)
        if key == "tags":
            merged = list(dict.fromkeys(existing.tag_list + value))
            if merged != existing.tag_list:
                changes["tags"] = merged
        elif key == "aliases":
            merged = _add_aliases(existing.aliases, _split(to_halfwidth(value)))
            if merged != existing.aliases:
                changes["aliases"] = merged
        elif current != value:
            changes[key] = value
    if uscc and not existing.uscc:
        changes["uscc"] = uscc
    if name != existing.name:  # the library keeps its name; the ledger's becomes an alias
        current = changes.get("aliases", existing.aliases)
        aliases = _add_aliases(current, [name])
        if aliases != current and len(aliases) <= 500:
            changes["aliases"] = aliases
    if zone_id and existing.zone_id != zone_id:
        changes["zone_id"] = zone_id
    return changes


def _add_aliases(current: str, names: list[str]) -> str:
    aliases = [a.strip() for a in (current or "").replace("，", ",").split(",") if a.strip()]
    for name in names:
        name = name.strip()
        if name and name not in aliases:
            aliases.append(name)
    return ",".join(aliases)


# ----- projects and visits: the enterprise a row names ----------------------------------------
class _Resolver:
    """Finds the enterprise of a project or visit row; an unknown one is created once per file."""

    def __init__(self, rows: list[_Parsed]):
        self.library = _Library(rows, "enterprise_name")
        self.new_by_uscc: dict[str, EnterpriseRef] = {}
        self.new_by_key: dict[str, EnterpriseRef] = {}

    def resolve(self, plan: ImportPlan, row: _Parsed, kind: str) -> tuple[EnterpriseRef | None, str]:
        """The row's enterprise (matched or to be created) and how; None after reporting a problem."""
        name, uscc = row.values["enterprise_name"], row.values.get("uscc")
        existing, how, problem, note = self.library.match(name, uscc)
        if problem:
            plan.problem(row.number, row.column("uscc" if uscc else "enterprise_name", kind), problem, uscc or name)
            return None, ""
        if existing is not None:
            return EnterpriseRef(existing.name, existing.uscc, existing.zone_id is not None, row.number,
                                 enterprise_id=existing.id, how=how), _matched_text(existing, how, name)
        key = normalize_name(name)
        ref = self.new_by_uscc.get(uscc) if uscc else None
        if ref is None and key in self.new_by_key:
            candidate = self.new_by_key[key]
            if not candidate.uscc or not uscc or candidate.uscc == uscc:
                ref = candidate
        if ref is not None:
            if uscc and not ref.uscc:
                ref.uscc = uscc
                self.new_by_uscc[uscc] = ref
            return ref, f"企业同第 {ref.first_row} 行（本次新建）"
        ref = EnterpriseRef(name, uscc, bool(row.values.get("local")), row.number)
        if uscc:
            self.new_by_uscc[uscc] = ref
        self.new_by_key.setdefault(key, ref)
        return ref, "；".join(filter(None, [f"新建企业“{name}”", note]))

    @property
    def created(self) -> int:
        return len({id(r) for r in [*self.new_by_uscc.values(), *self.new_by_key.values()]})


class _Staff:
    """The zone's officers and chiefs, by username and by display name, for 负责人 / 跟进人."""

    def __init__(self, zone: Zone):
        stmt = select(User).where(User.zones.any(Zone.id == zone.id), User.role.in_(STAFF_ROLES),
                                  User.active.is_(True)).options(selectinload(User.zones))
        self.users = db.session.scalars(stmt).all()
        self.zone = zone

    def find(self, text: str) -> tuple[User | None, str | None]:
        by_username = [u for u in self.users if u.username == text]
        if by_username:
            return by_username[0], None
        by_name = [u for u in self.users if u.display_name == text]
        if len(by_name) == 1:
            return by_name[0], None
        if by_name:
            return None, f"“{text}”对应本园区多名人员，请填写用户名（{'、'.join(u.username for u in by_name)}）"
        return None, f"“{self.zone.name}”没有名为“{text}”的招商人员（请填写系统用户名或姓名）"


def _person(plan: ImportPlan, row: _Parsed, kind: str, field_name: str, actor, staff: _Staff) -> int | None | bool:
    """The user a 负责人/跟进人 cell names, checked against the services' rules; False on a problem."""
    column = row.column(field_name, kind)
    label = FIELD_LABELS[kind][field_name]
    text = row.values.get(field_name)
    if text is None:
        if getattr(actor, "id", None) is None:
            plan.problem(row.number, column, f"请填写{label}（以系统身份导入时必须指定）")
            return False
        user = actor
    else:
        user, problem = staff.find(text)
        if problem:
            plan.problem(row.number, column, problem, text)
            return False
    if refused := refusal(actor, "import.name_person", user):
        plan.problem(row.number, column, f"{refused.message}，{label}须为本人（{actor.display_name}）", text)
        return False
    if kind == "projects" and not is_zone_staff(user):
        # The project service's rule: a project's owner is one of the zone's promotion staff.
        plan.problem(row.number, column, f"请填写{label}：项目负责人须为本园区的招商人员", text)
        return False
    if not can(user, "import.run", staff.zone):
        plan.problem(row.number, column, f"{user.display_name}的首个所属园区不是“{staff.zone.name}”，系统无法以其名义写入本园区", text)
        return False
    return user.id


def _check_dates_not_future(plan: ImportPlan, row: _Parsed, kind: str, fields: tuple[str, ...]) -> bool:
    good = True
    for name in fields:
        value = row.values.get(name)
        if value and value > date.today():
            plan.problem(row.number, row.column(name, kind), f"{FIELD_LABELS[kind][name]}不能晚于今天", row.cells.get(name))
            good = False
    return good


# ----- projects ------------------------------------------------------------------------------
PROJECT_DATA_FIELDS = ("planned_investment", "land_area", "source", "priority", "description", "confidential")


def _plan_projects(plan: ImportPlan, actor, zone: Zone, rows: list[_Parsed], *, local: bool, filename: str):
    if not can(actor, "import.run", zone):
        raise ImportRefused(f"本账号的首个所属园区不是“{zone.name}”，系统只能将项目写入首个所属园区")
    resolver = _Resolver(rows)
    plan.watch(resolver.library)
    staff = _Staff(zone)
    existing_projects = _zone_projects(zone, resolver.library, actor)
    others = _held_elsewhere(zone, resolver.library)
    matcher = SegmentMatcher(_library_ids(resolver.library), existing_projects.values())
    seen: dict[tuple[str, str], int] = {}
    single_investment = _single_investment_column(plan, rows)
    for row in rows:
        v = row.values
        ref, enterprise_text = resolver.resolve(plan, row, "projects")
        if ref is None:
            continue
        name = v["name"]
        key = (ref.key, name)
        if key in seen:
            plan.problem(row.number, row.column("name", "projects"),
                         f"与第 {seen[key]} 行是同一企业的同名项目，请合并为一行", name)
            continue
        seen[key] = row.number
        owner_id = _person(plan, row, "projects", "owner", actor, staff)
        if owner_id is False:
            continue
        project = existing_projects.get((ref.enterprise_id, name)) if ref.enterprise_id else None
        steps, notes = _stage_steps(plan, row, project, note=_stage_note(filename, v.get("stage_note")),
                                    single_investment=single_investment)
        if project is not None and steps and project.stage == DROPPED:
            try:  # a first-report ruling binds: the import does not reopen the losing project either
                refuse_if_ruled_out(actor, project)
            except ServiceError as refused:
                plan.problem(row.number, row.column("stage", "projects"), refused.message, row.cells.get("stage"))
                continue
        segments = matcher.segments_for(plan, row, ref)  # reports its own problems
        if steps is None or segments is False:
            continue
        if ref.enterprise_id in others:
            notes.append(f"其他园区（{others[ref.enterprise_id]}）也在跟进该企业，可能需市投促中心裁定首报首谈")
        data = {f: v[f] for f in PROJECT_DATA_FIELDS if f in v}
        if project is None:
            data.setdefault("source", "其他")
            data.update(name=name, zone_id=zone.id, owner_id=owner_id)
            detail = "；".join(filter(None, ["新建项目", enterprise_text, _steps_text(steps), *notes]))
            detail = "；".join(filter(None, [detail, matcher.describe(segments, ref)]))
            if segments:  # without, the project takes the enterprise's primary segment (create_project)
                data["segments"] = segments
            plan.actions.append(RowAction(row.number, "Project", "create", name, detail, data=data, enterprise=ref,
                                          steps=steps, notices=_notices(notes)))
            continue
        changes = {k: value for k, value in data.items() if getattr(project, k) != value}
        if v.get("owner") is not None and owner_id != project.owner_id:
            if not can(actor, "project.assign", project):
                plan.problem(row.number, row.column("owner", "projects"), "招商专员不能更改项目负责人", v.get("owner"))
                continue
            changes["owner_id"] = owner_id
        if matcher.changes(project, segments):  # a blank cell keeps the project's segments
            changes["segments"] = segments
        if (changes or steps) and (refused := refusal(actor, "project.change", project)):
            plan.problem(row.number, row.column("name", "projects"), refused.message, name)
            continue
        labels = {**FIELD_LABELS["projects"], "owner_id": "负责人"}
        parts = [f"匹配到本园区已有项目（#{project.id}，{enterprise_text}）"]
        if changes:
            parts.append("更新：" + "、".join(labels[k] for k in changes))
        if steps:
            parts.append(_steps_text(steps, project.stage))
        parts.extend(notes)
        action = "update" if changes or steps else "unchanged"
        if action == "unchanged":
            parts.append("内容无变化")
        plan.actions.append(RowAction(row.number, "Project", action, name, "；".join(parts), target_id=project.id,
                                      how="project", data=changes, enterprise=ref, steps=steps,
                                      notices=_notices(notes)))
    plan.new_enterprises = resolver.created


def _library_ids(library: _Library) -> list[int]:
    return sorted({e.id for e in library.by_uscc.values()} | {e.id for es in library.by_key.values() for e in es})


def _notices(notes: list[str]) -> list[str]:
    return [note for note in notes if note.startswith(NOTICE)]


def _single_investment_column(plan: ImportPlan, rows: list[_Parsed]) -> str | None:
    """The header of the file's one investment column when it has no contract column (zones' ledgers
    often keep one 计划总投资 for every stage); None otherwise."""
    targets = set(plan.mapping.values())
    if "planned_investment" not in targets or "contract_investment" in targets:
        return None
    return next((r.columns["planned_investment"] for r in rows), FIELD_LABELS["projects"]["planned_investment"])


def _stage_note(filename: str, stage_note: str | None) -> str:
    """The note of an imported stage change: the file, and the ledger's own 阶段说明/原因 when it has one."""
    note = f"台账导入：{filename}" if filename else "台账导入"
    return f"{note}；{stage_note}"[:500] if stage_note else note


def _zone_projects(zone: Zone, library: _Library, actor) -> dict[tuple[int, str], Project]:
    """The zone's projects of the file's firms, by (firm, name) — leaving out a 保密项目 the actor
    may not see in full: for them it is not there to match, update or hang a visit on."""
    ids = sorted({e.id for e in library.by_uscc.values()} | {e.id for es in library.by_key.values() for e in es})
    found: dict[tuple[int, str], Project] = {}
    for chunk in _chunks(ids):
        stmt = select(Project).where(Project.zone_id == zone.id, Project.deleted_at.is_(None),
                                     Project.enterprise_id.in_(chunk), in_full_condition(actor)).order_by(Project.id)
        for project in db.session.scalars(stmt):
            found.setdefault((project.enterprise_id, project.name.strip()), project)
    return found


def _held_elsewhere(zone: Zone, library: _Library) -> dict[int, str]:
    ids = sorted({e.id for e in library.by_uscc.values()} | {e.id for es in library.by_key.values() for e in es})
    held: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        stmt = (select(Project.enterprise_id, Zone.name).join(Zone, Project.zone_id == Zone.id)
                .where(Project.enterprise_id.in_(chunk), Project.zone_id != zone.id, Project.deleted_at.is_(None),
                       Project.stage != "终止").distinct())
        for enterprise_id, zone_name in db.session.execute(stmt):
            held.setdefault(enterprise_id, []).append(zone_name)
    return {k: "、".join(sorted(v)) for k, v in held.items()}


NOTICE = "提示："


def _stage_steps(plan: ImportPlan, row: _Parsed, project: Project | None, *, note: str,
                 single_investment: str | None = None) -> tuple[list[Step] | None, list[str]]:
    """The stage changes a row asks for, each checked by the lifecycle's ``plan_change``, in order.

    A snapshot of the project's facts steps forward change by change, so every step is judged as the
    stage form would judge it. A milestone the ledger reached without its date is planned undated (the
    date stays empty, never invented). The import never moves a project back: that is a notice.
    ``single_investment`` is the header of the file's one investment column when it has no contract
    column: a signing then takes that column as its 协议投资额, with a notice. None when the row has a problem.
    """
    v, kind = row.values, "projects"
    facts = ProjectFacts.of(project) if project else ProjectFacts(LEAD, dict.fromkeys(MILESTONE_STAGES))
    current, signed_date = facts.stage, facts.dates.get(SIGNED)
    notes: list[str] = []
    target = v.get("stage")
    if target is None:
        if v.get("signed_date") and not signed_date:
            target = SIGNED
            notes.append("未填阶段，按已填签约日期视为“签约”")
        else:
            target = current
    # Going back along the pipeline is a decision for the system, not for a ledger load.
    if project and target != current and direction(current, target) == "退回":
        notes.append(f"系统中已为“{current}”，台账为“{target}”：阶段不回退")
        return [], notes
    good = True
    for stage, name in MILESTONE_FIELDS.items():
        if v.get(name) and (target in SIDE_STAGES or stage_index(target) < stage_index(stage)):
            plan.problem(row.number, row.column(name, kind), f"阶段为“{target}”，不应填写{FIELD_LABELS[kind][name]}",
                         row.cells.get(name))
            good = False
    has_sign = v.get("signed_date") is not None or v.get("contract_investment") is not None
    signing = signed_date is None and (is_signed_stage(target) or (target in SIDE_STAGES and has_sign))
    if not signing and not signed_date and has_sign:
        for name in ("signed_date", "contract_investment"):
            if v.get(name) is not None:
                plan.problem(row.number, row.column(name, kind),
                             f"阶段为“{target}”（未签约），不应填写{FIELD_LABELS[kind][name]}", row.cells.get(name))
        good = False
    if not good:
        return None, notes
    contract = v.get("contract_investment")
    if signing and contract is None and single_investment and v.get("planned_investment"):
        contract = v["planned_investment"]
        notes.append(f"{NOTICE}台账只有一列投资额“{single_investment}”，签约项目的协议投资额按该列计 "
                     f"{display_value(contract)} 万元")
    if project is not None:  # cells of milestones already reached change nothing: say so when they differ
        for stage, name in MILESTONE_COLUMNS.items():
            known = facts.dates.get(stage)
            if v.get(name) is not None and known is not None and v[name] != known:
                notes.append(f"{FIELD_LABELS[kind][name]}与系统不同（系统为 {known.isoformat()}），未更改")
        if not signing and signed_date and contract is not None and contract != project.contract_investment:
            notes.append(f"{FIELD_LABELS[kind]['contract_investment']}与系统不同"
                         f"（系统为 {display_value(project.contract_investment)}），未更改")
    if target == current:
        return [], notes
    wanted: list[tuple[str, date | None]] = []  # (stage, date from the ledger)
    if signing:
        wanted.append((SIGNED, v.get("signed_date")))
    if target in SIDE_STAGES or stage_index(target) < stage_index(SIGNED):
        wanted.append((target, None))
    elif target == SIGNED:
        if not signing:  # back to 签约 from 搁置: the first signing's date and amount stand
            wanted.append((SIGNED, None))
    else:
        for stage, name in MILESTONE_FIELDS.items():
            if stage_index(current) < stage_index(stage) <= stage_index(target) and (v.get(name) or stage == target):
                if facts.dates.get(stage):  # reached before it went on hold: its date stands
                    if stage == target:
                        wanted.append((stage, None))
                    continue
                wanted.append((stage, v.get(name)))
                if v.get(name) is None:
                    notes.append(f"台账未填{FIELD_LABELS[kind][name]}，导入后该日期为空")
    steps: list[Step] = []
    today = date.today()
    for stage, day in wanted:
        amount = contract if stage == SIGNED and signing else None
        try:
            change = plan_change(facts, stage, today=today, note=note, on_date=day, contract_investment=amount,
                                 undated=day is None)
        except LifecycleError as error:
            _lifecycle_problem(plan, row, target, stage, error, single_investment)
            if error.field != "contract_investment":
                return None, notes
            good = False
            try:  # the amount is reported; check the rest of the row as if it were there
                change = plan_change(facts, stage, today=today, note=note, on_date=day,
                                     contract_investment=Decimal(1), undated=day is None)
            except LifecycleError as other:
                _lifecycle_problem(plan, row, target, stage, other, single_investment)
                return None, notes
        steps.append(Step(stage, change, note))
        facts = _after(facts, change)
    return (steps if good else None), notes


def _after(facts: ProjectFacts, change: StageChange) -> ProjectFacts:
    """The facts once ``change`` is applied: the next step is judged against them."""
    dates = dict(facts.dates)
    for stage, column in MILESTONE_COLUMNS.items():
        if column in change.cleared_dates:
            dates[stage] = None
        if column in change.set_dates:
            dates[stage] = change.set_dates[column]
    amount = change.contract_investment if change.contract_investment is not None else facts.contract_investment
    return replace(facts, stage=change.to_stage, dates=dates, contract_investment=amount)


def _lifecycle_problem(plan: ImportPlan, row: _Parsed, target: str, stage: str, error: LifecycleError,
                       single_investment: str | None) -> None:
    """A refusal of the lifecycle, shown at the cell it concerns."""
    kind = "projects"
    name = {"contract_investment": "contract_investment", "on_date": MILESTONE_COLUMNS.get(stage, "stage"),
            "note": "stage_note"}.get(error.field, "stage")
    message = error.message if target == stage else f"阶段为“{target}”：{error.message}"
    if name == "contract_investment" and single_investment and "contract_investment" not in row.columns:
        name = "planned_investment"
        message += f"（台账只有一列投资额“{single_investment}”，签约项目按该列计）"
    plan.problem(row.number, row.column(name, kind), message, row.cells.get(name))


def _steps_text(steps: list, current: str = "线索") -> str:
    if not steps:
        return ""
    return "阶段：" + " → ".join([current] + [step.stage for step in steps])


# ----- visits --------------------------------------------------------------------------------
VISIT_DATA_FIELDS = ("kind", "visit_date", "our_people", "our_leader", "their_people", "summary", "outcome",
                     "next_step", "next_step_due")


def _plan_visits(plan: ImportPlan, actor, zone: Zone, rows: list[_Parsed], *, local: bool, filename: str):
    resolver = _Resolver(rows)
    plan.watch(resolver.library)
    staff = _Staff(zone)
    projects = _zone_projects(zone, resolver.library, actor)
    existing = _zone_visits(zone, resolver.library)
    seen: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        ref, enterprise_text = resolver.resolve(plan, row, "visits")
        if ref is None:
            continue
        officer_id = _person(plan, row, "visits", "officer", actor, staff)
        if officer_id is False:
            continue
        good = _check_dates_not_future(plan, row, "visits", ("visit_date",))
        if v.get("next_step_due") and not v.get("next_step"):
            plan.problem(row.number, row.column("next_step", "visits"), "填写了完成期限，请同时填写下一步工作")
            good = False
        if v.get("next_step_due") and v["next_step_due"] < v["visit_date"]:
            plan.problem(row.number, row.column("next_step_due", "visits"), "完成期限不能早于走访日期",
                         row.cells.get("next_step_due"))
            good = False
        project_id = None
        if v.get("project_name"):
            project = projects.get((ref.enterprise_id, v["project_name"])) if ref.enterprise_id else None
            if project is None:
                plan.problem(row.number, row.column("project_name", "visits"),
                             f"“{zone.name}”没有该企业名为“{v['project_name']}”的项目", v["project_name"])
                good = False
            else:
                project_id = project.id
        if not good:
            continue
        data = {f: v[f] for f in VISIT_DATA_FIELDS if f in v}
        data.setdefault("kind", "其他")
        data["zone_id"] = zone.id
        key = (ref.key, data["visit_date"], data["kind"], (data.get("summary") or "").strip())
        if key in seen:
            plan.problem(row.number, row.column("visit_date", "visits"),
                         f"与第 {seen[key]} 行是同一次走访（企业、日期、方式、内容都相同），请合并为一行", v["visit_date"])
            continue
        seen[key] = row.number
        label = f"{data['visit_date'].isoformat()} {data['kind']} {v['enterprise_name']}"
        twin = existing.get(key) if ref.enterprise_id else None
        if twin is not None:
            plan.actions.append(RowAction(row.number, "Visit", "skip", label,
                                          f"系统中已有相同的走访记录（#{twin}），跳过", target_id=twin, how="visit"))
            continue
        detail = "；".join(filter(None, ["新建走访记录", enterprise_text,
                                         "关联项目“" + v["project_name"] + "”" if project_id else ""]))
        plan.actions.append(RowAction(row.number, "Visit", "create", label, detail, data=data, enterprise=ref,
                                      officer_id=officer_id, project_id=project_id))
    plan.new_enterprises = resolver.created


def _zone_visits(zone: Zone, library: _Library) -> dict[tuple, int]:
    ids = sorted({e.id for e in library.by_uscc.values()} | {e.id for es in library.by_key.values() for e in es})
    found: dict[tuple, int] = {}
    for chunk in _chunks(ids):
        stmt = select(Visit.id, Visit.enterprise_id, Visit.visit_date, Visit.kind, Visit.summary).where(
            Visit.zone_id == zone.id, Visit.deleted_at.is_(None), Visit.enterprise_id.in_(chunk))
        for visit_id, enterprise_id, visit_date, kind, summary in db.session.execute(stmt):
            found.setdefault((f"id:{enterprise_id}", visit_date, kind, (summary or "").strip()), visit_id)
    return found


# ---------------------------------------------------------------------------------------------
# Commit
# ---------------------------------------------------------------------------------------------
def record_snapshot(record) -> dict:
    """The columns a batch may restore, and for a project its chain segments (by code)."""
    values = snapshot(record)
    if isinstance(record, Project):
        values["segments"] = segment_codes(record)
    return values


class _Recorder:
    """What a batch created and the before-values of what it changed, for ``ImportBatch.changes``."""

    def __init__(self):
        self.created: dict[str, list] = {}
        self.updated: dict[str, dict[str, dict]] = {}
        self.versions: dict[str, dict[str, int]] = {}
        self.touched: list = []  # records written through the ORM: their versions are read at the end
        self.matches: list[dict] = []
        self.skipped: list[dict] = []

    def create(self, record) -> None:
        self.created.setdefault(type(record).__name__, []).append(record.id)
        self.touched.append(record)

    def update(self, record, before: dict) -> None:
        after = record_snapshot(record)
        changed = {k: v for k, v in before.items() if after.get(k) != v and k not in {"updated_at", "version"}}
        if changed:
            self.updated.setdefault(type(record).__name__, {})[str(record.id)] = changed
            self.touched.append(record)

    def created_row(self, entity: str, record_id: int, version: int = 1) -> None:
        self.created.setdefault(entity, []).append(record_id)
        self.versions.setdefault(entity, {})[str(record_id)] = version

    def updated_row(self, entity: str, record_id: int, before: dict, version: int) -> None:
        self.updated.setdefault(entity, {})[str(record_id)] = before
        self.versions.setdefault(entity, {})[str(record_id)] = version

    def as_json(self) -> dict:
        versions = {entity: dict(items) for entity, items in self.versions.items()}
        for record in self.touched:
            versions.setdefault(type(record).__name__, {})[str(record.id)] = record.version
        return {"created": self.created, "updated": self.updated, "versions": versions,
                "matches": self.matches, "skipped": self.skipped}


class _Blank:
    """A plain record for staging rows: the services' rules set its attributes; an unset one reads None,
    as on a new ORM record (without the ORM's per-attribute bookkeeping, 50,000 times over)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def _row_values(record, model=None) -> dict:
    """The column values a transient record will be inserted with: what the rules set, and each
    column's Python default for the rest (as the ORM's flush would fill them in)."""
    values = {}
    state = record.__dict__
    for column in (model or type(record)).__table__.columns:
        if column.key in state:
            values[column.key] = state[column.key]
        elif column.primary_key:
            continue
        elif column.default is not None and column.default.is_scalar:
            values[column.key] = column.default.arg
        elif column.default is not None and column.default.is_callable:
            values[column.key] = column.default.arg(None)
        else:
            values[column.key] = None
    return values


def _stored_values(record) -> dict:
    return {column.key: getattr(record, column.key) for column in type(record).__table__.columns}


class _Staged:
    """A row to insert: its values and its audit snapshot (made while staging; the id, the times and
    a new firm's id are filled in as it is written); ``enterprise`` is the new firm's ref when the
    row's firm comes from this import, ``created_for`` the index of a note's new firm."""

    __slots__ = ("values", "snapshot", "enterprise", "created_for")

    def __init__(self, model, record, enterprise: EnterpriseRef | None = None, created_for: int | None = None):
        self.values = _row_values(record, model)
        self.snapshot = values_snapshot(model, self.values)
        self.enterprise, self.created_for = enterprise, created_for


_FILLED_IN = ("id", "created_at", "updated_at", "enterprise_id")


class _BulkWriter:
    """Writes a plan in bulk: every rule is applied row by row while staging (the services' own
    ``new_*``/``edit_*`` functions, no write), then the rows go in with a few executemany statements
    per chunk — inserts, updates by primary key and version, and their audit entries.

    Projects go through the services one by one: each of their stage changes is the lifecycle's
    (``apply_stage_change``), with its history, segments and first-report check."""

    def __init__(self, actor, zone: Zone, recorder: _Recorder, progress=None):
        self.actor, self.zone, self.recorder, self.progress = actor, zone, recorder, progress
        self.new_enterprises: dict[int, int] = {}  # id(ref) → index in self.enterprises
        self.enterprises: list[_Staged] = []  # new firms, in the order of their first row
        self.updates: list[tuple[int, dict, dict]] = []  # (firm id, values before, values after)
        self.notes: list[_Staged] = []
        self.visits: list[_Staged] = []
        self.projects: list[RowAction] = []
        self.done, self.total = 0, 0

    # ----- staging: the rules, no writes ----------------------------------------------------
    def stage(self, actions: list[RowAction]) -> None:
        for action in actions:
            try:
                self._stage(action)
            except ServiceError as error:
                raise ImportFailed(action.row, error.message) from error

    def _stage(self, action: RowAction) -> None:
        if action.how:
            self.recorder.matches.append({"row": action.row, "entity": action.entity, "id": action.target_id,
                                          "how": action.how, "action": action.action})
        ref = action.enterprise
        if ref is not None and ref.enterprise_id:
            self.recorder.matches.append({"row": action.row, "entity": "Enterprise", "id": ref.enterprise_id,
                                          "how": ref.how, "action": "use"})
        if action.action == "skip":
            self.recorder.skipped.append({"row": action.row, "entity": action.entity, "id": action.target_id})
            return
        if action.entity == "Enterprise":
            self._stage_enterprise(action)
        elif action.entity == "Visit":
            self._stage_visit(action)
        else:
            if ref is not None:
                self._enterprise_ref(ref)
            self.projects.append(action)

    def _enterprise_ref(self, ref: EnterpriseRef) -> EnterpriseRef:
        if not ref.enterprise_id and id(ref) not in self.new_enterprises:
            record = new_enterprise(self.actor, {"name": ref.name, "uscc": ref.uscc,
                                                 "zone_id": self.zone.id if ref.local else None},
                                    check_clash=False, into=_Blank())
            self.new_enterprises[id(ref)] = len(self.enterprises)
            self.enterprises.append(_Staged(Enterprise, record, ref))
        return ref

    def _stage_enterprise(self, action: RowAction) -> None:
        created_for = target_id = None
        if action.action == "create":
            record = new_enterprise(self.actor, action.data, check_clash=False, into=_Blank())
            created_for = len(self.enterprises)
            self.enterprises.append(_Staged(Enterprise, record))
        elif action.action == "update":
            existing = db.session.get(Enterprise, action.target_id)
            if action.target_version is not None and existing.version != action.target_version:
                raise ServiceError(STALE_FIRM)
            before = _stored_values(existing)
            copy = _Blank(**before)  # the rules apply to a copy; the stored firm stays clean
            edit_enterprise(self.actor, copy, action.data, check_clash=False)
            self.updates.append((existing.id, before, {key: copy.__dict__.get(key) for key in before}))
            target_id = existing.id
        else:
            return
        if (action.data.get("notes") or "").strip():
            note = new_note(self.actor, target_id, action.data["notes"], zone_id=self.zone.id)
            self.notes.append(_Staged(EnterpriseNote, note, created_for=created_for))

    def _stage_visit(self, action: RowAction) -> None:
        officer = db.session.get(User, action.officer_id) if action.officer_id else self.actor
        project = db.session.get(Project, action.project_id) if action.project_id else None
        ref = self._enterprise_ref(action.enterprise)
        visit = new_visit(officer, ref.enterprise_id, action.data, project=project)
        self.visits.append(_Staged(Visit, visit, None if ref.enterprise_id else ref))

    # ----- writing -----------------------------------------------------------------------------
    def write(self) -> None:
        if database_busy():  # as the session's own guards refuse an ORM write in busy mode (crm/busy.py)
            raise DatabaseBusy()
        self.total = len(self.enterprises) + len(self.updates) + len(self.notes) + len(self.visits) + len(self.projects)
        ids = self._insert(Enterprise, self.enterprises)
        for staged, record_id in zip(self.enterprises, ids, strict=True):
            if staged.enterprise is not None:
                staged.enterprise.enterprise_id = record_id  # the ref now names the firm made for it
        self._update_enterprises()
        for staged in self.notes:
            if staged.created_for is not None:
                staged.values["enterprise_id"] = ids[staged.created_for]
        self._insert(EnterpriseNote, self.notes, record=False)
        for staged in self.visits:
            if staged.enterprise is not None:
                staged.values["enterprise_id"] = staged.enterprise.enterprise_id
        self._insert(Visit, self.visits)
        for action in self.projects:
            try:
                self._project(action)
            except ServiceError as error:
                raise ImportFailed(action.row, error.message) from error
            self._advanced(1)

    def _advanced(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self.progress is not None and (self.done // CHUNK != before // CHUNK or self.done == self.total):
            self.progress(self.done, self.total, PROGRESS_WRITE)

    def _insert(self, model, staged: list[_Staged], *, record: bool = True) -> list[int]:
        """Insert the staged rows (executemany, ids in order) with one audit entry each."""
        table = model.__table__
        ids: list[int] = []
        for chunk in _chunks(staged):
            now = utcnow()
            for row in chunk:
                for key in ("created_at", "updated_at"):
                    if key in row.values:
                        row.values[key] = now
            chunk_ids = insert_returning_ids(db.session.connection(), table, [row.values for row in chunk])
            entries = []
            for row, record_id in zip(chunk, chunk_ids, strict=True):
                row.values["id"] = record_id
                for key in _FILLED_IN:
                    if key in row.snapshot:
                        row.snapshot[key] = to_jsonable(row.values.get(key))
                entries.append(("create", record_id, row.values.get("zone_id"), None, row.snapshot))
                if record:
                    self.recorder.created_row(model.__name__, record_id, row.values.get("version") or 1)
            write_entries(db.session, model, entries)
            ids.extend(chunk_ids)
            self._advanced(len(chunk))
        return ids

    def _update_enterprises(self) -> None:
        """Each changed firm: one UPDATE by id and version (a firm saved by someone else since the dry
        run is refused, as a form would be), grouped by the columns that change."""
        table = Enterprise.__table__
        groups: dict[tuple, list[dict]] = {}
        entries = []
        now = utcnow()
        for record_id, before, after in self.updates:
            changed = {k: v for k, v in after.items() if k not in {"id", "updated_at", "version"} and v != before[k]}
            old, new = values_changes(Enterprise, before, changed)
            if not new:
                continue
            params = {"_id": record_id, "_version": before["version"], **changed, "updated_at": now,
                      "version": before["version"] + 1}
            groups.setdefault(tuple(sorted(changed)), []).append(params)
            entries.append(("update", record_id, after.get("zone_id"), old, new))
            snap = values_snapshot(Enterprise, before)
            self.recorder.updated_row("Enterprise", record_id, {k: snap[k] for k in new if k in snap},
                                      before["version"] + 1)
        for columns, rows in groups.items():
            stmt = (table.update()
                    .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
                    .values({key: bindparam(key) for key in (*columns, "updated_at", "version")}))
            for chunk in _chunks(rows):
                done = db.session.execute(stmt, chunk).rowcount
                if done != len(chunk) and db.session.get_bind().dialect.supports_sane_multi_rowcount:
                    raise ServiceError(STALE_FIRM)
                self._advanced(len(chunk))
        for chunk in _chunks(entries):
            write_entries(db.session, Enterprise, chunk)
        for record_id, _, _ in self.updates:
            record = db.session.identity_map.get(db.session.identity_key(Enterprise, record_id))
            if record is not None:
                db.session.expire(record)  # the session's copy is what it was before the UPDATE

    def _project(self, action: RowAction) -> None:
        if action.action == "create":
            enterprise = db.session.get(Enterprise, action.enterprise.enterprise_id)
            project = create_project(self.actor, enterprise, action.data)
            self._advance(project, action.steps)
            self.recorder.create(project)
        elif action.action == "update":
            project = db.session.get(Project, action.target_id)
            before = record_snapshot(project)
            if action.data:
                update_project(self.actor, project, action.data)
            self._advance(project, action.steps)
            self.recorder.update(project, before)

    def _advance(self, project: Project, steps: list[Step]) -> None:
        for step in steps:
            apply_stage_change(self.actor, project, step.change, step.note)
        db.session.flush()


def commit_import(actor, kind: str, table: Table, mapping: dict[int, str] | None, zone: Zone, filename: str, *,
                  local: bool = False, progress=None) -> ImportBatch:
    """Import every row or none: the dry run must pass; then the rows are written in bulk.

    Every rule is applied to every row before the first write (the dry run, then the services' own
    rules while staging), so the writes come last and together: a few executemany statements per
    500 rows, audit entries included. Writes happen inside a savepoint that is rolled back on any
    error; the caller commits once, or rolls back. Raises ``ImportHasProblems`` (with the plan) or
    ``ImportFailed`` (with the row). ``progress(done, total, stage)`` is called once per chunk.
    """
    plan = _remembered(actor, kind, table, mapping, zone, local, filename) \
        or dry_run(actor, kind, table, mapping, zone, local=local, filename=filename, progress=progress)
    if not plan.ok:
        raise ImportHasProblems(plan)
    return write_plan(actor, plan, table, zone, filename, progress=progress)


def write_plan(actor, plan: ImportPlan, table: Table, zone: Zone, filename: str, *, progress=None) -> ImportBatch:
    """Write a dry run's plan (made in this transaction, with no problem) and record its batch."""
    writer = _BulkWriter(actor, zone, _Recorder(), progress)
    writer.stage(plan.actions)
    return _write_staged(writer, actor, plan, table, zone, filename)


def _write_staged(writer: _BulkWriter, actor, plan: ImportPlan, table: Table, zone: Zone,
                  filename: str) -> ImportBatch:
    with db.session.begin_nested():
        writer.write()
        db.session.flush()
        # SUMMARIES: the search index and projects' last visit of what this batch wrote, for the bulk
        # writes that bypass the ORM listeners — keep this one call after the writes (crm/imports/summaries.py).
        refresh_after_import(writer.recorder.created, writer.recorder.updated)
        batch = ImportBatch(zone_id=zone.id, actor_id=getattr(actor, "id", None), kind=plan.kind,
                            filename=filename[:255], row_count=len(table.rows), status="committed",
                            changes=writer.recorder.as_json())
        db.session.add(batch)
        db.session.flush()
    if writer.progress:  # the writes are done; the job then commits (a cancel still can stop it here)
        writer.progress(len(plan.actions), len(plan.actions), "写入完成")
    return batch


ATTEMPTS = 3
STALE_FIRM = "导入期间有企业被他人修改，请重新检查后再导入"


def import_and_commit(actor, kind: str, table: Table, mapping: dict[int, str] | None, zone: Zone, filename: str, *,
                      local: bool = False, progress=None) -> ImportBatch:
    """``commit_import`` and the commit, for a caller that owns its session (the CLI, a job worker),
    holding SQLite's one write lock only while the rows go in.

    On SQLite the dry run and the staging (every rule, every row) run in a read transaction, which
    locks nothing; that transaction ends, a write transaction begins (BEGIN IMMEDIATE: it waits its
    turn like any save), and the rows are written unless a save since the dry run touched what it
    read (``_changed_since``) — then it plans again, and the last attempt plans inside the write
    transaction. Other users' saves wait at most for the writing, never for the planning. On
    PostgreSQL nobody waits for a plan anyway (no table locks; row locks on the rows written only):
    it is ``commit_import`` and a commit. Whatever fails is rolled back; nothing is half-written.
    """
    session = db.session
    try:
        if session.get_bind().dialect.name != "sqlite":
            batch = commit_import(actor, kind, table, mapping, zone, filename, local=local, progress=progress)
            session.commit()
            return batch
        for attempt in range(1, ATTEMPTS + 1):
            last = attempt == ATTEMPTS
            if last:  # plan inside the write transaction: nothing can change under it
                session.rollback()
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            plan = (_remembered(actor, kind, table, mapping, zone, local, filename) if attempt == 1 else None) \
                or dry_run(actor, kind, table, mapping, zone, local=local, filename=filename, progress=progress)
            if not plan.ok:
                raise ImportHasProblems(plan)
            writer = _BulkWriter(actor, zone, _Recorder(), progress)
            writer.stage(plan.actions)
            if not last:
                session.rollback()  # the end of the read transaction; the staged rows are plain values
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                if _changed_since(plan):
                    continue
            batch = _write_staged(writer, actor, plan, table, zone, filename)
            session.commit()
            return batch
    except BaseException:
        session.rollback()
        raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# Batches: list, detail, revert
# ---------------------------------------------------------------------------------------------
MODELS = {"Enterprise": Enterprise, "Project": Project, "Visit": Visit}


def batch_list_query(actor):
    """The batches ``actor`` may see: their zones' (the city admin sees all), newest first."""
    return scope(select(ImportBatch), ImportBatch, actor).order_by(ImportBatch.id.desc())


def batch_records(batch: ImportBatch, limit: int = 200) -> dict[str, dict[str, list]]:
    """{"created"|"updated": {entity: [records]}} — at most ``limit`` of each, one query per entity."""
    found: dict[str, dict[str, list]] = {"created": {}, "updated": {}}
    for section in ("created", "updated"):
        for entity, ids in (batch.changes or {}).get(section, {}).items():
            model = MODELS.get(entity)
            if model is None:
                continue
            wanted = [int(i) for i in ids][:limit]
            records = db.session.scalars(select(model).where(model.id.in_(wanted)).order_by(model.id)).unique().all()
            found[section][entity] = records
    return found


def revert_batch(actor, batch: ImportBatch) -> None:
    """Undo a batch (city admin): soft-delete what it created, restore what it changed.

    Refuses, naming the records, when any was changed after the import, or when something made
    since hangs off a record the batch created: an undo must not overwrite later work.
    """
    require(actor, "import.revert")
    if batch.status == "reverted":
        raise ServiceError("该批次已撤销")
    changes = batch.changes or {}
    versions = changes.get("versions", {})
    created = {entity: [int(i) for i in ids] for entity, ids in changes.get("created", {}).items()}
    updated = {entity: {int(i): before for i, before in items.items()}
               for entity, items in changes.get("updated", {}).items()}
    records: dict[tuple[str, int], Any] = {}
    for entity in MODELS:
        ids = set(created.get(entity, [])) | set(updated.get(entity, {}))
        for chunk in _chunks(sorted(ids)):
            for record in db.session.scalars(select(MODELS[entity]).where(MODELS[entity].id.in_(chunk))).unique():
                records[(entity, record.id)] = record
    conflicts = []
    for (entity, record_id), record in sorted(records.items()):
        expected = versions.get(entity, {}).get(str(record_id))
        if expected is not None and record.version != expected:
            conflicts.append(f"{ENTITY_LABELS[entity]}“{_record_label(record)}”（#{record_id}）在导入后已被修改")
    conflicts += _later_dependents(created)
    if conflicts:
        more = f"等 {len(conflicts)} 处" if len(conflicts) > 5 else ""
        raise ServiceError("无法撤销该批次：" + "；".join(conflicts[:5]) + more + "。请先人工处理这些记录。")
    for entity in ("Visit", "Project", "Enterprise"):
        for record_id in created.get(entity, []):
            record = records.get((entity, record_id))
            if record is None or record.deleted_at is not None:
                continue
            record.deleted_at = utcnow()
            if entity == "Enterprise":
                record.uscc = None  # frees the code for a corrected re-import; the audit log keeps it
    restores = []
    for entity, items in updated.items():
        for record_id, before in items.items():
            record = records[(entity, record_id)]
            change = None
            if entity == "Project" and "stage" in before and before["stage"] != record.stage:
                change = _stage_restore(record, before, batch)
            restores.append((record, before, change))
    note = f"撤销导入批次 #{batch.id}"
    for record, before, change in restores:
        if change is not None:
            apply_stage_change(actor, record, change, note)
        for key, value in before.items():
            if key == "segments":
                restore_segments(record, value)
            elif key != "stage" and not (change and key in change.cleared_dates):
                setattr(record, key, _from_json(type(record), key, value))
    batch.status = "reverted"
    batch.reverted_at = utcnow()
    db.session.flush()


def _stage_restore(project: Project, before: dict, batch: ImportBatch) -> StageChange:
    """The lifecycle's plan for taking ``project`` back to the stage it had before the batch.

    The rollback may clear only the milestone dates the batch itself set (they were empty before it);
    any other refusal of the rules is the revert's refusal.
    """
    has_funds = db.session.scalar(select(FundsInPlace.id).where(FundsInPlace.project_id == project.id).limit(1)) \
        or db.session.scalar(select(CapitalIncrease.id).where(CapitalIncrease.project_id == project.id).limit(1))
    facts = ProjectFacts.of(project, has_funds=has_funds is not None)
    try:
        change = plan_change(facts, before["stage"], today=date.today(), note=f"撤销导入批次 #{batch.id}",
                             undated=True)
    except LifecycleError as error:
        raise ServiceError(f"无法撤销该批次：项目“{project.name}”不能退回“{before['stage']}”：{error.message}",
                           field=error.field) from error
    foreign = [column for column in change.cleared_dates if column not in before or before[column] is not None]
    if foreign:
        labels = "、".join(COLUMN_LABELS.get(c, c) for c in foreign)
        raise ServiceError(f"无法撤销该批次：项目“{project.name}”的{labels}不是本批次填写的，撤销会清除它；请先人工处理")
    return change


def _record_label(record) -> str:
    if isinstance(record, Visit):
        return f"{record.visit_date.isoformat()} {record.kind}"
    return record.name


def _later_dependents(created: dict[str, list[int]]) -> list[str]:
    """Records made after the import that point at what the batch created."""
    problems = []
    enterprise_ids = created.get("Enterprise", [])
    project_ids = created.get("Project", [])
    mine = {"Project": set(project_ids), "Visit": set(created.get("Visit", []))}
    checks = [
        (Project, Project.enterprise_id, enterprise_ids, "Project", "企业“{}”在导入后有了新的项目"),
        (Visit, Visit.enterprise_id, enterprise_ids, "Visit", "企业“{}”在导入后有了新的走访记录"),
        (Contact, Contact.enterprise_id, enterprise_ids, None, "企业“{}”在导入后添加了联系人"),
        (Visit, Visit.project_id, project_ids, "Visit", "项目“{}”在导入后有了新的走访记录"),
        (FundsInPlace, FundsInPlace.project_id, project_ids, None, "项目“{}”在导入后登记了到资"),
        (CapitalIncrease, CapitalIncrease.project_id, project_ids, None, "项目“{}”在导入后登记了增资"),
    ]
    for model, column, ids, entity, message in checks:
        for chunk in _chunks(ids):
            stmt = select(model.id, column).where(column.in_(chunk))
            if hasattr(model, "deleted_at"):
                stmt = stmt.where(model.deleted_at.is_(None))
            for record_id, parent_id in db.session.execute(stmt):
                if entity and record_id in mine[entity]:
                    continue
                parent = db.session.get(Enterprise if column.key == "enterprise_id" else Project, parent_id)
                problems.append(message.format(parent.name))
    return list(dict.fromkeys(problems))


def _from_json(model, key: str, value):
    """A value from ``snapshot`` back in the column's Python type."""
    if value is None:
        return None
    column_type = model.__table__.c[key].type
    if isinstance(column_type, Numeric):
        return Decimal(value)
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    return value


# ---------------------------------------------------------------------------------------------
# The error report
# ---------------------------------------------------------------------------------------------
def problems_workbook(plan: ImportPlan, filename: str = "") -> bytes:
    """The dry run's problems as an .xlsx: 行号, 列, 单元格内容, 问题, and the field the column holds in the
    field table's words (协议投资额（万元）) — cell text never runs as a formula."""
    from types import SimpleNamespace

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from crm.excel import cell, display_width, set_widths

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("导入问题")
    headers = ["行号", "列", "单元格内容", "问题", "对应字段"]
    bold = Font(bold=True)
    title = f"导入检查问题清单：{filename}" if filename else "导入检查问题清单"
    sheet.append([cell(sheet, title, style=SimpleNamespace(font=Font(bold=True, size=13)))])
    sheet.append([cell(sheet, h, style=SimpleNamespace(font=bold)) for h in headers])
    widths = [display_width(h) for h in headers]
    for problem in plan.problems:
        values = [problem.row if problem.row is not None else "整个文件", problem.column, problem.value, problem.message,
                  plan.field_label(problem.column)]
        widths = [max(w, display_width(v)) for w, v in zip(widths, values)]
        sheet.append([cell(sheet, v) for v in values])
    set_widths(sheet, widths)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
