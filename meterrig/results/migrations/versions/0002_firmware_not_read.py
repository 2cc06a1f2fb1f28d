"""The firmware a run read from its meter, or why not (positions.firmware, firmware_not_read).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('firmware', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('firmware_not_read', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_column('firmware_not_read')
        batch_op.drop_column('firmware')
