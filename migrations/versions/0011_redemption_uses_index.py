"""The uses' index by community and day also holds what the comparison and the misuse checks read.

互看互比 and the misuse checks read every live use of a period for many communities at once
(per card and shop, per shop and day, bills near a 满减 threshold). With the index on
(community_id, local_day) alone each such use costs a lookup in the table; this index, in
its place, carries status, campaign, shop, card, bill and rule too, so those reads are
index-only. It replaces the old one (same leading columns): a redemption still writes the
same number of index entries.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = [
    'community_id', 'local_day', 'status', 'campaign_id', 'merchant_id', 'card_id', 'bill_fen',
    'rule_text',
]


def upgrade():
    op.drop_index('ix_redemption_community_day', table_name='redemption')
    op.create_index('ix_redemption_community_day_uses', 'redemption', COLUMNS, unique=False)


def downgrade():
    op.drop_index('ix_redemption_community_day_uses', table_name='redemption')
    op.create_index(
        'ix_redemption_community_day', 'redemption', ['community_id', 'local_day'], unique=False
    )
