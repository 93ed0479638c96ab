"""co-responsible units (协办单位)

``milestone_co_unit`` (milestone_id, unit_id): the units besides a milestone's lead unit
(``milestone.unit_id``, 牵头单位) that see it, get its notices and may report progress.
Empty at first: plan files name co-units from now on (``co_units:``).

Revision ID: 0015_co_units
Revises: 0014_lists
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_co_units'
down_revision = '0014_lists'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'milestone_co_unit',
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('milestone_id', 'unit_id'))
    with op.batch_alter_table('milestone_co_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_co_unit_unit_id'), ['unit_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('milestone_co_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_co_unit_unit_id'))
    op.drop_table('milestone_co_unit')
