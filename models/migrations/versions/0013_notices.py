"""bulletin issue numbers

Each stored bulletin gets its 期号 (issue year and number, models/rules/bulletin/issues.py),
kept with it so that regenerating a past bulletin prints the number it was issued under. The
bulletins already stored are numbered here by the same rule, in the order of their periods
(then of their first generation), both editions of a period sharing one number.

Revision ID: 0013_notices
Revises: 0012_harden
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_notices'
down_revision = '0012_harden'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issue_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('issue_number', sa.Integer(), nullable=True))
    bulletin = sa.table('bulletin', sa.column('id', sa.Integer), sa.column('scope', sa.String),
                        sa.column('period_first', sa.Date), sa.column('period_last', sa.Date),
                        sa.column('issue_year', sa.Integer),
                        sa.column('issue_number', sa.Integer))
    connection = op.get_bind()
    rows = connection.execute(sa.select(bulletin.c.id, bulletin.c.scope, bulletin.c.period_first,
                                        bulletin.c.period_last)
                              .order_by(bulletin.c.scope, bulletin.c.period_last,
                                        bulletin.c.period_first, bulletin.c.id)).all()
    numbers: dict[tuple[str, object, object], tuple[int, int]] = {}
    last: dict[tuple[str, int], int] = {}
    for row_id, scope, first, last_day in rows:
        key = (scope, first, last_day)
        if key not in numbers:
            year = last_day.year
            last[(scope, year)] = last.get((scope, year), 0) + 1
            numbers[key] = (year, last[(scope, year)])
        year, number = numbers[key]
        connection.execute(sa.update(bulletin).where(bulletin.c.id == row_id)
                           .values(issue_year=year, issue_number=number))
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_bulletin_issue', ['scope', 'edition', 'issue_year', 'issue_number'])


def downgrade() -> None:
    with op.batch_alter_table('bulletin', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bulletin_issue', type_='unique')
        batch_op.drop_column('issue_number')
        batch_op.drop_column('issue_year')
