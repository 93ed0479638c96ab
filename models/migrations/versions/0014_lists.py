"""lists that scale, and claims are blue

1. ``milestone.claimed_on``: the latest claim's day while an item is claimed or closed, so the
   office's 待核实 list is ordered oldest claim first, and the 台账 shows 申报日期, from the row.
   Filled from the claim events (their day in Asia/Shanghai, which has kept UTC+8 since 1991).
2. A claimed item's light is blue (待核实), no longer green (models.rules.status says why).
3. The list indexes, partial on listed items (retired_at IS NULL): (light, due_on, id), the
   same after unit_id and after level, (state, claimed_on, id) and (state, level,
   acknowledged_level); on PostgreSQL, pg_trgm GIN indexes on the milestone and project
   titles for text search (SQLite searches with LIKE, without an index: README, 事项列表).

Revision ID: 0014_lists
Revises: 0013_notices
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_lists'
down_revision = '0013_notices'
branch_labels = None
depends_on = None

LIST_INDEXES = {
    'ix_milestone_light_due': ['light', 'due_on', 'id'],
    'ix_milestone_unit_light_due': ['unit_id', 'light', 'due_on', 'id'],
    'ix_milestone_level_light_due': ['level', 'light', 'due_on', 'id'],
    'ix_milestone_state_claimed': ['state', 'claimed_on', 'id'],
    'ix_milestone_state_level': ['state', 'level', 'acknowledged_level'],
}
TRIGRAM_INDEXES = {'ix_milestone_title_trgm': ('milestone', 'title'),
                   'ix_project_name_trgm': ('project', 'name')}


def upgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_on', sa.Date(), nullable=True))
    postgres = op.get_bind().dialect.name == 'postgresql'
    claim_day = ("(e.at AT TIME ZONE 'Asia/Shanghai')::date" if postgres
                 else "date(e.at, '+8 hours')")
    op.execute(f"""
        UPDATE milestone SET claimed_on = (
            SELECT {claim_day} FROM event e
            WHERE e.milestone_id = milestone.id AND e.kind = 'milestone.done_claimed'
            ORDER BY e.id DESC LIMIT 1)
        WHERE state IN ('claimed', 'closed')""")
    op.execute("UPDATE milestone SET light = 'blue' WHERE state = 'claimed'")
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        for name, columns in LIST_INDEXES.items():
            batch_op.create_index(name, columns, unique=False,
                                  postgresql_where=sa.text('retired_at IS NULL'),
                                  sqlite_where=sa.text('retired_at IS NULL'))
    if postgres:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, (table, column) in TRIGRAM_INDEXES.items():
            op.execute(f'CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in TRIGRAM_INDEXES:
            op.execute(f'DROP INDEX IF EXISTS {name}')
    op.execute("UPDATE milestone SET light = 'green' WHERE state = 'claimed'")
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        for name in LIST_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column('claimed_on')
