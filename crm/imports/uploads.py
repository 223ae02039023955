"""Uploads waiting between the import's steps, and the dry run's plan stored once, in the database.

An upload (its bytes, the uploader, zone, kind and the column mapping) is an ``ImportUpload`` row, so the
app process that shows the preview need not be the one that took the upload, and the worker that runs
the dry run or the commit reads the same row. Only the uploader opens it (404 for anyone else, as for a
missing one); it expires after a day.

The dry run (a job) stores what the preview page shows — the table's shape, samples, the plan's
problems and actions (the first ``PREVIEW_LIMIT``), the counts — as ``plan`` JSON, and the problem report
workbook as ``report``. The preview reads them and plans nothing; a new mapping clears them and queues
a new dry run. The commit plans afresh against the database as it is then (``commit_import`` does).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from crm.db import utcnow
from crm.extensions import db
from crm.imports.models import ImportUpload
from crm.imports.reading import Table
from crm.imports.service import ACTION_LABELS, ImportPlan, Problem, problems_workbook

UPLOAD_TTL = timedelta(days=1)
PREVIEW_LIMIT = 300  # problems and planned rows kept for the page; the report has every problem


def save_upload(uploader, zone, kind: str, filename: str, data: bytes, *, local: bool) -> ImportUpload:
    upload = ImportUpload(token=secrets.token_urlsafe(24), uploader_id=uploader.id, zone_id=zone.id, kind=kind,
                          filename=filename[:255], local=local, mapping=None, size=len(data), data=data)
    db.session.add(upload)
    db.session.flush()
    return upload


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def expired(upload: ImportUpload) -> bool:
    return _aware(upload.created_at) + UPLOAD_TTL < utcnow()


def find_upload(token: str, uploader_id: int | None = None) -> ImportUpload | None:
    """The unexpired upload of ``token`` (of ``uploader_id`` when given), or None."""
    stmt = select(ImportUpload).where(ImportUpload.token == token)
    if uploader_id is not None:
        stmt = stmt.where(ImportUpload.uploader_id == uploader_id)
    upload = db.session.scalar(stmt)
    if upload is None or expired(upload):
        return None
    return upload


def get_upload(upload_id: int, *, lock: bool = False) -> ImportUpload | None:
    upload = db.session.get(ImportUpload, upload_id, with_for_update=lock or None)
    return None if upload is None or expired(upload) else upload


def mapping_of(upload: ImportUpload) -> dict[int, str] | None:
    return {int(k): v for k, v in upload.mapping.items()} if upload.mapping is not None else None


def sweep_uploads() -> None:
    db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < utcnow() - UPLOAD_TTL),
                       execution_options={"synchronize_session": False})


def store_plan(upload: ImportUpload, table: Table, plan: ImportPlan) -> None:
    """Keep what the preview shows, once: the preview page then reads it and plans nothing."""
    upload.plan = {
        "table": {"headers": table.headers, "header_row": table.header_row, "sheet": table.sheet,
                  "row_count": len(table.rows), "skipped": [list(s) for s in table.skipped],
                  "samples": [table.samples(index, 2) for index in range(len(table.headers))]},
        "mapping": {str(k): v for k, v in plan.mapping.items()},
        "ok": plan.ok,
        "summary": plan.summary(),
        "problem_count": len(plan.problems),
        "refused_rows": len(plan.refused_rows),
        "noticed_rows": len(plan.noticed_rows),
        "action_count": len(plan.actions),
        "problems": [list(p) for p in plan.problems[:PREVIEW_LIMIT]],
        "actions": [{"row": a.row, "entity": a.entity, "action": a.action, "label": a.label, "detail": a.detail,
                     "notices": bool(a.notices)} for a in plan.actions[:PREVIEW_LIMIT]],
    }
    upload.report = problems_workbook(plan, upload.filename)


# ----- the stored plan, read back for the page ------------------------------------------------------
@dataclass
class StoredTable:
    headers: list[str]
    header_row: int
    sheet: str | None
    row_count: int
    skipped: list[tuple[int, str]]
    samples: list[list[str]]

    def letter(self, index: int) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(index + 1)


@dataclass
class StoredAction:
    row: int
    entity: str
    action: str
    label: str
    detail: str
    notices: bool

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class StoredPlan:
    mapping: dict[int, str]
    ok: bool
    summary_text: str
    problem_count: int
    refused_rows: int
    noticed_rows: int
    action_count: int
    problems: list[Problem] = field(default_factory=list)
    actions: list[StoredAction] = field(default_factory=list)

    def summary(self) -> str:
        return self.summary_text


def stored_plan(upload: ImportUpload) -> tuple[StoredTable, StoredPlan] | None:
    data = upload.plan
    if not data:
        return None
    t = data["table"]
    table = StoredTable(t["headers"], t["header_row"], t["sheet"], t["row_count"],
                        [tuple(s) for s in t["skipped"]], t["samples"])
    plan = StoredPlan({int(k): v for k, v in data["mapping"].items()}, data["ok"], data["summary"],
                      data["problem_count"], data["refused_rows"], data["noticed_rows"], data["action_count"],
                      [Problem(*p) for p in data["problems"]], [StoredAction(**a) for a in data["actions"]])
    return table, plan
