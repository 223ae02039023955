from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, DataRequired, Length, Optional

from crm.inputs import MAX_ID
from crm.forms import BaseForm, VersionedForm, count_field, money_field
from crm.library.models import ENTERPRISE_TAGS


class EnterpriseForm(VersionedForm):
    name = StringField("企业名称", validators=[DataRequired("请填写企业名称"), Length(max=200, message="最多 200 字")])
    uscc = StringField("统一社会信用代码", validators=[Optional(), Length(max=30, message="应为 18 位")])
    aliases = StringField("曾用名/简称（逗号分隔）", validators=[Length(max=500, message="最多 500 字")])
    region_province = StringField("省", validators=[Length(max=20)])
    region_city = StringField("市", validators=[Length(max=30)])
    region_county = StringField("区县", validators=[Length(max=30)])
    address = StringField("地址", validators=[Length(max=300)])
    industry_code = StringField("行业代码（GB/T 4754）", validators=[Length(max=10)])
    industry_name = StringField("行业", validators=[Length(max=100)])
    main_products = StringField("主营产品", validators=[Length(max=500)])
    registered_capital = money_field("注册资本（万元）")
    annual_revenue = money_field("年营业收入（万元）")
    employees = count_field("员工人数")
    above_scale = BooleanField("规模以上企业")
    tags = SelectMultipleField("标签", choices=[(t, t) for t in ENTERPRISE_TAGS], validators=[Optional()])
    website = StringField("网站", validators=[Length(max=200)])
    notes = TextAreaField("备注", validators=[Length(max=5000)])
    zone_id = SelectField("所在园区（在园企业）", coerce=int)
    confirm_duplicates = BooleanField("我已核对疑似重复企业，仍要保存")

    FIELDS = (
        "name", "uscc", "aliases", "region_province", "region_city", "region_county", "address",
        "industry_code", "industry_name", "main_products", "registered_capital", "annual_revenue",
        "employees", "above_scale", "tags", "website", "notes",
    )


class ContactForm(BaseForm):
    name = StringField("姓名", validators=[DataRequired("请填写联系人姓名"), Length(max=50, message="最多 50 字")])
    title = StringField("职务", validators=[Length(max=50, message="最多 50 字")])
    phone = StringField("电话", validators=[Length(max=30, message="最多 30 字符")])
    email = StringField("邮箱", validators=[Length(max=100, message="最多 100 字符")])

    FIELDS = ("name", "title", "phone", "email")


class MergeForm(BaseForm):
    survivor_id = IntegerField("保留企业 ID", validators=[DataRequired("请填写保留的企业 ID"), NumberRange(min=1, max=MAX_ID, message="编号超出范围")])
