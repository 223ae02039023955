from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from crm.forms import BaseForm
from crm.models.user import ROLES


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
    password = PasswordField("重置密码（留空不变）", validators=[Optional(), Length(min=8, max=64, message="密码长度 8–64 位")])
