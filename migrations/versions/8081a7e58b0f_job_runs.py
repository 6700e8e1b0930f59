"""job runs: one row per (job, period), so every worker runs each periodic job once per period

Revision ID: 8081a7e58b0f
Revises: 612adf586f9c
Create Date: 2026-12-03 11:57:14.196371

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8081a7e58b0f'
down_revision = '612adf586f9c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.Enum('running', 'succeeded', 'failed', name='job_run_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.CheckConstraint("(outcome = 'running') = (finished_at IS NULL)", name=op.f('ck_job_runs_finished_unless_running')),
    sa.CheckConstraint('attempts >= 1', name=op.f('ck_job_runs_attempts_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'period', name=op.f('uq_job_runs_job_period'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_outcome_finished', ['job', 'outcome', 'finished_at'], unique=False)



def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_outcome_finished')

    op.drop_table('job_runs')
