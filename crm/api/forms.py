from __future__ import annotations

from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.forms import BaseForm
from crm.api.tokens import MAX_DAYS


class PersonalTokenForm(BaseForm):
    name = StringField("令牌名称", validators=[DataRequired("请填写令牌名称"), Length(max=100)])
    scope = SelectField("权限", choices=[("read", "只读"), ("write", "读写")], default="read")
    days = IntegerField("有效期（天）", default=90, validators=[
        Optional(), NumberRange(1, MAX_DAYS, f"有效期须在 1–{MAX_DAYS} 天之间")])


class PlatformTokenForm(BaseForm):
    name = StringField("系统名称", validators=[DataRequired("请填写系统名称"), Length(max=100)])
    zone_ids = SelectMultipleField("可读取的园区", coerce=int, validators=[DataRequired("请至少选择一个园区")])
    days = IntegerField("有效期（天）", default=365, validators=[
        Optional(), NumberRange(1, MAX_DAYS, f"有效期须在 1–{MAX_DAYS} 天之间")])
