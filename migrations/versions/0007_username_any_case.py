"""User names are unique in any case, and found as lower(username) at sign-in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    clashes = op.get_bind().execute(sa.text(
        'SELECT lower(username) FROM users WHERE username IS NOT NULL '
        'GROUP BY lower(username) HAVING count(*) > 1'
    )).scalars().all()
    if clashes:
        raise RuntimeError(
            '这些用户名只差大小写，请先改掉其中一个再升级 (user names differing only in case; '
            'rename one of each first): ' + ', '.join(clashes)
        )
    op.create_index(
        'uq_users_username_lower', 'users', [sa.text('lower(username)')], unique=True
    )


def downgrade():
    op.drop_index('uq_users_username_lower', table_name='users')
