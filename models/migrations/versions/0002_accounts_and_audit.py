"""accounts, sign-in sessions and the audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import models.base
import models.auth  # noqa: F401  (registers app_user, user_session, audit_log on SQLModel.metadata)


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('agency_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', name='uq_app_user_username')
    )
    op.create_index('ix_app_user_email', 'app_user', ['email'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('object', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_index('ix_audit_log_complaint', 'audit_log', ['complaint_id'], unique=False)
    op.create_index('ix_audit_log_username_at', 'audit_log', ['username', 'at'], unique=False)
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash', name='uq_user_session_token_hash')
    )
    op.create_index('ix_user_session_user', 'user_session', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_user_session_user', table_name='user_session')
    op.drop_table('user_session')
    op.drop_index('ix_audit_log_username_at', table_name='audit_log')
    op.drop_index('ix_audit_log_complaint', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_app_user_email', table_name='app_user')
    op.drop_table('app_user')
