"""each version's detected language, and the facts that moved in each clause change

Both columns are nullable: versions stored before detection have no language
until `clausewatch analyze --stale` re-analyses them; clause changes stored
before have no facts.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))
    with op.batch_alter_table('clause_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clause_changes', schema=None) as batch_op:
        batch_op.drop_column('facts')
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('language')
