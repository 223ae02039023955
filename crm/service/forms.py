from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.forms import BaseForm, VersionedForm
from crm.service.rules import CATEGORIES, RATINGS

CATEGORY_CHOICES = [("", "（请选择）")] + [(c, c) for c in CATEGORIES]
RATING_CHOICES = [("", "（请选择）")] + [(r, r) for r in RATINGS]


class RequestForm(VersionedForm):
    zone_id = SelectField("园区", coerce=int)
    category = SelectField("诉求类别", choices=CATEGORY_CHOICES, validators=[DataRequired("请选择诉求类别")])
    received_on = DateField("受理日期", validators=[DataRequired("请填写正确的日期（年-月-日）")])
    description = TextAreaField("诉求内容", validators=[DataRequired("请填写诉求内容"),
                                                       Length(max=2000, message="诉求内容不能超过 2000 字")])
    department = StringField("承办部门", validators=[Length(max=100, message="承办部门不能超过 100 字")])
    deadline = DateField("办理期限（留空按类别时限计算）", validators=[Optional()])

    FIELDS = ("category", "received_on", "description", "department", "deadline")


class AdvanceForm(BaseForm):
    reply = TextAreaField("答复意见", validators=[Length(max=2000, message="答复意见不能超过 2000 字")])


class RateForm(BaseForm):
    rating = SelectField("企业满意度", choices=RATING_CHOICES, validators=[DataRequired("请选择满意度")])


class AssignForm(BaseForm):
    officer_id = SelectField("包保干部", coerce=int)
    leader_user_id = SelectField("责任领导（系统用户）", coerce=int, validators=[Optional()])
    leader_name = StringField("责任领导姓名", validators=[Length(max=50, message="姓名不能超过 50 字")])
    leader_title = StringField("责任领导职务", validators=[Length(max=50, message="职务不能超过 50 字")])


class OfficerRatingForm(BaseForm):
    period = StringField("测评期（如 2026H2）", validators=[DataRequired("请填写测评期")])
    officer_id = SelectField("包保干部", coerce=int)
    rating = SelectField("企业评价", choices=RATING_CHOICES, validators=[DataRequired("请选择满意度")])


class SettingsForm(BaseForm):
    pass


for _i, _c in enumerate(CATEGORIES):
    setattr(SettingsForm, f"days_{_i}", IntegerField(f"{_c}（工作日）", validators=[
        DataRequired("请填写工作日数"), NumberRange(1, 250, "请填 1 到 250 个工作日")]))
