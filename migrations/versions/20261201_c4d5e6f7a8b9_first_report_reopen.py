"""A first-report ruling binds: the admin's reopening of the losing project is recorded on the conflict.

Revision ID: c4d5e6f7a8b9
Revises: c7d8e9f0a1b2
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "c4d5e6f7a8b9"
down_revision = "c7d8e9f0a1b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("first_report_conflicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reopened_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reopen_reason", sa.String(length=500), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_first_report_conflicts_reopened_by_id_users"), "users",
                                    ["reopened_by_id"], ["id"])
    with op.batch_alter_table("first_report_conflicts", schema=None) as batch_op:
        batch_op.alter_column("reopen_reason", server_default=None)


def downgrade():
    with op.batch_alter_table("first_report_conflicts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_first_report_conflicts_reopened_by_id_users"), type_="foreignkey")
        batch_op.drop_column("reopen_reason")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("reopened_by_id")
