"""Another process holds the database's write lock while users save and sign in.

The lock is held by a worker process (tests/concurrency/workers.py, ``hold_lock``): on SQLite a BEGIN
IMMEDIATE, on PostgreSQL every table locked IN EXCLUSIVE MODE; readers go on in both. The users' requests
run here through the app's test client, with a short lock wait (SQLITE_BUSY_TIMEOUT_MS,
POSTGRES_LOCK_TIMEOUT_MS) to keep the suite fast.

What must hold: a lock that outlasts the wait is "系统繁忙，请稍后重试" beside the form the user posted,
with what they typed, never a 500 and never half a save; a lock that clears within the wait is waited
for, and the save or sign-in goes through.
"""
from __future__ import annotations

import multiprocessing
import time
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests.concurrency import workers
from tests.concurrency.databases import backends, scratch_database

pytestmark = pytest.mark.no_db

PASSWORD = "correct-horse-42"
BUSY = "系统繁忙，请稍后重试"
SHORT_WAIT_MS = 300  # the lock outlasts it
LONG_WAIT_MS = 8000  # the lock clears well within it
BRIEF_LOCK_SECONDS = 0.8


BACKENDS = backends("busy")


@pytest.fixture(params=BACKENDS, scope="module")
def database(request, tmp_path_factory):
    yield from scratch_database(request.param, tmp_path_factory, "busy")


def _app(database, wait_ms):
    from crm import create_app

    # As in production: an unhandled error is a 500 page, not an exception in the test client.
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database, "PROPAGATE_EXCEPTIONS": False,
                                  "SQLITE_BUSY_TIMEOUT_MS": wait_ms, "POSTGRES_LOCK_TIMEOUT_MS": wait_ms})


@pytest.fixture(scope="module")
def world(database):
    """The schema by migration; a zone with an officer who saves and one who signs in; a project."""
    from flask_migrate import upgrade

    from crm.audit.log import acting_as
    from crm.extensions import db
    from tests import factories as f

    app = _app(database, SHORT_WAIT_MS)
    with app.app_context():
        upgrade()
        with acting_as(db.session, None):
            zone = f.make_zone("繁忙园区")
            saver = f.make_user("officer", [zone], username="saver")
            f.make_user("officer", [zone], username="signer")
            enterprise = f.make_enterprise(saver, name="锁等待测试铝业有限公司")
            project = f.make_project(saver, enterprise, name="锁等待测试项目")
        db.session.commit()
        ids = {"project": project.id, "enterprise": enterprise.id}
        db.session.remove()
        db.engine.dispose()
    return ids


@pytest.fixture(scope="module")
def held(database, world):
    """``with held():`` the lock is held by the worker until the block ends; ``held(seconds)`` for that
    long from the moment it was taken (the block may outlast it)."""
    context = multiprocessing.get_context("spawn")
    commands, results = context.Queue(), context.Queue()
    process = context.Process(target=workers.hold_lock, args=(database, commands, results), daemon=True)
    process.start()

    def answer():
        message = results.get(timeout=60)
        assert "error" not in message, message["error"]
        return message

    assert answer() == {"ready": True}

    @contextmanager
    def hold(seconds: float | None = None):
        commands.put({"seconds": seconds})
        assert answer() == {"locked": True}
        try:
            yield
        finally:
            if seconds is None:
                commands.put({"release": True})
            assert answer() == {"released": True}

    yield hold
    commands.put(None)
    process.join(timeout=10)
    if process.is_alive():
        process.kill()


@pytest.fixture(scope="module")
def impatient(database, world):
    app = _app(database, SHORT_WAIT_MS)
    yield app
    _dispose(app)


@pytest.fixture(scope="module")
def patient(database, world):
    app = _app(database, LONG_WAIT_MS)
    yield app
    _dispose(app)


def _dispose(app):
    from crm.extensions import db

    with app.app_context():
        db.engine.dispose()


