"""Jobs: create, run, report progress, cancel, retry, and fail the ones whose worker vanished.

A job's work is one transaction. The worker claims the job (queued → running, committed), runs the
kind's function, which writes through the ordinary services and flushes, then in that same transaction
stores the result and marks the job done — so a job is either done with all its data, or not done with
none of it. Progress and the heartbeat go through a connection of their own (a short transaction each),
so the page sees them while the work is still uncommitted; on SQLite, whose one writer is then the job
itself, a progress write that would wait is skipped rather than waited for.

A worker that dies mid-job (killed, machine lost) takes its transaction with it: the database rolls
it back. Its job stays ``running`` with a heartbeat that stops; ``sweep`` (every minute in the worker,
and whenever someone looks at the job) marks it failed with the reason, and the owner can retry it.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from crm.audit.log import acting_as
from crm.db import utcnow
from crm.errors import ServiceError
from crm.extensions import db
from crm.jobs import queue
from crm.jobs.models import CANCELLED, DONE, FAILED, Job, JobFile, QUEUED, RUNNING
from crm.permissions import scope

log = logging.getLogger(__name__)

VANISHED = "处理该任务的进程意外中断（服务器重启或进程被终止），未写入任何数据，可以重试"
INTERNAL = "任务出错（系统内部错误），未写入任何数据；可以重试，仍失败请联系管理员"
CANCELLED_TEXT = "已取消，未写入任何数据"
NO_SYNC = {"synchronize_session": False}  # bulk UPDATEs of jobs: the session's objects are refreshed after


class JobFailed(Exception):
    """The job cannot do its work; ``message`` (Chinese) tells the owner why. Nothing is written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class JobCancelled(Exception):
    """The owner cancelled the job; raised at the next progress report."""


@dataclass
class Outcome:
    """What a job's function hands back: a sentence for the owner and a page or a file to offer."""

    message: str = ""
    page: tuple[str, dict] | None = None  # (endpoint, url args)
    filename: str | None = None
    content: bytes | None = None
    content_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    apply: Callable[[], None] | None = None  # what a reading job writes, in the transaction that marks it done


@dataclass
class Kind:
    name: str
    label: str
    function: Callable  # function(job, actor, progress) -> Outcome
    writes: bool = False  # its work writes as it goes (an import commit), not only its result at the end


KINDS: dict[str, Kind] = {}


def job_kind(name: str, label: str, *, writes: bool = False):
    """Register a job's function under ``name`` (crm/jobs/kinds.py)."""

    def register(function):
        KINDS[name] = Kind(name, label, function, writes)
        return function

    return register


