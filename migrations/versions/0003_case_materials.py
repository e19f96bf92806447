"""case materials

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('original_filename', sa.String(length=120), nullable=False),
    sa.Column('detected_type', sa.String(length=10), nullable=False),
    sa.Column('name_mismatch', sa.Boolean(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_size_bytes', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=200), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_account_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_materials_case_id_cases')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['case_materials.id'], name=op.f('fk_case_materials_replaced_by_id_case_materials')),
    sa.ForeignKeyConstraint(['uploaded_by_account_id'], ['accounts.id'], name=op.f('fk_case_materials_uploaded_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_materials'))
    )
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_materials_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_materials_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_materials_uploaded_by_account_id'), ['uploaded_by_account_id'], unique=False)
        batch_op.create_index('uq_case_materials_active_checksum', ['case_id', 'sha256'], unique=True,
                              sqlite_where=sa.text("status = 'active'"),
                              postgresql_where=sa.text("status = 'active'"))


def downgrade():
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.drop_index('uq_case_materials_active_checksum')
        batch_op.drop_index(batch_op.f('ix_case_materials_uploaded_by_account_id'))
        batch_op.drop_index(batch_op.f('ix_case_materials_status'))
        batch_op.drop_index(batch_op.f('ix_case_materials_case_id'))

    op.drop_table('case_materials')
