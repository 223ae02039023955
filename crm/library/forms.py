from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, DataRequired, Length, Optional, ValidationError

from crm.inputs import MAX_ID, phone_problem
from crm.fields import header
from crm.forms import BaseForm, VersionedForm, count_field, length, money_field
from crm.library.models import ENTERPRISE_TAGS
from crm.library.names import clean_uscc


class EnterpriseForm(VersionedForm):
    name = StringField(header("enterprise_name"), validators=[DataRequired("请填写企业名称"), length("enterprise_name")])
    # A code pasted with spaces or dashes is cleaned by the service; it then checks the 18 characters.
    uscc = StringField(header("uscc"), validators=[Optional(), Length(max=30, message="应为 18 位")])
    aliases = StringField(header("aliases"), validators=[length("aliases")], description="多个用逗号分隔")
    region_province = StringField(header("region_province"), validators=[length("region_province")])
    region_city = StringField(header("region_city"), validators=[length("region_city")])
    region_county = StringField(header("region_county"), validators=[length("region_county")])
    address = StringField(header("address"), validators=[length("address")])
    industry_code = StringField(header("industry_code"), validators=[length("industry_code")],
                                description="国民经济行业分类（GB/T 4754）代码")
    industry_name = StringField(header("industry_name"), validators=[length("industry_name")])
    main_products = StringField(header("main_products"), validators=[length("main_products")])
    registered_capital = money_field("registered_capital")
    annual_revenue = money_field("annual_revenue")
    employees = count_field("employees")
    above_scale = BooleanField(header("above_scale"))
    tags = SelectMultipleField(header("tags"), choices=[(t, t) for t in ENTERPRISE_TAGS], validators=[Optional()])
    website = StringField(header("website"), validators=[length("website")])
    zone_id = SelectField(header("enterprise_zone"), coerce=int)
    confirm_duplicates = BooleanField("我已核对疑似重复企业，仍要保存")

    def validate_uscc(self, field):
        """Checked with the other fields, so every error shows in one round (not after the amounts pass)."""
        try:
            clean_uscc(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    FIELDS = (
        "name", "uscc", "aliases", "region_province", "region_city", "region_county", "address",
        "industry_code", "industry_name", "main_products", "registered_capital", "annual_revenue",
        "employees", "above_scale", "tags", "website",
    )


class ContactForm(BaseForm):
    name = StringField(header("contact_name"), validators=[DataRequired("请填写联系人姓名"), length("contact_name")])
    title = StringField(header("contact_title"), validators=[length("contact_title")])
    phone = StringField(header("contact_phone"), validators=[length("contact_phone")])

    def validate_phone(self, field):
        if problem := phone_problem(field.data):
            raise ValidationError(problem)
    email = StringField(header("contact_email"), validators=[length("contact_email")])
    # Shown only to a writer of several zones: whose contact it is (one zone's own; 0 = the admin's).
    zone_id = SelectField(header("zone"), coerce=int, choices=[], validate_choice=False)

    FIELDS = ("name", "title", "phone", "email")


class NoteForm(BaseForm):
    text = TextAreaField(header("notes"), validators=[DataRequired("请填写备注内容"), length("notes")])
    zone_id = SelectField(header("zone"), coerce=int, choices=[], validate_choice=False)


class MergeForm(BaseForm):
    survivor_id = IntegerField("保留企业 ID", validators=[DataRequired("请填写保留的企业 ID"), NumberRange(min=1, max=MAX_ID, message="编号超出范围")])
