"""Sign-in through the real form, sign-out that ends every copy of a cookie, safe redirects."""
from __future__ import annotations

import re
from urllib.parse import unquote, urlencode

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

import config
from crm.extensions import db
from crm.accounts.models import User
from tests import factories as f

WRONG = "用户名或密码错误"
REMEMBER = "remember_token"  # Flask-Login's name; production renames it (see test_config); no longer issued


@pytest.fixture(autouse=True)
def _fresh_sign_in_counts(app):
    """Failed sign-ins are counted per account and address for 15 minutes: start each test at zero."""
    from crm.accounts.throttle import login_throttle

    with app.app_context():
        login_throttle().storage.reset()


def sign_in(client, username, password=f.PASSWORD, next_url=None, **extra):
    url = "/login" if next_url is None else "/login?" + urlencode({"next": next_url})
    return client.post(url, data={"username": username, "password": password, **extra})


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def test_sign_in_leads_to_the_dashboard_with_the_users_name(world, client):
    response = sign_in(client, "officer_a")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page
    assert world.officer_a.display_name in page
    assert world.officer_a.last_login_at is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [("officer_a", "wrong-password-1"), ("nobody_here", f.PASSWORD), ("officer_a", "")],
    ids=["wrong-password", "unknown-user", "empty-password"],
)
def test_failed_sign_in_says_the_same_thing_and_starts_no_session(world, client, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if password:
        assert WRONG in page
    else:
        assert "请输入密码" in page
    assert "用户不存在" not in page and "密码不正确" not in page
    assert not _signed_in(client)
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_pages_are_identical(world, client):
    """The two pages must not differ at all, so a page cannot tell which usernames exist."""
    wrong = sign_in(client, "officer_a", "wrong-password-1").get_data(as_text=True)
    unknown = sign_in(client, "nobody_here", "wrong-password-1").get_data(as_text=True)
    assert wrong.replace("officer_a", "USER") == unknown.replace("nobody_here", "USER")


def test_unknown_user_costs_the_same_hash_work_as_a_wrong_password(world, app, monkeypatch):
    """Timing must not tell which was wrong: the decoy hash uses the configured method."""
    from crm.accounts import service

    methods = []
    real_check = service.check_password_hash

    def spy(pwhash, password):
        methods.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(service, "check_password_hash", spy)
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1200")
    user = f.make_user("officer", [world.zone_a], username="officer_new_hash")
    assert service.authenticate(user.username, "wrong-password-1") is None
    assert service.authenticate("nobody_here", "wrong-password-1") is None
    assert methods == ["pbkdf2:sha256:1200", "pbkdf2:sha256:1200"]


def test_a_disabled_user_cannot_sign_in(world, client):
    world.officer_a.active = False
    db.session.commit()
    response = sign_in(client, "officer_a")
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_a_disabled_user_loses_an_open_session(world, client):
    assert sign_in(client, "officer_a").status_code == 302
    world.officer_a.active = False
    db.session.commit()
    assert client.get("/").headers["Location"].startswith("/login")


def test_sign_out_is_post_only(world, client):
    sign_in(client, "officer_a")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still signed in
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


def test_an_old_copy_of_the_session_cookie_is_refused_after_sign_out(world, app, client):
    sign_in(client, "officer_a")
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    stolen = client.get_cookie(cookie_name).value
    assert client.get("/").status_code == 200
    client.post("/logout")
    client.set_cookie(cookie_name, stolen)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_there_is_no_remember_me(world, client):
    """Sessions end with the browser or a time-out: the form offers no remember-me, and asking anyway
    sets no cookie that outlives the session."""
    assert "记住我" not in client.get("/login").get_data(as_text=True)
    sign_in(client, "officer_a", remember="y")
    assert client.get_cookie(REMEMBER) is None


def test_a_remember_me_cookie_issued_before_is_refused_and_deleted(world, app, client):
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        old_cookie = encode_cookie(world.officer_a.get_id())  # still the user's current session version
    client.set_cookie(REMEMBER, old_cookie)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get_cookie(REMEMBER) is None
    assert client.get("/").headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com", "/\\evil.com", "\\\\evil", "http://evil.com", "http:///evil", "https://evil.com/x",
        "java\nscript:alert(1)", "javascript:alert(1)", "/\x00/evil.com", "/\t/evil.com", "/x\r\nSet-Cookie: a=b",
        "evil.com", "", "///evil.com", "/" + "a" * 2001,
    ],
)
def test_next_never_leads_off_site(world, client, target):
    response = sign_in(client, "officer_a", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_a_page_of_this_site_is_honoured(world, client):
    response = sign_in(client, "officer_a", next_url="/projects/?stage=签约")
    assert unquote(response.headers["Location"]) == "/projects/?stage=签约"


def test_the_login_redirect_carries_next_back_to_the_page(world, client):
    response = client.get("/projects/")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    assert client.post(login_url, data={"username": "officer_a", "password": f.PASSWORD}).headers[
        "Location"
    ] == "/projects/"


def _page_urls(app):
    """One URL for every GET page and POST action the app serves (values filled in with 1)."""
    from crm import PUBLIC_ENDPOINTS

    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        values = {name: 1 for name in rule.arguments}
        try:
            path = rule.build(values, append_unknown=False)[1]
        except Exception:  # a converter that needs a string
            path = rule.build({name: "x" for name in rule.arguments}, append_unknown=False)[1]
        method = "GET" if "GET" in rule.methods else "POST"
        yield method, path


def test_anonymous_visitors_are_sent_to_sign_in_from_every_page(app, world, client):
    urls = list(_page_urls(app))
    assert len(urls) > 15  # the map is really being walked
    for method, path in urls:
        response = client.open(path, method=method)
        if path.startswith("/api/v1/"):  # the open API: a bearer token or 401, never a sign-in page
            assert response.status_code == 401 and response.mimetype == "application/problem+json", (method, path)
            continue
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/login"), (method, path)


def test_public_pages_need_no_sign_in(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_passwords_are_stored_hashed(world):
    stored = db.session.scalar(select(User.password_hash).where(User.username == "officer_a"))
    assert f.PASSWORD not in stored
    assert stored.startswith("pbkdf2:sha256:1000$")  # the testing config's cheap method
    assert check_password_hash(stored, f.PASSWORD)
    assert not check_password_hash(stored, f.PASSWORD + "x")


def test_production_hashes_passwords_with_strong_scrypt():
    assert config.Config.PASSWORD_HASH_METHOD == "scrypt:131072:8:1"
    assert config.ProductionConfig.PASSWORD_HASH_METHOD == "scrypt:131072:8:1"


# --- with CSRF protection on, as in production ----------------------------------------------------


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(client, path) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on " + path
    return match.group(1)


def test_sign_in_needs_the_forms_csrf_token(world, client, csrf_on):
    response = sign_in(client, "officer_a")
    assert response.status_code == 400
    assert not _signed_in(client)
    response = sign_in(client, "officer_a", csrf_token=_token(client, "/login"))
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_cross_site_post_cannot_sign_the_user_out(world, client, csrf_on):
    sign_in(client, "officer_a", csrf_token=_token(client, "/login"))
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    token = _token(client, "/")  # the 退出 button's form carries the token
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_a_cross_site_post_changes_no_record(world, client, csrf_on):
    sign_in(client, "officer_a", csrf_token=_token(client, "/login"))
    project = world.project_a
    assert client.post(f"/projects/{project.id}/delete").status_code == 400
    assert client.post(f"/projects/{project.id}/stage", data={"stage": "接洽", "version": 1}).status_code == 400
    db.session.expire_all()
    assert project.deleted_at is None and project.stage == "线索"


# --- accounts the admin manages -------------------------------------------------------------------


def _officer_session(app, world):
    """A client signed in as officer_a through the form, as a second browser."""
    from tests.conftest import FreshContextClient

    other = FreshContextClient(app, app.response_class, use_cookies=True)
    assert sign_in(other, "officer_a").status_code == 302
    assert other.get("/").status_code == 200
    return other


def _edit_form(user, **changes):
    data = {"display_name": user.display_name, "role": user.role, "zone_ids": user.zone_ids, "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_disabling_a_user_in_admin_ends_their_open_sessions(app, world, login_as):
    officer = _officer_session(app, world)
    admin = login_as(world.admin)
    response = admin.post(f"/admin/users/{world.officer_a.id}", data=_edit_form(world.officer_a, active=None))
    assert response.status_code == 302
    assert officer.get("/").headers["Location"].startswith("/login")
    assert WRONG in sign_in(officer, "officer_a").get_data(as_text=True)


def test_a_password_reset_by_the_admin_ends_sessions_and_replaces_the_password(app, world, login_as):
    officer = _officer_session(app, world)
    admin = login_as(world.admin)
    admin.post(f"/admin/users/{world.officer_a.id}", data=_edit_form(world.officer_a, password="a-new-password-9"))
    assert officer.get("/").headers["Location"].startswith("/login")
    assert WRONG in sign_in(officer, "officer_a").get_data(as_text=True)
    assert sign_in(officer, "officer_a", "a-new-password-9").headers["Location"] == "/"


def test_renaming_a_user_keeps_their_session(app, world, login_as):
    officer = _officer_session(app, world)
    login_as(world.admin).post(f"/admin/users/{world.officer_a.id}", data=_edit_form(world.officer_a, display_name="王新名"))
    page = officer.get("/")
    assert page.status_code == 200 and "王新名" in page.get_data(as_text=True)


def test_the_admin_cannot_lock_themselves_out(world, login_as):
    admin = login_as(world.admin)
    response = admin.post(f"/admin/users/{world.admin.id}", data=_edit_form(world.admin, role="viewer"))
    assert response.status_code == 200
    assert "不能停用自己" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.admin.id).role == "admin"


def test_a_user_the_admin_creates_can_sign_in_and_first_replaces_the_password(world, login_as, client):
    admin = login_as(world.admin)
    response = admin.post("/admin/users/new", data={
        "username": "officer_new", "display_name": "新专员", "role": "officer", "zone_ids": [world.zone_a.id],
        "password": "first-password-1",
    })
    assert response.status_code == 302
    client.post("/logout")
    assert sign_in(client, "officer_new", "first-password-1").headers["Location"] == "/"
    # The admin knows the first password: every page leads to 修改密码 until the user replaces it.
    assert client.get("/").headers["Location"] == "/account/password"
    response = client.post("/account/password", data={
        "current_password": "first-password-1", "new_password": "my-own-secret-7", "confirm": "my-own-secret-7"})
    assert response.headers["Location"] == "/"
    assert "新专员" in client.get("/").get_data(as_text=True)


def test_the_admin_form_refuses_a_second_user_with_the_same_name(world, login_as):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = login_as(world.admin).post("/admin/users/new", data={
        "username": "officer_a", "display_name": "重名", "role": "viewer", "password": "first-password-1",
    })
    assert response.status_code == 200
    assert "已存在" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before
