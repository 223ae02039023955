"""The open API: tokens, zones, the policy, and the conventions (pages, ETag, idempotency, problems)."""
from __future__ import annotations

import hashlib
from decimal import Decimal
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from crm.accounts.security_events import SecurityEvent
from crm.api.models import ApiToken
from crm.api import tokens
from crm.chains import gaps
from crm.extensions import db
from crm.ledger import service as ledger
from crm.ledger.service import add_funds
from crm.pipeline.service import change_stage
from crm.visits.models import Visit
from tests import factories as f

PROBLEM = "application/problem+json"


def _sign(world, amount):
    for stage in ("接洽", "考察", "洽谈"):
        change_stage(world.officer_a, world.project_a, stage)
    world.project_a.land_area = Decimal("50")
    change_stage(world.officer_a, world.project_a, "签约", on_date=date(2026, 3, 2), contract_investment=amount)
    db.session.commit()


def test_no_token_bad_token_revoked_or_expired_answer_401(client, world, bearer):
    assert client.get("/api/v1/projects").status_code == 401
    assert client.get("/api/v1/projects", headers={"Authorization": "Bearer lz_nope"}).status_code == 401
    headers = bearer(world.officer_a)
    assert client.get("/api/v1/projects", headers=headers).status_code == 200
    token = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    tokens.revoke_token(token)
    db.session.commit()
    response = client.get("/api/v1/projects", headers=headers)
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert response.json["detail"] == "访问令牌已撤销"
    expired = bearer(world.officer_a)
    newest = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    newest.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/projects", headers=expired).json["detail"] == "访问令牌已过期"


def test_the_session_cookie_is_not_accepted(client, world, login_as):
    login_as(world.admin)
    assert client.get("/projects/").status_code == 200  # the pages know the session
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    post = client.post("/api/v1/visits", json={"enterprise_id": world.enterprise.id, "kind": "电话",
                                              "visit_date": date.today().isoformat()})
    assert post.status_code == 401


def test_only_the_hash_is_stored_and_the_prefix_shown(world):
    token, secret = tokens.create_personal_token(world.officer_a, "脚本", "read", 10)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token.prefix, token.secret_hash) and secret.startswith(token.prefix)


def test_another_zones_record_is_404_exactly_like_a_missing_one(client, world, bearer):
    headers = bearer(world.officer_a)
    listed = client.get("/api/v1/projects", headers=headers).json
    assert {p["id"] for p in listed["items"]} == {world.project_a.id}
    assert listed["total"] == 1 and listed["pages"] == 1
    other = client.get(f"/api/v1/projects/{world.project_b.id}", headers=headers)
    missing = client.get("/api/v1/projects/999999", headers=headers)
    assert other.status_code == missing.status_code == 404
    assert other.json == missing.json and other.mimetype == PROBLEM
    assert client.get(f"/api/v1/visits/{world.visit_b.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/zones/{world.zone_b.id}/figures?month=2026-03",
                      headers=bearer(world.chief_a)).status_code == 404


def test_project_detail_has_its_stage_history_funds_and_amounts_as_decimal_strings(client, world, bearer):
    _sign(world, Decimal("12000.5"))
    db.session.commit()
    response = client.get(f"/api/v1/projects/{world.project_a.id}", headers=bearer(world.officer_a))
    body = response.json
    assert body["stage_history"][0]["to_stage"] == "线索"
    assert body["contract_investment"] == "12000.50" and body["signed_date"] == "2026-03-02"
    assert response.headers["ETag"] == f'"{world.project_a.version}"'


