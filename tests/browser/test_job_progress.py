"""A job's page in the browser: the progress bar follows the job without a reload (static/js/jobs.js
polling /jobs/<id>.json), and when the job is done the page offers its download."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.no_db, pytest.mark.browser]


def test_the_progress_bar_moves_without_a_reload_and_the_download_appears(page, live_server):
    from crm.accounts.models import User
    from crm.db import utcnow
    from crm.extensions import db
    from crm.jobs.models import Job, JobFile

    app = live_server.app
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "chief1"))
        job = Job(kind="ledger_export", title="浏览器进度台账", owner_id=user.id, state="running", params={},
                  done=3, total=10, stage="生成台账", started_at=utcnow(), heartbeat_at=utcnow())
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()

    def change(**values):
        with app.app_context():
            db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow(), **values))
            db.session.commit()
            db.session.remove()

    sign_in(page, "chief1")
    page.goto(f"/jobs/{job_id}")
    panel = page.get_by_test_id("job-progress")
    assert "3 / 10 行" in panel.inner_text()
    page.evaluate("window.__notReloaded = true")
    change(done=7, stage="写入数据")
    expect(page.locator("[data-job-field=rows]")).to_contain_text("7 / 10 行", timeout=10000)
    assert page.evaluate("window.__notReloaded") is True  # the same page, updated in place
    assert "写入数据" in panel.inner_text() and "剩余" in panel.inner_text()
    assert page.evaluate("document.querySelector('progress').value") == 70

    with app.app_context():
        db.session.add(JobFile(job_id=job_id, filename="浏览器进度台账.xlsx", content_type="application/octet-stream",
                               size=2, data=b"PK"))
        db.session.commit()
        db.session.remove()
    change(state="done", done=10, stage="完成", finished_at=utcnow())
    page.get_by_test_id("job-download").wait_for(timeout=10000)  # the page reloaded with its result
    assert "已完成" in page.get_by_test_id("job-state").inner_text()
