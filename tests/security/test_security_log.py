"""The security log (ASVS 7.1-7.3): every sign-in event, in UTC, with the user and address, unforgeable."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from crm.accounts.security_log import escape_control, record_event
from crm.extensions import db
from crm.accounts.security_events import SECURITY_EVENTS
from tests import factories as f
from tests.security.conftest import code_for, enrol, events, sign_in


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_every_kind_of_event_is_logged_with_time_user_and_address(world, client, login_as, fresh_client):
    officer, admin = world.officer_a, world.admin
    started = datetime.now(UTC) - timedelta(seconds=1)
    sign_in(client, "officer_a", "wrong-password-1", address="192.0.2.10")                 # login_failed
    for n in range(4):
        sign_in(client, "officer_a", f"wrong-password-{n}", address="192.0.2.10")
    sign_in(client, "officer_a", address="192.0.2.10")                                       # login_throttled
    from crm.accounts.throttle import login_throttle

    login_throttle().storage.reset()
    sign_in(client, "officer_a", address="192.0.2.10")                                       # login_ok
    codes = enrol(client, officer)                                                           # totp_enrolled
    client.post("/logout", environ_base={"REMOTE_ADDR": "192.0.2.10"})                       # logout
    sign_in(client, "officer_a", address="192.0.2.11")
    client.post("/login/2fa", data={"code": "000000" if code_for(officer.totp_secret, 1) != "000000" else "111111"},
                environ_base={"REMOTE_ADDR": "192.0.2.11"})                                  # totp_failed
    client.post("/login/2fa", data={"code": codes[0]}, environ_base={"REMOTE_ADDR": "192.0.2.11"})  # recovery
    client.post("/account/2fa/disable", data={"password": f.PASSWORD, "code": codes[1]})     # totp_disabled
    client.post("/account/password", data={"current_password": f.PASSWORD, "new_password": "fresh-pass-word-3",
                                           "confirm": "fresh-pass-word-3"})                  # password_changed
    admin_client = login_as(admin)
    edit = {"display_name": officer.display_name, "role": officer.role, "zone_ids": officer.zone_ids, "active": "y"}
    admin_client.post(f"/admin/users/{officer.id}", data={**edit, "password": "set-by-admin-42"})  # reset
    admin_client.post(f"/admin/users/{officer.id}/revoke-sessions")                          # sessions_revoked
    admin_client.post(f"/admin/users/{officer.id}", data={k: v for k, v in edit.items() if k != "active"})  # disabled

    logged = events()
    # The open API's events (tokens, calls) are logged in tests/api/test_api.py.
    assert {e.event for e in logged} == {e for e in SECURITY_EVENTS if not e.startswith("api_")}
    finished = datetime.now(UTC) + timedelta(seconds=1)
    for entry in logged:
        assert started <= _utc(entry.at) <= finished, entry
        assert entry.at_utc.endswith(" UTC")
        assert entry.user_id == officer.id, entry  # every one of these concerns the officer
        assert entry.address.startswith(("192.0.2.", "127.0.0.1")), entry
    by_admin = [e for e in logged if e.event in ("password_reset_by_admin", "sessions_revoked", "user_disabled")]
    assert all("admin_t" in e.detail for e in by_admin)
    assert {e.address for e in logged if e.event in ("totp_failed", "recovery_code_used")} == {"192.0.2.11"}


def test_a_forged_line_in_the_username_is_stored_escaped(world, client, caplog):
    caplog.set_level(logging.INFO, logger="lianzhao.security")
    typed = "admin\nFAKE login_ok\r\x00\x1b[31m\x7f\x85\u2028\\n"
    sign_in(client, typed, "wrong-password-1")
    [entry] = events("login_failed")
    assert entry.username == "admin\\nFAKE login_ok\\x0d\\x00\\x1b[31m\\x7f\\x85\\u2028\\\\n"
    assert "\n" not in entry.username and "\r" not in entry.username
    assert entry.user_id is None
    # The logger gets one line of JSON with the same escaped text.
    [record] = [r for r in caplog.records if r.name == "lianzhao.security"]
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line and "\u2028" not in line
    assert json.loads(line)["username"] == entry.username
    assert record.levelno == logging.WARNING


def test_escaping_is_unambiguous_and_leaves_ordinary_text_alone():
    assert escape_control("王晓明 officer_a.1-2") == "王晓明 officer_a.1-2"
    assert escape_control("a\nb") != escape_control("a\\nb")
    assert escape_control("\t") == "\\x09" and escape_control("\x9f") == "\\x9f"
    assert escape_control(None) == ""


def test_the_log_rejects_an_unknown_event(app_ctx):
    import pytest

    with pytest.raises(ValueError):
        record_event("login_maybe")


def test_the_admin_reads_and_filters_the_security_log(world, client, login_as):
    sign_in(client, "nobody\nFAKE", "wrong-password-1")
    sign_in(client, "officer_a", "wrong-password-1")
    sign_in(client, "officer_a")
    admin = login_as(world.admin)
    page = admin.get("/admin/security-log").get_data(as_text=True)
    assert "安全日志" in page and "nobody\\nFAKE" in page and "UTC" in page
    only_ok = admin.get("/admin/security-log?event=login_ok").get_data(as_text=True)
    assert 'data-event="login_ok"' in only_ok and 'data-event="login_failed"' not in only_ok
    officer = admin.get("/admin/security-log?user=officer_a").get_data(as_text=True)
    assert officer.count("data-event=") == 2 and "nobody" not in officer
    typed = admin.get("/admin/security-log", query_string={"user": "nobody\nFAKE"}).get_data(as_text=True)
    assert typed.count("data-event=") == 1


def test_the_security_log_pages(world, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 5)
    for n in range(12):
        record_event("login_failed", username=f"guess{n}", address="192.0.2.1")
    db.session.commit()
    admin = login_as(world.admin)
    first = admin.get("/admin/security-log").get_data(as_text=True)
    assert first.count("data-event=") == 5 and "guess11" in first and "共 12 条" in first
    third = admin.get("/admin/security-log?page=3").get_data(as_text=True)
    assert third.count("data-event=") == 2 and "guess0" in third


def test_only_the_admin_reads_the_security_log(world, login_as):
    for user in (world.chief_a, world.officer_a, world.viewer_a):
        assert login_as(user).get("/admin/security-log").status_code == 403


def test_the_admin_tabs_lead_to_the_new_pages(world, login_as):
    page = login_as(world.admin).get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/security-log"' in page and 'href="/admin/zones"' in page


def test_a_nul_in_a_typed_name_is_refused_and_logged_not_an_error(world, client, login_as):
    """PostgreSQL refuses a NUL in a query parameter: such a name must never reach a query."""
    response = sign_in(client, "officer_a\x00", f.PASSWORD)
    assert response.status_code == 200 and "用户名或密码错误" in response.get_data(as_text=True)
    assert events("login_failed")[-1].username == "officer_a\\x00"
    admin = login_as(world.admin)
    page = admin.get("/admin/security-log", query_string={"user": "officer_a\x00"})
    assert page.status_code == 200 and page.get_data(as_text=True).count("data-event=") == 1


def test_a_failed_sign_in_tells_the_admin_why_but_not_the_visitor(world, client):
    world.chief_b.active = False
    db.session.commit()
    pages = [sign_in(client, name, password).get_data(as_text=True).replace(name, "USER")
             for name, password in (("nobody_here", f.PASSWORD), ("officer_a", "wrong-password-1"),
                                    ("chief_b", f.PASSWORD))]
    assert pages[0] == pages[1] == pages[2]
    assert [e.detail for e in events("login_failed")] == ["用户不存在", "密码错误", "账号已停用"]
