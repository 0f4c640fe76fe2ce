"""A campaign's name and serial prefix are unique within its community, in the database too.

The office's pages checked it before; two staff saving at the same moment could still make
two. An installation that has such a pair is told which, and upgrades once one is renamed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    clashes = []
    for column in ('name', 'code'):
        clashes += bind.execute(sa.text(
            f'SELECT community.name, campaign.{column} FROM campaign '  # noqa: S608
            'JOIN community ON community.id = campaign.community_id '
            f'GROUP BY community.name, campaign.community_id, campaign.{column} '
            'HAVING count(*) > 1 ORDER BY community.name'
        )).all()
    if clashes:
        raise RuntimeError(
            '这些社区有同名或同卡号前缀的活动，请先改掉其中一个再升级 (campaigns of one '
            'community sharing a name or serial prefix; rename one of each first): '
            + ', '.join(f'{community} {value}' for community, value in clashes)
        )
    op.create_index(
        'uq_campaign_community_name', 'campaign', ['community_id', 'name'], unique=True
    )
    op.create_index(
        'uq_campaign_community_code', 'campaign', ['community_id', 'code'], unique=True
    )


def downgrade():
    op.drop_index('uq_campaign_community_code', table_name='campaign')
    op.drop_index('uq_campaign_community_name', table_name='campaign')
