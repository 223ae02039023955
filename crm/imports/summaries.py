"""The summaries an import must leave current: the enterprise search index and projects' last visit.

Writes through the ORM keep them by themselves (the listeners in crm/library/search_index.py and
crm/visits/last_visit.py); a bulk commit that inserts or updates rows with Core statements does not
fire those listeners, so ``commit_import`` calls ``refresh_after_import`` once after its writes, with
the ids the batch records. Recomputing is idempotent: after an ORM write it rewrites the same rows.
"""
from __future__ import annotations

from crm.extensions import db
from crm.library.search_index import refresh_search_grams
from crm.visits.last_visit import projects_of_visits, refresh_in_session


def refresh_after_import(created: dict[str, list[int]], updated: dict[str, dict]) -> None:
    connection = db.session.connection()
    enterprises = list(created.get("Enterprise", [])) + [int(i) for i in updated.get("Enterprise", {})]
    if enterprises:
        refresh_search_grams(connection, enterprises)
    if created.get("Visit"):
        refresh_in_session(db.session(), projects_of_visits(connection, created["Visit"]))
