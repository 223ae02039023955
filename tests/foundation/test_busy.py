"""A lock error at any point of a request is "系统繁忙，请稍后重试", never a 500 (crm/busy.py).

Here the database's refusal is simulated where it surfaces (the commit, a service's flush, a read
page, a JSON call); tests/concurrency/test_busy_database.py has another process really hold the lock.
"""
from __future__ import annotations

import sqlite3
import uuid
from datetime import date

import flask_sqlalchemy.session
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from crm.busy import BUSY_MESSAGE, is_lock_error
from crm.extensions import db
from crm.visits import service as visit_service
from crm.visits.models import Visit


def _locked(statement="UPDATE visits SET summary=?"):
    return OperationalError(statement, {}, sqlite3.OperationalError("database is locked"))


@pytest.fixture
def commit_meets_lock(monkeypatch):
    """The next commit flushes, then finds the database locked."""
    real_commit = flask_sqlalchemy.session.Session.commit
    calls = []

    def commit(session):
        if not calls:
            calls.append(1)
            session.flush()
            raise _locked("COMMIT")
        return real_commit(session)

    monkeypatch.setattr(flask_sqlalchemy.session.Session, "commit", commit)
    return calls


def test_edit_form_whose_commit_meets_a_lock_is_shown_again(world, login_as, commit_meets_lock):
    client = login_as(world.officer_a)
    visit = world.visit_a
    response = client.post(f"/visits/{visit.id}/edit", data={
        "kind": "电话", "visit_date": date.today().isoformat(), "summary": "锁住时写下的纪要",
        "version": str(visit.version)})
    body = response.get_data(as_text=True)
    assert commit_meets_lock  # the commit was reached, and refused
    assert response.status_code == 200
    assert body.count(BUSY_MESSAGE) == 1 and "锁住时写下的纪要" in body
    assert "表单有误" not in body
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).summary == "甲园走访"  # the flushed change was rolled back


def test_what_the_refused_attempt_flashed_is_not_shown(world, login_as, monkeypatch):
    from flask import flash

    def saved_then_locked(*args, **kwargs):
        flash("走访记录已保存（不该出现）", "success")
        raise _locked()

    monkeypatch.setattr(visit_service, "update_visit", saved_then_locked)
    client = login_as(world.officer_a)
    response = client.post(f"/visits/{world.visit_a.id}/edit", data={
        "kind": "电话", "visit_date": date.today().isoformat(), "summary": "改过的纪要",
        "version": str(world.visit_a.version)})
    body = response.get_data(as_text=True)
    assert BUSY_MESSAGE in body and "不该出现" not in body
    assert "不该出现" not in client.get("/").get_data(as_text=True)


def test_create_form_whose_service_meets_a_lock_is_shown_again(world, login_as, monkeypatch):
    def locked(*args, **kwargs):
        raise _locked("INSERT INTO visits")

    monkeypatch.setattr(visit_service, "create_visit", locked)
    client = login_as(world.officer_a)
    before = db.session.scalar(select(func.count()).select_from(Visit))
    response = client.post(f"/visits/new?enterprise_id={world.enterprise.id}", data={
        "kind": "上门拜访", "visit_date": date.today().isoformat(), "summary": "锁住时新写的走访",
        "project_id": "0", "submission_token": uuid.uuid4().hex})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert BUSY_MESSAGE in body and "锁住时新写的走访" in body
    assert db.session.scalar(select(func.count()).select_from(Visit)) == before


def test_form_posted_from_another_page_gets_the_message_as_a_flash(world, login_as, monkeypatch):
    def locked(*args, **kwargs):
        raise _locked()

    monkeypatch.setattr(visit_service, "complete_next_step", locked)
    client = login_as(world.officer_a)
    response = client.post(f"/visits/{world.visit_a.id}/done", data={"next": ""})  # as the page's button sends it
    assert response.status_code == 302
    assert BUSY_MESSAGE in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_write_without_a_form_to_show_is_503_with_retry_after(world, login_as, monkeypatch):
    from crm.accounts import views as auth_views

    def locked(user):
        raise _locked("UPDATE users")

    monkeypatch.setattr(auth_views, "end_sessions", locked)
    client = login_as(world.officer_a)
    response = client.post("/logout")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert BUSY_MESSAGE in response.get_data(as_text=True)


def test_json_call_that_meets_a_lock_is_503_json(world, login_as, monkeypatch):
    from crm.catalog.models import Chain
    from crm.chains import gaps

    def locked(*args, **kwargs):
        raise _locked("SELECT")

    monkeypatch.setattr(gaps, "map_data", locked)
    code = db.session.scalars(select(Chain.code)).first()
    client = login_as(world.admin)
    response = client.get(f"/chains/{code}/graph.json", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json() == {"error": BUSY_MESSAGE}
    assert int(response.headers["Retry-After"]) > 0


def test_other_database_errors_stay_server_errors(world, login_as, monkeypatch, app):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: visits"))

    monkeypatch.setattr(visit_service, "complete_next_step", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = login_as(world.officer_a).post(f"/visits/{world.visit_a.id}/done")
    assert response.status_code == 500
    assert BUSY_MESSAGE not in response.get_data(as_text=True)


class _PostgresError(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("original, locked", [
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("database table is locked: visits"), True),
    (sqlite3.OperationalError("no such column: x"), False),
    (_PostgresError("55P03"), True),  # lock_timeout
    (_PostgresError("40001"), True),  # serialization failure
    (_PostgresError("40P01"), True),  # deadlock
    (_PostgresError("23505"), False),  # unique violation
])
def test_lock_errors_are_told_from_others(original, locked):
    assert is_lock_error(OperationalError("UPDATE x", {}, original)) is locked
    assert is_lock_error(original) is False  # only as SQLAlchemy raises it


def test_a_page_without_the_forms_message_shows_it_once_at_the_top(app):
    from flask import g, render_template_string

    from crm import busy

    page = '{% extends "base.html" %}{% block content %}<p>上传台账</p>{% endblock %}'
    with_form = ('{% extends "base.html" %}{% from "macros.html" import form_errors %}'
                 '{% block content %}{{ form_errors(form) }}<p>表单</p>{% endblock %}')
    with app.test_request_context("/imports/", method="POST"):
        g.setdefault(busy._FLAG, True)
        from crm.forms import DeleteForm

        form = DeleteForm(meta={"csrf": False})
        assert form.validate() is False
        shown = render_template_string(page)
        assert shown.count(BUSY_MESSAGE) == 1 and shown.index(BUSY_MESSAGE) < shown.index("上传台账")
        in_form = render_template_string(with_form, form=form)
        assert in_form.count(BUSY_MESSAGE) == 1 and "表单有误" not in in_form
