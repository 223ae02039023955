"""Contacts and notes are the zone's own: contacts.zone_id, enterprise_notes; enterprises.notes moves there.

Existing contacts go to the zone of the user who created them (the audit log's create entry names the
actor). A creator of several zones: the enterprise's zone if the creator is one of its staff, else the
creator's first zone. No known creator, or a creator without a zone (the admin): the enterprise's own
zone if it is local, else no zone (zone_id null: the admin's, seen by the admin only).

The shared 备注 text of an enterprise becomes one note, by the same rule applied to the last user who
wrote that text (the audit log's entries of the enterprise), authored by that user.

Downgrade puts the notes back into enterprises.notes (a firm's notes joined by blank lines) and drops
the zones of contacts.

Revision ID: e1f2a3b4c5d6
Revises: c4d5e6f7a8b9
Create Date: 2026-12-01
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "e1f2a3b4c5d6"
down_revision = "c4d5e6f7a8b9"
branch_labels = None
depends_on = None

enterprises = sa.table("enterprises", sa.column("id", sa.Integer), sa.column("zone_id", sa.Integer),
                       sa.column("notes", sa.Text), sa.column("updated_at", sa.DateTime(timezone=True)))
contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("enterprise_id", sa.Integer),
                    sa.column("zone_id", sa.Integer))
notes = sa.table("enterprise_notes", sa.column("id", sa.Integer), sa.column("enterprise_id", sa.Integer),
                 sa.column("zone_id", sa.Integer), sa.column("author_id", sa.Integer), sa.column("text", sa.Text),
                 sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)),
                 sa.column("deleted_at", sa.DateTime(timezone=True)))
audit = sa.table("audit_entries", sa.column("id", sa.Integer), sa.column("actor_id", sa.Integer),
                 sa.column("action", sa.String), sa.column("entity_type", sa.String),
                 sa.column("entity_id", sa.String), sa.column("after", sa.JSON))
user_zones = sa.table("user_zones", sa.column("user_id", sa.Integer), sa.column("zone_id", sa.Integer))


def _zone_for(actor_id, enterprise_zone, zones_of):
    zones = zones_of.get(actor_id, []) if actor_id is not None else []
    if not zones:
        return enterprise_zone
    return enterprise_zone if enterprise_zone in zones else zones[0]


def upgrade():
    op.create_table(
        "enterprise_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_enterprise_notes_author_id_users")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_enterprise_notes_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_enterprise_notes_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_notes")),
    )
    with op.batch_alter_table("enterprise_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprise_notes_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enterprise_notes_zone_id"), ["zone_id"], unique=False)

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_contacts_zone_id"), ["zone_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_contacts_zone_id_zones"), "zones", ["zone_id"], ["id"])

    connection = op.get_bind()
    zones_of: dict[int, list[int]] = {}
    for user_id, zone_id in connection.execute(
            sa.select(user_zones.c.user_id, user_zones.c.zone_id).order_by(user_zones.c.user_id, user_zones.c.zone_id)):
        zones_of.setdefault(user_id, []).append(zone_id)
    enterprise_zone = dict(connection.execute(sa.select(enterprises.c.id, enterprises.c.zone_id)).all())

    creators = {entity_id: actor_id for entity_id, actor_id in connection.execute(
        sa.select(audit.c.entity_id, audit.c.actor_id)
        .where(audit.c.entity_type == "Contact", audit.c.action == "create").order_by(audit.c.id))}
    for contact_id, enterprise_id in connection.execute(sa.select(contacts.c.id, contacts.c.enterprise_id)).all():
        zone_id = _zone_for(creators.get(str(contact_id)), enterprise_zone.get(enterprise_id), zones_of)
        if zone_id is not None:
            connection.execute(contacts.update().where(contacts.c.id == contact_id).values(zone_id=zone_id))

    writers: dict[str, int | None] = {}
    for entity_id, actor_id, after in connection.execute(
            sa.select(audit.c.entity_id, audit.c.actor_id, audit.c.after)
            .where(audit.c.entity_type == "Enterprise", audit.c.action.in_(("create", "update")))
            .order_by(audit.c.id)):
        if isinstance(after, dict) and (after.get("notes") or "").strip():
            writers[entity_id] = actor_id
    now = datetime.now(UTC)
    rows = connection.execute(sa.select(enterprises.c.id, enterprises.c.zone_id, enterprises.c.notes,
                                        enterprises.c.updated_at)
                              .where(enterprises.c.notes != "").order_by(enterprises.c.id)).all()
    for enterprise_id, zone_id, text, updated_at in rows:
        if not (text or "").strip():
            continue
        author = writers.get(str(enterprise_id))
        connection.execute(notes.insert().values(
            enterprise_id=enterprise_id, zone_id=_zone_for(author, zone_id, zones_of), author_id=author,
            text=text.strip(), created_at=updated_at or now, updated_at=updated_at or now))

    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_column("notes")


def downgrade():
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
    connection = op.get_bind()
    joined: dict[int, list[str]] = {}
    for enterprise_id, text in connection.execute(
            sa.select(notes.c.enterprise_id, notes.c.text).where(notes.c.deleted_at.is_(None))
            .order_by(notes.c.enterprise_id, notes.c.id)):
        joined.setdefault(enterprise_id, []).append(text)
    connection.execute(enterprises.update().values(notes=""))
    for enterprise_id, texts in joined.items():
        connection.execute(enterprises.update().where(enterprises.c.id == enterprise_id)
                           .values(notes="\n\n".join(texts)))
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.alter_column("notes", existing_type=sa.Text(), nullable=False)

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contacts_zone_id_zones"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contacts_zone_id"))
        batch_op.drop_column("zone_id")

    with op.batch_alter_table("enterprise_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_notes_zone_id"))
        batch_op.drop_index(batch_op.f("ix_enterprise_notes_enterprise_id"))
    op.drop_table("enterprise_notes")