def test_a_stale_write_answers_412_with_the_current_version(client, world, bearer):
    headers = bearer(world.officer_a)
    url = f"/api/v1/projects/{world.project_a.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    assert client.patch(url, json={"name": "无版本"}, headers=headers).status_code == 428
    done = client.patch(url, json={"name": "宏达铝材二期"}, headers={**headers, "If-Match": etag})
    assert done.status_code == 200 and done.json["name"] == "宏达铝材二期"
    assert done.headers["ETag"] != etag
    stale = client.patch(url, json={"name": "旧版本覆盖"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    db.session.refresh(world.project_a)
    assert stale.json["current_version"] == world.project_a.version and stale.json["field"] == "version"
    assert done.headers["ETag"] == f'"{world.project_a.version}"'
    assert world.project_a.name == "宏达铝材二期"


def test_the_policy_decides_writes_another_officers_project_is_403_with_chinese_detail(client, world, bearer):
    colleague = f.make_user("officer", [world.zone_a], username="officer_a_colleague")
    db.session.commit()
    headers = bearer(colleague)
    url = f"/api/v1/projects/{world.project_a.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    refused = client.patch(url, json={"name": "越权修改"}, headers={**headers, "If-Match": etag})
    assert refused.status_code == 403
    assert refused.json["detail"] == "只有项目负责人、本园区负责人或市投促中心可以修改该项目"


def test_a_visit_is_created_once_per_idempotency_key(client, world, bearer):
    headers = {**bearer(world.officer_a), "Idempotency-Key": "crm-sync-42"}
    body = {"enterprise_id": world.enterprise.id, "project_id": world.project_a.id, "kind": "电话",
            "visit_date": date.today().isoformat(), "summary": "电话沟通用地"}
    before = db.session.scalar(select(func.count(Visit.id)))
    first = client.post("/api/v1/visits", json=body, headers=headers)
    again = client.post("/api/v1/visits", json=body, headers=headers)
    assert first.status_code == 201 and first.headers["Location"].endswith(f"/api/v1/visits/{first.json['id']}")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert db.session.scalar(select(func.count(Visit.id))) == before + 1


def test_a_service_refusal_is_422_problem_with_the_field(client, world, bearer):
    future = (date.today() + timedelta(days=3)).isoformat()
    response = client.post("/api/v1/visits", json={"enterprise_id": world.enterprise.id, "kind": "电话",
                                                   "visit_date": future}, headers=bearer(world.officer_a))
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.json["detail"] == "走访日期不能晚于今天" and response.json["field"] == "visit_date"
    malformed = client.post("/api/v1/visits", json={"enterprise_id": world.enterprise.id, "kind": "飞鸽传书",
                                                    "visit_date": "昨天"}, headers=bearer(world.officer_a))
    assert malformed.status_code == 422 and malformed.json["field"] in ("kind", "visit_date")


def test_read_scoped_and_platform_tokens_cannot_write(client, world, bearer, platform_bearer):
    body = {"enterprise_id": world.enterprise.id, "kind": "电话", "visit_date": date.today().isoformat()}
    read = client.post("/api/v1/visits", json=body, headers=bearer(world.officer_a, "read"))
    assert read.status_code == 403 and "只读" in read.json["detail"]
    platform = platform_bearer([world.zone_a])
    listed = client.get("/api/v1/projects", headers=platform).json
    assert {p["id"] for p in listed["items"]} == {world.project_a.id}  # its zones only
    assert client.get(f"/api/v1/projects/{world.project_b.id}", headers=platform).status_code == 404


def test_a_platform_token_sees_a_confidential_project_masked(client, world, platform_bearer, bearer):
    from crm.pipeline.service import update_project

    update_project(world.officer_a, world.project_a, {"confidential": True})
    db.session.commit()
    platform = platform_bearer([world.zone_a])
    item = client.get("/api/v1/projects", headers=platform).json["items"][0]
    assert item["name"] == "保密项目" and item["planned_investment"] is None and item["enterprise_id"] is None
    assert client.get(f"/api/v1/projects/{world.project_a.id}", headers=platform).status_code == 404
    assert client.get(f"/api/v1/projects/{world.project_a.id}", headers=bearer(world.officer_a)).status_code == 200


def test_every_call_is_in_the_security_log_and_tokens_are_throttled(app, client, world, bearer):
    headers = bearer(world.officer_a)
    before = db.session.scalar(select(func.count(SecurityEvent.id)).where(SecurityEvent.event == "api_call"))
    client.get("/api/v1/projects", headers=headers)
    client.get(f"/api/v1/projects/{world.project_b.id}", headers=headers)
    calls = db.session.scalars(select(SecurityEvent).where(SecurityEvent.event == "api_call")
                               .order_by(SecurityEvent.id)).all()[before:]
    assert [c.detail.split(" ", 1)[1] for c in calls] == [
        "GET /api/v1/projects 200", f"GET /api/v1/projects/{world.project_b.id} 404"]
    assert all(c.user_id == world.officer_a.id for c in calls)
    saved = app.extensions[tokens.THROTTLE_KEY]
    app.extensions[tokens.THROTTLE_KEY] = tokens.ApiThrottle("memory://", 2)
    try:
        answers = [client.get("/api/v1/chains", headers=headers) for _ in range(3)]
    finally:
        app.extensions[tokens.THROTTLE_KEY] = saved
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_month_figures_are_the_ledgers(client, world, bearer):
    _sign(world, Decimal("10000"))
    add_funds(world.officer_a, world.project_a, date(2026, 3, 1), Decimal("2500.25"))
    db.session.commit()
    response = client.get(f"/api/v1/zones/{world.zone_a.id}/figures?month=2026-03", headers=bearer(world.chief_a))
    body = response.json
    expected = ledger.period_figures(world.chief_a, date(2026, 3, 1), date(2026, 3, 31), [world.zone_a.id])
    assert body["signed"] == expected.signed == 1
    assert body["funds"] == str(expected.funds) == "2500.25"
    assert body["contract_investment"] == "10000.00"
    officer = client.get(f"/api/v1/zones/{world.zone_a.id}/figures?month=2026-03", headers=bearer(world.officer_a))
    assert officer.status_code == 403  # reports are for chiefs, the city centre and leaders, as on the pages
    bad = client.get(f"/api/v1/zones/{world.zone_a.id}/figures?month=2026-13", headers=bearer(world.chief_a))
    assert bad.status_code == 422 and bad.json["field"] == "month"


def test_chain_gaps_are_the_reports_records(client, world, bearer):
    from chains.definitions import load_all

    code = load_all()[0].code
    response = client.get(f"/api/v1/zones/{world.zone_a.id}/chains/{code}/gaps?limit=5", headers=bearer(world.chief_a))
    assert response.status_code == 200
    report = gaps.analyse_chain(world.chief_a, code, world.zone_a.id)
    expected = gaps.report_dict(report)["gaps"][:5]
    assert response.json["gaps"] == expected
    chain = client.get(f"/api/v1/chains/{code}", headers=bearer(world.chief_a)).json
    assert chain["segments"] and chain["links"] and set(chain["links"][0]) == {"from", "to"}
    assert client.get(f"/api/v1/zones/{world.zone_b.id}/chains/{code}/gaps",
                      headers=bearer(world.chief_a)).status_code == 404


def test_personal_token_page_shows_the_token_once_and_revokes(client, world, login_as):
    login_as(world.officer_a)
    page = client.post("/account/api-tokens", data={"name": "同步脚本", "scope": "write", "days": "30"})
    html = page.get_data(as_text=True)
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == world.officer_a.id)).one()
    assert 'data-testid="new-token"' in html and token.prefix in html
    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert 'data-testid="new-token"' not in again and token.prefix in again
    client.post(f"/account/api-tokens/{token.id}/revoke")
    db.session.refresh(token)
    assert token.revoked_at is not None


