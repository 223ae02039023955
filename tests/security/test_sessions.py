"""Sessions (ASVS 3): a fresh session at sign-in, idle and absolute time-outs, versions that end old
cookies, and no caching of pages that show records."""
from __future__ import annotations

import time
from urllib.parse import unquote

import pytest

from crm.extensions import db
from tests import factories as f
from tests.security.conftest import events, sign_in, signed_in_user_id

TIMED_OUT = "登录已超时，请重新登录"


def _age(client, *, login_ago: int | None = None, seen_ago: int | None = None) -> None:
    """Move the session's clock: the sign-in and the last request happened this many seconds ago."""
    now = int(time.time())
    with client.session_transaction() as session:
        if login_ago is not None:
            session["_login_at"] = now - login_ago
        if seen_ago is not None:
            session["_seen_at"] = now - seen_ago


def test_sign_in_starts_a_new_session_and_stamps_it(world, client):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    before = client.get_cookie("session").value
    sign_in(client, "officer_a")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert abs(session["_login_at"] - time.time()) < 5 and session["_seen_at"] == session["_login_at"]
    assert client.get_cookie("session").value != before


def test_an_idle_session_times_out_and_goes_back_to_the_page_after_sign_in(world, app, client):
    sign_in(client, "officer_a")
    version = world.officer_a.session_version
    _age(client, seen_ago=app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    response = client.get("/projects/?stage=签约")
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == "/login?next=/projects/?stage=签约"
    assert signed_in_user_id(client) is None
    assert TIMED_OUT in client.get("/login").get_data(as_text=True)
    db.session.refresh(world.officer_a)
    assert world.officer_a.session_version == version  # only this cookie died
    response = client.post(response.headers["Location"], data={"username": "officer_a", "password": f.PASSWORD})
    assert unquote(response.headers["Location"]) == "/projects/?stage=签约"


def test_activity_keeps_a_session_alive(world, app, client):
    sign_in(client, "officer_a")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    _age(client, login_ago=idle * 3, seen_ago=idle - 60)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert abs(session["_seen_at"] - time.time()) < 5
    _age(client, seen_ago=idle - 60)
    assert client.get("/").status_code == 200


def test_a_session_ends_at_the_absolute_limit_however_busy(world, app, client):
    sign_in(client, "officer_a")
    limit = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    _age(client, login_ago=limit - 60, seen_ago=10)
    assert client.get("/").status_code == 200
    _age(client, login_ago=limit + 1, seen_ago=10)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert signed_in_user_id(client) is None


def test_the_limits_come_from_the_settings(world, app, client, monkeypatch):
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_ABSOLUTE_HOURS"] == 12
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    sign_in(client, "officer_a")
    _age(client, seen_ago=5 * 60 + 1)
    assert client.get("/").headers["Location"].startswith("/login")


def test_a_form_sent_after_the_time_out_changes_nothing(world, app, client):
    sign_in(client, "officer_a")
    _age(client, seen_ago=app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    project = world.project_a
    response = client.post(f"/projects/{project.id}/edit", data={
        "name": "改名", "source": "其他", "priority": "高", "version": project.version})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    db.session.refresh(project)
    assert project.name != "改名"


def test_a_timed_out_session_on_the_sign_in_page_just_signs_out(world, app, client):
    sign_in(client, "officer_a")
    _age(client, login_ago=app.config["SESSION_ABSOLUTE_HOURS"] * 3600 + 1)
    page = client.get("/login")
    assert page.status_code == 200 and TIMED_OUT in page.get_data(as_text=True)
    assert sign_in(client, "officer_a").headers["Location"] == "/"


def test_a_session_with_garbled_stamps_is_restamped_not_trusted_for_ever(world, client):
    sign_in(client, "officer_a")
    with client.session_transaction() as session:
        session["_login_at"] = "forever"
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert isinstance(session["_login_at"], int) and abs(session["_login_at"] - time.time()) < 5


# --- versions: a cookie dies with sign-out, password change, disabling and 强制下线 -------------------


def test_an_old_cookie_replayed_after_sign_out_is_refused(world, app, client):
    sign_in(client, "officer_a")
    stolen = client.get_cookie("session").value
    client.post("/logout")
    client.set_cookie("session", stolen)
    assert client.get("/").headers["Location"].startswith("/login")
    assert [e.user_id for e in events("logout")] == [world.officer_a.id]


def test_a_password_change_ends_other_sessions_and_keeps_this_one(world, client, fresh_client):
    other = fresh_client()
    sign_in(other, "officer_a")
    sign_in(client, "officer_a")
    with client.session_transaction() as session:
        login_at = session["_login_at"] = int(time.time()) - 600
    stolen = client.get_cookie("session").value
    response = client.post("/account/password", data={
        "current_password": f.PASSWORD, "new_password": "a-brand-new-pass-5", "confirm": "a-brand-new-pass-5"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert session["_login_at"] == login_at  # a password change does not extend the absolute limit
    assert other.get("/").headers["Location"].startswith("/login")
    client.set_cookie("session", stolen)  # this browser's cookie from before the change
    assert client.get("/").headers["Location"].startswith("/login")
    [changed] = events("password_changed")
    assert changed.user_id == world.officer_a.id and changed.address == "127.0.0.1"


def test_the_admins_force_sign_out_ends_every_session_of_the_user(world, login_as, fresh_client):
    officer = fresh_client()
    sign_in(officer, "officer_a")
    assert officer.get("/").status_code == 200
    admin = login_as(world.admin)
    page = admin.get(f"/admin/users/{world.officer_a.id}").get_data(as_text=True)
    assert "强制下线" in page
    assert admin.post(f"/admin/users/{world.officer_a.id}/revoke-sessions").status_code == 302
    assert officer.get("/").headers["Location"].startswith("/login")
    [revoked] = events("sessions_revoked")
    assert revoked.user_id == world.officer_a.id and "admin_t" in revoked.detail
    assert sign_in(officer, "officer_a").headers["Location"] == "/"  # they may sign in again


# --- caching ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/projects/", "/enterprises/", "/visits/", "/account/password",
                                  "/account/2fa", "/admin/security-log", "/admin/users", "/login"])
def test_pages_are_not_stored_by_caches(world, client, path):
    if path != "/login":
        sign_in(client, "admin_t")
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()
