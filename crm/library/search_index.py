"""The enterprise search index (``enterprise_search_grams``), kept in the flush that changes a name.

Every write of an enterprise's name or aliases through the ORM — the form, the import, a
merge and its undo, a restore — rewrites that enterprise's bigrams in ``after_flush_postexec``, on the same
connection and transaction. A write that bypasses the ORM (a bulk load) calls ``refresh_search_grams``
itself; ``flask refresh-summaries`` rebuilds the whole index.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ARRAY, Integer, String, bindparam, cast, delete, func, inspect, insert, select

from crm.db import keep_summary
from crm.library.models import Enterprise, EnterpriseSearchGram
from crm.library.names import search_grams

_SOURCES = ("name", "aliases")
_CHUNK = 2000


def refresh_search_grams(connection, enterprise_ids: Iterable[int] | None = None) -> None:
    """Rewrite the bigrams of these enterprises (of all when None) from their stored names."""
    enterprises, grams = Enterprise.__table__, EnterpriseSearchGram.__table__
    if enterprise_ids is None:
        connection.execute(delete(grams))
        last = 0
        while True:
            rows = connection.execute(
                select(enterprises.c.id, enterprises.c.name, enterprises.c.aliases)
                .where(enterprises.c.id > last).order_by(enterprises.c.id).limit(_CHUNK)).all()
            if not rows:
                return
            _insert(connection, rows)
            last = rows[-1].id
    ids = sorted({i for i in enterprise_ids if i is not None})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        connection.execute(delete(grams).where(grams.c.enterprise_id.in_(chunk)))
        _insert(connection, connection.execute(
            select(enterprises.c.id, enterprises.c.name, enterprises.c.aliases)
            .where(enterprises.c.id.in_(chunk))).all())


def _insert(connection, rows) -> None:
    pairs = [(gram, row.id) for row in rows
             for gram in search_grams(row.name, row.aliases or "")]
    if not pairs:
        return
    table = EnterpriseSearchGram.__table__
    if connection.dialect.name == "postgresql":
        # One statement per chunk (two arrays unnested): an executemany of ~50 rows per enterprise is
        # a round trip each on PostgreSQL.
        grams, ids = zip(*pairs)
        connection.execute(insert(table).from_select(
            ["gram", "enterprise_id"],
            select(func.unnest(cast(bindparam("grams", list(grams)), ARRAY(String))),
                   func.unnest(cast(bindparam("ids", list(ids)), ARRAY(Integer))))))
    else:
        connection.execute(insert(table), [{"gram": gram, "enterprise_id": eid} for gram, eid in pairs])


def _touched(session) -> set[int]:
    ids = {obj.id for obj in session.new if isinstance(obj, Enterprise)}
    for obj in session.dirty:
        if isinstance(obj, Enterprise):
            state = inspect(obj)
            if any(state.attrs[key].history.has_changes() for key in _SOURCES):
                ids.add(obj.id)
    return ids


keep_summary("search_grams", _touched, lambda session, ids: refresh_search_grams(session.connection(), ids))
