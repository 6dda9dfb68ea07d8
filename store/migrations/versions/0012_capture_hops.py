"""the redirects a fetch followed are archived as capture records of their own, before the page's
(capture_records.hop), and are never read as pages of the document

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every capture recorded before this revision is a page (or a request that got no answer): no redirect was kept.
    # A plain ADD COLUMN, which SQLite does in place for a constant default: batch mode copied the whole table.
    op.add_column('capture_records', sa.Column('hop', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('capture_records', schema=None) as batch_op:
        batch_op.drop_column('hop')
