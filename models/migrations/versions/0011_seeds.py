"""milestone assumption, unmarked commitment

A milestone whose date or text the plan does not give carries the reason it was assumed
(``assumption``), and a milestone whose plan gives no 约束性/预期性 keeps its commitment unknown
(NULL) instead of 预期性. Existing rows keep 预期性 until their plan is imported again, which
records the change.

Revision ID: 0011_seeds
Revises: 0010_sweep_rules
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0011_seeds'
down_revision = '0010_sweep_rules'
branch_labels = None
depends_on = None

_COMMITMENT = sa.Enum('binding', 'expected', name='commitment', native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assumption', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=True))
        batch_op.alter_column('commitment', existing_type=_COMMITMENT, nullable=True)


def downgrade() -> None:
    # Before this revision an unmarked milestone was stored as 预期性.
    op.execute("UPDATE milestone SET commitment = 'expected' WHERE commitment IS NULL")
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.alter_column('commitment', existing_type=_COMMITMENT, nullable=False)
        batch_op.drop_column('assumption')
