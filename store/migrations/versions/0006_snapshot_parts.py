"""snapshot parts: where each page of a combined document begins in the version's text,
so that every clause cites the snapshot of the page it came from

Revision ID: 0006
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: links recorded before this revision (and single-page documents) have no offset.
    with op.batch_alter_table('version_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_start', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('version_snapshots', schema=None) as batch_op:
        batch_op.drop_column('text_start')
