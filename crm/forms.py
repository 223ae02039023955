"""Form plumbing shared by every blueprint: Chinese messages, service errors shown beside fields."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField
from wtforms.validators import NumberRange, Optional

from crm.errors import ServiceError


class BaseForm(FlaskForm):
    class Meta:
        locales = ("zh",)


class DeleteForm(BaseForm):
    """A bare POST with its CSRF token: delete, restore, undo, mark done."""


class VersionedForm(BaseForm):
    version = HiddenField()
    # One-time token of a create form (see crm/idempotency.py); unused when editing.
    submission_token = HiddenField()


def money_field(label: str, **kwargs) -> DecimalField:
    return DecimalField(
        label,
        places=2,
        validators=[Optional(), NumberRange(min=0, max=10**11, message="金额不能为负数且不能超过 1000 亿")],
        **kwargs,
    )


def count_field(label: str) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=10**7, message="请输入非负整数")])


def show_service_error(form: FlaskForm, error: ServiceError) -> None:
    """Put the service's message beside the field it names, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and error.field != "version":
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def form_data(form: FlaskForm, *names: str) -> dict:
    """The named fields' data; fields removed for this user's role (``del form.x``) are left out."""
    return {name: form[name].data for name in names if name in form}