def _signed_in(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _state(app, world) -> dict:
    """Everything a save or a sign-in would change."""
    from crm.accounts.models import User
    from crm.accounts.security_events import SecurityEvent
    from crm.audit.models import AuditEntry
    from crm.extensions import db
    from crm.pipeline.models import Project
    from crm.visits.models import Visit

    with app.app_context():
        try:
            project = db.session.execute(select(Project.name, Project.version)
                                         .where(Project.id == world["project"])).one()
            return {
                "project": tuple(project),
                "visits": db.session.scalar(select(func.count()).select_from(Visit)),
                "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
                "security_events": db.session.scalar(select(func.count()).select_from(SecurityEvent)),
                "signer_last_login": db.session.scalar(select(User.last_login_at).where(User.username == "signer")),
            }
        finally:
            db.session.remove()


def _edit(world, version, name):
    return f"/projects/{world['project']}/edit", {"name": name, "source": "其他", "priority": "中",
                                                 "version": str(version)}


def _new_visit(world, summary):
    import uuid

    return (f"/visits/new?enterprise_id={world['enterprise']}",
            {"kind": "上门拜访", "visit_date": date.today().isoformat(), "summary": summary, "project_id": "0",
             "submission_token": uuid.uuid4().hex[:32]})


def test_the_lock_wait_is_the_setting(impatient, patient, database):
    from crm.extensions import db

    show = "PRAGMA busy_timeout" if database.startswith("sqlite") else "SHOW lock_timeout"
    expected = {"sqlite": (str(SHORT_WAIT_MS), str(LONG_WAIT_MS)), "postgresql": ("300ms", "8s")}
    for app, want in zip((impatient, patient), expected[database.split(":")[0].split("+")[0]]):
        with app.app_context():
            assert str(db.session.execute(text(show)).scalar()) == want
            db.session.remove()


def test_lock_outlasting_the_wait_shows_the_form_again_with_what_was_typed(world, impatient, held):
    saver = _signed_in(impatient, "saver")
    signer = impatient.test_client()
    before = _state(impatient, world)
    edit_path, edit_data = _edit(world, before["project"][1], "锁等待中改的项目名")
    visit_path, visit_data = _new_visit(world, "锁等待中写下的走访纪要")
    with held():
        started = time.monotonic()
        edited = saver.post(edit_path, data=edit_data)
        logged = saver.post(visit_path, data=visit_data)
        signed = signer.post("/login", data={"username": "signer", "password": PASSWORD})
        signed_out = saver.post("/logout")  # no form to show again: the busy page
        elapsed = time.monotonic() - started

    for response, typed in ((edited, 'value="锁等待中改的项目名"'), (logged, "锁等待中写下的走访纪要"),
                            (signed, 'value="signer"')):
        body = response.get_data(as_text=True)
        assert response.status_code == 200, body
        assert body.count(BUSY) == 1 and typed in body
        assert body.index(BUSY) < body.index(typed)  # at the top of the form
        assert "表单有误" not in body and "database is locked" not in body
    assert signed_out.status_code == 503 and signed_out.headers["Retry-After"].isdigit()
    assert BUSY in signed_out.get_data(as_text=True)
    assert elapsed >= 4 * SHORT_WAIT_MS / 1000  # each waited for the lock before giving up

    assert _state(impatient, world) == before  # nothing half-saved, nothing logged
    assert signer.get("/").status_code == 302  # not signed in
    assert saver.get("/").status_code == 200  # still signed in: the sign-out was not done
    # Sent again once the lock is gone, the same form goes through.
    assert saver.post(edit_path, data=edit_data).status_code == 302
    assert signer.post("/login", data={"username": "signer", "password": PASSWORD}).status_code == 302
    after = _state(impatient, world)
    assert after["project"] == ("锁等待中改的项目名", before["project"][1] + 1)
    assert after["signer_last_login"] is not None


def test_lock_released_within_the_wait_is_waited_for(world, patient, held):
    saver = _signed_in(patient, "saver")
    before = _state(patient, world)
    edit_path, edit_data = _edit(world, before["project"][1], "等锁放开后保存的项目名")
    with held(BRIEF_LOCK_SECONDS):
        started = time.monotonic()
        edited = saver.post(edit_path, data=edit_data)
        waited = time.monotonic() - started
    assert edited.status_code == 302, edited.get_data(as_text=True)
    assert waited >= BRIEF_LOCK_SECONDS / 2
    with held(BRIEF_LOCK_SECONDS):
        signer = patient.test_client()
        signed = signer.post("/login", data={"username": "signer", "password": PASSWORD})
    assert signed.status_code == 302, signed.get_data(as_text=True)
    assert BUSY not in saver.get(edited.headers["Location"]).get_data(as_text=True)
    after = _state(patient, world)
    assert after["project"] == ("等锁放开后保存的项目名", before["project"][1] + 1)
    assert after["signer_last_login"] != before["signer_last_login"]
    assert signer.get("/").status_code == 200
