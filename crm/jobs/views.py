"""我的任务: the list of one's jobs, a job's page with its progress bar, its JSON, download, cancel, retry.

A job is its owner's (the city admin sees all): another person's job answers 404, like a missing one
(``get_scoped_or_404``; ``crm.permissions.scope`` applies the owner rule). The page's progress bar is
driven by static/js/jobs.js, which polls ``/jobs/<id>.json`` — no inline script (CSP).
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user

from crm.extensions import db
from crm.forms import BaseForm
from crm.jobs import service as jobs
from crm.jobs.models import FINISHED, Job
from crm.jobs.web import result_url
from crm.permissions import get_scoped_or_404
from crm.views import page_of

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")


class JobForm(BaseForm):
    """A POST with only its CSRF token: cancel, retry."""


def _job(job_id: int) -> Job:
    job = get_scoped_or_404(Job, job_id, current_user)
    jobs.fail_if_vanished(job)
    return job


@bp.route("/")
def index():
    page = page_of(jobs.visible_jobs(current_user))
    for job in page.items:
        jobs.fail_if_vanished(job)
    return render_template("jobs/index.html", page=page, kinds=jobs.KINDS, result_url=result_url)


def status(job: Job) -> dict:
    left = jobs.time_left(job)
    return {
        "id": job.id, "state": job.state, "state_label": job.state_label, "finished": job.finished,
        "done": job.done, "total": job.total, "stage": job.stage,
        "percent": (100 if job.state == "done" else round(100 * job.done / job.total) if job.total else 0),
        "time_left": round(left) if left is not None else None,
        "time_left_text": _duration(left) if left is not None else "",
        "error": job.error or "", "message": job.message or "",
        "result_url": result_url(job), "has_file": job.state == "done" and not job.result_ref,
    }


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"约 {max(seconds, 1)} 秒"
    if seconds < 3600:
        return f"约 {seconds // 60} 分 {seconds % 60} 秒"
    return f"约 {seconds // 3600} 小时 {seconds % 3600 // 60} 分"


@bp.route("/<int:job_id>")
def detail(job_id):
    job = _job(job_id)
    return render_template("jobs/detail.html", job=job, status=status(job), kind=jobs.KINDS.get(job.kind),
                           form=JobForm())


@bp.route("/<int:job_id>.json")
def progress(job_id):
    response = jsonify(status(_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/download")
def download(job_id):
    job = _job(job_id)
    stored = jobs.file_of(job)
    if stored is None:
        abort(404)
    return send_file(BytesIO(stored.data), as_attachment=True, download_name=stored.filename,
                     mimetype=stored.content_type, max_age=0)


@bp.route("/<int:job_id>/cancel", methods=["POST"])
def cancel(job_id):
    job = _job(job_id)
    if JobForm().validate_on_submit():
        if jobs.cancel(job):
            db.session.commit()
            flash("已取消任务" if job.state in FINISHED else "正在取消任务，当前步骤结束后停止，不会写入任何数据", "info")
        else:
            flash("任务已结束，无法取消", "warning")
    return redirect(url_for("jobs.detail", job_id=job_id))


@bp.route("/<int:job_id>/retry", methods=["POST"])
def retry(job_id):
    job = _job(job_id)
    if JobForm().validate_on_submit():
        if jobs.retry(job):
            db.session.commit()
            jobs.start(job)
            flash("已重新提交任务", "info")
        else:
            flash("只有失败或已取消的任务可以重试", "warning")
    return redirect(url_for("jobs.detail", job_id=job_id))


