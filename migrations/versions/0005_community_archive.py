"""community.archived_at: a community can be archived (hidden from the public, data kept).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: ALTER TABLE ADD COLUMN on both backends, no table rebuilt.
    op.add_column("community", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("community", "archived_at")
