"""Each project's latest visit (``Project.last_visit_at``): a summary kept in the transaction of the facts.

The dashboard's stale-lead count and 我的工作's stale leads read it instead of a correlated
``max(visit_date)`` per lead (at city scale 14k leads, 59% of the dashboard's time). It is the latest
``visit_date`` of the project's visits that are not deleted, and it is recomputed from them — never
incremented — by the session's ``after_flush`` for every project whose visits a flush added, deleted,
restored, re-dated or moved to another project: the visit service, the trash, the import and its
revert all write visits through the ORM, so none of them can forget it. A write that bypasses the ORM
(a bulk load) calls ``refresh_last_visits`` itself; ``flask visits refresh-summaries`` recomputes all.
``tests/ledger/test_last_visit_property.py`` checks it against the figure computed afresh.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import attributes
from sqlalchemy.orm.util import identity_key

from crm.db import keep_summary
from crm.pipeline.models import Project
from crm.visits.models import Visit

_TRACKED = ("project_id", "visit_date", "deleted_at")
_CHUNK = 500


def latest_visit_date():
    """The figure afresh, correlated per project (the definition the summary keeps)."""
    visits = Visit.__table__
    return (select(func.max(visits.c.visit_date))
            .where(visits.c.project_id == Project.__table__.c.id, visits.c.deleted_at.is_(None))
            .scalar_subquery())


def refresh_last_visits(connection, project_ids: Iterable[int] | None = None) -> None:
    """Recompute ``last_visit_at`` of these projects (of all when None), set-based, on ``connection``.

    A Core UPDATE: no audit entry, no version bump and ``updated_at`` kept, since it is not an edit."""
    projects = Project.__table__
    values = {"last_visit_at": latest_visit_date(), "updated_at": projects.c.updated_at}
    if project_ids is None:
        connection.execute(update(projects).values(**values))
        return
    ids = sorted({i for i in project_ids if i is not None})
    for start in range(0, len(ids), _CHUNK):
        connection.execute(update(projects).where(projects.c.id.in_(ids[start:start + _CHUNK])).values(**values))


def projects_of_visits(connection, visit_ids: Iterable[int]) -> set[int]:
    """The projects these visits belong to (after a bulk write of visits: whose summary to recompute)."""
    visits = Visit.__table__
    ids = sorted(set(visit_ids))
    projects: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        projects.update(connection.scalars(select(visits.c.project_id).where(
            visits.c.id.in_(ids[start:start + _CHUNK]), visits.c.project_id.is_not(None))))
    return projects


def _touched_projects(session) -> set[int]:
    ids: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Visit):
            ids.add(obj.project_id)
    for obj in session.deleted:
        if isinstance(obj, Visit):
            ids.add(obj.project_id)
    for obj in session.dirty:
        if not isinstance(obj, Visit):
            continue
        state = inspect(obj)
        changed = False
        for key in _TRACKED:
            history = state.attrs[key].history
            if history.has_changes():
                changed = True
                if key == "project_id":
                    ids.update(history.deleted)
        project_history = state.attrs.project.history
        if project_history.has_changes():
            changed = True
            ids.update(getattr(p, "id", None) for p in project_history.deleted if p is not None)
        if changed:
            ids.add(obj.project_id)
    ids.discard(None)
    return ids




def refresh_in_session(session, project_ids) -> None:
    """Recompute these projects' summary in ``session``'s transaction; projects already loaded in the
    session see the new value without a reload (and without it counting as their change)."""
    connection = session.connection()
    refresh_last_visits(connection, project_ids)
    loaded = {i: session.identity_map.get(identity_key(Project, i)) for i in project_ids}  # by key: no scan
    loaded = {i: obj for i, obj in loaded.items() if obj is not None}
    wanted = list(loaded)
    if wanted:
        rows = connection.execute(select(Project.__table__.c.id, Project.__table__.c.last_visit_at)
                                  .where(Project.__table__.c.id.in_(wanted)))
        for project_id, value in rows:
            attributes.set_committed_value(loaded[project_id], "last_visit_at", value)


keep_summary("last_visit", _touched_projects, refresh_in_session)
