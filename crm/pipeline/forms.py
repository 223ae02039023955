from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from crm.fields import header
from crm.forms import BaseForm, VersionedForm, count_field, length, money_field, month_text
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
    name = StringField(header("project_name"), validators=[DataRequired("请填写项目名称"), length("project_name")])
    zone_id = SelectField(header("zone"), coerce=int)
    owner_id = SelectField(header("owner"), coerce=int)
    planned_investment = money_field("planned_investment")
    land_area = money_field("land_area")
    source = SelectField(header("source"), choices=[(s, s) for s in PROJECT_SOURCES])
    priority = SelectField(header("priority"), choices=[(p, p) for p in PRIORITIES], default="中")
    confidential = BooleanField(header("confidential"))
    description = TextAreaField(header("description"), validators=[length("description")])
    segment_ids = SegmentsField(header("segments"), coerce=int, validate_choice=False, render_kw={"size": 10},
                                description="可多选（按住 Ctrl 或 ⌘ 点选）；新建时不选则为企业的主环节")

    FIELDS = ("name", "planned_investment", "land_area", "source", "priority", "confidential", "description",
              "segment_ids")


class StageForm(VersionedForm):
    stage = SelectField(header("to_stage"), choices=[(s, s) for s in STAGES])
    note = TextAreaField(header("stage_change_note"), validators=[length("stage_change_note")])
    on_date = DateField(header("milestone_date"), validators=[Optional()], description="签约、注册、开工、投产、达产的日期")
    contract_investment = money_field("contract_investment")


class CommitmentForm(VersionedForm):
    contract_investment = money_field("contract_investment")
    land_area = money_field("land_area")
    annual_output_value = money_field("annual_output_value")
    annual_tax = money_field("annual_tax")
    jobs = count_field("jobs")
    due_registered = DateField(header("due_registered"), validators=[Optional()])
    due_started = DateField(header("due_started"), validators=[Optional()])
    due_production = DateField(header("due_production"), validators=[Optional()])
    due_full_production = DateField(header("due_full_production"), validators=[Optional()])

    FIELDS = ("contract_investment", "land_area", "annual_output_value", "annual_tax", "jobs",
              "due_registered", "due_started", "due_production", "due_full_production")


class FundsForm(BaseForm):
    month = StringField(header("funds_month"), validators=[DataRequired("请填写月份"), month_text],
                        description="YYYY-MM，如 2026-03")
    amount = money_field("funds_amount")
    note = StringField(header("funds_note"), validators=[length("funds_note")])


class IncreaseForm(BaseForm):
    signed_date = DateField(header("increase_signed_date"), validators=[DataRequired("请填写正确的日期")])
    amount = money_field("increase_amount")
    note = StringField(header("increase_note"), validators=[length("increase_note")])
