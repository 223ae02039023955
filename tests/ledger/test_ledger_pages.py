import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from crm.extensions import db
from crm.ledger.models import FundsInPlace
from crm.pipeline.models import Project
from tests.ledger.conftest import sign

TODAY = date.today()


def test_dashboard_figures_link_to_the_projects_behind_them(world, login_as):
    sign(world.officer_a, world.project_a, days_ago=3)
    db.session.commit()
    client = login_as(world.chief_a)
    page = client.get("/").get_data(as_text=True)
    signed = re.search(r'data-testid="kpi-signed" href="([^"]+)">(\d+)<', page)
    link = signed.group(1).replace("&amp;", "&")
    listing = client.get(link).get_data(as_text=True)
    assert int(signed.group(2)) == 1 and "宏达铝材甲园项目" in listing
    assert f"共 {signed.group(2)} 条" in listing
    charts = re.search(r'data-charts="([^"]+)"', page).group(1)
    assert "/projects/?stage=%E7%BA%BF%E7%B4%A2" in charts.replace("&#34;", '"')


def test_dashboard_for_each_role_and_zone_filter(world, login_as):
    for user in (world.officer_a, world.chief_a, world.viewer_a, world.admin):
        assert login_as(user).get("/").status_code == 200
    assert login_as(world.admin).get(f"/?zone_id={world.zone_b.id}").status_code == 200
    assert login_as(world.chief_a).get(f"/?zone_id={world.zone_b.id}").status_code == 404
    # A year no ledger holds is ignored (crm/inputs.py): the current year's dashboard.
    page = login_as(world.chief_a).get("/?year=99999")
    assert page.status_code == 200 and f"{date.today().year}" in page.get_data(as_text=True)


def test_overdue_filter_lists_overdue_projects_only(world, login_as):
    project = sign(world.officer_a, world.project_a, days_ago=90)
    project.due_registered = TODAY - timedelta(days=10)
    db.session.commit()
    client = login_as(world.chief_a)
    assert "宏达铝材甲园项目" in client.get("/projects/?overdue=1").get_data(as_text=True)
    project.registered_date = TODAY - timedelta(days=1)
    db.session.commit()
    assert "宏达铝材甲园项目" not in client.get("/projects/?overdue=1").get_data(as_text=True)


def test_funds_and_commitments_through_the_pages(world, login_as):
    project = sign(world.officer_a, world.project_a, days_ago=40)
    db.session.commit()
    client = login_as(world.officer_a)
    month = TODAY.strftime("%Y-%m")
    assert client.post(f"/projects/{project.id}/funds", data={"month": month, "amount": "1200"}).status_code == 302
    bad = client.post(f"/projects/{project.id}/funds", data={"month": "2026-13", "amount": "5"}, follow_redirects=True)
    assert "月份格式" in bad.get_data(as_text=True)
    assert db.session.scalars(select(FundsInPlace)).all()[0].amount == Decimal("1200")
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "1,200.00" in page and "12.0%" in page
    form = client.post(f"/projects/{project.id}/contract", data={
        "version": project.version, "contract_investment": "10000", "land_area": "50",
        "due_registered": (project.signed_date - timedelta(days=1)).isoformat()})
    assert "不能早于签约日期" in form.get_data(as_text=True)
    assert client.get(f"/projects/{world.project_b.id}/contract").status_code == 404
    assert login_as(world.officer_b).post(f"/projects/{project.id}/funds", data={"month": month, "amount": "1"}).status_code == 404


def test_zone_settings_by_role(world, login_as):
    url = f"/reports/zones/{world.zone_a.id}/settings"
    assert login_as(world.chief_a).get(url).status_code == 200
    saved = login_as(world.chief_a).post(url, data={"year": TODAY.year, "signed_count": "10", "signed_amount": "50000",
                                                    "register_rate": "85", "start_rate": "60", "production_rate": "30",
                                                    "funds_rate": "20", "stale_lead_days": "20"})
    assert saved.status_code == 302
    bad = login_as(world.chief_a).post(url, data={"year": TODAY.year, "register_rate": "150"})
    assert "0–100" in bad.get_data(as_text=True)
    assert login_as(world.chief_b).get(url).status_code == 404
    assert login_as(world.officer_a).get(url).status_code == 403
    assert login_as(world.viewer_a).get(url).status_code == 403
