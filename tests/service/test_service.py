"""企业诉求 and 包保 through the services: zone rules, deadlines, the flow, the figures, the export."""
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.errors import ServiceError
from crm.extensions import db
from crm.permissions import NotAllowed
from crm.service import service
from crm.service.models import EnterpriseRequest
from tests import factories as f


@pytest.fixture
def firm(world):
    made = f.make_enterprise(world.admin, name="甲园区在园服务企业有限公司", zone_id=world.zone_a.id)
    db.session.commit()
    return made


def _request(world, firm, **data):
    body = {"category": "水电气", "received_on": date(2026, 11, 23), "description": "扩产需增容 2000kVA",
            "department": "供电公司", "deadline": None} | data
    return service.create_request(world.officer_a, firm, body)


def test_deadline_from_zone_setting_in_working_days(world, firm):
    assert _request(world, firm).deadline == date(2026, 11, 30)  # 5 working days by default
    service.set_days(world.chief_a, world.zone_a.id, {"水电气": 2})
    assert _request(world, firm).deadline == date(2026, 11, 25)
    with pytest.raises(NotAllowed):
        service.set_days(world.officer_a, world.zone_a.id, {"水电气": 2})


def test_bad_input_names_its_field(world, firm):
    with pytest.raises(ServiceError) as e:
        _request(world, firm, category="")
    assert e.value.field == "category"
    with pytest.raises(ServiceError) as e:
        _request(world, firm, deadline=date(2026, 11, 20))
    assert e.value.field == "deadline"


def test_flow_close_with_reply_then_rate_audited(world, firm):
    req = _request(world, firm)
    with pytest.raises(ServiceError):
        service.rate_request(world.officer_a, req, "满意")
    service.advance_request(world.officer_a, req)
    assert req.status == "办理中"
    with pytest.raises(ServiceError) as e:
        service.advance_request(world.officer_a, req, "")
    assert e.value.field == "reply"
    service.advance_request(world.officer_a, req, "已协调增容", today=date(2026, 11, 26))
    service.rate_request(world.officer_a, req, "满意")
    db.session.commit()
    assert (req.status, req.closed_on, req.rating) == ("办结", date(2026, 11, 26), "满意")
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "EnterpriseRequest")).first()


def test_other_zone_may_not_change(world, firm):
    req = _request(world, firm)
    with pytest.raises(NotAllowed):
        service.advance_request(world.officer_b, req)
    assert service.request_query(world.officer_b, {}).where(EnterpriseRequest.id == req.id) is not None
    assert db.session.scalars(service.request_query(world.officer_b, {})).all() == []


def test_figures_overdue_and_my_work(world, firm):
    old = _request(world, firm, received_on=date(2026, 1, 5))
    done = _request(world, firm, received_on=date(2026, 1, 5))
    service.advance_request(world.officer_a, done)
    service.advance_request(world.officer_a, done, "办好了")
    service.rate_request(world.officer_a, done, "不满意")
    rows = service.figures(world.chief_a, today=date(2026, 2, 1))
    assert rows == [{"zone": "甲园区", "category": "水电气", "total": 2, "open": 1, "overdue": 1,
                     "satisfaction": 0.0}]
    service.assign(world.chief_a, firm, {"officer_id": world.officer_a.id, "leader_name": "王主任"})
    with pytest.raises(NotAllowed):
        service.assign(world.officer_a, firm, {"officer_id": world.officer_a.id})
    mine = service.my_service(world.officer_a, today=date(2026, 2, 1))
    assert [a.enterprise_id for a in mine["assignments"]] == [firm.id]
    assert mine["overdue"] == [old]
    assert service.my_service(world.officer_b)["requests"] == []


def test_officer_rating_and_ledger_export(world, firm):
    service.rate_officer(world.chief_a, firm, {"period": "2026h2", "officer_id": world.officer_a.id, "rating": "满意"})
    with pytest.raises(ServiceError) as e:
        service.rate_officer(world.chief_a, firm, {"period": "2026", "officer_id": world.officer_a.id, "rating": "满意"})
    assert e.value.field == "period"
    results = service.officer_results(world.chief_a)
    assert results[0]["period"] == "2026H2" and results[0]["satisfaction"] == 1.0
    _request(world, firm, received_on=date(2026, 11, 23))
    _request(world, firm, received_on=date(2026, 10, 23))
    out = BytesIO()
    assert service.export_ledger(world.chief_a, "2026-11", out) == 1
    sheet = load_workbook(BytesIO(out.getvalue())).active
    assert sheet.cell(2, 1).value == "受理日期" and sheet.cell(3, 3).value == firm.name
