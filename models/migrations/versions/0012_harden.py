"""harden: API tokens that expire, may be read-only and show their last use; the event log's
hash chain

Tokens issued before expiry existed expire 90 days after this upgrade (not at once: their
scripts keep working while the office replaces them; models.store.api_tokens).

The hash chain (models.rules.event_chain): a seal per event and the chain head, both new
tables; the seals are append-only like the events. The events already there are sealed here,
in id order, so the chain starts with the first event ever written.

Revision ID: 0012_harden
Revises: 0011_seeds
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from models.rules.event_chain import FIELDS, GENESIS, link

revision = '0012_harden'
down_revision = '0011_seeds'
branch_labels = None
depends_on = None

GRACE = timedelta(days=90)
CHUNK = 5000
# The event columns the chain covers, typed as the model reads them (times in UTC, JSON data).
EVENT = sa.table('event', *(sa.column(name, sqlmodel.sql.sqltypes.UTCDateTime() if name == 'at'
                                      else sa.JSON() if name == 'data' else None)
                            for name in FIELDS))


def upgrade() -> None:
    _tokens_expire()
    seals = op.create_table('event_seal',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    head = op.create_table('event_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    seq, digest, last = _seal_existing(seals)
    op.bulk_insert(head, [{'id': 1, 'seq': seq, 'event_id': last, 'hash': digest}])
    _forbid_seal_rewrites()


def _tokens_expire() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('read_only', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
    tokens = sa.table('api_token', sa.column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    op.execute(tokens.update().values(expires_at=datetime.now(UTC) + GRACE))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sqlmodel.sql.sqltypes.UTCDateTime(),
                              nullable=False)
        batch_op.alter_column('read_only', existing_type=sa.Boolean(), server_default=None)


def _seal_existing(seals: sa.Table) -> tuple[int, str, int | None]:
    """Seal every event there is, in id order, a page at a time; the last link."""
    connection = op.get_bind()
    seq, digest, last = 0, GENESIS, None
    while True:
        rows = connection.execute(sa.select(EVENT).where(EVENT.c.id > (last or 0))
                                  .order_by(EVENT.c.id).limit(CHUNK)).mappings().all()
        if not rows:
            return seq, digest, last
        page = []
        for row in rows:
            seq, prev, last = seq + 1, digest, row['id']
            digest = link(prev, dict(row))
            page.append({'seq': seq, 'event_id': last, 'prev_hash': prev, 'hash': digest})
        op.bulk_insert(seals, page)


def _forbid_seal_rewrites() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION event_seal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the event log is append-only: % on event_seal refused', TG_OP;
            END $$""")
        op.execute("""CREATE TRIGGER event_seal_append_only BEFORE UPDATE OR DELETE ON event_seal
                      FOR EACH ROW EXECUTE FUNCTION event_seal_is_append_only()""")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER event_seal_no_{action.lower()} BEFORE {action}
                           ON event_seal BEGIN SELECT RAISE(ABORT, 'the event log is
                           append-only: {action} on event_seal refused'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER event_seal_append_only ON event_seal")
        op.execute("DROP FUNCTION event_seal_is_append_only()")
    else:
        op.execute("DROP TRIGGER event_seal_no_update")
        op.execute("DROP TRIGGER event_seal_no_delete")
    op.drop_table('event_chain_head')
    op.drop_table('event_seal')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('read_only')
        batch_op.drop_column('expires_at')
