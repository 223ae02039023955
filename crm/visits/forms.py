from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from crm.fields import header
from crm.forms import VersionedForm, length
from crm.visits.models import VISIT_KINDS


class VisitForm(VersionedForm):
    project_id = SelectField(header("visit_project"), coerce=int, validators=[Optional()])
    zone_id = SelectField(header("zone"), coerce=int)
    kind = SelectField(header("kind"), choices=[(k, k) for k in VISIT_KINDS])
    visit_date = DateField(header("visit_date"), validators=[DataRequired("请填写正确的日期（年-月-日）")])
    our_leader = StringField(header("our_leader"), validators=[length("our_leader")])
    our_people = StringField(header("our_people"), validators=[length("our_people")])
    their_people = StringField(header("their_people"), validators=[length("their_people")])
    summary = TextAreaField(header("summary"), validators=[DataRequired("请填写洽谈内容"), length("summary")])
    outcome = TextAreaField(header("outcome"), validators=[length("outcome")])
    next_step = StringField(header("next_step"), validators=[length("next_step")])
    next_step_due = DateField(header("next_step_due"), validators=[Optional()])

    FIELDS = ("kind", "visit_date", "our_people", "our_leader", "their_people", "summary", "outcome",
              "next_step", "next_step_due")
