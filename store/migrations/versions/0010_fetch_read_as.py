"""the version each fetch reads as after a history was rebuilt (reprocess, or a value learned as volatile),
so that the timeline shows the rebuilt history fetch by fetch

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, and no foreign key (adding one makes SQLite copy the whole table): a fetch of a history never
    # rebuilt reads as the version it recorded.
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_as_version_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        batch_op.drop_column('read_as_version_id')
