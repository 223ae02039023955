from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, DataRequired, Length, Optional, Regexp

from crm.inputs import MAX_ID
from crm.forms import BaseForm
from crm.accounts.models import ROLES


class UserForm(BaseForm):
    username = StringField("用户名", validators=[
        DataRequired("请填写用户名"), Length(max=64, message="最多 64 字符"),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="只能包含字母、数字、下划线、点和横线"),
    ])
    display_name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=64)])
    role = SelectField("角色", choices=list(ROLES.items()))
    zone_ids = SelectMultipleField("园区", coerce=int, validators=[Optional()])
    password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码"),
                                                   Length(min=8, max=64, message="密码长度 8–64 位")])


class UserEditForm(BaseForm):
    display_name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=64)])
    role = SelectField("角色", choices=list(ROLES.items()))
    zone_ids = SelectMultipleField("园区", coerce=int, validators=[Optional()])
    active = BooleanField("启用")
    must_change_password = BooleanField("下次登录时必须修改密码")
    password = PasswordField("重置密码（留空不变）", validators=[Optional(), Length(min=8, max=64, message="密码长度 8–64 位")])


class DecisionForm(BaseForm):
    winner = IntegerField("保留项目", validators=[DataRequired("请选择保留该企业的园区"), NumberRange(min=1, max=MAX_ID, message="编号超出范围")])
    reason = TextAreaField("裁定理由", validators=[DataRequired("请填写裁定理由"), Length(max=400, message="最多 400 字")])


class ReopenForm(BaseForm):
    reopen_reason = TextAreaField("重启理由", validators=[DataRequired("请填写重启理由"), Length(max=400, message="最多 400 字")])


class ConfirmForm(BaseForm):
    """A button that changes something: only the CSRF token."""


class ZoneTwoFactorForm(BaseForm):
    require_2fa_privileged = BooleanField("园区负责人和管理员必须使用两步验证")
