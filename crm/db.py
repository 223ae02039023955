"""Declarative base, naming convention and the mixins every business record shares."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_returning_ids(connection, table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys, every defaulted column given) in bulk and return their
    ids, in the order of ``rows``.

    PostgreSQL keeps the order itself (``sort_by_parameter_order``). SQLite would then go row by row;
    instead one executemany inserts them (the driver's loop, in C) and ``last_insert_rowid()`` names the
    last: SQLite numbers each new row one past the largest id, and while the statement runs this
    transaction holds the database's only write lock, so the rows' ids are the run that ends there."""
    if not rows:
        return []
    keys = tuple(rows[0])
    defaulted = any(c.key not in keys and not c.primary_key and c.default is not None for c in table.columns)
    if connection.dialect.name == "sqlite" and not defaulted:
        sql, keys, processors = _sqlite_insert(connection.dialect, table, keys)
        connection.exec_driver_sql(sql, [tuple(p(row[k]) if p else row[k] for k, p in zip(keys, processors))
                                         for row in rows])
        last = connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
        return list(range(last - len(rows) + 1, last + 1))
    if connection.dialect.name == "sqlite":  # multi-row INSERTs number their rows in order too
        return sorted(connection.execute(table.insert().returning(table.c.id), rows).scalars().all())
    if connection.dialect.name == "postgresql" and not defaulted and len(rows) > 1:
        # The ids from the table's sequence first, then the driver's executemany (psycopg pipelines
        # it): SQLAlchemy's multi-row INSERT … RETURNING costs psycopg a parse of each huge statement.
        ids = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)}).scalars().all()
        sql, keys, processors = _compiled_insert(connection.dialect, table, ("id", *keys))
        connection.exec_driver_sql(sql, [{k: (p(v) if p else v) for k, p, v in
                                          zip(keys, processors, (record_id, *(row[k] for k in keys[1:])))}
                                         for row, record_id in zip(rows, ids)])
        return ids
    return connection.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True),
                              rows).scalars().all()


_COMPILED_INSERTS: dict[tuple, tuple] = {}


def _compiled_insert(dialect, table, keys: tuple[str, ...]):
    """The INSERT as the dialect compiles it for these columns (with its casts), and each parameter's
    bind processor, compiled once."""
    key = (id(dialect), table.name, keys)
    if key not in _COMPILED_INSERTS:
        compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
        bound = compiled._bind_processors
        _COMPILED_INSERTS[key] = (compiled.string, keys, [bound.get(k) for k in keys])
    return _COMPILED_INSERTS[key]


_SQLITE_INSERTS: dict[tuple, tuple] = {}


def _sqlite_insert(dialect, table, keys: tuple[str, ...]):
    """The INSERT's SQL for these columns and each column's bind processor (the SQL type's conversion,
    as SQLAlchemy would apply it), compiled once: the rows then go to the driver's executemany as they
    are, without SQLAlchemy's per-row bookkeeping."""
    key = (id(dialect), table.name, keys)
    if key not in _SQLITE_INSERTS:
        columns = [table.c[k] for k in keys]
        placeholders = ", ".join("?" for _ in keys)
        names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
        sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({placeholders})"
        _SQLITE_INSERTS[key] = (sql, keys, [c.type._cached_bind_processor(dialect) for c in columns])
    return _SQLITE_INSERTS[key]


class Base(DeclarativeBase):
    # One registry carries both, as Flask-SQLAlchemy's model subclass cannot take a per-base map.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True)},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SoftDeleteMixin:
    """Users never hard-delete: a deleted record keeps its row and can be restored by an admin."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class VersionedMixin:
    """Optimistic locking: a save against a stale version fails instead of overwriting."""

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805 - SQLAlchemy's declared_attr signature
        return {"version_id_col": cls.__table__.c.version}


class AuditedMixin(TimestampMixin, SoftDeleteMixin):
    """Marks a business record: every insert, update and soft delete writes an audit entry."""

    __audited__ = True


def zone_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("zones.id"), index=True)


def include_for_dialect(dialect_name: str):
    """An Alembic ``include_object`` hook that leaves out what the models create only on another
    database (``Index(...).ddl_if(dialect=...)``), so autogenerate compares like with like."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include_object


def keep_summary(name: str, touched, refresh) -> None:
    """Keep a summary current in the flush that changes its facts: after each flush, ``touched(session)``
    names the records whose summary is stale (collected while the flush's changes are still visible),
    and ``refresh(session, ids)`` recomputes them once the flush has written (``after_flush_postexec``)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    pending = f"{name}_pending"

    @event.listens_for(Session, "after_flush")
    def _collect(session, flush_context) -> None:
        ids = touched(session)
        if ids:
            session.info.setdefault(pending, set()).update(ids)

    @event.listens_for(Session, "after_flush_postexec")
    def _refresh(session, flush_context) -> None:
        ids = session.info.pop(pending, None)
        if ids:
            refresh(session, ids)
