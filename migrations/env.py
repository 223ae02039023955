"""Alembic environment: the application's metadata and engine; SQLite tables rebuilt with FKs off."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from crm.db import include_for_dialect

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (copy, drop, rename): with foreign keys on, the drop
            # would cascade into child rows. The pragma only takes effect outside a transaction, so it
            # goes to the driver directly (SQLAlchemy would open one first).
            connection.commit()
            _set_foreign_keys(connection, False)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, include_object=include_for_dialect(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.commit()
            _set_foreign_keys(connection, True)


def _set_foreign_keys(connection, enabled: bool) -> None:
    driver = connection.connection.driver_connection
    driver.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0] != int(enabled):
        raise RuntimeError("could not switch SQLite foreign keys for the migration")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
