"""needs keep their full-text document: a stored generated tsvector column (PostgreSQL)

The needs a member may help with were ranked by `ts_rank` over the indexed expression, which
PostgreSQL computes again (`to_tsvector` of the title and details) for every matching need, so the
dashboard's matching grew with the needs. The document is now stored with the row, the GIN index is
on that column, and both the match and the rank read it. SQLite keeps its FTS5 table.

Revision ID: f3b9c2d4e6a1
Revises: 1ab6ef9b91fa
Create Date: 2026-12-04 20:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f3b9c2d4e6a1'
down_revision = '1ab6ef9b91fa'
branch_labels = None
depends_on = None

# The expression of the relationships migration (e4775d323273) and referral_hub.relationships.matching.
DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, details), 'B')"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_needs_text_search")
    op.execute(f"ALTER TABLE needs ADD COLUMN text_search tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED")
    op.execute("CREATE INDEX ix_needs_text_search ON needs USING gin (text_search)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_needs_text_search")
    op.execute("ALTER TABLE needs DROP COLUMN text_search")
    op.execute(f"CREATE INDEX ix_needs_text_search ON needs USING gin (({DOCUMENT}))")
