from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.forms import VersionedForm
from crm.visits.models import VISIT_KINDS


class VisitForm(VersionedForm):
    project_id = SelectField("关联项目", coerce=int, validators=[Optional()])
    zone_id = SelectField("园区", coerce=int)
    kind = SelectField("方式", choices=[(k, k) for k in VISIT_KINDS])
    visit_date = DateField("日期", validators=[DataRequired("请填写正确的日期（年-月-日）")])
    our_leader = StringField("我方最高领导", validators=[Length(max=50, message="最多 50 字")])
    our_people = StringField("我方人员", validators=[Length(max=300, message="最多 300 字")])
    their_people = StringField("对方人员", validators=[Length(max=300, message="最多 300 字")])
    summary = TextAreaField("洽谈内容", validators=[DataRequired("请填写洽谈内容"), Length(max=5000, message="最多 5000 字")])
    outcome = TextAreaField("成果/结论", validators=[Length(max=5000, message="最多 5000 字")])
    next_step = StringField("下一步工作", validators=[Length(max=500, message="最多 500 字")])
    next_step_due = DateField("下一步期限", validators=[Optional()])

    FIELDS = ("kind", "visit_date", "our_people", "our_leader", "their_people", "summary", "outcome",
              "next_step", "next_step_due")
