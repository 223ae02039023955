from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.forms import BaseForm, VersionedForm, count_field, money_field, month_text
from crm.pipeline.models import PRIORITIES, PROJECT_SOURCES, STAGES
from crm.pipeline.service import UNKNOWN_SEGMENT


class SegmentsField(SelectMultipleField):
    """Chain segments by id, grouped by chain; the service refuses ids that name no segment."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:  # not a number: no segment has that id either
            raise ValueError(UNKNOWN_SEGMENT) from error


class ProjectForm(VersionedForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称"), Length(max=200, message="最多 200 字")])
    zone_id = SelectField("园区", coerce=int)
    owner_id = SelectField("负责人", coerce=int)
    planned_investment = money_field("计划投资额（万元）")
    land_area = money_field("用地（亩）")
    source = SelectField("项目来源", choices=[(s, s) for s in PROJECT_SOURCES])
    priority = SelectField("优先级", choices=[(p, p) for p in PRIORITIES], default="中")
    confidential = BooleanField("保密项目")
    description = TextAreaField("项目情况", validators=[Length(max=5000, message="最多 5000 字")])
    segment_ids = SegmentsField("产业链环节", coerce=int, validate_choice=False, render_kw={"size": 10},
                                description="可多选（按住 Ctrl 或 ⌘ 点选）；新建时不选则为企业的主环节")

    FIELDS = ("name", "planned_investment", "land_area", "source", "priority", "confidential", "description",
              "segment_ids")


class StageForm(VersionedForm):
    stage = SelectField("目标阶段", choices=[(s, s) for s in STAGES])
    note = TextAreaField("说明/原因", validators=[Length(max=500, message="最多 500 字")])
    on_date = DateField("节点日期", validators=[Optional()], description="签约、注册、开工、投产、达产的日期")
    contract_investment = money_field("协议投资额（万元）")


class CommitmentForm(VersionedForm):
    contract_investment = money_field("协议投资额（万元）")
    land_area = money_field("用地（亩）")
    annual_output_value = money_field("达产年产值（万元）")
    annual_tax = money_field("达产年税收（万元）")
    jobs = count_field("新增就业（人）")
    due_registered = DateField("约定注册日期", validators=[Optional()])
    due_started = DateField("约定开工日期", validators=[Optional()])
    due_production = DateField("约定投产日期", validators=[Optional()])
    due_full_production = DateField("约定达产日期", validators=[Optional()])

    FIELDS = ("contract_investment", "land_area", "annual_output_value", "annual_tax", "jobs",
              "due_registered", "due_started", "due_production", "due_full_production")


class FundsForm(BaseForm):
    month = StringField("月份（YYYY-MM）", validators=[DataRequired("请填写月份"), month_text])
    amount = money_field("到资金额（万元）")
    note = StringField("备注", validators=[Length(max=300, message="最多 300 字")])


class IncreaseForm(BaseForm):
    signed_date = DateField("增资签约日期", validators=[DataRequired("请填写正确的日期")])
    amount = money_field("增资金额（万元）")
    note = StringField("备注", validators=[Length(max=300, message="最多 300 字")])
