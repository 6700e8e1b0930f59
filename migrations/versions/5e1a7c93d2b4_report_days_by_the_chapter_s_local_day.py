"""report days by the chapter's local day: refile the kept days of every chapter whose zone is not UTC

Revision ID: 5e1a7c93d2b4
Revises: 1286964e418b
Create Date: 2026-12-03 19:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e1a7c93d2b4"
down_revision = "1286964e418b"
branch_labels = None
depends_on = None


def upgrade():
    # A chapter whose zone was set after its figures were kept has them filed by UTC day. The recount
    # reads the current models, as the backfill in 1286964e418b does.
    from referral_hub.reports.counting import rebuild_days

    connection = op.get_bind()
    chapter_ids = connection.execute(sa.text("SELECT id FROM chapters WHERE timezone <> 'UTC'")).scalars().all()
    if chapter_ids:
        rebuild_days(connection, chapter_ids)


def downgrade():
    # Data only: the schema is unchanged. Code older than this revision files days by UTC date, so its
    # `flask reports verify` would list the days of chapters outside UTC until their figures are rebuilt.
    pass
