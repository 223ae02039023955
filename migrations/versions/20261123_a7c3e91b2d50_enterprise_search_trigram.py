"""enterprise search: trigram indexes on PostgreSQL

Revision ID: a7c3e91b2d50
Revises: f4ac84720b01
Create Date: 2026-11-23 17:55:00

"""
from alembic import op

revision = "a7c3e91b2d50"
down_revision = "f4ac84720b01"
branch_labels = None
depends_on = None

COLUMNS = ("name", "aliases", "search_pinyin")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite cannot index LIKE '%…%'; the library search scans there
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # a trusted extension since PostgreSQL 13
    for column in COLUMNS:
        op.create_index(f"ix_enterprises_{column}_trgm", "enterprises", [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.drop_index(f"ix_enterprises_{column}_trgm", table_name="enterprises")
