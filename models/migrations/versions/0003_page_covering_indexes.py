"""covering indexes for the dashboard pages (metrics/rollup.py)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:30:00
"""
from alembic import op

import metrics.rollup  # noqa: F401  (declares the indexes on the complaint table's metadata)

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for index in metrics.rollup.PAGE_INDEXES:
        op.create_index(index.name, 'complaint', [c.name for c in index.columns], unique=False)


def downgrade() -> None:
    for index in reversed(metrics.rollup.PAGE_INDEXES):
        op.drop_index(index.name, table_name='complaint')
