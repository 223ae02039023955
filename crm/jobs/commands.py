"""`flask --app wsgi jobs worker [--workers N]` runs jobs from the queue; `flask --app wsgi jobs sweep`."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from crm.jobs import queue


@click.group("jobs")
def jobs_group() -> None:
    """The job queue's worker and upkeep."""


@jobs_group.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once by this process (threads).")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run queued jobs (imports, ledgers, reports) until stopped (SIGINT: after the running jobs;
    SIGTERM: at once — those jobs then fail as vanished, with nothing written, and can be retried)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    click.echo(f"job worker: {app.config['JOBS_QUEUE_URL'].split('@')[-1]}, {workers} thread(s)")
    queue.run_worker(app, workers)


@jobs_group.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Fail the jobs whose worker vanished; drop finished jobs and uploads past their time."""
    from crm.jobs.service import sweep

    click.echo(f"{sweep()} job(s) failed as vanished")
