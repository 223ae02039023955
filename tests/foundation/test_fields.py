"""The one table of fields: forms, the import and its problem report say the same labels and keep the
same bounds; the table's lengths are the columns'; the exports' headers all have an entry."""
from __future__ import annotations

from decimal import Decimal

import pytest
from wtforms.validators import Length, NumberRange

from crm import fields
from crm.imports import service as import_service
from crm.imports.reading import FIELD_KEYS, field_spec, match_header, parse_amount, ValueProblem
from crm.ledger.forms import ZoneSettingsForm
from crm.ledger.models import CapitalIncrease, FundsInPlace
from crm.library.forms import ContactForm, EnterpriseForm
from crm.library.models import Contact, Enterprise
from crm.pipeline.forms import CommitmentForm, FundsForm, IncreaseForm, ProjectForm, StageForm
from crm.pipeline.models import Project
from crm.visits.forms import VisitForm
from crm.visits.models import Visit

FORMS = [(EnterpriseForm, "enterprise"), (ContactForm, "contact"), (ProjectForm, "project"),
         (StageForm, "stage_change"), (CommitmentForm, "project"), (FundsForm, "funds"), (IncreaseForm, "increase"),
         (VisitForm, "visit"), (ZoneSettingsForm, "zone_settings")]
# Form fields that are not data of the entity (a confirmation tick-box) or are a zone's rate settings.
NOT_FIELDS = {"version", "submission_token", "confirm_duplicates", "year", "register_rate", "start_rate",
              "production_rate", "funds_rate", "stale_lead_days"}


def _unbound(form_class):
    return {name: value for name in dir(form_class)
            if hasattr(value := getattr(form_class, name), "field_class") and name not in NOT_FIELDS}


@pytest.mark.no_db
@pytest.mark.parametrize("form_class, entity", FORMS, ids=[f.__name__ for f, _ in FORMS])
def test_every_form_label_and_bound_is_the_field_tables(form_class, entity):
    for name, unbound in _unbound(form_class).items():
        spec = fields.of(entity, name)
        assert unbound.args[0] == spec.header, f"{form_class.__name__}.{name}"
        for validator in unbound.kwargs.get("validators", []):
            if isinstance(validator, Length) and name != "uscc":  # a pasted code is cleaned, then checked
                assert validator.max == spec.max_length, f"{form_class.__name__}.{name}"
            if isinstance(validator, NumberRange):
                assert validator.max == spec.max_value and validator.message == spec.bound_message()


@pytest.mark.no_db
def test_lengths_in_the_table_are_the_columns_lengths():
    models = {"enterprise": Enterprise, "contact": Contact, "project": Project, "visit": Visit,
              "funds": FundsInPlace, "increase": CapitalIncrease}
    checked = 0
    for entity, model in models.items():
        by_key = {key: attribute for attribute, key in fields.ATTRIBUTES.get(entity, {}).items()}
        for column in model.__table__.c:
            key = fields.ATTRIBUTES.get(entity, {}).get(column.key, column.key)
            spec = fields.FIELDS.get(key)
            if spec is None or not getattr(column.type, "length", None) or by_key.get(key, column.key) != column.key:
                continue
            assert spec.max_length == column.type.length, f"{entity}.{column.key}"
            checked += 1
    assert checked >= 25


@pytest.mark.no_db
def test_the_import_labels_are_the_tables_and_each_is_an_accepted_header():
    for kind, targets in FIELD_KEYS.items():
        for target in targets:
            spec = field_spec(kind, target)
            assert import_service.FIELD_LABELS[kind][target] == spec.header
            assert match_header(spec.header, kind) == (target, True)


@pytest.mark.no_db
def test_header_puts_the_unit_in_full_width_brackets():
    assert fields.header("contract_investment") == "协议投资额（万元）"
    assert fields.header("land_area") == "用地（亩）"
    assert fields.header("jobs") == "新增就业（人）"
    assert fields.header("investment_per_mu") == "亩均投资强度（万元/亩）"
    assert fields.header("project_name") == "项目名称"
    assert not any("(" in f.header or ")" in f.header for f in fields.FIELDS.values())


