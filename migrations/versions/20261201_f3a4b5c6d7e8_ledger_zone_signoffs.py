"""The ledger's sign-off block per zone: zone_signoffs (填报单位, 填报人, 审核人).

Revision ID: f3a4b5c6d7e8
Revises: 0d3457f285b5
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "f3a4b5c6d7e8"
down_revision = "0d3457f285b5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zone_signoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("preparer", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_zone_signoffs_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_signoffs")),
        sa.UniqueConstraint("zone_id", name=op.f("uq_zone_signoffs_zone_id")),
    )


def downgrade():
    op.drop_table("zone_signoffs")
