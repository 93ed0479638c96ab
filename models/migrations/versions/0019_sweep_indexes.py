"""fewer index entries for a sweep to write

Every UPDATE a sweep makes of a milestone changes an indexed column (its state, light, level
or next check), so none is HOT: each adds an entry to every index of the table, and a first
sweep doubles them all (issue 13). Kept are the indexes some reader needs:
1. ``ix_milestone_project_id`` goes: ``uq_milestone_project_key`` (project_id, key) answers
   every look-up by project, and the cascade from a project.
2. ``ix_milestone_state`` goes: every reader of a state asks among listed items
   (retired_at IS NULL), which ``ix_milestone_state_level`` (state first) holds.
3. ``ix_milestone_state_claimed`` holds claimed items only (claimed_on IS NOT NULL): the
   claim-day order asks for a claim day, and a sweep never claims.
4. ``ix_escalation_milestone_id`` goes: ``uq_escalation_step`` starts with milestone_id.
At 100,000 milestones on PostgreSQL the first sweep's growth of the milestone table and its
indexes falls from 45.9 to 38.0 MB, of the escalation table from 13.3 to 11.3 MB.

Revision ID: 0019_sweep_indexes
Revises: 0018_lean_notices
"""
import sqlalchemy as sa
from alembic import op

revision = '0019_sweep_indexes'
down_revision = '0018_lean_notices'
branch_labels = None
depends_on = None

LISTED = 'retired_at IS NULL'
CLAIMED = 'retired_at IS NULL AND claimed_on IS NOT NULL'


def upgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_project_id')
        batch_op.drop_index('ix_milestone_state')
        batch_op.drop_index('ix_milestone_state_claimed')
        batch_op.create_index('ix_milestone_state_claimed', ['state', 'claimed_on', 'id'],
                              unique=False, postgresql_where=sa.text(CLAIMED),
                              sqlite_where=sa.text(CLAIMED))
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_milestone_id')


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_milestone_id', ['milestone_id'], unique=False)
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_state_claimed')
        batch_op.create_index('ix_milestone_state_claimed', ['state', 'claimed_on', 'id'],
                              unique=False, postgresql_where=sa.text(LISTED),
                              sqlite_where=sa.text(LISTED))
        batch_op.create_index('ix_milestone_state', ['state'], unique=False)
        batch_op.create_index('ix_milestone_project_id', ['project_id'], unique=False)
