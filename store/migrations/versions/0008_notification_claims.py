"""notification claims: the changes and failure streaks alerted, in the store rather than in a
JSON file per host, so that two hosts never alert the same thing twice

Revision ID: 0008
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_claims')),
    sa.UniqueConstraint('kind', 'key', name='uq_notification_claims_kind_key')
    )


def downgrade() -> None:
    op.drop_table('notification_claims')
