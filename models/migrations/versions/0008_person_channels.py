"""person channels

A person may be reached by a DingTalk 工作通知 or a WeCom 应用消息 instead of e-mail: their
choice and user ids; a message records the far end's asynchronous task and its result.

Revision ID: 0008_person_channels
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0008_person_channels'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_via', sa.Enum('email', 'dingtalk', 'wecom', name='notifyvia', native_enum=False, length=20), nullable=False,
                                      server_default='email'))
        batch_op.add_column(sa.Column('dingtalk_userid',
                                      sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('wecom_userid',
                                      sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_id', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column('remote_result',
                                      sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('remote_result')
        batch_op.drop_column('remote_id')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('wecom_userid')
        batch_op.drop_column('dingtalk_userid')
        batch_op.drop_column('notify_via')
