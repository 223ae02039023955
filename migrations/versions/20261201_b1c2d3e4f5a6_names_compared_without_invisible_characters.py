"""Enterprise names compared without format and zero-width characters: recompute name_normalized.

Revision ID: b1c2d3e4f5a6
Revises: a7c3e91b2d50
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from crm.library.names import normalize_name

revision = "b1c2d3e4f5a6"
down_revision = "a7c3e91b2d50"
branch_labels = None
depends_on = None

enterprises = sa.table("enterprises", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("name_normalized", sa.String))


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(enterprises.c.id, enterprises.c.name, enterprises.c.name_normalized)).all()
    for enterprise_id, name, current in rows:
        normalized = normalize_name(name)
        if normalized != current:
            connection.execute(enterprises.update().where(enterprises.c.id == enterprise_id)
                               .values(name_normalized=normalized))


def downgrade():
    pass  # the old normalisation kept invisible characters; nothing to restore
