"""One table of the fields users fill in and read: Chinese label, unit, kind and bounds.

The forms, the import (its labels, cell bounds, problem report and template), and the exports all
read their labels and limits here, so a field is called the same and bounded the same everywhere.
``header(key)`` is the label with its unit in full-width brackets: 协议投资额（万元）.

Pure: no Flask, no database. Lengths match the columns in the models (a test checks them).

Amount bounds. Project amounts (planned, contracted, output, tax, funds, capital increases) are
bounded at 5000 亿元: the largest single project found in a zone, 浙江石化 4000 万吨/年炼化一体化项目
(舟山绿色石化基地, 浙发改产业〔2017〕394号), was approved at about 1731 亿元, so 1000 亿元 would refuse a
real ledger; 5000 亿元 still refuses a unit slip such as 50000 亿元. An enterprise's registered
capital and revenue are bounded at 10 万亿元 (国家电网: registered capital 8295 亿元, revenue above 3.5 万亿元).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WAN = "万元"
MU = "亩"
PERSON = "人"

MAX_AMOUNT = Decimal(5) * Decimal(10) ** 7  # 万元: 5000 亿元, a project's or the ledger's amount
MAX_ENTERPRISE_AMOUNT = Decimal(10) ** 9  # 万元: 10 万亿元, an enterprise's registered capital or revenue
MAX_AREA = Decimal(10) ** 6  # 亩: 100 万亩 (about 667 km²), more than any zone
MAX_COUNT = 10**7  # 人


def amount_text(value: Decimal) -> str:
    """An amount in 万元 said the way people say it: 5000 亿元, 10 万亿元, 3500 万元."""
    for scale, unit in ((Decimal(10) ** 8, "万亿元"), (Decimal(10) ** 4, "亿元"), (Decimal(1), "万元")):
        if value >= scale or scale == 1:
            return f"{_plain(Decimal(value) / scale)} {unit}"
    raise AssertionError  # pragma: no cover


def area_text(value: Decimal) -> str:
    """An area in 亩: 100 万亩, 80 亩."""
    if value >= 10**4:
        return f"{_plain(Decimal(value) / 10**4)} 万亩"
    return f"{_plain(Decimal(value))} 亩"


def _plain(number: Decimal) -> str:
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "text"  # text / amount / area / count / date / month / choice / flag / rate / person
    unit: str | None = None
    max_length: int | None = None
    min_value: Decimal | int | None = None
    max_value: Decimal | int | None = None
    format: str = ""  # how to write it, for the import's column dictionary

    @property
    def header(self) -> str:
        return f"{self.label}（{self.unit}）" if self.unit else self.label

    def bound_message(self) -> str:
        """The Chinese refusal of a value past the bounds, naming them."""
        if self.kind in {"amount", "area"}:
            top = amount_text(Decimal(self.max_value)) if self.kind == "amount" else area_text(Decimal(self.max_value))
            return f"{self.label}不能为负数，且不能超过 {top}"
        if self.kind == "count":
            return f"{self.label}应为 0 到 {self.max_value:,} 之间的整数"
        return f"{self.label}超出范围"

    def length_message(self) -> str:
        return f"{self.label}最多 {self.max_length} 字"


def _text(key, label, max_length=None, format=""):
    return Field(key, label, "text", max_length=max_length, format=format)


def _amount(key, label, max_value=MAX_AMOUNT):
    return Field(key, label, "amount", WAN, min_value=Decimal(0), max_value=max_value,
                 format="数字，单位万元；也可写“1.2亿元”“3,500万”“5000000元”")


def _date(key, label):
    return Field(key, label, "date", format="日期，如 2024-03-05、2024年3月5日、2024.3.5")


def _choice(key, label, max_length=None):
    return Field(key, label, "choice", max_length=max_length)


def _flag(key, label):
    return Field(key, label, "flag", format="是 / 否")


_ALL = [
    # ----- enterprises (crm/library) -----
    _text("enterprise_name", "企业名称", 200),
    _text("uscc", "统一社会信用代码", 18, "18 位，含校验位"),
    _text("aliases", "曾用名/简称", 500, "多个用逗号分隔"),
    _text("region_province", "省", 20),
    _text("region_city", "市", 30),
    _text("region_county", "区县", 30),
    _text("address", "地址", 300),
    _text("industry_code", "行业代码", 10, "国民经济行业分类（GB/T 4754）代码"),
    _text("industry_name", "所属行业", 100),
    _text("main_products", "主营产品", 500),
    _amount("registered_capital", "注册资本", MAX_ENTERPRISE_AMOUNT),
    _amount("annual_revenue", "年营业收入", MAX_ENTERPRISE_AMOUNT),
    Field("employees", "员工人数", "count", PERSON, min_value=0, max_value=MAX_COUNT, format="整数"),
    _flag("above_scale", "规模以上企业"),
    _choice("tags", "标签", 200),
    _text("website", "网站", 200),
    _text("notes", "备注", 5000),
    _flag("local", "在园企业"),
    _choice("enterprise_zone", "所在园区（在园企业）"),
    # ----- contacts -----
    _text("contact_name", "姓名", 50),
    _text("contact_title", "职务", 50),
    _text("contact_phone", "电话", 30),
    _text("contact_email", "邮箱", 100),
    _text("contact_notes", "备注", 500),
    # ----- a zone's ledger sign-off block (crm/ledger ZoneSignoff) -----
    _text("signoff_unit", "台账填报单位", 128),
    _text("signoff_preparer", "台账填报人", 64),
    _text("signoff_reviewer", "台账审核人", 64),
    # ----- projects (crm/pipeline) -----
    _text("project_name", "项目名称", 200),
    _choice("zone", "园区"),
    Field("owner", "负责人", "person", max_length=64, format="系统用户名或姓名（本园区招商人员）"),
    _choice("stage", "阶段", 4),
    _date("stage_changed_at", "进入阶段日期"),
    _text("stage_note", "阶段说明/原因", 500),
    _choice("to_stage", "目标阶段", 4),
    _text("stage_change_note", "说明/原因", 500),
    Field("milestone_date", "节点日期", "date", format="签约、注册、开工、投产、达产的日期"),
    _amount("planned_investment", "计划投资额"),
    Field("land_area", "用地", "area", MU, min_value=Decimal(0), max_value=MAX_AREA, format="数字，单位亩（不是平方米）"),
    _choice("source", "项目来源", 10),
    _choice("priority", "优先级", 2),
    _flag("confidential", "保密项目"),
    _text("description", "项目情况", 5000),
    _date("signed_date", "签约日期"),
    _date("registered_date", "注册日期"),
    _date("started_date", "开工日期"),
    _date("production_date", "投产日期"),
    _date("full_production_date", "达产日期"),
    # ----- commitments of a signed project -----
    _amount("contract_investment", "协议投资额"),
    _amount("annual_output_value", "达产年产值"),
    _amount("annual_tax", "达产年税收"),
    Field("jobs", "新增就业", "count", PERSON, min_value=0, max_value=MAX_COUNT, format="整数"),
    _date("due_registered", "约定注册日期"),
    _date("due_started", "约定开工日期"),
    _date("due_production", "约定投产日期"),
    _date("due_full_production", "约定达产日期"),
    Field("investment_per_mu", "亩均投资强度", "amount", "万元/亩", min_value=Decimal(0), max_value=MAX_AMOUNT),
    _text("warnings", "预警"),
    _text("segments", "产业链环节", 500, format="环节名称、代码或关键词，多个用“、”分隔；不填则为企业的主环节"),
    _text("chain", "所属产业链", 200, format="产业链名称；只填产业链时取企业在该链的环节"),
    # ----- visits (crm/visits) -----
    _date("visit_date", "走访日期"),
    _choice("kind", "走访方式", 10),
    _choice("visit_project", "关联项目"),
    _text("our_people", "我方人员", 300),
    _text("our_leader", "我方最高领导", 50),
    _text("their_people", "对方人员", 300),
    _text("summary", "洽谈内容", 5000),
    _text("outcome", "成果/结论", 5000),
    _text("next_step", "下一步工作", 500),
    _date("next_step_due", "下一步期限"),
    Field("officer", "跟进人", "person", max_length=64, format="系统用户名或姓名（本园区招商人员）"),
    # ----- funds in place and capital increases (crm/ledger) -----
    Field("funds_month", "月份", "month", format="YYYY-MM，如 2026-03"),
    _amount("funds_amount", "到资金额"),
    _text("funds_note", "备注", 300),
    _amount("funds_this_month", "本月到资"),
    _amount("funds_total", "累计到资"),
    _amount("funds", "到资"),
    Field("funds_rate", "到资率", "rate"),
    _date("increase_signed_date", "增资签约日期"),
    _amount("increase_amount", "增资金额"),
    _amount("increases", "增资"),
    _amount("committed", "协议投资额（含增资）"),
    _text("increase_note", "备注", 300),
    # ----- figures of the ledger's summary and the chain report -----
    Field("signed_projects", "签约项目", "count", "个"),
    Field("register_rate", "注册率", "rate"),
    Field("start_rate", "开工率", "rate"),
    Field("production_rate", "投产率", "rate"),
    _amount("local_output", "本地产值合计", MAX_ENTERPRISE_AMOUNT),
    # ----- a zone's yearly targets and thresholds -----
    Field("signed_count_target", "签约项目数目标", "count", "个", min_value=0, max_value=MAX_COUNT),
    _amount("signed_amount_target", "签约额目标"),
    Field("min_investment_per_mu", "亩均投资强度标准", "amount", "万元/亩", min_value=Decimal(0), max_value=MAX_AMOUNT),
    # ----- 标准地: parcels and their control indicators (crm/land) -----
    _text("parcel_code", "地块编号", 50),
    _text("parcel_location", "坐落位置", 300),
    Field("parcel_area", "地块面积", "area", MU, min_value=Decimal(0), max_value=MAX_AREA),
    _choice("land_use", "用途", 10),
    Field("investment_intensity", "固定资产投资强度", "amount", "万元/亩", min_value=Decimal(0), max_value=MAX_AMOUNT),
    Field("plot_ratio", "容积率", "amount", min_value=Decimal(0), max_value=Decimal(100)),
    Field("tax_per_mu", "亩均税收", "amount", "万元/亩", min_value=Decimal(0), max_value=MAX_AMOUNT),
    Field("energy_per_output", "单位能耗", "amount", "吨标煤/万元", min_value=Decimal(0), max_value=Decimal(1000)),
    _text("environmental_terms", "环境准入要求", 5000),
    _date("accepted_on", "验收日期"),
    _amount("actual_tax", "实际年税收"),
    Field("actual_plot_ratio", "实际容积率", "amount", min_value=Decimal(0), max_value=Decimal(100)),
    Field("actual_energy", "实际单位能耗", "amount", "吨标煤/万元", min_value=Decimal(0), max_value=Decimal(1000)),
    _text("acceptance_note", "验收说明", 500),
    # ----- 履约监管: actuals, developed land, actions (crm/compliance) -----
    Field("actual_year", "年度", "count", min_value=2000, max_value=2100),
    _amount("actual_output", "实际年产值"),
    Field("actual_jobs", "实际就业", "count", PERSON, min_value=0, max_value=MAX_COUNT, format="整数"),
    _date("developed_on", "变更日期"),
    Field("developed_area", "已开发面积", "area", MU, min_value=Decimal(0), max_value=MAX_AREA),
    _text("developed_note", "说明", 300),
    _choice("action_kind", "处置方式", 10),
    _date("action_date", "处置日期"),
    _date("action_deadline", "整改期限"),
    _text("action_document", "文件/文号", 200),
    _text("action_note", "处置说明", 500),
]

FIELDS: dict[str, Field] = {f.key: f for f in _ALL}
assert len(FIELDS) == len(_ALL), "field keys are unique"

# The model attributes each entity's fields are stored in, where the attribute's name is not the key.
ATTRIBUTES: dict[str, dict[str, str]] = {
    "enterprise": {"name": "enterprise_name", "zone_id": "enterprise_zone"},
    "contact": {"name": "contact_name", "title": "contact_title", "phone": "contact_phone", "email": "contact_email",
                "notes": "contact_notes", "zone_id": "zone"},
    "project": {"name": "project_name", "zone_id": "zone", "owner_id": "owner", "segment_ids": "segments"},
    "stage_change": {"stage": "to_stage", "note": "stage_change_note", "on_date": "milestone_date"},
    "visit": {"project_id": "visit_project", "zone_id": "zone", "officer_id": "officer"},
    "funds": {"month": "funds_month", "amount": "funds_amount", "note": "funds_note"},
    "increase": {"signed_date": "increase_signed_date", "amount": "increase_amount", "note": "increase_note"},
    "zone_settings": {"signed_count": "signed_count_target", "signed_amount": "signed_amount_target"},
}


def field(key: str) -> Field:
    return FIELDS[key]


def label(key: str) -> str:
    return FIELDS[key].label


def header(key: str) -> str:
    """The label with its unit in full-width brackets: ``header("contract_investment")`` → 协议投资额（万元）."""
    return FIELDS[key].header


def of(entity: str, attribute: str) -> Field:
    """The field an entity's attribute (or form field) holds: ``of("project", "name")`` → 项目名称."""
    return FIELDS[ATTRIBUTES.get(entity, {}).get(attribute, attribute)]
