"""the open-now covering index ends with the complaint id (metrics/rollup.py)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 19:10:00
"""
from alembic import op

import metrics.rollup  # noqa: F401  (declares the indexes on the complaint table's metadata)

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_COLUMNS = ['status', 'kind', 'channel', 'district_code', 'agency_code', 'category', 'resolve_due_at',
               'response_due_at', 'first_response_at', 'received_at']


def upgrade() -> None:
    index = metrics.rollup.OPEN_NOW
    op.drop_index(index.name, table_name='complaint')
    op.create_index(index.name, 'complaint', [c.name for c in index.columns], unique=False)


def downgrade() -> None:
    op.drop_index(metrics.rollup.OPEN_NOW.name, table_name='complaint')
    op.create_index(metrics.rollup.OPEN_NOW.name, 'complaint', OLD_COLUMNS, unique=False)