@pytest.mark.no_db
def test_amounts_are_bounded_at_5000_yi_yuan_and_the_message_names_it():
    assert fields.MAX_AMOUNT == Decimal(5 * 10**7)
    assert parse_amount("1731亿元") == Decimal("17310000.00")  # 浙江石化 炼化一体化项目, approved 2017
    for cell in ("50000亿元", "5000.01亿", 50_000_001):
        with pytest.raises(ValueProblem) as refusal:
            parse_amount(cell)
        assert "超过 5000 亿元" in refusal.value.message
    spec = fields.field("contract_investment")
    assert spec.bound_message() == "协议投资额不能为负数，且不能超过 5000 亿元"
    assert fields.field("annual_revenue").max_value == Decimal(10) ** 9  # 国家电网's revenue fits: 10 万亿元


def test_a_form_refuses_an_amount_past_the_bound_beside_its_field(app):
    with app.test_request_context(method="POST", data={"contract_investment": "50000001", "version": "1"}):
        form = CommitmentForm(meta={"csrf": False})
        assert not form.validate()
        assert form.contract_investment.errors == ["协议投资额不能为负数，且不能超过 5000 亿元"]
    with app.test_request_context(method="POST", data={"contract_investment": "50000000"}):
        form = CommitmentForm(meta={"csrf": False})
        form.validate()
        assert not form.contract_investment.errors


def test_the_problem_report_names_fields_as_the_table_does(world):
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.imports.conftest import plan_for

    rows = [["项目名称", "企业名称", "阶段", "协议投资", "签约时间", "用地面积"],
            ["报告项目", "报告科技有限公司", "签约", "50000亿元", "2024-03-05", "-3"]]
    plan = plan_for(world.chief_a, "projects", rows, world.zone_a)
    report = load_workbook(BytesIO(import_service.problems_workbook(plan)), read_only=True).active
    found = [row for row in report.iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1], r[4]) for r in found] == [
        (2, "协议投资", fields.header("contract_investment")), (2, "用地面积", fields.header("land_area"))]


# The exports' headers today, each with the field that will give it (the exports switch to fields.header).
EXPORT_HEADERS = {
    "园区": "zone", "项目名称": "project_name", "企业名称": "enterprise_name", "统一社会信用代码": "uscc",
    "阶段": "stage", "计划投资(万元)": "planned_investment", "用地(亩)": "land_area", "来源": "source",
    "负责人": "owner", "进入阶段日期": "stage_changed_at", "签约日期": "signed_date",
    "协议投资额(万元)": "contract_investment", "亩均投资强度(万元/亩)": "investment_per_mu",
    "达产年产值(万元)": "annual_output_value", "达产年税收(万元)": "annual_tax", "新增就业(人)": "jobs",
    "累计到资(万元)": "funds_total", "到资率": "funds_rate", "约定注册": "due_registered",
    "实际注册": "registered_date", "约定开工": "due_started", "实际开工": "started_date", "约定投产": "due_production",
    "实际投产": "production_date", "约定达产": "due_full_production", "实际达产": "full_production_date",
    "预警": "warnings", "月份": "funds_month", "本月到资(万元)": "funds_this_month", "备注": "funds_note",
    "日期": "visit_date", "方式": "kind", "我方带队领导": "our_leader", "我方人员": "our_people",
    "对方人员": "their_people", "洽谈内容": "summary", "成果": "outcome", "下一步": "next_step",
    "期限": "next_step_due", "记录人": "officer", "签约项目（个）": "signed_projects",
    "协议投资额（万元）": "contract_investment", "到资（万元）": "funds", "注册率": "register_rate",
    "开工率": "start_rate", "投产率": "production_rate", "营业收入（万元）": "annual_revenue",
    "本地产值合计（万元，按企业年营业收入）": "local_output",
}


@pytest.mark.no_db
def test_every_export_header_has_its_field_with_the_same_unit():
    import re
    from pathlib import Path

    from config import BASE_DIR

    for export in ("crm/ledger/export.py", "crm/chains/export.py"):
        text = Path(BASE_DIR, export).read_text(encoding="utf-8")
        for header, key in EXPORT_HEADERS.items():
            if f'"{header}"' not in text:
                continue
            unit = re.search(r"[(（]([^，)）]+)", header)
            assert fields.field(key).unit == (unit.group(1) if unit else None), header
