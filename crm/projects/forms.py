from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.forms import BaseForm, VersionedForm, money_field
from crm.models.project import PRIORITIES, PROJECT_SOURCES, STAGES


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

    FIELDS = ("name", "planned_investment", "land_area", "source", "priority", "confidential", "description")


class StageForm(VersionedForm):
    stage = SelectField("目标阶段", choices=[(s, s) for s in STAGES])
    note = TextAreaField("说明/原因", validators=[Length(max=500, message="最多 500 字")])
    on_date = DateField("节点日期", validators=[Optional()], description="签约、注册、开工、投产、达产的日期")
    contract_investment = money_field("协议投资额（万元）")


class DeleteForm(BaseForm):
    pass
