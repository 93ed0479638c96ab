"""sweep rules

Each full sweep records the fingerprint of the policies and calendar it ran under, so that the
next sweep under changed rules looks at every open item.

Revision ID: 0010_sweep_rules
Revises: 0009_orders
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0010_sweep_rules'
down_revision = '0009_orders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sweep', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sweep', schema=None) as batch_op:
        batch_op.drop_column('rules')
