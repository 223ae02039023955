"""修改密码 for every user, and the admin's hold on accounts: forced change, reset, disable."""
from __future__ import annotations

from werkzeug.security import check_password_hash

from crm.extensions import db
from tests import factories as f
from tests.security.conftest import events, sign_in, signed_in_user_id


def _edit(user, **changes):
    data = {"display_name": user.display_name, "role": user.role, "zone_ids": user.zone_ids, "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _change(client, current=f.PASSWORD, new="a-brand-new-pass-5", confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm": new if confirm is None else confirm})


def test_every_role_can_change_their_own_password(world, fresh_client):
    for user in (world.officer_a, world.chief_a, world.viewer_a, world.admin):
        client = fresh_client()
        sign_in(client, user.username)
        page = client.get("/account/password")
        assert page.status_code == 200 and "修改密码" in page.get_data(as_text=True)
        assert _change(client).headers["Location"] == "/"
        db.session.refresh(user)
        assert check_password_hash(user.password_hash, "a-brand-new-pass-5")


def test_the_change_needs_the_current_password_and_counts_a_wrong_one(world, client):
    sign_in(client, "officer_a")
    for n in range(5):
        response = _change(client, current=f"wrong-password-{n}")
        assert response.status_code == 200 and "当前密码不正确" in response.get_data(as_text=True)
    response = _change(client)
    assert response.status_code == 429 and "登录失败次数过多" in response.get_data(as_text=True)
    db.session.refresh(world.officer_a)
    assert check_password_hash(world.officer_a.password_hash, f.PASSWORD)
    assert events("password_changed") == []


def test_the_new_password_obeys_the_policy(world, client):
    sign_in(client, "officer_a")
    for new, message in (("Short-7", "密码至少 8 位"), ("y" * 65, "密码最多 64 位"), ("password123", "常见密码"),
                         ("officer_a!!", "密码不能包含用户名"), (f.PASSWORD, "不能与当前密码相同")):
        response = _change(client, new=new)
        assert response.status_code == 200 and message in response.get_data(as_text=True), new
    response = _change(client, new="a-brand-new-pass-5", confirm="a-brand-new-pass-6")
    assert "两次输入的新密码不一致" in response.get_data(as_text=True)
    db.session.refresh(world.officer_a)
    assert check_password_hash(world.officer_a.password_hash, f.PASSWORD)


# --- forced change ------------------------------------------------------------------------------------


def test_a_user_the_admin_marks_must_change_before_anything_else(world, login_as, fresh_client):
    officer = fresh_client()
    sign_in(officer, "officer_a")
    admin = login_as(world.admin)
    page = admin.get(f"/admin/users/{world.officer_a.id}").get_data(as_text=True)
    assert "下次登录时必须修改密码" in page
    admin.post(f"/admin/users/{world.officer_a.id}", data=_edit(world.officer_a, must_change_password="y"))
    db.session.refresh(world.officer_a)
    assert world.officer_a.must_change_password
    for path in ("/", "/projects/", f"/projects/{world.project_a.id}", "/account/2fa"):
        response = officer.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/password", path
    project = world.project_a
    response = officer.post(f"/projects/{project.id}/edit", data={
        "name": "改名", "source": "其他", "priority": "高", "version": project.version})
    assert response.headers["Location"] == "/account/password"
    db.session.refresh(project)
    assert project.name != "改名"
    page = officer.get("/account/password").get_data(as_text=True)
    assert "管理员要求您修改密码" in page
    assert _change(officer).headers["Location"] == "/"
    assert officer.get("/").status_code == 200
    db.session.refresh(world.officer_a)
    assert not world.officer_a.must_change_password


def test_sign_out_stays_open_while_a_change_is_owed(world, client):
    world.officer_a.must_change_password = True
    db.session.commit()
    sign_in(client, "officer_a")
    assert client.post("/logout").headers["Location"] == "/login"
    assert signed_in_user_id(client) is None


def test_an_admin_reset_forces_a_change_and_is_logged(world, login_as, fresh_client):
    admin = login_as(world.admin)
    admin.post(f"/admin/users/{world.officer_a.id}", data=_edit(world.officer_a, password="set-by-admin-42"))
    db.session.refresh(world.officer_a)
    assert world.officer_a.must_change_password
    [reset] = events("password_reset_by_admin")
    assert reset.user_id == world.officer_a.id and "admin_t" in reset.detail
    officer = fresh_client()
    assert sign_in(officer, "officer_a", "set-by-admin-42").headers["Location"] == "/"
    assert officer.get("/").headers["Location"] == "/account/password"
    assert _change(officer, current="set-by-admin-42").headers["Location"] == "/"
    assert officer.get("/").status_code == 200


def test_the_admin_can_lift_a_forced_change(world, login_as):
    world.officer_a.must_change_password = True
    db.session.commit()
    login_as(world.admin).post(f"/admin/users/{world.officer_a.id}", data=_edit(world.officer_a))
    db.session.refresh(world.officer_a)
    assert not world.officer_a.must_change_password


def test_disabling_a_user_is_logged(world, login_as):
    admin = login_as(world.admin)
    admin.post(f"/admin/users/{world.officer_a.id}", data=_edit(world.officer_a, active=None))
    [disabled] = events("user_disabled")
    assert disabled.user_id == world.officer_a.id and "admin_t" in disabled.detail
    # Saving the still-disabled user again is no new event.
    admin.post(f"/admin/users/{world.officer_a.id}", data=_edit(world.officer_a, active=None))
    assert len(events("user_disabled")) == 1


def test_the_user_list_shows_two_factor_and_forced_change(world, login_as):
    world.officer_a.must_change_password = True
    db.session.commit()
    page = login_as(world.admin).get("/admin/users").get_data(as_text=True)
    assert "两步验证" in page and "须改密码" in page
