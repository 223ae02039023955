"""The queue: one Huey instance per app, chosen by ``JOBS_QUEUE_URL``.

- ``redis://…``  RedisHuey: production; workers (``flask --app wsgi jobs worker``) run on any machine.
- ``sqlite:///…`` SqliteHuey: one machine with nothing but SQLite (``make run``); the app starts a worker
  thread itself when ``JOBS_IN_PROCESS`` is on (development's default).
- ``immediate``  each job runs at once, in the process and transaction that queues it (the tests).

The queue carries only a job's id: its state, progress and result live in the ``jobs`` table, and the
job's inputs (an upload, a month) in the database, so any worker can run any job.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, MemoryHuey

log = logging.getLogger(__name__)


def _make_huey(url: str) -> Huey:
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey("lianzhao", url=url)
    if url.startswith("sqlite:///"):
        return SqliteHuey("lianzhao", filename=url.removeprefix("sqlite:///"))
    if url in ("", "immediate"):
        return MemoryHuey("lianzhao", immediate=True)
    raise RuntimeError(f"JOBS_QUEUE_URL: redis://…, sqlite:///… or immediate, not {url!r}")


def init_app(app: Flask) -> None:
    huey = _make_huey(app.config.get("JOBS_QUEUE_URL") or "immediate")

    @huey.task(name="run_job")
    def run_job_task(job_id: int) -> None:
        from crm.jobs.service import run_job

        if huey.immediate:  # in the process (and request) that queued it
            run_job(job_id)
            return
        with app.app_context():
            run_job(job_id)

    @huey.periodic_task(crontab(minute="*"), name="sweep_jobs")
    def sweep_task() -> None:
        from crm.jobs.service import sweep

        with app.app_context():
            sweep()

    app.extensions["huey"] = huey
    app.extensions["huey_run_job"] = run_job_task
    app.extensions["huey_consumer"] = None
    app.extensions["huey_lock"] = threading.Lock()
    if app.config.get("JOBS_IN_PROCESS") and not huey.immediate:
        @app.before_request
        def start_the_worker_thread() -> None:
            # The serving process only (a CLI command, which ends, would cut its jobs off): at its first
            # request it starts its worker, which also takes what commands queued meanwhile.
            if app.extensions["huey_consumer"] is None:
                start_in_process_worker(app)


def enqueue(job_id: int) -> None:
    current_app.extensions["huey_run_job"](job_id)


def start_in_process_worker(app: Flask) -> None:
    """A worker thread in this process (development): the same job code, no separate process."""
    with app.extensions["huey_lock"]:
        if app.extensions["huey_consumer"] is not None:
            return
        huey = app.extensions["huey"]
        consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=True)
        # Consumer.start installs signal handlers, which only the main thread may do; this worker
        # lives as long as the app process does.
        consumer._set_signal_handlers = lambda: None
        consumer.start()
        app.extensions["huey_consumer"] = consumer
        log.info("in-process job worker started")


def run_worker(app: Flask, workers: int = 1) -> None:
    """``flask jobs worker``: a consumer with ``workers`` threads, until SIGINT/SIGTERM."""
    huey = app.extensions["huey"]
    if huey.immediate:
        raise RuntimeError("JOBS_QUEUE_URL is immediate: there is no queue for a worker to read")
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
