"""security log, two-factor sign-in, forced password change

security_events: the sign-in and account security log. users: must_change_password, the TOTP
secret (pending and active), the last accepted time-step and recovery-code hashes. zones:
require_2fa_privileged. The two booleans default to false in the database, for existing rows.

Revision ID: f4ac84720b01
Revises: bdf9dc2af146
Create Date: 2026-11-23 17:26:03.167606

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4ac84720b01'
down_revision = 'bdf9dc2af146'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('security_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=300), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_security_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events'))
    )
    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_events_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_events_user_id'), ['user_id'], unique=False)

    # Plain ALTER TABLE ... ADD COLUMN: on SQLite a batch with a server default would rebuild (drop and
    # recreate) users and zones, which other tables' foreign keys point to.
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_pending_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('recovery_code_hashes', sa.JSON(), nullable=True))
    op.add_column('zones', sa.Column('require_2fa_privileged', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it), for the same reason.
    op.drop_column('zones', 'require_2fa_privileged')
    for column in ('recovery_code_hashes', 'totp_last_step', 'totp_enabled_at', 'totp_pending_secret',
                   'totp_secret', 'must_change_password'):
        op.drop_column('users', column)

    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_security_events_event'))
        batch_op.drop_index(batch_op.f('ix_security_events_at'))

    op.drop_table('security_events')
