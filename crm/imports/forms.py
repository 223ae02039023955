from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

from crm.forms import BaseForm
from crm.imports.service import column_name, field_choices, KIND_LABELS, KINDS


class UploadForm(BaseForm):
    file = FileField("台账文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要导入的文件")])
    kind = SelectField("导入内容", choices=[(kind, KIND_LABELS[kind]) for kind in KINDS])
    zone_id = SelectField("导入到园区", coerce=int)
    local = BooleanField("企业按本园区在园企业导入（表中有“在园”列时以该列为准）")


class ConfirmForm(BaseForm):
    """A POST with only its CSRF token: commit, discard, revert."""


def mapping_form(table, kind: str, mapping: dict[int, str]):
    """One select per column of the file: which field it is, or （不导入）."""

    class MappingForm(BaseForm):
        pass

    choices = [("", "（不导入）")] + field_choices(kind)
    for index in range(len(table.headers)):
        setattr(MappingForm, f"col_{index}",
                SelectField(column_name(table, index), choices=choices, default=mapping.get(index, "")))
    form = MappingForm()
    form.columns = [(index, form[f"col_{index}"]) for index in range(len(table.headers))]
    return form


def mapping_from(form) -> dict[int, str]:
    return {index: field.data for index, field in form.columns if field.data}
