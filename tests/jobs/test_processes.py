"""Jobs across processes, as in production: nothing is kept on one process's disk or in its memory.

1. A worker killed in the middle of an import (its rows written in its transaction, not committed)
   leaves no data; the sweep marks the job failed with the reason; a new worker runs the retry to the
   end. SQLite (a queue file beside it) always; PostgreSQL too when TEST_DATABASE_URL names one.
2. Two app processes and one worker on one PostgreSQL and one Redis: upload on the first, preview on
   the second (the dry run ran on the worker, its plan stored once in the database), commit on the
   worker, and a ledger export downloaded on either. Skipped, with the reason, only when PostgreSQL or
   Redis does not answer (CI has both).

The schema is built here by the Alembic migrations, in databases of their own, not the shared fixture's.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import time

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests import factories as f
from tests.imports.builders import xlsx
from tests.jobs import processes

pytestmark = pytest.mark.no_db

PG_DATABASE = "test_jobs_processes"
REDIS_URL = os.environ.get("JOBS_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ROWS = [["项目名称", "企业名称", "阶段"],
        ["多进程导入项目一", "多进程导入企业一有限公司", "线索"],
        ["多进程导入项目二", "多进程导入企业二有限公司", "接洽"]]


def _postgres_server() -> str | None:
    """A PostgreSQL server URL (TEST_DATABASE_URL's, else the local one), or None when none answers."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    url = url if url.startswith("postgresql") else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    try:
        engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT",
                               connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return None
    return url


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture
def pg_database():
    server = _postgres_server()
    if server is None:
        pytest.skip("PostgreSQL does not answer (TEST_DATABASE_URL or 127.0.0.1:5432)")
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    try:
        yield make_url(server).set(database=PG_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def _world(url: str, queue_url: str):
    """The schema by migration; a zone with an officer and a chief. The test's own app, for its reads."""
    from flask_migrate import upgrade

    from crm import create_app
    from crm.audit.log import acting_as
    from crm.extensions import db

    app = create_app("testing", processes.settings(url, queue_url))
    with app.app_context():
        upgrade()
        with acting_as(db.session, None):
            zone = f.make_zone("多进程园区")
            officer = f.make_user("officer", [zone], username="proc_officer")
            chief = f.make_user("chief", [zone], username="proc_chief")
        db.session.commit()
        ids = {"zone": zone.id, "officer": officer.id, "chief": chief.id}
        db.session.remove()
    return app, ids


def _read(app, function):
    from crm.extensions import db

    with app.app_context():
        try:
            return function(db.session)
        finally:
            db.session.remove()


def _wait(predicate, timeout: float = 90.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _job_state(app, job_id):
    from crm.jobs.models import Job

    return _read(app, lambda s: s.execute(select(Job.state, Job.error, Job.worker).where(Job.id == job_id)).one())


def _imported(app) -> tuple[int, int]:
    from crm.imports.models import ImportBatch
    from crm.pipeline.models import Project

    return _read(app, lambda s: (s.scalar(select(func.count()).select_from(ImportBatch)),
                                 s.scalar(select(func.count()).select_from(Project)
                                          .where(Project.name.like("多进程导入项目%")))))


def _stop(process) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=10)


# ----- 1. a worker killed mid-job ---------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return request.getfixturevalue("pg_database")


def test_a_worker_killed_mid_import_leaves_no_data_and_the_retry_completes(database, tmp_path):
    queue_url = f"sqlite:///{tmp_path / 'queue.db'}"
    app, ids = _world(database, queue_url)
    from crm.accounts.models import User
    from crm.accounts.zones import Zone
    from crm.extensions import db
    from crm.imports.uploads import save_upload
    from crm.jobs import service as jobs

    with app.app_context():
        officer, zone = db.session.get(User, ids["officer"]), db.session.get(Zone, ids["zone"])
        upload = save_upload(officer, zone, "projects", "多进程台账.xlsx", xlsx(ROWS), local=False)
        job = jobs.create_job(officer, "import_commit", {"upload_id": upload.id}, title="导入：多进程台账.xlsx")
        db.session.commit()
        job_id = job.id
        jobs.start(job)  # onto the queue file; no worker in this process
        db.session.remove()

    context = multiprocessing.get_context("spawn")
    paused = context.Event()
    # Pause right after the last progress report of the commit: every row is written in the worker's
    # transaction, nothing committed yet.
    doomed = context.Process(target=processes.worker_process, args=(database, queue_url, "写入完成", paused),
                             daemon=True)
    doomed.start()
    try:
        assert paused.wait(90), "the worker never reached the end of its writes"
        state, _, worker = _job_state(app, job_id)
        assert state == "running" and worker.endswith(f":{doomed.pid}")
        doomed.kill()  # SIGKILL: no clean-up, no rollback by the process itself
        doomed.join(timeout=10)
    finally:
        _stop(doomed)

    assert _imported(app) == (0, 0)  # the database dropped the dead worker's transaction
    time.sleep(3.5)  # JOBS_STALE_SECONDS: the heartbeat has stopped
    with app.app_context():
        assert jobs.sweep() == 1
        db.session.remove()
    state, error, _ = _job_state(app, job_id)
    assert state == "failed" and error == jobs.VANISHED and _imported(app) == (0, 0)

    with app.app_context():  # the owner presses 重试; a new worker takes it
        from crm.jobs.models import Job

        assert jobs.retry(db.session.get(Job, job_id))
        db.session.commit()
        jobs.start(db.session.get(Job, job_id))
        db.session.remove()
    worker = context.Process(target=processes.worker_process, args=(database, queue_url), daemon=True)
    worker.start()
    try:
        _wait(lambda: _job_state(app, job_id)[0] in ("done", "failed"), what="the retried job")
        state, error, name = _job_state(app, job_id)
        assert (state, error) == ("done", None) and name.endswith(f":{worker.pid}")
        assert _imported(app) == (1, 2)
    finally:
        _stop(worker)
        with app.app_context():
            db.engine.dispose()


# ----- 2. two app processes and a worker on PostgreSQL and Redis ---------------------------------------
def test_upload_on_one_app_preview_on_another_commit_on_the_worker_download_on_either(pg_database):
    if not _redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this test's own database number
    app, ids = _world(pg_database, REDIS_URL)
    context = multiprocessing.get_context("spawn")
    results = {"a": context.Queue(), "b": context.Queue()}
    commands = {"a": context.Queue(), "b": context.Queue()}
    apps = {name: context.Process(target=processes.app_process,
                                  args=(pg_database, REDIS_URL, f.PASSWORD, commands[name], results[name]), daemon=True)
            for name in ("a", "b")}
    worker = context.Process(target=processes.worker_process, args=(pg_database, REDIS_URL), daemon=True)
    for process in (*apps.values(), worker):
        process.start()

    def ask(name, user, method, path, data=None):
        commands[name].put({"user": user, "method": method, "path": path, "data": data})
        answer = results[name].get(timeout=90)
        assert "error" not in answer, answer.get("error")
        return answer

    try:
        for name in apps:
            assert results[name].get(timeout=90) == {"ready": True}
        # Upload on A: the file goes into the database and its dry run onto the queue.
        answer = ask("a", "proc_officer", "post", "/imports/",
                     {"file": (xlsx(ROWS), "多进程台账.xlsx"), "kind": "projects"})
        token = re.fullmatch(r".*/imports/([A-Za-z0-9_-]{32})", answer["location"]).group(1)
        # Preview on B, once the worker has planned it.
        preview = _wait(lambda: (lambda r: r if "检查通过" in r.get("text", "") else None)(
            ask("b", "proc_officer", "get", f"/imports/{token}")), what="the dry run's plan")
        assert preview["status"] == 200 and "新建项目 2 条" in preview["text"]
        report = ask("b", "proc_officer", "get", f"/imports/{token}/report.xlsx")
        assert report["status"] == 200 and report["mimetype"].endswith("spreadsheetml.sheet")
        # Commit from B: a job for the worker.
        answer = ask("b", "proc_officer", "post", f"/imports/{token}/commit")
        commit_job = int(re.search(r"/jobs/(\d+)$", answer["location"]).group(1))

        status = _wait(lambda: (lambda s: s if s["finished"] else None)(json.loads(
            ask("a", "proc_officer", "get", f"/jobs/{commit_job}.json")["text"])), what="the commit job")
        assert status["state"] == "done", status
        batch = ask("a", "proc_officer", "get", status["result_url"])
        assert batch["status"] == 200 and "多进程导入项目一" in batch["text"]
        assert _imported(app) == (1, 2)
        state, _, ran_on = _job_state(app, commit_job)
        assert ran_on.endswith(f":{worker.pid}")  # the worker committed it, not an app process
        # A ledger export asked on A, followed on B, downloaded on either.
        month = time.strftime("%Y-%m")
        answer = ask("a", "proc_chief", "post", "/reports/ledger.xlsx", {"month": month})
        ledger_job = int(re.search(r"/jobs/(\d+)$", answer["location"]).group(1))
        _wait(lambda: json.loads(ask("b", "proc_chief", "get", f"/jobs/{ledger_job}.json")["text"])["finished"],
              what="the ledger job")
        downloads = [ask(name, "proc_chief", "get", f"/jobs/{ledger_job}/download") for name in ("a", "b")]
        assert [d["status"] for d in downloads] == [200, 200]
        assert downloads[0]["sha256"] == downloads[1]["sha256"] and downloads[0]["size"] > 1000
        # The officer, on either app, does not see the chief's job.
        assert ask("b", "proc_officer", "get", f"/jobs/{ledger_job}/download")["status"] == 404
    finally:
        for name in apps:
            commands[name].put(None)
        for process in (*apps.values(), worker):
            _stop(process)
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()
