from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from crm.forms import BaseForm


class LoginForm(BaseForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})


class TwoFactorForm(BaseForm):
    code = StringField("验证码", validators=[DataRequired("请输入验证码"), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"})


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=128)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("新密码", validators=[DataRequired("请输入新密码")],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("再次输入新密码", validators=[
        DataRequired("请再次输入新密码"), EqualTo("new_password", "两次输入的新密码不一致"),
    ], render_kw={"autocomplete": "new-password"})


class ConfirmTotpForm(BaseForm):
    code = StringField("应用显示的 6 位验证码", validators=[DataRequired("请输入验证码"), Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})


class DisableTotpForm(BaseForm):
    password = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField("验证码或恢复码", validators=[DataRequired("请输入验证码"), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false"})


class StartTotpForm(BaseForm):
    """Only the CSRF token: starting (or restarting) enrolment is a POST."""
