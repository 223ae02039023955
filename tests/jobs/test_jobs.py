"""Jobs in one process (the tests' queue is immediate: a job runs when it is queued, in the test's
transaction): states, the progress JSON, download, cancel between stages, retry, a vanished worker,
scoping (another person's job is 404), CSRF on the job's POST forms."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.db import utcnow
from crm.extensions import db
from crm.imports.models import ImportBatch, ImportUpload
from crm.imports.uploads import save_upload
from crm.jobs import service as jobs
from crm.jobs.models import Job, JobFile
from crm.pipeline.models import Project
from tests.imports.builders import xlsx

MONTH = utcnow().strftime("%Y-%m")
ROWS = [["项目名称", "企业名称", "阶段"],
        ["任务导入项目一", "任务导入企业一有限公司", "线索"],
        ["任务导入项目二", "任务导入企业二有限公司", "接洽"]]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _job_id(response) -> int:
    return int(re.search(r"/jobs/(\d+)", response.headers["Location"]).group(1))


def _upload(world, user=None, rows=ROWS) -> ImportUpload:
    upload = save_upload(user or world.officer_a, world.zone_a, "projects", "任务台账.xlsx", xlsx(rows), local=False)
    db.session.commit()
    return upload


def _queued_commit(world, upload, user=None) -> Job:
    job = jobs.create_job(user or world.officer_a, "import_commit", {"upload_id": upload.id}, title="导入：任务台账.xlsx",
                          zone_id=world.zone_a.id)
    db.session.commit()
    return job


# ----- states and results ---------------------------------------------------------------------
def test_a_ledger_export_job_runs_and_offers_its_file_for_download(world, login_as):
    client = login_as(world.chief_a)
    response = client.post("/reports/ledger.xlsx", data={"month": MONTH})
    job = db.session.get(Job, _job_id(response))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}/download")  # done already: straight to the file
    assert (job.state, job.owner_id, job.kind, job.finished_at is not None) == ("done", world.chief_a.id,
                                                                               "ledger_export", True)
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "汇总" in load_workbook(io.BytesIO(download.data)).sheetnames
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in page and 'data-testid="job-download"' in page and "取消任务" not in page
    listing = client.get("/jobs/").get_data(as_text=True)
    assert f"/jobs/{job.id}" in listing and "招商项目台账" in listing


def test_the_progress_json_tells_rows_done_of_total_stage_and_time_left(world, login_as):
    job = Job(kind="import_commit", title="进度", owner_id=world.officer_a.id, state="running", params={},
              done=50, total=200, stage="写入数据", started_at=utcnow() - timedelta(seconds=10),
              heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    client = login_as(world.officer_a)
    data = client.get(f"/jobs/{job.id}.json").get_json()
    assert (data["state"], data["done"], data["total"], data["percent"], data["stage"], data["finished"]) == \
        ("running", 50, 200, 25, "写入数据", False)
    assert 25 <= data["time_left"] <= 35 and "秒" in data["time_left_text"]  # 10 s for 50 rows: ~30 s for 150
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-job-url="/jobs/%d.json"' % job.id in page and "js/jobs.js" in page
    assert '<progress class="w-100" max="100" value="25"' in page and "50 / 200 行" in page
    assert "<script>" not in page  # the page loads its script from static/ (CSP: no inline script)


def test_an_import_commit_runs_as_a_job_and_the_upload_leaves_with_it(world, login_as):
    upload = _upload(world)
    job = _queued_commit(world, upload)
    jobs.start(job)
    db.session.refresh(job)
    batch = db.session.scalars(select(ImportBatch)).one()
    assert job.state == "done" and job.result_ref == {"endpoint": "imports.batch", "args": {"batch_id": batch.id}}
    assert job.total == 2 and job.done == 2 and "共 2 行" in job.message
    assert _count(ImportUpload) == 0 and _count(Project, Project.name.like("任务导入项目%")) == 2
    page = login_as(world.officer_a).get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f"/imports/batches/{batch.id}" in page


def test_a_job_that_cannot_do_its_work_fails_with_the_reason_and_writes_nothing(world, login_as):
    rows = ROWS + [["任务导入项目三", "任务导入企业三有限公司", "不存在的阶段"]]
    job = _queued_commit(world, _upload(world, rows=rows))
    jobs.start(job)
    db.session.refresh(job)
    assert job.state == "failed" and "导入检查发现 1 个问题，未导入任何数据" in job.error
    assert _count(ImportBatch) == 0 and _count(Project, Project.name.like("任务导入项目%")) == 0
    data = login_as(world.officer_a).get(f"/jobs/{job.id}.json").get_json()
    assert data["state"] == "failed" and data["finished"] and "未导入任何数据" in data["error"]


# ----- cancel --------------------------------------------------------------------------------
def test_a_queued_job_cancelled_never_runs(world, login_as):
    upload = _upload(world)
    job = _queued_commit(world, upload)
    client = login_as(world.officer_a)
    assert client.post(f"/jobs/{job.id}/cancel").status_code == 302
    jobs.run_job(job.id)  # the queue hands it to a worker after all
    db.session.refresh(job)
    assert job.state == "cancelled" and _count(ImportBatch) == 0 and _count(ImportUpload) == 1


def test_a_running_job_stops_at_its_next_stage_when_cancelled_and_writes_nothing(world, monkeypatch):
    """The owner cancels while the commit writes: the job checks the flag at each progress report
    (here, the one after the rows are written), rolls back and ends cancelled."""
    job = _queued_commit(world, _upload(world))
    real = jobs.Progress.__call__

    def cancel_while_writing(progress, done, total, stage):
        if stage == "写入完成":  # every row is written (flushed, not committed) by now
            assert _count(Project, Project.name.like("任务导入项目%")) == 2
            db.session.execute(db.update(Job).where(Job.id == job.id).values(cancel_requested=True))
        return real(progress, done, total, stage)

    monkeypatch.setattr(jobs.Progress, "__call__", cancel_while_writing)
    jobs.start(job)
    db.session.refresh(job)
    assert job.state == "cancelled" and job.error == jobs.CANCELLED_TEXT
    assert _count(Project, Project.name.like("任务导入项目%")) == 0 and _count(ImportBatch) == 0
    assert _count(ImportUpload) == 1  # the upload stays: the owner may retry


# ----- retry, and a worker that vanished ----------------------------------------------------------
def test_a_job_whose_worker_vanished_fails_with_the_reason_and_can_be_retried(world, login_as, app):
    upload = _upload(world)
    job = _queued_commit(world, upload)
    # A worker claimed it, then died: the job stays "running" and its heartbeat stops.
    silent = utcnow() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 5)
    job.state, job.started_at, job.heartbeat_at, job.attempts = "running", silent, silent, 1
    db.session.commit()
    client = login_as(world.officer_a)
    data = client.get(f"/jobs/{job.id}.json").get_json()
    assert data["state"] == "failed" and data["error"] == jobs.VANISHED
    assert _count(ImportBatch) == 0
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "意外中断" in page and 'data-testid="job-retry"' in page
    assert client.post(f"/jobs/{job.id}/retry").status_code == 302
    db.session.refresh(job)
    assert (job.state, job.attempts, job.error) == ("done", 2, None)
    assert _count(ImportBatch) == 1 and _count(Project, Project.name.like("任务导入项目%")) == 2


def test_a_fresh_heartbeat_keeps_a_running_job_running(world, login_as):
    job = _queued_commit(world, _upload(world))
    job.state, job.started_at, job.heartbeat_at = "running", utcnow() - timedelta(minutes=30), utcnow()
    db.session.commit()
    assert login_as(world.officer_a).get(f"/jobs/{job.id}.json").get_json()["state"] == "running"
    assert jobs.sweep() == 0


def test_the_sweep_fails_stale_jobs_and_forgets_old_ones(world, app):
    stale = utcnow() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 1)
    running = Job(kind="ledger_export", title="停摆", owner_id=world.chief_a.id, state="running", params={},
                  heartbeat_at=stale, started_at=stale)
    old = Job(kind="ledger_export", title="旧", owner_id=world.chief_a.id, state="done", params={},
              finished_at=utcnow() - timedelta(days=app.config["JOBS_KEEP_DAYS"] + 1))
    old.file = JobFile(filename="旧.xlsx", content_type="application/octet-stream", size=1, data=b"x")
    db.session.add_all([running, old])
    db.session.commit()
    old_id = old.id
    assert jobs.sweep() == 1
    db.session.expire_all()
    assert db.session.get(Job, running.id).state == "failed" and db.session.get(Job, old_id) is None
    assert _count(JobFile, JobFile.job_id == old_id) == 0


def test_retry_refuses_a_job_that_did_not_fail(world, login_as):
    client = login_as(world.chief_a)
    job_id = _job_id(client.post("/reports/ledger.xlsx", data={"month": MONTH}))
    page = client.post(f"/jobs/{job_id}/retry", follow_redirects=True).get_data(as_text=True)
    assert "只有失败或已取消的任务可以重试" in page
    assert db.session.get(Job, job_id).attempts == 1


# ----- scoping and CSRF -----------------------------------------------------------------------------
def test_another_persons_job_is_404_and_the_admin_sees_every_job(world, login_as):
    job_id = _job_id(login_as(world.chief_a).post("/reports/ledger.xlsx", data={"month": MONTH}))
    for user in (world.officer_a, world.viewer_a, world.chief_b):
        client = login_as(user)
        for path in (f"/jobs/{job_id}", f"/jobs/{job_id}.json", f"/jobs/{job_id}/download"):
            assert client.get(path).status_code == 404, (user.username, path)
        for path in (f"/jobs/{job_id}/cancel", f"/jobs/{job_id}/retry"):
            assert client.post(path).status_code == 404, (user.username, path)
        assert f"/jobs/{job_id}" not in client.get("/jobs/").get_data(as_text=True)
    admin = login_as(world.admin)
    assert admin.get(f"/jobs/{job_id}/download").status_code == 200
    assert f"/jobs/{job_id}" in admin.get("/jobs/").get_data(as_text=True)
    assert login_as(world.officer_a).get("/jobs/999999.json").status_code == 404


def test_job_forms_refuse_a_post_without_the_csrf_token(world, login_as, app, monkeypatch):
    job = _queued_commit(world, _upload(world))
    client = login_as(world.officer_a)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    for path in (f"/jobs/{job.id}/cancel", f"/jobs/{job.id}/retry", "/reports/ledger.xlsx"):
        assert client.post(path, data={"month": MONTH}).status_code == 400, path
    db.session.refresh(job)
    assert job.state == "queued" and not job.cancel_requested
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert client.post(f"/jobs/{job.id}/cancel", data={"csrf_token": token.group(1)}).status_code == 302
    db.session.refresh(job)
    assert job.state == "cancelled"


@pytest.mark.parametrize("role", ["officer_a", "viewer_a", "admin"])
def test_the_nav_offers_my_jobs_to_everyone(world, login_as, role):
    assert 'href="/jobs/"' in login_as(getattr(world, role)).get("/").get_data(as_text=True)


def test_the_import_command_queues_a_job_owned_by_its_user(world, app, tmp_path):
    from crm.imports.commands import import_command

    ledger = tmp_path / "任务台账.xlsx"
    ledger.write_bytes(xlsx(ROWS))
    cli = app.test_cli_runner()
    result = cli.invoke(import_command, [str(ledger), "--kind", "projects", "--zone", world.zone_a.name, "--queue"])
    assert result.exit_code != 0 and "--as" in result.output  # a job is someone's
    result = cli.invoke(import_command, [str(ledger), "--kind", "projects", "--zone", world.zone_a.name,
                                         "--queue", "--as", world.officer_a.username])
    assert result.exit_code == 0, result.output
    job = db.session.scalars(select(Job).where(Job.kind == "import_commit")).one()
    assert f"已提交任务 #{job.id}" in result.output
    assert (job.state, job.owner_id) == ("done", world.officer_a.id) and _count(ImportBatch) == 1


def test_the_preview_reads_the_stored_plan_and_plans_nothing(world, login_as, monkeypatch):
    from crm.imports import service as import_service

    client = login_as(world.officer_a)
    response = client.post("/imports/", data={"file": (io.BytesIO(xlsx(ROWS)), "任务台账.xlsx"), "kind": "projects"},
                           content_type="multipart/form-data")
    token = response.headers["Location"].rsplit("/", 1)[1]
    stored = db.session.scalars(select(ImportUpload)).one()
    assert stored.plan["ok"] and stored.plan["action_count"] == 2  # planned once, by the dry-run job

    def no_planning(*args, **kwargs):
        raise AssertionError("the preview read or planned the file again")

    monkeypatch.setattr(import_service, "dry_run", no_planning)
    monkeypatch.setattr(import_service, "read_table", no_planning)
    for _ in range(2):
        page = client.get(f"/imports/{token}").get_data(as_text=True)
        assert "检查通过" in page and "任务导入项目二" in page and "数据 2 行" in page
    assert client.get(f"/imports/{token}/report.xlsx").status_code == 200


def test_while_the_dry_run_waits_the_preview_shows_its_progress(world, login_as):
    upload = _upload(world)
    job = jobs.create_job(world.officer_a, "import_dry_run", {"upload_id": upload.id}, title="导入检查")
    upload.plan_job_id = job.id
    db.session.commit()
    page = login_as(world.officer_a).get(f"/imports/{upload.token}").get_data(as_text=True)
    assert 'data-job-url="/jobs/%d.json"' % job.id in page and 'data-job-on-done="result"' in page
    assert "排队中" in page and "js/jobs.js" in page
    jobs.start(job)  # a worker runs it: the page now shows the plan
    page = login_as(world.officer_a).get(f"/imports/{upload.token}").get_data(as_text=True)
    assert "检查通过" in page
