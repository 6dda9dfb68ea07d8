"""each signed tree head keeps the log's frontier (the roots of its perfect subtrees), so the next head is computed
from it and the leaves logged since, not from every leaf of the log

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: a head signed before this revision has none, and the next head is computed from every leaf once.
    with op.batch_alter_table('tree_heads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frontier', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tree_heads', schema=None) as batch_op:
        batch_op.drop_column('frontier')
