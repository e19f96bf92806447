"""encrypt the application form (cases.form_data) at rest

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 02:50:00

The form holds addresses, phones, prices and contract numbers: it becomes one AES-GCM
encrypted JSON text, like every other personal field. Existing rows are encrypted here
with the running platform's DATA_ENCRYPTION_KEY (the migration runs inside the app).
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CONTEXT = "cases.form_data"


def _protector():
    from app.kernel.crypto import protector  # configured by create_app before migrations run

    return protector()


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_data_enc', sa.Text(), nullable=True))
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('form_data', sa.JSON()),
                     sa.column('form_data_enc', sa.Text()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(cases.c.id, cases.c.form_data)).all()
    if rows:
        protector = _protector()
        for case_id, form in rows:
            text = json.dumps(form or {}, ensure_ascii=False, sort_keys=True,
                              separators=(",", ":"))
            bind.execute(cases.update().where(cases.c.id == case_id).values(
                form_data_enc=protector.encrypt(text, CONTEXT)))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('form_data')
        batch_op.alter_column('form_data_enc', new_column_name='form_data',
                              existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_data_plain', sa.JSON(), nullable=True))
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('form_data', sa.Text()),
                     sa.column('form_data_plain', sa.JSON()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(cases.c.id, cases.c.form_data)).all()
    if rows:
        protector = _protector()
        for case_id, text in rows:
            bind.execute(cases.update().where(cases.c.id == case_id).values(
                form_data_plain=json.loads(protector.decrypt(text, CONTEXT))))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('form_data')
        batch_op.alter_column('form_data_plain', new_column_name='form_data',
                              existing_type=sa.JSON(), nullable=False,
                              server_default='{}')
