"""The migration that makes contacts and notes the zone's own keeps them, in the right zone.

A contact goes to the zone of the user who created it (the audit log's create entry); with no known
creator, or a creator without a zone, to the enterprise's zone if it is local, else to no zone (the
admin's). An enterprise's shared 备注 becomes a note by the same rule, of its last writer.
"""
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, Numeric, select

from crm import create_app
from crm.extensions import db

pytestmark = pytest.mark.no_db

BEFORE = "c4d5e6f7a8b9"  # the revision just before contacts and notes became zone records
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _insert(conn, table, **values):
    """A row with every required column the older schema has filled with a plain value."""
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key and column.name not in values:
            continue
        kind = column.type
        values[column.name] = (NOW if isinstance(kind, DateTime) else False if isinstance(kind, Boolean)
                               else {} if isinstance(kind, JSON) else 0 if isinstance(kind, (Integer, Numeric))
                               else "")
    conn.execute(table.insert().values(**values))


def test_existing_contacts_and_notes_go_to_the_zone_of_who_wrote_them(scratch_database_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    with app.app_context():
        upgrade(revision=BEFORE)
        meta = MetaData()
        meta.reflect(bind=db.engine)
        t = meta.tables
        with db.engine.begin() as conn:
            _insert(conn, t["zones"], id=1, name="甲园区")
            _insert(conn, t["zones"], id=2, name="乙园区")
            _insert(conn, t["users"], id=1, username="officer_a", display_name="甲", role="officer")
            _insert(conn, t["users"], id=2, username="admin", display_name="管", role="admin")
            _insert(conn, t["users"], id=3, username="both", display_name="两园", role="officer")
            conn.execute(t["user_zones"].insert(), [{"user_id": 1, "zone_id": 1}, {"user_id": 3, "zone_id": 1},
                                                    {"user_id": 3, "zone_id": 2}])
            _insert(conn, t["enterprises"], id=1, name="乙园区在园企业", zone_id=2, notes="甲园区写的备注")
            _insert(conn, t["enterprises"], id=2, name="外地目标企业", zone_id=None, notes="来历不明的备注")
            _insert(conn, t["enterprises"], id=3, name="无备注企业", zone_id=None, notes="")
            contacts = {1: (1, 1), 2: (1, 2), 3: (1, None), 4: (2, None), 5: (2, 3), 6: (1, 3)}
            for contact_id, (enterprise_id, _creator) in contacts.items():
                _insert(conn, t["contacts"], id=contact_id, enterprise_id=enterprise_id, name=f"联系人{contact_id}")
            for contact_id, (_enterprise_id, creator) in contacts.items():
                if creator is not None:
                    _insert(conn, t["audit_entries"], at=NOW, actor_id=creator, action="create",
                            entity_type="Contact", entity_id=str(contact_id), after={"name": "x"})
            _insert(conn, t["audit_entries"], at=NOW, actor_id=2, action="create", entity_type="Enterprise",
                    entity_id="1", after={"notes": ""})
            _insert(conn, t["audit_entries"], at=NOW, actor_id=1, action="update", entity_type="Enterprise",
                    entity_id="1", after={"notes": "甲园区写的备注"})

        upgrade()
        meta = MetaData()
        meta.reflect(bind=db.engine)
        with db.engine.connect() as conn:
            zones = dict(conn.execute(select(meta.tables["contacts"].c.id, meta.tables["contacts"].c.zone_id)).all())
            notes = {row.enterprise_id: row for row in conn.execute(select(meta.tables["enterprise_notes"]))}
        assert zones == {
            1: 1,     # created by officer_a of 甲园区, on 乙园区's firm: 甲园区's
            2: 2,     # created by the admin (no zone), on 乙园区's firm: the firm's zone
            3: 2,     # no known creator, on a local firm: the firm's zone
            4: None,  # no known creator, on a target firm: the admin's
            5: 1,     # a creator of two zones, on a target firm: the creator's first zone
            6: 2,     # a creator of two zones, on a firm of one of them: that zone
        }
        assert set(notes) == {1, 2}
        assert (notes[1].text, notes[1].zone_id, notes[1].author_id) == ("甲园区写的备注", 1, 1)
        assert (notes[2].text, notes[2].zone_id, notes[2].author_id) == ("来历不明的备注", None, None)
        assert "notes" not in meta.tables["enterprises"].c

        downgrade(revision=BEFORE)
        meta = MetaData()
        meta.reflect(bind=db.engine)
        with db.engine.connect() as conn:
            back = dict(conn.execute(select(meta.tables["enterprises"].c.id, meta.tables["enterprises"].c.notes)).all())
            ids = meta.tables["contacts"].c.id
            assert conn.execute(select(ids).order_by(ids)).scalars().all() == [1, 2, 3, 4, 5, 6]
        assert back == {1: "甲园区写的备注", 2: "来历不明的备注", 3: ""}
        assert "zone_id" not in meta.tables["contacts"].c
        db.engine.dispose()
