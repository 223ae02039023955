"""An audit entry as people read it: the kind of record, the field labels, the values formatted.

One formatter for every page that shows history (an enterprise's, a project's, the admin's audit
log). Labels come from the one field table (crm/fields.py); amounts read in 万元, dates as dates,
times in the zones' local time (Asia/Shanghai), flags as 是/否. Pure: no Flask, no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from crm import fields

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# The model class names the audit log records, in Chinese, with the field-table entity of each.
KINDS: dict[str, tuple[str, str]] = {
    "Enterprise": ("企业", "enterprise"),
    "Contact": ("联系人", "contact"),
    "EnterpriseNote": ("企业备注", "note"),
    "EnterpriseMerge": ("企业合并", "merge"),
    "Project": ("项目", "project"),
    "FirstReportConflict": ("首报争议", "conflict"),
    "Visit": ("走访", "visit"),
    "FundsInPlace": ("到资", "funds"),
    "CapitalIncrease": ("增资", "increase"),
    "ZoneTarget": ("园区目标", "zone_settings"),
    "ZoneSignoff": ("台账填报信息", "zone_signoff"),
    "Chain": ("产业链", "chain"),
    "Segment": ("产业链环节", "segment"),
    "SegmentLink": ("环节关联", "segment_link"),
    "EnterpriseSegment": ("企业所属环节", "enterprise_segment"),
    "ImportBatch": ("导入批次", "import"),
    "User": ("用户", "user"),
    "Zone": ("园区", "zone_record"),
    "Parcel": ("地块", "parcel"),
    "ProjectParcel": ("项目用地", "project_parcel"),
    "LandAcceptance": ("达产验收", "land_acceptance"),
    "ProjectActual": ("履约实绩", "project_actual"),
    "DevelopedArea": ("已开发面积", "developed_area"),
    "ComplianceAction": ("履约处置", "compliance_action"),
    "EfficiencyFigures": ("亩均效益数据", "efficiency_figures"),
    "EfficiencyMethod": ("亩均评价方法", "efficiency_method"),
    "EfficiencyResult": ("亩均评价结果", "efficiency_result"),
    "ServiceAssignment": ("包保安排", "service_assignment"),
    "EnterpriseRequest": ("企业诉求", "enterprise_request"),
    "ZoneRequestSetting": ("诉求办理时限", "zone_request_setting"),
    "OfficerRating": ("企业测评", "officer_rating"),
    "ApiToken": ("API 令牌", "api_token"),
}

# Columns no user fills in, named here (the field table holds what users fill in).
_EXTRA_LABELS = {
    "deleted_at": "删除时间", "created_at": "创建时间", "enterprise_id": "企业", "project_id": "项目",
    "display_name": "姓名", "username": "用户名", "role": "角色", "active": "启用", "zone_ids": "园区",
    "zones": "园区", "is_active": "启用", "chain_id": "产业链", "segment_id": "环节", "code": "代码",
    "status": "状态", "surviving_id": "保留企业", "merged_id": "被合并企业", "year": "年度",
    "first_zone_id": "首报园区", "second_zone_id": "报告园区", "resolved_at": "处理时间",
    "note": "备注", "title": "标题", "name": "名称", "body": "内容", "text": "内容",
}
_BOOLEAN_WORDS = {True: "是", False: "否"}
EMPTY = "（空）"


def kind_label(entity_type: str) -> str:
    return KINDS.get(entity_type, (entity_type, ""))[0]


def _field(entity_type: str, key: str) -> fields.Field | None:
    entity = KINDS.get(entity_type, ("", ""))[1]
    candidates = [fields.ATTRIBUTES.get(entity, {}).get(key), f"{entity}_{key}", key]
    for candidate in candidates:
        if candidate and candidate in fields.FIELDS:
            return fields.FIELDS[candidate]
    return None


def field_label(entity_type: str, key: str) -> str:
    found = _field(entity_type, key)
    if found is not None:
        return found.label
    return _EXTRA_LABELS.get(key, key)


def local_time(value: datetime | str | None) -> str:
    """A UTC time (aware, naive-UTC, or ISO text) in the zones' local time: 2026-12-01 21:30."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _amount(value, unit: str) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{number:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}"


def format_value(entity_type: str, key: str, value) -> str:
    """One recorded value as people read it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return _BOOLEAN_WORDS[value]
    found = _field(entity_type, key)
    kind = found.kind if found else ""
    if kind in {"amount", "area", "count"} and found.unit:
        return _amount(value, found.unit)
    if kind == "rate":
        try:
            return f"{Decimal(str(value)) * 100:.1f}%"
        except (InvalidOperation, ValueError):
            return str(value)
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        return local_time(value)
    if kind in {"date", "month"} and isinstance(value, str):
        return value[:7] if kind == "month" else value[:10]
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


_HIDDEN_KEYS = frozenset({"id", "version", "updated_at", "created_at", "search_text", "name_pinyin",
                          "name_initials"})


def changes(entity_type: str, action: str, before: dict | None, after: dict | None) -> list[Change]:
    """The fields an entry changed (an update), or the values it set (a create): label, before, after.
    A delete or restore is its own statement; it lists nothing."""
    before, after = before or {}, after or {}
    if action in {"delete", "restore"}:
        return []
    result = []
    for key, new in after.items():
        if key in _HIDDEN_KEYS or key.endswith("_pinyin") or key.endswith("_index"):
            continue
        if action == "create" and (new is None or new == "" or new == [] or key == "deleted_at"):
            continue
        result.append(Change(field_label(entity_type, key),
                             format_value(entity_type, key, before.get(key)) if action == "update" else "",
                             format_value(entity_type, key, new)))
    return result
