"""sign-in attempts

The sign-in limiter's attempts, in the database so that it holds across web worker processes
and restarts.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_address'), ['address'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_attempted_at'), ['attempted_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_attempt_attempted_at'))
        batch_op.drop_index(batch_op.f('ix_sign_in_attempt_address'))
        batch_op.drop_index(batch_op.f('ix_sign_in_attempt_email'))

    op.drop_table('sign_in_attempt')
