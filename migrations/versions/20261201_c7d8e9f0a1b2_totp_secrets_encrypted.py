"""TOTP secrets stored encrypted (Fernet, TOTP_ENCRYPTION_KEYS): wider columns, existing secrets encrypted.

Revision ID: c7d8e9f0a1b2
Revises: b1c2d3e4f5a6
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from crm.accounts import crypto

revision = "c7d8e9f0a1b2"
down_revision = "b1c2d3e4f5a6"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String),
                 sa.column("totp_pending_secret", sa.String))
COLUMNS = ("totp_secret", "totp_pending_secret")


def _convert(change) -> None:
    keys = current_app.config["TOTP_ENCRYPTION_KEYS"]
    connection = op.get_bind()
    for user_id, *values in connection.execute(sa.select(users.c.id, *(users.c[c] for c in COLUMNS))).all():
        updates = {c: change(v, keys) for c, v in zip(COLUMNS, values) if v}
        if updates:
            connection.execute(users.update().where(users.c.id == user_id).values(**updates))


def upgrade():
    with op.batch_alter_table("users") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.String(length=64), type_=sa.String(length=255),
                               existing_nullable=True)
    _convert(crypto.encrypt)


def downgrade():
    _convert(crypto.decrypt)
    with op.batch_alter_table("users") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.String(length=255), type_=sa.String(length=64),
                               existing_nullable=True)
