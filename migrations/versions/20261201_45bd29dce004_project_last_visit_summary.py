"""Each project's latest visit kept on the project (projects.last_visit_at), backfilled from its visits.

The dashboard's stale-lead count and 我的工作 read it instead of a max(visit_date) per lead; the session's
after_flush keeps it (crm/visits/last_visit.py).

Revision ID: 45bd29dce004
Revises: e1f2a3b4c5d6
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "45bd29dce004"
down_revision = "e1f2a3b4c5d6"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("projects", sa.Column("last_visit_at", sa.Date(), nullable=True))
    op.execute(
        "UPDATE projects SET last_visit_at = (SELECT max(v.visit_date) FROM visits v "
        "WHERE v.project_id = projects.id AND v.deleted_at IS NULL)"
    )


def downgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("last_visit_at")
