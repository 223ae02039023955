"""标准地 through the services and pages: parcels are their zone's and managed by its chiefs, a signed
project takes free parcels of its zone, the signing check warns, 达产验收 records 通过 / 未通过 with the
gaps, and everything is audited, soft-deleted and restorable."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.admin import trash
from crm.audit.models import AuditEntry
from crm.errors import ServiceError
from crm.extensions import db
from crm.land import service as land
from crm.ledger.service import add_funds
from crm.permissions import NotAllowed
from crm.pipeline.service import change_stage
from crm.records import soft_delete
from tests import factories as f

TODAY = date.today()
SIGNED = TODAY - timedelta(days=400)


def parcel(world, code="JZ-01", zone=None, **data):
    values = {"code": code, "area": Decimal(100), "use": "工业", "investment_intensity": Decimal(300),
              "tax_per_mu": Decimal(20), "plot_ratio": Decimal("1.2"), "energy_per_output": Decimal("0.5")}
    values.update(data)
    return land.create_parcel(world.admin, (zone or world.zone_a).id, values)


def signed(world, investment=25000, tax=1500, officer=None):
    officer = officer or world.officer_a
    project = f.make_project(officer, world.enterprise, name=f"标准地项目{investment}")
    change_stage(officer, project, "签约", contract_investment=investment, on_date=SIGNED)
    project.annual_tax = Decimal(tax)
    db.session.flush()
    return project


def test_parcels_are_the_zone_chiefs_and_codes_unique_in_a_zone(world):
    with pytest.raises(NotAllowed):
        land.create_parcel(world.officer_a, world.zone_a.id, {"code": "X", "area": 1, "use": "工业"})
    with pytest.raises(NotAllowed):
        land.create_parcel(world.chief_b, world.zone_a.id, {"code": "X", "area": 1, "use": "工业"})
    made = land.create_parcel(world.chief_a, world.zone_a.id, {"code": "X", "area": 1, "use": "工业"})
    with pytest.raises(ServiceError, match="已有编号"):
        land.create_parcel(world.chief_a, world.zone_a.id, {"code": "X", "area": 2, "use": "工业"})
    land.create_parcel(world.chief_b, world.zone_b.id, {"code": "X", "area": 2, "use": "工业"})  # another zone
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "Parcel",
                                                      AuditEntry.entity_id == str(made.id))) is not None


def test_a_project_takes_free_parcels_of_its_zone_and_the_signing_check_warns(world):
    project = signed(world)
    a = parcel(world, "A")
    with pytest.raises(ServiceError, match="本园区"):
        land.take_parcel(world.officer_a, project, parcel(world, "B1", zone=world.zone_b))
    land.take_parcel(world.officer_a, project, a)
    with pytest.raises(ServiceError, match="已关联"):
        land.take_parcel(world.officer_a, project, a)
    other = signed(world, investment=40000)
    with pytest.raises(ServiceError, match="其他项目"):
        land.take_parcel(world.officer_a, other, a)
    warnings = land.signing_warnings(project, [a])
    # 25000 万元 on 100 亩 = 250 万元/亩 < 300; 1500 万元 tax = 15 万元/亩 < 20.
    assert [w.message for w in warnings] == [
        "固定资产投资强度：承诺 250.00 万元/亩，低于标准 300.00 万元/亩（差 50.00 万元/亩）",
        "亩均税收：承诺 15.00 万元/亩，低于标准 20.00 万元/亩（差 5.00 万元/亩）"]
    assert a not in land.free_parcels(other)


def test_acceptance_at_full_production_compares_the_ledgers_funds(world):
    project = signed(world, investment=30000)
    land.take_parcel(world.officer_a, project, parcel(world))
    with pytest.raises(ServiceError, match="达产后"):
        land.record_acceptance(world.chief_a, project, TODAY, actual_tax=Decimal(2500))
    change_stage(world.officer_a, project, "达产", on_date=TODAY)
    add_funds(world.officer_a, project, SIGNED.replace(day=1) + timedelta(days=40), Decimal(29000))
    with pytest.raises(NotAllowed):
        land.record_acceptance(world.officer_a, project, TODAY, actual_tax=Decimal(2500))
    failed = land.record_acceptance(world.chief_a, project, TODAY, actual_tax=Decimal(2500),
                                    actual_plot_ratio=Decimal("1.3"), actual_energy=Decimal("0.4"))
    assert failed.result == "未通过" and failed.actual_investment == Decimal(29000)
    assert failed.gaps == "固定资产投资强度：实际 290.00 万元/亩，低于标准 300.00 万元/亩（差 10.00 万元/亩）"
    add_funds(world.officer_a, project, TODAY.replace(day=1), Decimal(1000))
    passed = land.record_acceptance(world.chief_a, project, TODAY, actual_tax=Decimal(2500),
                                    actual_plot_ratio=Decimal("1.3"), actual_energy=Decimal("0.4"))
    assert passed.result == "通过" and passed.gaps == ""
    assert land.acceptances_of([project.id])[project.id].id == passed.id


def test_no_acceptance_against_parcels_that_set_no_indicator(world):
    project = signed(world)
    land.take_parcel(world.officer_a, project, land.create_parcel(world.admin, world.zone_a.id,
                                                                  {"code": "无指标", "area": 10, "use": "仓储"}))
    change_stage(world.officer_a, project, "达产", on_date=TODAY)
    with pytest.raises(ServiceError, match="未设控制指标"):
        land.record_acceptance(world.chief_a, project, TODAY, actual_tax=Decimal(1))


def test_deleted_parcels_and_links_restore_from_the_trash(world):
    project = signed(world)
    a = parcel(world)
    link = land.take_parcel(world.officer_a, project, a)
    soft_delete(world.officer_a, link)
    assert land.project_parcels([project.id])[project.id] == []
    other = signed(world, investment=40000)
    land.take_parcel(world.officer_a, other, a)
    with pytest.raises(ServiceError, match="已由其他项目使用"):
        trash.restore(world.admin, "project_parcel", link)
    soft_delete(world.admin, a)
    assert a not in db.session.scalars(land.parcel_list_query(world.chief_a)).all()
    trash.restore(world.admin, "parcel", a)
    assert a in db.session.scalars(land.parcel_list_query(world.chief_a)).all()


# ----- pages -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role, may_manage", [("officer_a", False), ("chief_a", True), ("viewer_a", False),
                                              ("admin", True)])
def test_the_parcel_pages_per_role(role, may_manage, world, client, login_as):
    a = parcel(world, "页面地块", location="江州大道以东")
    b = parcel(world, "乙园地块", zone=world.zone_b)
    db.session.commit()
    login_as(getattr(world, role))
    body = client.get("/land/").get_data(as_text=True)
    assert "页面地块" in body and ("乙园地块" in body) == (role == "admin")
    assert ("登记地块" in body) == may_manage
    assert client.get(f"/land/{a.id}").status_code == 200
    assert client.get(f"/land/{b.id}").status_code == (200 if role == "admin" else 404)
    response = client.post("/land/new", data={"code": "新地块", "area": "-1", "use": "工业", "zone_id": world.zone_a.id})
    if may_manage:
        assert response.status_code == 200 and "地块面积不能为负数" in response.get_data(as_text=True)
    else:
        assert response.status_code == 403


def test_taking_a_parcel_on_the_page_flashes_the_warning_and_the_acceptance_shows(world, client, login_as):
    project = signed(world)
    a = parcel(world, "页面供地")
    db.session.commit()
    login_as(world.officer_a)
    client.post(f"/land/projects/{project.id}/parcels", data={"parcel_id": a.id})
    body = client.get(f"/land/projects/{project.id}").get_data(as_text=True)
    assert "页面供地" in body and "固定资产投资强度：承诺 250.00 万元/亩，低于标准 300.00 万元/亩" in body
    assert "记录验收结论" not in body  # the chiefs'
    assert f"/compliance/projects/{project.id}" in body  # the two pages link each other
    change_stage(world.officer_a, project, "达产", on_date=TODAY)
    db.session.commit()
    login_as(world.chief_a)
    response = client.post(f"/land/projects/{project.id}/acceptance",
                           data={"accepted_on": TODAY.isoformat(), "actual_tax": "2500", "actual_plot_ratio": "1.5",
                                 "actual_energy": "0.3"})
    assert response.status_code == 302
    body = client.get(f"/land/projects/{project.id}").get_data(as_text=True)
    assert "未通过" in body and "固定资产投资强度：实际 0.00 万元/亩" in body
