"""Segments edited by an admin (segments.edited_at, edited_by_id): `flask chains load` keeps those.

Revision ID: f1a2b3c4d5e6
Revises: be36d0474973
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "f1a2b3c4d5e6"
down_revision = "be36d0474973"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("edited_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_segments_edited_by_id_users"), "users", ["edited_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_segments_edited_by_id_users"), type_="foreignkey")
        batch_op.drop_column("edited_by_id")
        batch_op.drop_column("edited_at")
