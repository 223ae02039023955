"""Form plumbing shared by every blueprint: Chinese messages, service errors shown beside fields."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField
from wtforms.utils import unset_value
from wtforms.validators import Length, NumberRange, Optional, StopValidation

from crm import fields
from crm.busy import BUSY_MESSAGE, database_busy
from crm.errors import ServiceError
from crm.inputs import month_bounds


class BaseForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    def validate(self, extra_validators=None) -> bool:
        """As WTForms; but while the database is busy (crm/busy.py) no form is valid: the page shows it
        again, what was typed kept, with "系统繁忙，请稍后重试" at its top."""
        valid = super().validate(extra_validators)
        if database_busy():
            if BUSY_MESSAGE not in self.form_errors:
                self.form_errors.append(BUSY_MESSAGE)
            return False
        return valid


class DeleteForm(BaseForm):
    """A bare POST with its CSRF token: delete, restore, undo, mark done."""


class VersionField(HiddenField):
    """The record version a form was rendered with. On a POST only what was posted counts: a form built
    with ``obj=record`` would otherwise fill a missing version from the record and skip the stale check;
    a missing one is "", which ``check_version`` refuses."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        if formdata is not None:
            data = ""
        super().process(formdata, data, extra_filters)


class VersionedForm(BaseForm):
    version = VersionField()
    # One-time token of a create form (see crm/idempotency.py); unused when editing.
    submission_token = HiddenField()


def finite_number(form, field) -> None:
    """Refuse NaN, sNaN and infinities (Decimal accepts them; comparing them is an error, not a no)."""
    value = field.data
    if isinstance(value, Decimal) and not value.is_finite():
        field.data = None
        raise StopValidation("请输入数字")


def month_text(form, field) -> None:
    """YYYY-MM, a real month of a year a ledger holds (crm.inputs.month_bounds decides)."""
    try:
        month_bounds(field.data or "")
    except ValueError as error:
        raise StopValidation(str(error)) from None


def money_field(key: str, **kwargs) -> DecimalField:
    """An amount (万元) or an area (亩) from the field table: its header as label, its bounds."""
    spec = fields.field(key)
    return DecimalField(
        spec.header,
        places=2,
        validators=[Optional(), finite_number,
                    NumberRange(min=spec.min_value or 0, max=spec.max_value or fields.MAX_AMOUNT,
                                message=spec.bound_message())],
        **kwargs,
    )


def count_field(key: str) -> IntegerField:
    spec = fields.field(key)
    top = spec.max_value or fields.MAX_COUNT
    return IntegerField(spec.header, validators=[Optional(), NumberRange(min=0, max=top, message=spec.bound_message())])


def length(key: str) -> Length:
    """The table's length limit of a text field, with its Chinese message."""
    spec = fields.field(key)
    return Length(max=spec.max_length, message=spec.length_message())


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
