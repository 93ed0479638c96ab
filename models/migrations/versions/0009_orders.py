"""supervision orders

The numbered 督办单 and the per-office, per-year sequence of its 文号; 签收 and 逾期未签收;
the 催报 of a missed progress report.

Revision ID: 0009_orders
Revises: 0008_person_channels
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0009_orders'
down_revision = '0008_person_channels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'order_sequence',
        sa.Column('office', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('office', 'year'))
    op.create_table(
        'supervision_order',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('office', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('escalation_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('level_name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('overdue_workdays', sa.Integer(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('receipt_due_on', sa.Date(), nullable=False),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('received_by', sa.Integer(), nullable=True),
        sa.Column('receipt_overdue_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id']),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id']),
        sa.ForeignKeyConstraint(['received_by'], ['person.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('escalation_id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('office', 'year', 'seq', name='uq_order_number'))
    op.create_table(
        'feedback_chase',
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('raised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id']),
        sa.PrimaryKeyConstraint('milestone_id', 'due_on'))
    with op.batch_alter_table('supervision_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_order_milestone_id'), ['milestone_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_order_unit_id'), ['unit_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supervision_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_order_unit_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_order_milestone_id'))
    op.drop_table('feedback_chase')
    op.drop_table('supervision_order')
    op.drop_table('order_sequence')
