"""community.phone: the office's phone, printed on the notice-board poster and on paper.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL with a default: ALTER TABLE ADD COLUMN on both backends, no table rebuilt.
    op.add_column(
        "community", sa.Column("phone", sa.String(20), nullable=False, server_default="")
    )


def downgrade():
    op.drop_column("community", "phone")
