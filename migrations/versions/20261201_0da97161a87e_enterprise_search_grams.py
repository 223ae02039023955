"""Enterprise search index: the bigrams of each enterprise's name and aliases, backfilled.

Chinese search terms of two or more characters (most Chinese searches are two) find their candidates here instead
of scanning every name with LIKE; crm/library/search_index.py keeps the rows in the flush of the change.

Revision ID: 0da97161a87e
Revises: 45bd29dce004
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from crm.library.names import search_grams

revision = "0da97161a87e"
down_revision = "45bd29dce004"
branch_labels = None
depends_on = None

CHUNK = 2000


def upgrade():
    grams = op.create_table(
        "enterprise_search_grams",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_enterprise_search_grams_enterprise_id_enterprises"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("gram", "enterprise_id", name=op.f("pk_enterprise_search_grams")),
    )
    op.create_index(op.f("ix_enterprise_search_grams_enterprise_id"), "enterprise_search_grams",
                    ["enterprise_id"], unique=False)
    connection = op.get_bind()
    enterprises = sa.table("enterprises", sa.column("id", sa.Integer), sa.column("name", sa.String),
                           sa.column("aliases", sa.String))
    last = 0
    while True:
        rows = connection.execute(sa.select(enterprises).where(enterprises.c.id > last)
                                  .order_by(enterprises.c.id).limit(CHUNK)).all()
        if not rows:
            break
        values = [{"gram": gram, "enterprise_id": row.id}
                  for row in rows for gram in search_grams(row.name, row.aliases or "")]
        if values:
            connection.execute(grams.insert(), values)
        last = rows[-1].id


def downgrade():
    op.drop_index(op.f("ix_enterprise_search_grams_enterprise_id"), table_name="enterprise_search_grams")
    op.drop_table("enterprise_search_grams")
