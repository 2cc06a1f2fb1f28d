"""The first schema: runs, meters, positions, measurements, instruments (models.py).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=True),
    sa.Column('firmware', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('serial')
    )
    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('station', sa.String(length=128), nullable=False),
    sa.Column('rig_name', sa.String(length=256), nullable=False),
    sa.Column('rig_file', sa.Text(), nullable=False),
    sa.Column('operator', sa.String(length=128), nullable=False),
    sa.Column('git_revision', sa.String(length=64), nullable=True),
    sa.Column('started', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended', sa.DateTime(timezone=True), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('overrides', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('instruments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('driver', sa.String(length=256), nullable=False),
    sa.Column('resource', sa.Text(), nullable=True),
    sa.Column('identity', sa.Text(), nullable=True),
    sa.Column('calibration_due', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instruments_run_id'), ['run_id'], unique=False)

    op.create_table('measurements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=256), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('expected', sa.Text(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('uncertainty', sa.Float(), nullable=True),
    sa.Column('limit_low', sa.Float(), nullable=True),
    sa.Column('limit_high', sa.Float(), nullable=True),
    sa.Column('limits_source', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('clause', sa.Text(), nullable=False),
    sa.Column('test', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index('ix_measurements_key_time', ['key', 'time'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurements_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurements_run_id'), ['run_id'], unique=False)

    op.create_table('positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('bus', sa.String(length=64), nullable=True),
    sa.Column('protocol', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('rating', sa.JSON(), nullable=False),
    sa.Column('retest', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'position')
    )
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_positions_meter_id'), ['meter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_positions_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_positions_run_id'))
        batch_op.drop_index(batch_op.f('ix_positions_meter_id'))

    op.drop_table('positions')
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurements_run_id'))
        batch_op.drop_index(batch_op.f('ix_measurements_outcome'))
        batch_op.drop_index('ix_measurements_key_time')

    op.drop_table('measurements')
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instruments_run_id'))

    op.drop_table('instruments')
    op.drop_table('runs')
    op.drop_table('meters')
