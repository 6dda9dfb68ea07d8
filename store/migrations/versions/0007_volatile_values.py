"""volatile values learned per document, and folding of versions equal under a
newer normalisation (versions.folded_into_id, changes.folded)

Revision ID: 0007
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('volatile_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('observations', sa.Integer(), nullable=False),
    sa.Column('held_text_sha256', sa.String(length=64), nullable=True),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_volatile_values_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volatile_values')),
    sa.UniqueConstraint('document_id', 'kind', 'value', name='uq_volatile_values_document_kind_value')
    )
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('folded_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_versions_folded_into_id_versions'), 'versions', ['folded_into_id'], ['id'])
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('folded', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_column('folded')
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_versions_folded_into_id_versions'), type_='foreignkey')
        batch_op.drop_column('folded_into_id')
    op.drop_table('volatile_values')
