from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from crm.compliance.models import ACTION_KINDS
from crm.fields import header
from crm.forms import BaseForm, count_field, length, money_field


class ActualForm(BaseForm):
    year = IntegerField(header("actual_year"), validators=[DataRequired("请填写年度"),
                                                           NumberRange(min=2000, max=2100, message="年份不正确")])
    output_value = money_field("actual_output")
    tax = money_field("actual_tax")
    jobs = count_field("actual_jobs")


class DevelopedForm(BaseForm):
    changed_on = DateField(header("developed_on"), validators=[DataRequired("请填写正确的日期")])
    area = money_field("developed_area")
    note = StringField(header("developed_note"), validators=[length("developed_note")])


class ActionForm(BaseForm):
    kind = SelectField(header("action_kind"), choices=[(k, k) for k in ACTION_KINDS])
    action_date = DateField(header("action_date"), validators=[DataRequired("请填写正确的日期")])
    deadline = DateField(header("action_deadline"), validators=[Optional()])
    document = StringField(header("action_document"), validators=[length("action_document")])
    note = StringField(header("action_note"), validators=[length("action_note")])
