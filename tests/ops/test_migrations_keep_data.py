"""Migrations keep data: a seeded database walks down the revisions and back up with every row intact."""
import hashlib

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, select

from crm import create_app
from crm.extensions import db

pytestmark = pytest.mark.no_db


def _fingerprint() -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every row, per table (alembic's own table left out)."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    result = {}
    with db.engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(str(v) for v in row)).encode())
                count += 1
            result[name] = (count, digest.hexdigest())
    return result


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
        at_head = _fingerprint()
        assert at_head["enterprises"][0] == 60 and at_head["audit_entries"][0] > 0

        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        revisions = [rev.revision for rev in script.walk_revisions()]  # head first
        survivors = set(at_head)
        for lower in revisions[1:]:
            downgrade(revision=lower)
            now = _fingerprint()
            survivors &= set(now)
            for table, print_ in now.items():
                assert print_ == at_head[table], f"{table} changed when downgrading to {lower}"
        assert {"enterprises", "projects", "visits", "audit_entries", "users"} <= survivors
        upgrade()
        back = _fingerprint()
        assert set(back) == set(at_head)
        for table in survivors:  # a table a downgrade dropped comes back empty; every other is intact
            assert back[table] == at_head[table], table
        db.engine.dispose()
