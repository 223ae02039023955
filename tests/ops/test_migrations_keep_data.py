"""Migrations keep data: a seeded database walks down the revisions and back up with every row intact."""
import hashlib

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, select

from crm import create_app
from crm.extensions import db

pytestmark = pytest.mark.no_db


def _rows() -> dict[str, list[dict]]:
    """Every row of every table (alembic's own left out), as column → text, in primary-key order."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    result = {}
    with db.engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            result[name] = [{k: str(v) for k, v in row._mapping.items()}
                            for row in conn.execute(select(table).order_by(*order))]
    return result


def _digest(rows: list[dict], columns: set[str]) -> tuple[int, str]:
    """Row count and checksum over ``columns`` only."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(sorted((k, v) for k, v in row.items() if k in columns)).encode())
    return len(rows), digest.hexdigest()


def test_seeded_database_survives_each_downgrade_and_upgrade(scratch_database_url):
    from crm.cli import _load_chains
    from crm.demo import load_demo

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    with app.app_context():
        upgrade()
        _load_chains()
        load_demo(enterprises=60, projects=30, visits=40)
        db.session.commit()
        db.session.remove()
        at_head = _rows()
        assert len(at_head["enterprises"]) == 60 and at_head["audit_entries"]

        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        revisions = [rev.revision for rev in script.walk_revisions()]  # head first
        survivors = set(at_head)
        for lower in revisions[1:]:
            downgrade(revision=lower)
            now = _rows()
            survivors &= set(now)
            for table, rows in now.items():
                # Every row is still there with every value the older schema has a column for (a
                # column the head dropped, like enterprises.notes, comes back filled from where its
                # data went: it has no value at the head to compare with).
                columns = (set(rows[0]) & set(at_head[table][0])) if rows and at_head[table] else set()
                assert _digest(rows, columns) == _digest(at_head[table], columns), \
                    f"{table} changed when downgrading to {lower}"
        assert {"enterprises", "projects", "visits", "audit_entries", "users"} <= survivors
        upgrade()
        back = _rows()
        assert set(back) == set(at_head)
        for table in survivors:
            # Tables that lived through the walk come back row for row (a dropped column returns
            # with its default, which is what the seeded rows held).
            assert back[table] == at_head[table], table
        db.engine.dispose()


def test_existing_totp_secrets_are_encrypted_by_the_migration_and_back(scratch_database_url):
    from sqlalchemy import text

    from crm.accounts import crypto

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    with app.app_context():
        upgrade(revision="b1c2d3e4f5a6")  # before the secrets were encrypted
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, display_name, password_hash, role, active, "
                              "session_version, must_change_password, totp_secret, created_at, updated_at) "
                              "VALUES ('enrolled', '已启用', 'x', 'officer', :yes, 1, :no, 'JBSWY3DPEHPK3PXP', "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"yes": True, "no": False})
        upgrade()
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT totp_secret FROM users WHERE username = 'enrolled'")).scalar_one()
        assert stored != "JBSWY3DPEHPK3PXP" and crypto.decrypt(stored) == "JBSWY3DPEHPK3PXP"
        downgrade(revision="b1c2d3e4f5a6")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT totp_secret FROM users WHERE username = 'enrolled'")).scalar_one() \
                == "JBSWY3DPEHPK3PXP"
        db.engine.dispose()
