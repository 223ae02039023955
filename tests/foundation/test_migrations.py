"""The migrations build exactly the schema the models describe, and can be undone and redone."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from crm import create_app
from crm.db import include_for_dialect
from crm.extensions import db

pytestmark = pytest.mark.no_db  # these tests use the schema itself, outside any test transaction


def schema_diff(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True, "render_as_batch": True,
                              "include_object": include_for_dialect(connection.dialect.name)}
        )
        return compare_metadata(context, db.metadata)


def test_the_migrated_test_database_matches_the_models(app_ctx):
    # Nothing is ignored: every table, column, type, index, constraint and server default must agree.
    assert schema_diff(db.engine) == []


def test_downgrade_to_base_and_upgrade_to_head_on_a_fresh_database(tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        model_tables = set(db.metadata.tables)
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == model_tables | {"alembic_version"}
        assert schema_diff(db.engine) == []

        downgrade(revision="base")
        db.engine.dispose()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

        upgrade()
        assert set(inspect(db.engine).get_table_names()) == model_tables | {"alembic_version"}
        assert schema_diff(db.engine) == []
        with db.engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
        assert len(heads) == 1
        db.engine.dispose()


def test_there_is_one_head_and_every_file_is_date_prefixed():
    from pathlib import Path

    from alembic.script import ScriptDirectory

    from config import BASE_DIR

    versions = BASE_DIR / "migrations" / "versions"
    scripts = ScriptDirectory(str(BASE_DIR / "migrations"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    for path in Path(versions).glob("*.py"):
        assert path.name[:8].isdigit(), path.name