# ----- asking for work ------------------------------------------------------------------------
def create_job(owner, kind: str, params: dict, *, title: str, zone_id: int | None = None) -> Job:
    """A queued job; the caller commits, then calls ``start``."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, owner_id=getattr(owner, "id", None), zone_id=zone_id, params=params, title=title[:300],
              state=QUEUED, stage="排队等待处理")
    db.session.add(job)
    db.session.flush()
    return job


def start(job: Job) -> None:
    """Hand the (committed) job to the queue. In immediate mode it runs now, before this returns."""
    queue.enqueue(job.id)


def visible_jobs(user):
    """The jobs ``user`` may see, newest first: their own; the city admin's, everyone's."""
    return scope(select(Job), Job, user).order_by(Job.id.desc())


def cancel(job: Job) -> bool:
    """A queued job is cancelled at once; a running one at its next progress report. False if finished."""
    if job.state == QUEUED:
        job.state, job.finished_at, job.error = CANCELLED, utcnow(), CANCELLED_TEXT
        return True
    if job.state == RUNNING:
        job.cancel_requested = True
        job.stage = "正在取消…"
        return True
    return False


def retry(job: Job) -> bool:
    """A failed or cancelled job queued again, from the start (its inputs are still in the database)."""
    if job.state not in (FAILED, CANCELLED):
        return False
    job.state, job.error, job.message, job.result_ref = QUEUED, None, None, None
    job.done, job.total, job.stage, job.cancel_requested = 0, 0, "排队等待处理", False
    job.started_at = job.finished_at = job.heartbeat_at = None
    if job.file is not None:
        db.session.delete(job.file)
    return True


def file_of(job: Job) -> JobFile | None:
    return db.session.scalar(select(JobFile).where(JobFile.job_id == job.id)) if job.state == DONE else None


# ----- progress, on a connection of its own ------------------------------------------------------
def _immediate() -> bool:
    return current_app.extensions["huey"].immediate


def _side_engine():
    """Where progress and heartbeats are written: their own short transactions. SQLite: a connection
    that waits a quarter of a second at most (the job itself may hold the write lock)."""
    app = current_app._get_current_object()
    engine = app.extensions.get("jobs_side_engine")
    if engine is None:
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 0.25})
        else:
            engine = db.engine
        app.extensions["jobs_side_engine"] = engine
    return engine


def _side_write(stmt) -> int:
    """Run one UPDATE in its own transaction; 0 when the database would make it wait (SQLite)."""
    if _immediate():  # the tests: everything in the test's own transaction
        return db.session.execute(stmt, execution_options=NO_SYNC).rowcount
    try:
        with _side_engine().begin() as connection:
            return connection.execute(stmt).rowcount
    except OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return 0
        raise


def _side_read(stmt):
    if _immediate():
        return db.session.execute(stmt).scalar()
    with _side_engine().connect() as connection:
        return connection.execute(stmt).scalar()


class Progress:
    """``progress(done, total, stage)``: the callable the services call once per chunk or stage.
    It records how far the job got (and that its worker lives) and raises ``JobCancelled`` when the
    owner has cancelled."""

    def __init__(self, job_id: int):
        self.job_id = job_id

    def __call__(self, done: int, total: int, stage: str) -> None:
        _side_write(update(Job).where(Job.id == self.job_id).values(
            done=max(0, int(done)), total=max(0, int(total)), stage=stage[:100], heartbeat_at=utcnow()))
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if _side_read(select(Job.cancel_requested).where(Job.id == self.job_id)):
            raise JobCancelled()


class _Heartbeat(threading.Thread):
    """Writes the job's heartbeat every JOBS_HEARTBEAT_SECONDS while the work runs."""

    def __init__(self, app, job_id: int):
        super().__init__(daemon=True, name=f"job-{job_id}-heartbeat")
        self.app, self.job_id, self.stopped = app, job_id, threading.Event()

    def run(self) -> None:
        interval = self.app.config["JOBS_HEARTBEAT_SECONDS"]
        with self.app.app_context():
            while not self.stopped.wait(interval):
                try:
                    _side_write(update(Job).where(Job.id == self.job_id, Job.state == RUNNING)
                                .values(heartbeat_at=utcnow()))
                except Exception:  # a heartbeat missed is a heartbeat missed; the sweep is patient
                    log.exception("job %s heartbeat", self.job_id)


# ----- running ------------------------------------------------------------------------------------
def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def run_job(job_id: int) -> None:
    """Claim the job, do its work, and record the outcome — the work and "done" in one transaction."""
    now = utcnow()
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == QUEUED)
        .values(state=RUNNING, started_at=now, heartbeat_at=now, worker=worker_name(), attempts=Job.attempts + 1,
                done=0, stage="开始处理"),
        execution_options=NO_SYNC,
    ).rowcount
    db.session.commit()
    if not claimed:  # cancelled while queued, or run by another worker already
        return
    kind_name = _side_read(select(Job.kind).where(Job.id == job_id))
    kind = KINDS[kind_name]
    sqlite = not _immediate() and db.engine.dialect.name == "sqlite"
    if sqlite and kind.writes:
        # SQLite: a transaction that read and then writes cannot take the write lock once another
        # connection (this job's own progress reports) has written; so a writing job takes the lock
        # up front, as write requests do. Its progress reports wait for the end (they are skipped).
        db.session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    progress = Progress(job_id)
    heartbeat = None if _immediate() else _Heartbeat(current_app._get_current_object(), job_id)
    if heartbeat:
        heartbeat.start()
    try:
        actor = _actor(job)
        with acting_as(db.session, actor):
            outcome = kind.function(job, actor, progress)
            progress.check_cancelled()
            if sqlite and not kind.writes:
                db.session.rollback()  # the reading is done: its result is written in a fresh transaction
            _finish(job, outcome)
        db.session.commit()
    except JobCancelled:
        db.session.rollback()
        _end(job_id, CANCELLED, CANCELLED_TEXT)
    except (JobFailed, ServiceError) as error:
        db.session.rollback()
        _end(job_id, FAILED, error.message)
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, kind.name)
        _end(job_id, FAILED, INTERNAL)
    finally:
        if heartbeat:
            heartbeat.stopped.set()


