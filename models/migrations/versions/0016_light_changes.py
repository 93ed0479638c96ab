"""light changes that time alone brought about, as narrow rows

``light_change``: a sweep's finding that an item's state or light changed because days passed
(models/tables/light_change.py), instead of a sealed ``milestone.status_changed`` event per
item. Events written before stay as they are; readers take both.

Revision ID: 0016_light_changes
Revises: 0015_co_units
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0016_light_changes'
down_revision = '0015_co_units'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'light_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('state_from', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('state_to', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('light_from', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('light_to', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('overdue_workdays', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_light_change_milestone_at', 'light_change', ['milestone_id', 'at'])
    op.create_index('ix_light_change_at', 'light_change', ['at'])


def downgrade() -> None:
    op.drop_index('ix_light_change_at', table_name='light_change')
    op.drop_index('ix_light_change_milestone_at', table_name='light_change')
    op.drop_table('light_change')
