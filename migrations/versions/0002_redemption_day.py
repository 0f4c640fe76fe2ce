"""Daily summary of redemptions per campaign, for district-wide figures.

redemption_day holds each campaign's live uses, bills and discounts on a day at least two days
old; redemption_day_closed marks a day whose rows are complete. services.dashboard fills them
when figures are asked for and refreshes a row when a use of that day is voided.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('redemption_day',
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('redemptions', sa.Integer(), nullable=False),
    sa.Column('bills_fen', sa.BigInteger(), nullable=False),
    sa.Column('discounts_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('bills_fen >= 0', name=op.f('ck_redemption_day_bills_fen_not_negative')),
    sa.CheckConstraint('discounts_fen >= 0', name=op.f('ck_redemption_day_discounts_fen_not_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_redemption_day_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_redemption_day_community_id_community')),
    sa.PrimaryKeyConstraint('local_day', 'campaign_id', name=op.f('pk_redemption_day'))
    )
    with op.batch_alter_table('redemption_day', schema=None) as batch_op:
        batch_op.create_index('ix_redemption_day_community_day', ['community_id', 'local_day'], unique=False)

    op.create_table('redemption_day_closed',
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('local_day', name=op.f('pk_redemption_day_closed'))
    )


def downgrade():
    op.drop_table('redemption_day_closed')
    with op.batch_alter_table('redemption_day', schema=None) as batch_op:
        batch_op.drop_index('ix_redemption_day_community_day')

    op.drop_table('redemption_day')
