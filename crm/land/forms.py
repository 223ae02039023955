from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from crm.fields import header
from crm.forms import BaseForm, VersionedForm, length, money_field
from crm.land.models import LAND_USES
from crm.inputs import parse_id


class ParcelForm(VersionedForm):
    zone_id = SelectField(header("zone"), coerce=int)
    code = StringField(header("parcel_code"), validators=[DataRequired("请填写地块编号"), length("parcel_code")])
    location = StringField(header("parcel_location"), validators=[length("parcel_location")])
    area = money_field("parcel_area")
    use = SelectField(header("land_use"), choices=[(u, u) for u in LAND_USES])
    investment_intensity = money_field("investment_intensity")
    plot_ratio = money_field("plot_ratio")
    tax_per_mu = money_field("tax_per_mu")
    energy_per_output = money_field("energy_per_output")
    environmental_terms = TextAreaField(header("environmental_terms"), validators=[length("environmental_terms")])

    FIELDS = ("code", "location", "area", "use", "investment_intensity", "plot_ratio", "tax_per_mu",
              "energy_per_output", "environmental_terms")


def _parcel_id(value):
    return parse_id(value) if value not in (None, "") else None


class TakeParcelForm(BaseForm):
    parcel_id = SelectField("供地地块", coerce=_parcel_id, validate_choice=False)


class AcceptanceForm(BaseForm):
    accepted_on = DateField(header("accepted_on"), validators=[DataRequired("请填写正确的日期")])
    actual_tax = money_field("actual_tax")
    actual_plot_ratio = money_field("actual_plot_ratio")
    actual_energy = money_field("actual_energy")
    note = StringField(header("acceptance_note"), validators=[length("acceptance_note")])
