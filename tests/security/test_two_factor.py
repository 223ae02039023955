"""Two-factor sign-in: enrolment with a QR code, the code at sign-in, recovery codes, replay, requirement."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from werkzeug.security import check_password_hash

from crm.accounts import totp
from crm.accounts.sessions import PENDING_2FA
from crm.extensions import db
from tests import factories as f
from tests.security.conftest import code_for, enrol, events, sign_in, signed_in_user_id

WRONG_CODE = "验证码错误或已使用"


def _enrolled(login_as, user) -> list[str]:
    """Enrol ``user`` through the pages (signed in by session); their recovery codes."""
    return enrol(login_as(user), user)


def _password_step(client, user, **kwargs):
    response = sign_in(client, user.username, **kwargs)
    assert response.status_code == 302 and response.headers["Location"] == "/login/2fa"
    assert signed_in_user_id(client) is None
    return response


# --- enrolment -------------------------------------------------------------------------------------


def test_enrolment_shows_an_inline_svg_qr_code_and_activates_only_after_a_good_code(world, login_as):
    client = login_as(world.officer_a)
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "开始设置两步验证" in page and "<svg" not in page
    client.post("/account/2fa/start")
    response = client.get("/account/2fa")
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'class="totp-qr"' in svg and "<path" in svg
    assert "style" not in svg and "script" not in svg.lower() and " on" not in svg  # the CSP forbids inline style
    user = world.officer_a
    db.session.refresh(user)
    secret = user.totp_pending_secret
    assert len(secret) == 32 and totp.grouped(secret) in page
    assert not user.has_totp

    response = client.post("/account/2fa/confirm", data={"code": "000000" if code_for(secret) != "000000" else "111111"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.has_totp
    assert events("totp_failed", user)[-1].detail == "启用时确认"

    response = client.post("/account/2fa/confirm", data={"code": code_for(secret)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r'<li class="col">([a-z0-9]{5}-[a-z0-9]{5})</li>', response.get_data(as_text=True))
    assert len(set(codes)) == 10
    db.session.refresh(user)
    assert user.has_totp and user.totp_secret == secret and user.totp_pending_secret is None
    # Only hashes are kept.
    stored = user.recovery_code_hashes
    assert len(stored) == 10 and not any(code.replace("-", "") in h for code in codes for h in stored)
    assert all(check_password_hash(h, c.replace("-", "")) for h, c in zip(stored, codes, strict=True))
    assert [e.user_id for e in events("totp_enrolled")] == [user.id]
    # The codes are not shown again.
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "剩余恢复码 10 个" in page and not any(code in page for code in codes)


def test_the_provisioning_uri_names_the_site_and_the_user(world, app):
    with app.test_request_context():
        uri = totp.provisioning_uri(world.officer_a, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" and parsed.name == "officer_a" and parsed.issuer == "链招"
    assert parsed.digits == 6 and parsed.interval == 30


# --- sign-in with the second factor ----------------------------------------------------------------


def test_sign_in_needs_the_code_and_a_wrong_one_is_refused_and_logged(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    secret = user.totp_secret
    client = fresh_client()
    _password_step(client, user, next_url="/projects/")
    assert client.get("/").headers["Location"].startswith("/login")  # not signed in yet
    assert "两步验证" in client.get("/login/2fa").get_data(as_text=True)

    wrong = "123456" if code_for(secret, 1) != "123456" else "654321"
    response = client.post("/login/2fa", data={"code": wrong})
    assert response.status_code == 200 and WRONG_CODE in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None
    failed = events("totp_failed", user)[-1]
    assert failed.detail == "登录" and failed.address == "127.0.0.1"

    response = client.post("/login/2fa", data={"code": code_for(secret, 1)})
    assert response.status_code == 302 and response.headers["Location"] == "/projects/"
    assert signed_in_user_id(client) == user.get_id()
    with client.session_transaction() as session:
        assert PENDING_2FA not in session
    assert events("login_ok", user)[-1].detail == "密码 + 两步验证码"


def test_the_same_code_cannot_be_used_twice(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    code = code_for(user.totp_secret, 1)
    first = fresh_client()
    _password_step(first, user)
    assert first.post("/login/2fa", data={"code": code}).status_code == 302
    second = fresh_client()  # someone who saw the code
    _password_step(second, user)
    response = second.post("/login/2fa", data={"code": code})
    assert response.status_code == 200 and WRONG_CODE in response.get_data(as_text=True)
    assert signed_in_user_id(second) is None


def test_the_code_that_confirmed_enrolment_cannot_sign_in(world, login_as, fresh_client):
    user = world.officer_a
    client = login_as(user)
    client.post("/account/2fa/start")
    db.session.refresh(user)
    code = code_for(user.totp_pending_secret)
    client.post("/account/2fa/confirm", data={"code": code})
    other = fresh_client()
    _password_step(other, user)
    assert WRONG_CODE in other.post("/login/2fa", data={"code": code}).get_data(as_text=True)


def test_a_recovery_code_works_once(world, login_as, fresh_client):
    user = world.officer_a
    codes = _enrolled(login_as, user)
    client = fresh_client()
    _password_step(client, user)
    response = client.post("/login/2fa", data={"code": codes[3].upper().replace("-", " ")})  # as a person types it
    assert response.status_code == 302 and signed_in_user_id(client) == user.get_id()
    db.session.refresh(user)
    assert user.recovery_codes_left == 9
    used = events("recovery_code_used", user)
    assert len(used) == 1 and used[0].detail == "剩余 9 个"
    assert events("login_ok", user)[-1].detail == "密码 + 恢复码"

    again = fresh_client()
    _password_step(again, user)
    response = again.post("/login/2fa", data={"code": codes[3]})
    assert response.status_code == 200 and WRONG_CODE in response.get_data(as_text=True)
    assert signed_in_user_id(again) is None
    # Another code still works.
    assert again.post("/login/2fa", data={"code": codes[4]}).status_code == 302


def test_wrong_codes_count_against_the_accounts_throttle(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    client = fresh_client()
    _password_step(client, user)
    good = code_for(user.totp_secret, 1)
    for n in range(5):
        wrong = f"{(int(good) + n + 1) % 1_000_000:06d}"
        assert client.post("/login/2fa", data={"code": wrong}).status_code == 200
    response = client.post("/login/2fa", data={"code": good})
    assert response.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试" in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None
    # The password step is throttled too now.
    assert sign_in(fresh_client(), user.username).status_code == 429


def test_the_pending_second_step_expires(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    client = fresh_client()
    _password_step(client, user)
    with client.session_transaction() as session:
        pending = dict(session[PENDING_2FA])
        pending["since"] = int(time.time()) - 301
        session[PENDING_2FA] = pending
    response = client.post("/login/2fa", data={"code": code_for(user.totp_secret, 1)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert signed_in_user_id(client) is None
    assert "验证已超时" in client.get("/login").get_data(as_text=True)


def test_a_pending_second_step_dies_with_the_users_sessions(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    client = fresh_client()
    _password_step(client, user)
    user.session_version += 1  # an admin's 强制下线, a password change
    db.session.commit()
    response = client.post("/login/2fa", data={"code": code_for(user.totp_secret, 1)})
    assert response.headers["Location"] == "/login" and signed_in_user_id(client) is None


def test_the_second_step_cannot_be_reached_without_the_password(world, client):
    response = client.get("/login/2fa")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.post("/login/2fa", data={"code": "123456"}).headers["Location"] == "/login"
    assert signed_in_user_id(client) is None


def test_the_time_window_accepts_one_step_either_side(world):
    user = world.officer_a
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_enabled_at = secret, user.created_at
    at = 1_900_000_000.0
    generator = pyotp.TOTP(secret)
    assert not totp.verify_totp(user, generator.at(at - 60), now=at)
    assert totp.verify_totp(user, generator.at(at - 30), now=at)
    assert totp.verify_totp(user, generator.at(at + 30), now=at)
    assert not totp.verify_totp(user, generator.at(at), now=at)  # older than the step just used
    assert not totp.verify_totp(user, generator.at(at + 60), now=at)
    assert not totp.verify_totp(user, "12345", now=at) and not totp.verify_totp(user, "abcdef", now=at)


# --- turning it off ---------------------------------------------------------------------------------


def test_disabling_needs_the_password_and_a_code(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    client = login_as(user)
    client.post("/account/2fa/disable", data={"password": "wrong-password-1", "code": code_for(user.totp_secret, 1)})
    db.session.refresh(user)
    assert user.has_totp
    assert events("totp_failed", user)[-1].detail.startswith("停用两步验证")
    client.post("/account/2fa/disable", data={"password": f.PASSWORD, "code": code_for(user.totp_secret, 1)})
    db.session.refresh(user)
    assert not user.has_totp and user.recovery_code_hashes is None
    assert events("totp_disabled", user)[-1].detail == "本人停用"
    assert sign_in(fresh_client(), user.username).headers["Location"] == "/"


def test_the_admin_resets_a_lost_second_factor(world, login_as, fresh_client):
    user = world.officer_a
    _enrolled(login_as, user)
    officer = fresh_client()
    _password_step(officer, user)
    officer.post("/login/2fa", data={"code": code_for(user.totp_secret, 1)})
    assert officer.get("/").status_code == 200
    response = login_as(world.admin).post(f"/admin/users/{user.id}/reset-2fa")
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.has_totp
    assert officer.get("/").headers["Location"].startswith("/login")  # sessions ended
    entry = events("totp_disabled", user)[-1]
    assert "admin_t" in entry.detail and "重置" in entry.detail
    assert sign_in(fresh_client(), user.username).headers["Location"] == "/"


# --- required for the chief and the admin -----------------------------------------------------------


def _require_for(zone):
    zone.require_2fa_privileged = True
    db.session.commit()


def test_a_chief_whose_zone_requires_it_can_use_nothing_until_enrolled(world, client):
    _require_for(world.zone_a)
    assert sign_in(client, "chief_a").headers["Location"] == "/"
    for path in ("/", "/projects/", "/visits/", "/account/password", "/reports/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/2fa", path
    page = client.get("/account/2fa")
    assert page.status_code == 200 and "必须启用两步验证" in page.get_data(as_text=True)
    enrol(client, world.chief_a)
    assert client.get("/").status_code == 200
    # And from now on the chief signs in with a code.
    client.post("/logout")
    assert sign_in(client, "chief_a").headers["Location"] == "/login/2fa"


def test_sign_out_stays_open_while_enrolment_is_owed(world, client):
    _require_for(world.zone_a)
    sign_in(client, "chief_a")
    assert client.post("/logout").headers["Location"] == "/login"
    assert signed_in_user_id(client) is None


def test_the_requirement_touches_only_that_zones_chief(world, fresh_client):
    _require_for(world.zone_a)
    for username in ("officer_a", "viewer_a", "chief_b"):
        client = fresh_client()
        sign_in(client, username)
        assert client.get("/").status_code == 200, username


def test_a_required_user_cannot_turn_it_off(world, client):
    _require_for(world.zone_a)
    sign_in(client, "chief_a")
    enrol(client, world.chief_a)
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "停用两步验证" not in page
    client.post("/account/2fa/disable", data={"password": f.PASSWORD, "code": code_for(world.chief_a.totp_secret, 1)})
    db.session.refresh(world.chief_a)
    assert world.chief_a.has_totp


@pytest.mark.parametrize("how", ["any-zone", "config"])
def test_the_admin_must_enrol_when_any_zone_or_the_config_asks(world, app, client, monkeypatch, how):
    if how == "config":
        monkeypatch.setitem(app.config, "REQUIRE_2FA_ADMIN", True)
    else:
        _require_for(world.zone_b)
    sign_in(client, "admin_t")
    assert client.get("/admin/users").headers["Location"] == "/account/2fa"


def test_without_a_requirement_nobody_is_sent_to_enrol(world, fresh_client):
    for username in ("admin_t", "chief_a"):
        client = fresh_client()
        sign_in(client, username)
        assert client.get("/").status_code == 200


def test_the_admin_sets_the_zone_requirement_on_the_zones_page(world, login_as):
    admin = login_as(world.admin)
    page = admin.get("/admin/zones").get_data(as_text=True)
    assert world.zone_a.name in page and "两步验证" in page
    response = admin.post(f"/admin/zones/{world.zone_a.id}/2fa", data={"require_2fa_privileged": "y"})
    assert response.status_code == 302
    db.session.refresh(world.zone_a)
    assert world.zone_a.require_2fa_privileged
    admin.post(f"/admin/zones/{world.zone_a.id}/2fa", data={})
    db.session.refresh(world.zone_a)
    assert not world.zone_a.require_2fa_privileged


@pytest.mark.parametrize("username", ["chief_a", "officer_a", "viewer_a"])
def test_only_the_admin_may_change_the_requirement(world, login_as, username):
    user = {"chief_a": world.chief_a, "officer_a": world.officer_a, "viewer_a": world.viewer_a}[username]
    client = login_as(user)
    assert client.get("/admin/zones").status_code == 403
    assert client.post(f"/admin/zones/{world.zone_a.id}/2fa", data={"require_2fa_privileged": "y"}).status_code == 403
    db.session.refresh(world.zone_a)
    assert not world.zone_a.require_2fa_privileged


def test_totp_secrets_are_stored_encrypted(world):
    """SECURITY.md listed this as partly met: the secret sat in the database as typed into the app."""
    from sqlalchemy import text

    secret = totp.begin_enrolment(world.officer_a)
    db.session.flush()
    stored = db.session.execute(text("SELECT totp_pending_secret FROM users WHERE id = :id"),
                                {"id": world.officer_a.id}).scalar_one()
    assert secret not in stored and stored.startswith("gAAAAA")  # a Fernet token
    db.session.expire_all()
    assert db.session.get(type(world.officer_a), world.officer_a.id).totp_pending_secret == secret


def test_a_rotated_key_still_reads_old_secrets(app):
    from crm.accounts import crypto

    old, new = crypto.new_key(), crypto.new_key()
    token = crypto.encrypt("JBSWY3DPEHPK3PXP", old)
    assert crypto.decrypt(token, f"{new},{old}") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(RuntimeError, match="does not decrypt"):
        crypto.decrypt(token, new)


def test_rotating_keys_reencrypts_stored_secrets(app, world):
    from sqlalchemy import text

    from crm.accounts import crypto
    from crm.cli import rotate_totp_keys

    secret = totp.begin_enrolment(world.officer_a)
    db.session.commit()
    old = app.config["TOTP_ENCRYPTION_KEYS"]
    new = crypto.new_key()
    app.config["TOTP_ENCRYPTION_KEYS"] = f"{new},{old}"
    try:
        result = app.test_cli_runner().invoke(rotate_totp_keys)
        assert result.exit_code == 0 and "1 个账号" in result.output
        stored = db.session.execute(text("SELECT totp_pending_secret FROM users WHERE id = :id"),
                                    {"id": world.officer_a.id}).scalar_one()
        assert crypto.decrypt(stored, new) == secret  # the old key is no longer needed
    finally:
        app.config["TOTP_ENCRYPTION_KEYS"] = old
