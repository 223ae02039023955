"""The hostile values the review found making server errors, each as a plain regression test."""

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.inputs import download_name, month_bounds, parse_id
from crm.ledger.models import FundsInPlace
from crm.pipeline.models import Project
from tests.ledger.conftest import sign


@pytest.mark.no_db
@pytest.mark.parametrize("text", ["²", "①", "١٢", str(2**31), str(2**63), "9" * 400, "-1", "0", "1.0", " "])
def test_only_ascii_ids_within_bigint_are_ids(text):
    with pytest.raises(ValueError):
        parse_id(text)
    assert parse_id(str(2**31 - 1)) == 2**31 - 1


@pytest.mark.no_db
@pytest.mark.parametrize("month", ["9999-12", "0000-01", "2026-13", "2026-00", "1899-12", "２０２６-０１"])
def test_months_are_bounded_to_real_years(month):
    with pytest.raises(ValueError):
        month_bounds(month)


@pytest.mark.no_db
def test_download_names_drop_control_characters():
    assert download_name("导入问题清单_园区\r\n台账\x00.xlsx") == "导入问题清单_园区台账.xlsx"
    assert download_name("x" * 300 + ".xlsx").endswith(".xlsx") and len(download_name("x" * 300 + ".xlsx")) == 120


def _project_count():
    return db.session.scalar(select(func.count()).select_from(Project))


@pytest.mark.parametrize("amount", ["sNaN", "NaN", "-Infinity", "inf", "1" * 400, "1e400"])
def test_hostile_money_is_refused_beside_its_field(world, login_as, amount):
    before = _project_count()
    response = login_as(world.officer_a).post(
        f"/projects/new?enterprise_id={world.enterprise.id}",
        data={"name": "金额异常", "source": "其他", "priority": "中", "planned_investment": amount,
              "zone_id": world.zone_a.id, "owner_id": world.officer_a.id})
    assert response.status_code == 200 and "invalid-feedback" in response.get_data(as_text=True)
    assert _project_count() == before


@pytest.mark.parametrize("month", ["9999-12", "0000-01"])
def test_a_funds_month_outside_real_years_is_refused(world, login_as, month):
    project = sign(world.officer_a, world.project_a, days_ago=10)
    db.session.commit()
    response = login_as(world.officer_a).post(f"/projects/{project.id}/funds", follow_redirects=True,
                                              data={"month": month, "amount": "10"})
    assert response.status_code == 200 and "年份须在" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FundsInPlace)) == 0


@pytest.mark.parametrize("token", ["A" * 80, "短", "x" * 32 + "\x00"])
def test_a_malformed_submission_token_is_refused_not_a_server_error(world, login_as, token):
    before = _project_count()
    response = login_as(world.officer_a).post(
        f"/projects/new?enterprise_id={world.enterprise.id}",
        data={"name": "令牌异常", "source": "其他", "priority": "中", "submission_token": token,
              "zone_id": world.zone_a.id, "owner_id": world.officer_a.id})
    assert response.status_code == 200 and "表单已失效" in response.get_data(as_text=True)
    assert _project_count() == before


def test_another_users_submission_token_is_refused(world, login_as):
    from crm.idempotency import new_token

    token = new_token()
    first = login_as(world.officer_a).post(
        f"/projects/new?enterprise_id={world.enterprise.id}",
        data={"name": "首次提交", "source": "其他", "priority": "中", "submission_token": token,
              "zone_id": world.zone_a.id, "owner_id": world.officer_a.id})
    assert first.status_code == 302
    before = _project_count()
    reused = login_as(world.chief_a).post(
        f"/projects/new?enterprise_id={world.enterprise.id}",
        data={"name": "他人令牌", "source": "其他", "priority": "中", "submission_token": token,
              "zone_id": world.zone_a.id, "owner_id": world.chief_a.id})
    assert reused.status_code == 200 and "表单已失效" in reused.get_data(as_text=True)
    assert _project_count() == before
