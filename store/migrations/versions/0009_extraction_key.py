"""extraction key: what the document's last extracted text was made from (the raw bytes of every part,
the extraction rules and the extractor), so that a re-fetch of the very same bytes under the same rules
is recorded as unchanged without extracting it again

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: a document recorded before this revision has no key, and its next fetch is extracted.
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extraction_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('extraction_text_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('extraction_text_sha256')
        batch_op.drop_column('extraction_key')
