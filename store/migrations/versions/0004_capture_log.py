"""capture log: the WARC identity of every HTTP exchange, the log leaves (one per
fetch) and the signed tree heads

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('capture_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fetch_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('captured_at', sa.DateTime(), nullable=False),
    sa.Column('request_record_id', sa.String(length=64), nullable=False),
    sa.Column('request_head', sa.LargeBinary(), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=True),
    sa.Column('record_type', sa.String(length=20), nullable=True),
    sa.Column('response_head', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('payload_sha256', sa.String(length=64), nullable=True),
    sa.Column('profile', sa.String(length=200), nullable=True),
    sa.Column('refers_to_record_id', sa.String(length=64), nullable=True),
    sa.Column('refers_to_uri', sa.String(length=2000), nullable=True),
    sa.Column('refers_to_date', sa.DateTime(), nullable=True),
    sa.Column('conversion_record_id', sa.String(length=64), nullable=True),
    sa.Column('conversion_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id'], name=op.f('fk_capture_records_fetch_id_fetches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capture_records')),
    sa.UniqueConstraint('fetch_id', 'part', name='uq_capture_records_fetch_part')
    )
    with op.batch_alter_table('capture_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capture_records_payload_sha256'), ['payload_sha256'], unique=False)

    op.create_table('log_entries',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fetch_id', sa.Integer(), nullable=False),
    sa.Column('leaf', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id'], name=op.f('fk_log_entries_fetch_id_fetches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_entries')),
    sa.UniqueConstraint('fetch_id', name=op.f('uq_log_entries_fetch_id'))
    )
    op.create_table('tree_heads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tree_heads'))
    )


def downgrade() -> None:
    op.drop_table('tree_heads')
    op.drop_table('log_entries')
    with op.batch_alter_table('capture_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capture_records_payload_sha256'))
    op.drop_table('capture_records')
