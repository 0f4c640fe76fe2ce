"""The help board (邻里互助): posts, the points ledger, residents' households and balances.

help_post holds requests and offers of help; points_entry is each resident's 互助积分 ledger,
and users.points_balance its running sum (CHECK >= 0), kept together by services.points.
Residents get a household and a confirmation time; staff resets set must_change_password.
community.leaderboard_on is the leaderboard's switch; campaign.points_stock caps how many
cards of a campaign may be exchanged for points.

The new columns with CHECKs are added with the CHECK in the same statement, so SQLite need
not copy the users table (other tables point at it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def add_checked_column(table, column, sql_type, default, check):
    """Add a column with a default and a named CHECK, without copying the table on SQLite."""
    name = f'ck_{table}_{check[0]}'
    if op.get_bind().dialect.name == 'sqlite':
        null = 'NULL' if default is None else f'DEFAULT {default} NOT NULL'
        op.execute(
            f'ALTER TABLE {table} ADD COLUMN {column} {sql_type} {null} '
            f'CONSTRAINT {name} CHECK ({check[1]})'
        )
        return
    op.add_column(
        table,
        sa.Column(
            column,
            sa.Integer(),
            nullable=default is None,
            server_default=None if default is None else str(default),
        ),
    )
    op.create_check_constraint(name, table, check[1])


def upgrade():
    op.create_table('help_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('request', 'offer', name='help_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('category', sa.Enum('shopping', 'medicine', 'escort', 'repair', 'care', 'other', name='help_category', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('when_text', sa.String(length=80), nullable=False),
    sa.Column('area', sa.String(length=80), nullable=False),
    sa.Column('status', sa.Enum('open', 'taken', 'done', 'confirmed', 'cancelled', name='help_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('taker_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden_reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint("status = 'open' OR status = 'cancelled' OR taker_id IS NOT NULL", name=op.f('ck_help_post_taken_has_taker')),
    sa.CheckConstraint('minutes IS NULL OR minutes >= 0', name=op.f('ck_help_post_minutes_not_negative')),
    sa.CheckConstraint('points IS NULL OR points >= 0', name=op.f('ck_help_post_points_not_negative')),
    sa.CheckConstraint('taker_id IS NULL OR taker_id <> author_id', name=op.f('ck_help_post_taker_not_author')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_help_post_author_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_help_post_community_id_community')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_help_post_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['taker_id'], ['users.id'], name=op.f('fk_help_post_taker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_post'))
    )
    with op.batch_alter_table('help_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_help_post_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_help_post_community_status', ['community_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_help_post_taker_id'), ['taker_id'], unique=False)

    op.create_table('points_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('earned', 'exchanged', 'adjusted', name='points_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind <> 'earned' OR amount > 0", name=op.f('ck_points_entry_earned_is_positive')),
    sa.CheckConstraint("kind <> 'exchanged' OR amount < 0", name=op.f('ck_points_entry_exchanged_is_negative')),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_points_entry_amount_not_zero')),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_points_entry_balance_after_not_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_points_entry_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_points_entry_card_id_card')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_points_entry_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_points_entry_created_by_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['help_post.id'], name=op.f('fk_points_entry_post_id_help_post')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_points_entry_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entry')),
    sa.UniqueConstraint('card_id', name=op.f('uq_points_entry_card_id')),
    sa.UniqueConstraint('post_id', name=op.f('uq_points_entry_post_id'))
    )
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.create_index('ix_points_entry_campaign', ['campaign_id'], unique=False)
        batch_op.create_index('ix_points_entry_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index('ix_points_entry_user', ['user_id', 'id'], unique=False)

    add_checked_column(
        'campaign', 'points_stock', 'INTEGER', None,
        ('points_stock_min', 'points_stock IS NULL OR points_stock >= 0'),
    )
    add_checked_column(
        'users', 'points_balance', 'INTEGER', 0,
        ('points_balance_not_negative', 'points_balance >= 0'),
    )
    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('leaderboard_on', sa.Boolean(), nullable=False, server_default=sa.true())
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column('household', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('points_balance')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('household')
        batch_op.drop_column('must_change_password')

    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.drop_column('leaderboard_on')

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('points_stock')

    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_points_entry_user')
        batch_op.drop_index('ix_points_entry_community_created')
        batch_op.drop_index('ix_points_entry_campaign')

    op.drop_table('points_entry')
    with op.batch_alter_table('help_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_help_post_taker_id'))
        batch_op.drop_index('ix_help_post_community_status')
        batch_op.drop_index(batch_op.f('ix_help_post_author_id'))

    op.drop_table('help_post')
