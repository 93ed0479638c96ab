"""notices name roles, not people

``notice`` replaces ``notification``: one row per step (or per 逾期未签收 / 催报) naming the
roles it tells, resolved into people when the sweep's digests are composed, instead of one row
per recipient with its own copy of the context; ``sweep.composed_at`` says a sweep's digests
are all stored. The notices not yet in a digest are carried over, one per step, their roles
read off the people they were queued for (a unit's contact stands for its owners, a
head of unit for its heads too); those in a
digest already are done with and dropped, their sweeps marked composed. A downgrade restores
the old table empty: what had not been composed by then is not sent.

Revision ID: 0018_lean_notices
Revises: 0017_working_days
"""
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0018_lean_notices'
down_revision = '0017_working_days'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sweep', schema=None) as batch_op:
        batch_op.add_column(sa.Column('composed_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
    notice = op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('roles', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('escalation_id', sa.Integer(), nullable=True),
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('sweep_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('context', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_sweep_id'), ['sweep_id'], unique=False)
    _carry_over(notice)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_message_id'))
    op.drop_table('notification')


def _carry_over(notice: sa.Table) -> None:
    connection = op.get_bind()
    old = sa.table('notification', *(sa.column(c) for c in (
        'id', 'key', 'kind', 'person_id', 'escalation_id', 'milestone_id', 'sweep_id',
        'message_id')), sa.column('context', sa.JSON),
        sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    person = sa.table('person', sa.column('id'), sa.column('role'), sa.column('heads_unit'))
    sweep = sa.table('sweep', sa.column('id'), sa.column('finished_at'),
                     sa.column('composed_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    rows = connection.execute(
        sa.select(old.c.key, old.c.kind, old.c.escalation_id, old.c.milestone_id,
                  old.c.sweep_id, old.c.context, old.c.created_at,
                  person.c.role, person.c.heads_unit)
        .select_from(old.outerjoin(person, person.c.id == old.c.person_id))
        .where(old.c.message_id.is_(None), old.c.milestone_id.is_not(None),
               old.c.sweep_id.is_not(None)).order_by(old.c.id)).all()
    carried: dict[str, dict[str, Any]] = {}
    for key, kind, step, milestone, sweep_id, context, created_at, role, heads in rows:
        # The old key was the step's (or duty's) key and the address: "escalation:7:a@b.cn".
        row = carried.setdefault(key.rsplit(':', 1)[0], {
            'key': key.rsplit(':', 1)[0], 'kind': kind, 'roles': [], 'escalation_id': step,
            'milestone_id': milestone, 'sweep_id': sweep_id,
            'context': {k: v for k, v in dict(context or {}).items() if k != 'recipient'},
            'created_at': created_at})
        for said in (role or 'owner', *(['unit_head'] if heads else [])):
            if said not in row['roles']:
                row['roles'].append(said)
    if carried:
        op.bulk_insert(notice, [r | {'roles': ','.join(r['roles'])} for r in carried.values()])
    pending = {r['sweep_id'] for r in carried.values()}
    done = sweep.c.id.not_in(sorted(pending)) if pending else sa.true()
    connection.execute(sa.update(sweep).where(done, sweep.c.finished_at.is_not(None))
                       .values(composed_at=datetime.now(UTC)))


def downgrade() -> None:
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column('escalation_id', sa.Integer(), nullable=True),
        sa.Column('milestone_id', sa.Integer(), nullable=True),
        sa.Column('sweep_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('context', sa.JSON(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_message_id'), ['message_id'],
                              unique=False)
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_sweep_id'))
    op.drop_table('notice')
    with op.batch_alter_table('sweep', schema=None) as batch_op:
        batch_op.drop_column('composed_at')
