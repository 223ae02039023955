from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import DecimalField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from crm.efficiency import method as rules
from crm.efficiency.columns import MAX_FIGURE
from crm.efficiency.service import MAX_YEAR, MIN_YEAR
from crm.forms import BaseForm, finite_number

YEAR = [DataRequired(message="请填写年度"), NumberRange(min=MIN_YEAR, max=MAX_YEAR, message=f"年度应在 {MIN_YEAR} 至 {MAX_YEAR} 之间")]


def _figure(key):
    label = f"{rules.FIGURE_LABELS[key]}（{rules.FIGURE_UNITS[key]}）"
    if key == "employees":
        return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=int(MAX_FIGURE[key]),
                                                                       message="人数应在 0 至 1000 万之间")])
    return DecimalField(label, places=3, validators=[
        Optional(), finite_number,
        NumberRange(min=0, max=MAX_FIGURE[key], message=f"不能为负数，也不能超过 {MAX_FIGURE[key]:,.0f} {rules.FIGURE_UNITS[key]}")])


class FiguresForm(BaseForm):
    year = IntegerField("年度", validators=YEAR)
    land_mu = _figure("land_mu")
    tax = _figure("tax")
    revenue = _figure("revenue")
    value_added = _figure("value_added")
    energy_tce = _figure("energy_tce")
    electricity_kwh = _figure("electricity_kwh")
    emissions_t = _figure("emissions_t")
    water_t = _figure("water_t")
    rd = _figure("rd")
    employees = _figure("employees")


class EvaluateForm(BaseForm):
    year = IntegerField("年度", validators=YEAR)


class MethodForm(BaseForm):
    method = TextAreaField("评价方法（JSON）", validators=[DataRequired(message="请填写评价方法")])


class ImportForm(BaseForm):
    year = IntegerField("年度", validators=YEAR)
    file = FileField("Excel 文件（.xlsx 或 .csv）")


class ConfirmForm(BaseForm):
    """The commit's POST: its CSRF token."""
