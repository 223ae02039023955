"""The API's shapes (marshmallow): what the OpenAPI document says and what every answer is dumped through.

Amounts are 万元 as decimal strings ("1250.00"); dates ISO 8601; lists carry page, per_page, total, pages.
"""
from __future__ import annotations

from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from crm.pipeline.models import PRIORITIES, PROJECT_SOURCES, STAGES
from crm.visits.models import VISIT_KINDS

class UtcDateTime(fields.DateTime):
    """ISO 8601 with its offset; a naive value (SQLite gives UTC back naive) is UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)

class MoneyString(fields.Decimal):
    """An amount in 万元 as a decimal string, "1250.00" (documented as a string: crm.api.views registers it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(places=2, as_string=True, **kwargs)


Money = MoneyString
MAX_AMOUNT = 50_000_000  # 5000 亿元 in 万元 (crm/fields.py)


class Query(Schema):
    """Query strings: an unknown parameter is refused (422), not silently dropped (a typo'd filter would
    otherwise answer every record)."""

    class Meta:
        unknown = RAISE


class PageQuery(Query):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class PageMeta(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class Problem(Schema):
    """RFC 9457 problem details; ``detail`` in Chinese, ``field`` the input it is about."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    field = fields.String(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())
    current_version = fields.Integer()


class ZoneRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class EnterpriseQuery(PageQuery):
    q = fields.String(validate=validate.Length(max=100))
    sort = fields.String(load_default="name", validate=validate.OneOf(["name", "-name", "updated", "-updated"]))


class Contact(Schema):
    id = fields.Integer(required=True)
    zone_id = fields.Integer(allow_none=True)
    name = fields.String(required=True)
    title = fields.String()
    phone = fields.String()
    email = fields.String()


class Enterprise(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    uscc = fields.String(allow_none=True)
    region_province = fields.String()
    region_city = fields.String()
    industry_code = fields.String()
    industry_name = fields.String()
    main_products = fields.String()
    registered_capital = Money()
    annual_revenue = Money()
    employees = fields.Integer(allow_none=True)
    above_scale = fields.Boolean()
    zone_id = fields.Integer(allow_none=True, metadata={"description": "在园企业所在园区；外地目标企业为空"})
    version = fields.Integer(required=True)
    updated_at = UtcDateTime(allow_none=True)


class EnterpriseDetail(Enterprise):
    contacts = fields.List(fields.Nested(Contact), metadata={"description": "本人所属园区的联系人（园区私有）"})


class EnterprisePage(PageMeta):
    items = fields.List(fields.Nested(Enterprise), required=True)


class ProjectQuery(PageQuery):
    q = fields.String(validate=validate.Length(max=100))
    stage = fields.String(validate=validate.OneOf(STAGES))
    zone_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    source = fields.String(validate=validate.OneOf(PROJECT_SOURCES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    sort = fields.String(load_default="-updated", validate=validate.OneOf(
        ["name", "-name", "stage", "-stage", "investment", "-investment", "updated", "-updated"]))


class StageEvent(Schema):
    at = UtcDateTime(required=True)
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String(required=True)
    note = fields.String()


class Funds(Schema):
    id = fields.Integer(required=True)
    month = fields.Date(required=True)
    amount = Money(required=True)
    note = fields.String()


class Increase(Schema):
    id = fields.Integer(required=True)
    signed_date = fields.Date(required=True)
    amount = Money(required=True)
    note = fields.String()


class Project(Schema):
    id = fields.Integer(required=True)
    zone = fields.Nested(ZoneRef, required=True)
    enterprise_id = fields.Integer(allow_none=True, metadata={"description": "保密项目对无权查看者为空"})
    name = fields.String(required=True)
    stage = fields.String(required=True)
    confidential = fields.Boolean()
    planned_investment = Money()
    contract_investment = Money()
    signed_date = fields.Date(allow_none=True)
    source = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    updated_at = UtcDateTime(allow_none=True)


class ProjectDetail(Project):
    description = fields.String()
    land_area = MoneyString(metadata={"description": "亩"})
    stage_history = fields.List(fields.Nested(StageEvent), required=True)
    funds = fields.List(fields.Nested(Funds), required=True)
    capital_increases = fields.List(fields.Nested(Increase), required=True)


class ProjectPage(PageMeta):
    items = fields.List(fields.Nested(Project), required=True)


def _amount_in_bounds(value) -> None:
    if value is not None and not 0 <= value <= MAX_AMOUNT:
        raise ValidationError("金额须在 0–5000 亿元（5×10⁷ 万元）之间，请检查单位")


_amount = dict(places=2, allow_none=True, allow_nan=False, validate=_amount_in_bounds,
               metadata={"description": "万元", "minimum": 0, "maximum": MAX_AMOUNT})


class ProjectCreate(Schema):
    enterprise_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    zone_id = fields.Integer(validate=validate.Range(1, 2**31 - 1), metadata={"description": "仅市投促中心选择园区"})
    planned_investment = fields.Decimal(**_amount)
    source = fields.String(validate=validate.OneOf(PROJECT_SOURCES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    description = fields.String(validate=validate.Length(max=5000))


class ProjectChange(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    planned_investment = fields.Decimal(**_amount)
    source = fields.String(validate=validate.OneOf(PROJECT_SOURCES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    description = fields.String(validate=validate.Length(max=5000))


class VisitQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(VISIT_KINDS))
    project_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    enterprise_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


class Visit(Schema):
    id = fields.Integer(required=True)
    zone_id = fields.Integer(required=True)
    enterprise_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    project_name = fields.String(allow_none=True)
    kind = fields.String(required=True)
    visit_date = fields.Date(required=True)
    summary = fields.String()
    outcome = fields.String()
    next_step = fields.String()
    next_step_due = fields.Date(allow_none=True)
    version = fields.Integer(required=True)


class VisitPage(PageMeta):
    items = fields.List(fields.Nested(Visit), required=True)


class VisitCreate(Schema):
    enterprise_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    project_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    zone_id = fields.Integer(validate=validate.Range(1, 2**31 - 1), metadata={"description": "仅市投促中心选择园区"})
    kind = fields.String(required=True, validate=validate.OneOf(VISIT_KINDS))
    visit_date = fields.Date(required=True)
    our_people = fields.String(validate=validate.Length(max=300))
    their_people = fields.String(validate=validate.Length(max=300))
    summary = fields.String(validate=validate.Length(max=5000))
    next_step = fields.String(validate=validate.Length(max=500))
    next_step_due = fields.Date()


class MonthQuery(Query):
    month = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}-[0-9]{2}$"),
                          metadata={"description": "YYYY-MM", "example": "2026-03"})


class MonthFigures(Schema):
    zone = fields.Nested(ZoneRef, required=True)
    month = fields.String(required=True)
    signed = fields.Integer(required=True)
    contract_investment = Money(required=True)
    increases = Money(required=True)
    signed_amount = Money(required=True)
    funds = Money(required=True)
    funds_to_date = Money(required=True)
    committed = Money(required=True)
    rates = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), required=True)
    year_to_date = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    targets = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class Segment(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    tier = fields.String(required=True)


class Link(Schema):
    from_code = fields.String(required=True, data_key="from")
    to_code = fields.String(required=True, data_key="to")


class Chain(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.String()


class ChainDetail(Chain):
    segments = fields.List(fields.Nested(Segment), required=True)
    links = fields.List(fields.Nested(Link), required=True)


class ChainList(Schema):
    items = fields.List(fields.Nested(Chain), required=True)


class GapQuery(Query):
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))


class GapReport(Schema):
    """The records of the gap report and of ``flask chains gaps --json`` (``crm.chains.gaps.report_dict``)."""

    chain = fields.Dict(required=True)
    zone = fields.String(required=True)
    zone_ids = fields.List(fields.Integer(), allow_none=True)
    generated_at = fields.String(required=True)
    mappings_updated_at = fields.String(allow_none=True)
    kpis = fields.Dict(required=True)
    gaps = fields.List(fields.Dict(), required=True)
    priorities = fields.Dict()
    choke_points = fields.Dict()
    pipeline = fields.List(fields.Dict())
    targets = fields.Dict()
