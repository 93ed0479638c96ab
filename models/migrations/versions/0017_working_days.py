"""working days as rows (working_day, working_day_source)

``working_day``: one row per day of the years in use, with the count of working days up to it,
so that the sweep computes lights for items with no facts in SQL. Derived data: written by
models.store.working_days from the calendar whenever its fingerprint changes, empty at first.

Revision ID: 0017_working_days
Revises: 0016_light_changes
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0017_working_days'
down_revision = '0016_light_changes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'working_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('day_number', sa.Integer(), nullable=False),
        sa.Column('workday_number', sa.Integer(), nullable=False),
        sa.Column('workday', sa.Boolean(), nullable=False),
        sa.Column('provisional', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('day'))
    with op.batch_alter_table('working_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_day_day_number'), ['day_number'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_working_day_workday_number'), ['workday_number'],
                              unique=False)
    op.create_table(
        'working_day_source',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('working_day_source')
    with op.batch_alter_table('working_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_day_workday_number'))
        batch_op.drop_index(batch_op.f('ix_working_day_day_number'))
    op.drop_table('working_day')