def test_the_openapi_document_is_3_1_and_valid(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_api_events_are_in_the_security_log(app, client, world, login_as):
    from crm.accounts.security_events import SECURITY_EVENTS

    login_as(world.officer_a)
    client.post("/account/api-tokens", data={"name": "日志", "scope": "read", "days": "1"})   # api_token_created
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == world.officer_a.id)).one()
    secret_headers = {"Authorization": "Bearer lz_not-a-token"}
    client.get("/api/v1/chains", headers=secret_headers)                                     # api_refused
    _, secret = tokens.create_personal_token(world.officer_a, "限流", "read", 1)
    db.session.commit()
    saved = app.extensions[tokens.THROTTLE_KEY]
    app.extensions[tokens.THROTTLE_KEY] = tokens.ApiThrottle("memory://", 1)
    try:
        for _ in range(2):                                                                   # api_call, api_throttled
            client.get("/api/v1/chains", headers={"Authorization": f"Bearer {secret}"})
    finally:
        app.extensions[tokens.THROTTLE_KEY] = saved
    client.post(f"/account/api-tokens/{token.id}/revoke")                                    # api_token_revoked
    logged = db.session.scalars(select(SecurityEvent).where(SecurityEvent.event.like("api_%"))).all()
    assert {e.event for e in logged} == {e for e in SECURITY_EVENTS if e.startswith("api_")}
    assert all(e.user_id == world.officer_a.id for e in logged if e.event != "api_refused")
    assert secret not in " ".join(e.detail for e in logged)  # the prefix only, never the token