def _actor(job: Job):
    from crm.accounts.models import User

    if job.owner_id is None:
        from crm.imports.service import SYSTEM_ACTOR

        return SYSTEM_ACTOR
    user = db.session.get(User, job.owner_id)
    if user is None or not user.active:
        raise JobFailed("提交任务的账号已停用，任务未执行")
    return user


def _finish(job: Job, outcome: Outcome) -> None:
    """In the work's transaction: the result, and "done" — unless the job was cancelled or swept meanwhile."""
    if outcome.apply is not None:
        outcome.apply()
    if outcome.content is not None:
        db.session.add(JobFile(job_id=job.id, filename=(outcome.filename or "result.xlsx")[:255],
                               content_type=outcome.content_type, size=len(outcome.content), data=outcome.content))
    result_ref = {"endpoint": outcome.page[0], "args": outcome.page[1]} if outcome.page else None
    values = dict(state=DONE, finished_at=utcnow(), message=outcome.message or None, result_ref=result_ref,
                  stage="完成")
    total = db.session.scalar(select(Job.total).where(Job.id == job.id))
    if total:
        values["done"] = total
    finished = db.session.execute(
        update(Job).where(Job.id == job.id, Job.state == RUNNING, Job.cancel_requested.is_(False)).values(**values),
        execution_options=NO_SYNC,
    ).rowcount
    if not finished:
        state = _side_read(select(Job.state).where(Job.id == job.id))
        if state == RUNNING:
            raise JobCancelled()
        raise JobFailed(VANISHED)  # swept as vanished meanwhile: its data must not land after all


def _end(job_id: int, state: str, reason: str) -> None:
    db.session.execute(update(Job).where(Job.id == job_id, Job.state == RUNNING)
                       .values(state=state, error=reason, finished_at=utcnow()), execution_options=NO_SYNC)
    db.session.commit()


# ----- the sweep -----------------------------------------------------------------------------------
def stale_condition(now=None):
    cutoff = (now or utcnow()) - timedelta(seconds=current_app.config["JOBS_STALE_SECONDS"])
    return (Job.state == RUNNING) & (Job.heartbeat_at < cutoff)


def fail_if_vanished(job: Job) -> None:
    """Looking at a running job whose heartbeat stopped: it failed (its worker is gone)."""
    if job.state != RUNNING:
        return
    if _side_write(update(Job).where(Job.id == job.id, stale_condition())
                   .values(state=FAILED, error=VANISHED, finished_at=utcnow())):
        db.session.expire(job)


def sweep() -> int:
    """Fail the jobs whose worker vanished; forget finished jobs (and their files) and uploads past
    JOBS_KEEP_DAYS. Runs every minute in the workers."""
    failed = _side_write(update(Job).where(stale_condition()).values(state=FAILED, error=VANISHED,
                                                                      finished_at=utcnow()))
    cutoff = utcnow() - timedelta(days=current_app.config["JOBS_KEEP_DAYS"])
    old = select(Job.id).where(Job.state.in_((DONE, FAILED, CANCELLED)), Job.finished_at < cutoff)
    from crm.imports.uploads import sweep_uploads

    try:
        db.session.execute(delete(JobFile).where(JobFile.job_id.in_(old)), execution_options=NO_SYNC)
        db.session.execute(delete(Job).where(Job.id.in_(old)), execution_options=NO_SYNC)
        sweep_uploads()
        db.session.commit()
    except OperationalError:  # SQLite busy with a long job's writes: the next sweep tidies up
        db.session.rollback()
    return failed


def time_left(job: Job, now=None) -> float | None:
    """Seconds left, from the pace so far (rows done since the start); None until there is a pace."""
    if job.state != RUNNING or not job.started_at or not job.total or job.done <= 0 or job.done >= job.total:
        return None
    started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=utcnow().tzinfo)
    elapsed = ((now or utcnow()) - started).total_seconds()
    return max(0.0, elapsed / job.done * (job.total - job.done))


