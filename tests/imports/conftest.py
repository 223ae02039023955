"""Helpers for the import tests: build a ledger, read it, dry-run or commit it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.imports import service as import_service
from tests.imports.builders import xlsx

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_rows": 1000}


def table_of(rows_or_data, filename: str = "台账.xlsx", kind: str | None = None, **kwargs):
    data = rows_or_data if isinstance(rows_or_data, bytes) else xlsx(rows_or_data, **kwargs)
    return import_service.read_table(data, filename, kind=kind, **LIMITS)


def plan_for(actor, kind, rows_or_data, zone, *, mapping=None, local=False, filename="台账.xlsx", **kwargs):
    return import_service.dry_run(actor, kind, table_of(rows_or_data, filename, kind, **kwargs), mapping, zone,
                                  local=local, filename=filename)


def commit(actor, kind, rows_or_data, zone, *, mapping=None, local=False, filename="台账.xlsx", **kwargs):
    batch = import_service.commit_import(actor, kind, table_of(rows_or_data, filename, kind, **kwargs), mapping,
                                         zone, filename, local=local)
    db.session.commit()
    return batch


def problems_of(plan) -> list[tuple]:
    return [(p.row, p.column) for p in plan.problems]


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


@pytest.fixture
def uploads(app):
    """The tokens of the uploads waiting between the import steps (in the database, not on disk)."""
    from crm.imports.models import ImportUpload

    def tokens() -> list[str]:
        return list(db.session.scalars(select(ImportUpload.token).order_by(ImportUpload.id)))

    return tokens
