from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from chains.definitions import MAX_NAME_EN_LEN, MAX_NAME_LEN, TIERS
from crm.forms import BaseForm


class MappingForm(BaseForm):
    """The enterprise's segments: rows of checkboxes (segment_ids, leaders) and a radio (primary).

    The rows are drawn by the template from the current mappings and the suggestions; the
    service checks the choice (exactly one primary, 链主 only for a local firm).
    """

    segment_ids = SelectMultipleField("关联环节", coerce=int, validate_choice=False)
    primary = SelectMultipleField("主环节", coerce=int, validate_choice=False)
    leaders = SelectMultipleField("链主", coerce=int, validate_choice=False)


class SegmentForm(BaseForm):
    name = StringField("环节名称", validators=[
        DataRequired("请填写环节名称"), Length(max=MAX_NAME_LEN, message=f"最多 {MAX_NAME_LEN} 个字")])
    name_en = StringField("英文名称", validators=[
        Length(max=MAX_NAME_EN_LEN, message=f"最多 {MAX_NAME_EN_LEN} 个字符")])
    # The service checks the tier, so a forged value gets the same Chinese message beside the field.
    tier = SelectField("层级", choices=[(t, t) for t in TIERS], validate_choice=False)
    value_add = IntegerField("价值层级（1–5）", validators=[
        InputRequired("请填写价值层级"), NumberRange(min=1, max=5, message="价值层级必须是 1–5 的整数")])
    products = TextAreaField("主要产品", description="用顿号、逗号或换行分隔", validators=[
        Length(max=2000, message="最多 2000 字")])
    keywords = TextAreaField("关键词", description="用于给企业推荐环节；用顿号、逗号或换行分隔，每个至少 2 个字", validators=[
        Length(max=2000, message="最多 2000 字")])

    FIELDS = ("name", "name_en", "tier", "value_add", "products", "keywords")


class LinkForm(BaseForm):
    from_code = StringField("供应方环节代码", validators=[
        DataRequired("请填写供应方环节代码"), Length(max=32, message="环节代码最多 32 个字符")])
    to_code = StringField("采购方环节代码", validators=[
        DataRequired("请填写采购方环节代码"), Length(max=32, message="环节代码最多 32 个字符")])


class BuildUploadForm(BaseForm):
    file = FileField("产业链模板（.xlsx）", validators=[FileRequired("请选择填好的产业链模板")])


class BuildSaveForm(BaseForm):
    """The preview's save: the chain as checked, sent back and checked again before it is written."""

    payload = HiddenField(validators=[DataRequired("预览内容丢失，请重新上传"),
                                      Length(max=500_000, message="预览内容太大，请重新上传")])


class LeadingChainsForm(BaseForm):
    # The service checks the codes, so a forged one gets a Chinese message rather than a 500.
    chains = SelectMultipleField("主导产业链", validate_choice=False)
