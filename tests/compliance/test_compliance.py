"""履约监管 through the services and pages: the list's facts are the ledger's and the project's, read in
bulk; the idle-land flags appear as the rules say; actions are the chiefs'; the workbook matches the list."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from crm.compliance import service as compliance
from crm.compliance.rules import RULE_NOT_STARTED, RULE_STALLED
from crm.errors import ServiceError
from crm.extensions import db
from crm.land import service as land
from crm.ledger.service import add_funds, add_capital_increase, update_commitments
from crm.permissions import NotAllowed
from crm.pipeline.service import change_stage
from crm.records import soft_delete
from crm.admin import trash
from tests import factories as f

SIGNED = date(2024, 1, 1)


def signed_project(world, name, *, due_started=date(2024, 3, 1), investment=10000, land_area=90, officer=None):
    officer = officer or world.officer_a
    project = f.make_project(officer, world.enterprise, name=name)
    change_stage(officer, project, "签约", contract_investment=investment, on_date=SIGNED)
    update_commitments(officer, project, {"due_started": due_started, "land_area": Decimal(land_area),
                                          "annual_output_value": Decimal(20000), "annual_tax": Decimal(1000),
                                          "jobs": 100})
    return project


def rows_by_name(user, zone_id, as_of):
    return {r.project.name: r for r in compliance.compliance_rows(user, zone_id, as_of)}


def test_flags_follow_the_facts_recorded_through_the_services(world):
    idle = signed_project(world, "未动工项目")
    slow = signed_project(world, "开发缓慢项目")
    change_stage(world.officer_a, slow, "注册", on_date=date(2024, 2, 1))
    change_stage(world.officer_a, slow, "开工", on_date=date(2024, 4, 1))
    add_funds(world.officer_a, slow, date(2024, 5, 1), Decimal(1000))
    compliance.record_developed(world.officer_a, slow, date(2024, 6, 1), Decimal(20))
    db.session.commit()

    rows = rows_by_name(world.chief_a, world.zone_a.id, date(2025, 2, 28))
    assert rows["未动工项目"].flags == [] and rows["开发缓慢项目"].flags == []
    rows = rows_by_name(world.chief_a, world.zone_a.id, date(2025, 3, 1))
    assert [f.rule for f in rows["未动工项目"].flags] == [RULE_NOT_STARTED]
    assert rows["开发缓慢项目"].flags == []  # its last progress (the developed area) was on 2024-06-01
    rows = rows_by_name(world.chief_a, world.zone_a.id, date(2025, 6, 1))
    flag = rows["开发缓慢项目"].flags[0]
    assert flag.rule == RULE_STALLED
    assert "已开发 20.00 亩" in flag.message and "到资 1000.00 万元" in flag.message and "2024-06-01" in flag.message
    # The developed area grows to a third: the land rule no longer holds; the funds rule still does,
    # but the change is progress, so no flag for a year.
    compliance.record_developed(world.officer_a, slow, date(2025, 5, 1), Decimal(30))
    assert rows_by_name(world.chief_a, world.zone_a.id, date(2025, 6, 1))["开发缓慢项目"].flags == []


def test_investment_is_the_ledgers_funds_against_contract_plus_increases(world):
    project = signed_project(world, "到资项目")
    add_funds(world.officer_a, project, date(2024, 2, 1), Decimal(3000))
    add_capital_increase(world.officer_a, project, date(2024, 3, 1), Decimal(2000))
    compliance.record_actual(world.officer_a, project, 2024, Decimal(15000), Decimal(800), 90)
    row = rows_by_name(world.officer_a, world.zone_a.id, date(2025, 1, 1))["到资项目"]
    gaps = {g.label: g for g in row.gaps}
    assert row.committed == Decimal(12000) and row.invested == Decimal(3000)
    assert gaps["投资额"].gap == Decimal(-9000)
    assert gaps["年产值"].gap == Decimal(-5000) and gaps["年税收"].gap == Decimal(-200) and gaps["就业人数"].gap == -10
    # A year recorded again is updated, not doubled.
    compliance.record_actual(world.officer_a, project, 2024, Decimal(21000), Decimal(800), 90)
    row = rows_by_name(world.officer_a, world.zone_a.id, date(2025, 1, 1))["到资项目"]
    assert {g.label: g for g in row.gaps}["年产值"].gap == Decimal(1000)


def test_the_parcels_area_is_the_land_when_the_project_takes_parcels(world):
    project = signed_project(world, "标准地项目", land_area=90)
    parcel = land.create_parcel(world.chief_a, world.zone_a.id, {"code": "JZ-01", "area": Decimal(60), "use": "工业"})
    land.take_parcel(world.officer_a, project, parcel)
    assert rows_by_name(world.officer_a, world.zone_a.id, date(2025, 1, 1))["标准地项目"].land_area == Decimal(60)


def test_the_list_reads_in_a_fixed_number_of_queries(world, count_queries):
    def add(n):
        for i in range(n):
            p = signed_project(world, f"批量项目{n}-{i}")
            add_funds(world.officer_a, p, date(2024, 2, 1), Decimal(10))
            compliance.record_developed(world.officer_a, p, date(2024, 3, 1), Decimal(1))
            compliance.record_actual(world.officer_a, p, 2024, Decimal(1), Decimal(1), 1)
            compliance.record_action(world.chief_a, p, "约谈", date(2024, 6, 1), document="约谈记录")
        db.session.commit()
        db.session.expire_all()

    add(2)
    world.chief_a.zone_ids  # the signed-in user, loaded once per request anyway
    with count_queries() as few:
        compliance.compliance_rows(world.chief_a, world.zone_a.id, date(2025, 6, 1))
    add(8)
    world.chief_a.zone_ids
    with count_queries() as many:
        rows = compliance.compliance_rows(world.chief_a, world.zone_a.id, date(2025, 6, 1))
    assert len(rows) == 10
    assert len(many) == len(few) <= 16  # one per kind of fact, however many projects


def test_actions_are_the_chiefs_with_dates_and_files(world):
    project = signed_project(world, "处置项目")
    with pytest.raises(NotAllowed):
        compliance.record_action(world.officer_a, project, "约谈", date(2025, 1, 1))
    with pytest.raises(ServiceError, match="整改期限"):
        compliance.record_action(world.chief_a, project, "限期整改", date(2025, 1, 1))
    action = compliance.record_action(world.chief_a, project, "限期整改", date(2025, 1, 1), date(2025, 7, 1),
                                      document="甲园〔2025〕3号")
    assert action.actor_id == world.chief_a.id
    with pytest.raises(NotAllowed):
        compliance.record_action(world.chief_b, project, "约谈", date(2025, 1, 1))
    soft_delete(world.chief_a, action)
    assert rows_by_name(world.chief_a, world.zone_a.id, date(2025, 2, 1))["处置项目"].actions == []
    trash.restore(world.admin, "action", action)
    assert [a.kind for a in rows_by_name(world.chief_a, world.zone_a.id, date(2025, 2, 1))["处置项目"].actions] \
        == ["限期整改"]


def test_another_zones_projects_are_not_listed(world):
    signed_project(world, "甲园签约")
    signed_project(world, "乙园签约", officer=world.officer_b)
    assert set(rows_by_name(world.officer_a, None, date(2025, 1, 1))) == {"甲园签约"}
    assert {"甲园签约", "乙园签约"} <= set(rows_by_name(world.admin, None, date(2025, 1, 1)))


# ----- pages -------------------------------------------------------------------------------------
@pytest.fixture
def flagged(world):
    project = signed_project(world, "闲置地块项目", due_started=date(2024, 2, 1))
    db.session.commit()
    return project


@pytest.mark.parametrize("role", ["officer_a", "chief_a", "viewer_a", "admin"])
def test_the_list_page_shows_the_flag_to_every_reader_of_the_zone(role, world, flagged, client, login_as):
    login_as(getattr(world, role))
    body = client.get(f"/compliance/?zone_id={world.zone_a.id}").get_data(as_text=True)
    assert "闲置地块项目" in body and RULE_NOT_STARTED in body
    page = client.get(f"/compliance/projects/{flagged.id}").get_data(as_text=True)
    assert "约定开工日期 2024-02-01" in page
    # The action form is the chiefs' and the admin's.
    assert ("登记处置" in page) == (role in ("chief_a", "admin"))
    assert ("登记年度实绩" in page) == (role in ("officer_a", "chief_a", "admin"))


def test_a_confidential_project_is_masked_in_the_list(world, flagged, client, login_as):
    from crm.pipeline.service import update_project

    update_project(world.officer_a, flagged, {"confidential": True})
    add_funds(world.officer_a, flagged, date(2024, 2, 1), Decimal(1234))
    db.session.commit()
    login_as(world.viewer_a)
    body = client.get(f"/compliance/?zone_id={world.zone_a.id}").get_data(as_text=True)
    assert "闲置地块项目" not in body and "保密项目" in body and "1,234" not in body
    assert RULE_NOT_STARTED in body  # the flag's rule still counts for every reader
    assert client.get(f"/compliance/projects/{flagged.id}").status_code == 404
    data = client.get(f"/compliance/export.xlsx?zone_id={world.zone_a.id}").data
    cells = [c for row in load_workbook(BytesIO(data)).active.iter_rows(values_only=True) for c in row]
    assert "闲置地块项目" not in cells and "保密项目" in cells and 1234 not in cells


def test_the_workbook_has_the_lists_rows_and_flags(world, flagged, client, login_as):
    login_as(world.chief_a)
    client.post(f"/compliance/projects/{flagged.id}/actions",
                data={"kind": "约谈", "action_date": "2025-01-05", "document": "约谈纪要"})
    response = client.get(f"/compliance/export.xlsx?zone_id={world.zone_a.id}")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("园区", "项目名称", "阶段")
    row = next(r for r in rows[2:] if r[1] == "闲置地块项目")
    assert RULE_NOT_STARTED in row[-2] and "2025-01-05 约谈" in row[-1] and "约谈纪要" in row[-1]
    assert row[13] == 10000


def test_an_officer_records_actuals_and_developed_area_and_errors_show_beside_the_field(world, flagged, client,
                                                                                         login_as):
    login_as(world.officer_a)
    response = client.post(f"/compliance/projects/{flagged.id}/developed", data={"changed_on": "2099-01-01", "area": "5"})
    assert response.status_code == 200 and "日期须在签约日期之后、今天之前" in response.get_data(as_text=True)
    response = client.post(f"/compliance/projects/{flagged.id}/developed", data={"changed_on": "2024-05-01", "area": "5"})
    assert response.status_code == 302
    response = client.post(f"/compliance/projects/{flagged.id}/actions", data={"kind": "约谈", "action_date": "2025-01-01"})
    assert response.status_code == 403
