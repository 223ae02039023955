"""What the pages that start a job answer: its result when it has already finished, else its page."""
from __future__ import annotations

from flask import flash, redirect, url_for

from crm.extensions import db
from crm.jobs.models import DONE, Job


def result_url(job: Job) -> str | None:
    """Where a done job's result is: its download, or the page it made (a batch, a preview)."""
    if job.state != DONE:
        return None
    if job.result_ref:
        return url_for(job.result_ref["endpoint"], **job.result_ref.get("args", {}))
    return url_for("jobs.download", job_id=job.id)


def result_redirect(job: Job):
    """After queuing ``job``: straight to its result if it is done already (a small job, or the tests'
    immediate queue), with its message; else to its page, whose progress bar follows it."""
    db.session.refresh(job)
    if job.state == DONE:
        if job.result_ref:
            if job.message:
                flash(job.message, "success")
            return redirect(result_url(job))
        return redirect(url_for("jobs.download", job_id=job.id))
    return redirect(url_for("jobs.detail", job_id=job.id))
