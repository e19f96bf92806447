"""case ratings (好差评); material file names encrypted at rest

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 18:20:00

An upload's original file name is personal data (a file named after its owner's name,
ID number or phone is stored as typed): it becomes an AES-GCM encrypted text bound to its
column, like every other personal field. Existing rows are encrypted here with the
running platform's DATA_ENCRYPTION_KEY (the migration runs inside the app).
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

CONTEXT = "case_materials.original_filename"


def _protector():
    from app.kernel.crypto import protector  # configured by create_app before migrations run

    return protector()


def _convert(source_type, target_type, transform):
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_filename_new', target_type, nullable=True))
    table = sa.table('case_materials', sa.column('id', sa.Integer()),
                     sa.column('original_filename', source_type),
                     sa.column('original_filename_new', target_type))
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.original_filename)).all()
    if rows:
        protector = _protector()
        for row_id, value in rows:
            bind.execute(table.update().where(table.c.id == row_id).values(
                original_filename_new=transform(protector, value or "")))
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.drop_column('original_filename')
        batch_op.alter_column('original_filename_new', new_column_name='original_filename',
                              existing_type=target_type, nullable=False)


def upgrade():
    op.create_table(
        'case_ratings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_case_ratings_account_id_accounts')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_ratings_case_id_cases')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_case_ratings_person_id_persons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ratings')),
        sa.UniqueConstraint('case_id', 'person_id', name='uq_case_ratings_person'),
    )
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ratings_case_id'), ['case_id'], unique=False)
    _convert(sa.String(length=120), sa.Text(),
             lambda protector, value: protector.encrypt(value, CONTEXT))


def downgrade():
    _convert(sa.Text(), sa.String(length=120),
             lambda protector, value: protector.decrypt(value, CONTEXT)[:120])
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ratings_case_id'))
    op.drop_table('case_ratings')
