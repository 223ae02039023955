from wtforms import DecimalField, IntegerField, StringField
from wtforms.validators import NumberRange, Optional

from crm.fields import header
from crm.forms import BaseForm, count_field, finite_number, length, money_field


def percent_field(label: str) -> DecimalField:
    return DecimalField(label, places=1, validators=[Optional(), finite_number, NumberRange(min=0, max=100, message="请输入 0–100 之间的百分比")])


class ZoneSettingsForm(BaseForm):
    year = IntegerField("年度", validators=[NumberRange(min=2000, max=2100, message="年份不正确")])
    signed_count = count_field("signed_count_target")
    signed_amount = money_field("signed_amount_target")
    register_rate = percent_field("注册率目标（%）")
    start_rate = percent_field("开工率目标（%）")
    production_rate = percent_field("投产率目标（%）")
    funds_rate = percent_field("到资率目标（%）")
    min_investment_per_mu = money_field("min_investment_per_mu")
    stale_lead_days = IntegerField("线索多少天未走访算久未跟进", validators=[Optional(), NumberRange(min=1, max=365, message="请输入 1–365 天")])
    # The ledger's sign-off block (printed at the foot of each sheet; 填报日期 is the day of export).
    signoff_unit = StringField(header("signoff_unit"), validators=[length("signoff_unit")], description="不填则为园区名称")
    signoff_preparer = StringField(header("signoff_preparer"), validators=[length("signoff_preparer")])
    signoff_reviewer = StringField(header("signoff_reviewer"), validators=[length("signoff_reviewer")])

    RATES = ("register_rate", "start_rate", "production_rate", "funds_rate")
