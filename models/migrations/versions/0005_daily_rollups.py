"""daily rollup tables for the dashboards' period figures (metrics/daily.py); resolved_at in the open-now index

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:10:00
"""
import sqlalchemy as sa
from alembic import op

import metrics.rollup  # noqa: F401  (declares the indexes on the complaint table's metadata)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OPEN_NOW_0004 = ['status', 'kind', 'channel', 'district_code', 'agency_code', 'category', 'resolve_due_at',
                 'response_due_at', 'first_response_at', 'received_at', 'id']
COUNTS = ['n', 'resolved', 'actionable', 'response_known', 'resolution_known', 'responded_time_unknown',
          'resolved_time_unknown', 'response_met', 'response_late', 'resolution_met', 'resolution_late']


def upgrade() -> None:
    # the open-now covering index also holds resolved_at ("missed while still open", metrics/rollup.py)
    index = metrics.rollup.OPEN_NOW
    op.drop_index(index.name, table_name='complaint')
    op.create_index(index.name, 'complaint', [c.name for c in index.columns], unique=False)
    op.create_table(
        'rollup_day',
        sa.Column('dim', sa.String(length=12), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('value', sa.String(length=80), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.Column('response_hist', sa.LargeBinary(), nullable=False),
        sa.Column('resolution_hist', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('dim', 'day', 'kind', 'value'),
    )
    op.create_table(
        'rollup_pending',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rollup_pending_day', 'rollup_pending', ['day'], unique=False)
    op.create_table(
        'rollup_watermark',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # watermark 0: existing complaints are all above it, so the first refresh builds every day
    op.execute("INSERT INTO rollup_watermark (id, complaint_id) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_index(metrics.rollup.OPEN_NOW.name, table_name='complaint')
    op.create_index(metrics.rollup.OPEN_NOW.name, 'complaint', OPEN_NOW_0004, unique=False)
    op.drop_table('rollup_watermark')
    op.drop_index('ix_rollup_pending_day', table_name='rollup_pending')
    op.drop_table('rollup_pending')
    op.drop_table('rollup_day')
