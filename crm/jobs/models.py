"""A job: one piece of long work (an import, an export) with its state, progress and result."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import utcnow
from crm.extensions import db

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
STATE_LABELS = {QUEUED: "排队中", RUNNING: "进行中", DONE: "已完成", FAILED: "失败", CANCELLED: "已取消"}
FINISHED = (DONE, FAILED, CANCELLED)


class Job(db.Model):
    """Who asked for what, how far it got and where its result is. Scoped to its owner (the admin sees
    every job); ``zone_id`` names the zone the work is about, for the list."""

    __tablename__ = "jobs"
    __zone_scoped__ = False  # a job is its owner's, not its zone's:
    __owner_scoped__ = True  # crm.permissions.scope shows it to its owner and the city admin only

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    state: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(default=0)  # rows done …
    total: Mapped[int] = mapped_column(default=0)  # … of total (0: not known yet)
    stage: Mapped[str] = mapped_column(String(100), default="")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str] = mapped_column(String(100), default="")  # host:pid of the process running it
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, in Chinese
    message: Mapped[str | None] = mapped_column(Text)  # what it did, in Chinese (shown when done)
    # Where the result is: {"endpoint": ..., "args": {...}} (a page), or a JobFile (a download).
    result_ref: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    owner = relationship("User", lazy="joined")
    zone = relationship("Zone", lazy="joined")
    file = relationship("JobFile", uselist=False, back_populates="job", cascade="all, delete-orphan",
                        lazy="select")

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


class JobFile(db.Model):
    """A job's result file, in the database so any app process on any machine can serve it."""

    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job = relationship("Job", back_populates="file")
