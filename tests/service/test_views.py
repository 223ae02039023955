"""企业服务 pages: take a request, close it with a reply, rate it; errors beside the field; blocks show."""
from datetime import date
from io import BytesIO

from openpyxl import load_workbook

from crm.extensions import db
from crm.idempotency import new_token
from crm.service.models import EnterpriseRequest
from tests import factories as f


def _firm(world):
    firm = f.make_enterprise(world.admin, name="甲园区诉求页面企业有限公司", zone_id=world.zone_a.id)
    db.session.commit()
    return firm


def test_request_flow_through_the_pages(world, login_as, app):
    firm = _firm(world)
    client = login_as(world.officer_a)
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.get(f"/service/new?enterprise_id={firm.id}")
    assert "受理企业诉求" in page.text
    bad = client.post(f"/service/new?enterprise_id={firm.id}", data={
        "category": "", "received_on": "2026-11-23", "description": "招工难", "submission_token": new_token()})
    assert "请选择诉求类别" in bad.text
    bad = client.post(f"/service/new?enterprise_id={firm.id}", data={
        "category": "用工", "received_on": "2026-11-23", "deadline": "2026-11-01", "description": "招工难",
        "submission_token": new_token()})
    assert "办理期限不能早于受理日期" in bad.text
    made = client.post(f"/service/new?enterprise_id={firm.id}", data={
        "category": "用工", "received_on": "2026-11-23", "description": "招工难", "department": "人社局",
        "submission_token": new_token()})
    assert made.status_code == 302
    req = db.session.query(EnterpriseRequest).one()
    assert req.deadline == date(2026, 12, 7)  # 10 working days
    client.post(f"/service/{req.id}/advance", data={})
    refused = client.post(f"/service/{req.id}/advance", data={"reply": ""}, follow_redirects=True)
    assert "办结前请填写答复意见" in refused.text
    client.post(f"/service/{req.id}/advance", data={"reply": "已推荐 30 名技工"})
    done = client.post(f"/service/{req.id}/rate", data={"rating": "满意"}, follow_redirects=True)
    assert "企业评价已记录" in done.text and "满意" in done.text
    db.session.expire_all()
    assert (req.status, req.rating) == ("办结", "满意")
    assert "企业服务" in client.get(f"/enterprises/{firm.id}").text
    assert client.get("/service/?status=办结").text.count("人社局") == 1


def test_assignment_shows_on_enterprise_and_my_work(world, login_as, app):
    firm = _firm(world)
    app.config["WTF_CSRF_ENABLED"] = False
    chief = login_as(world.chief_a)
    assert chief.post(f"/service/assign/{firm.id}", data={
        "officer_id": world.officer_a.id, "leader_user_id": 0, "leader_name": "李明", "leader_title": "副主任"}
    ).status_code == 302
    page = chief.get(f"/enterprises/{firm.id}").text
    assert "包保干部：" in page and "李明 副主任" in page
    officer = login_as(world.officer_a)
    assert firm.name in officer.get("/visits/my-work").text
    assert officer.get(f"/service/assign/{firm.id}").status_code == 403


def test_ledger_export_and_ratings(world, login_as, app):
    firm = _firm(world)
    app.config["WTF_CSRF_ENABLED"] = False
    chief = login_as(world.chief_a)
    chief.post(f"/service/new?enterprise_id={firm.id}", data={
        "category": "融资", "received_on": date.today().isoformat(), "description": "贷款", "submission_token": new_token()})
    sheet = load_workbook(BytesIO(chief.get(f"/service/ledger.xlsx?month={date.today():%Y-%m}").data)).active
    assert sheet.cell(3, 4).value == "融资"
    chief.post(f"/service/ratings/new?enterprise_id={firm.id}", data={
        "period": "2026H2", "officer_id": world.officer_a.id, "rating": "基本满意"})
    assert world.officer_a.display_name in chief.get("/service/ratings").text
    assert "企业诉求：在办、超期与满意度" in chief.get("/").text
