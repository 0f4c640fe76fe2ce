"""Volunteers (志愿服务): volunteers, 共驻共建 units, activities, sign-ups, hours, certificates.

volunteer is a login's volunteer profile (a resident of the help board, or a 下沉 cadre or
party member of a unit); volunteer_unit the units with a co-building agreement;
volunteer_activity the turnouts, each with the token its on-site QR carries; volunteer_signup
a volunteer's place or waiting-list entry, check-in, check-out and hours; volunteer_correction
the hours staff corrected, with a reason; volunteer_certificate the 志愿服务记录证明 issued, frozen.
points_entry.signup_id (unique) credits an activity's points to the ledger once per person.

The column on points_entry is added without copying the table on SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('volunteer_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('contact_name', sa.String(length=40), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('agreement_date', sa.Date(), nullable=True),
    sa.Column('commitment', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_volunteer_unit_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_unit')),
    sa.UniqueConstraint('community_id', 'name', name=op.f('uq_volunteer_unit_community_id_name'))
    )
    with op.batch_alter_table('volunteer_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_unit_community_id'), ['community_id'], unique=False)

    op.create_table('volunteer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.Enum('resident', 'unit', name='volunteer_origin', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('party_report', sa.Boolean(), nullable=False),
    sa.Column('skills', sa.String(length=200), nullable=False),
    sa.Column('availability', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'inactive', name='volunteer_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("origin <> 'unit' OR unit_id IS NOT NULL", name=op.f('ck_volunteer_unit_volunteer_has_unit')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_volunteer_community_id_community')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_volunteer_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['volunteer_unit.id'], name=op.f('fk_volunteer_unit_id_volunteer_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_volunteer_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer')),
    sa.UniqueConstraint('user_id', name=op.f('uq_volunteer_user_id'))
    )
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_community_status', ['community_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_unit_id'), ['unit_id'], unique=False)

    op.create_table('volunteer_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('cleanup', 'patrol', 'clinic', 'elderly', 'publicity', 'epidemic', 'other', name='activity_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('leader', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('needed', sa.Integer(), nullable=False),
    sa.Column('points_per_hour', sa.Integer(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', 'cancelled', name='activity_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_volunteer_activity_ends_after_start')),
    sa.CheckConstraint('needed >= 1', name=op.f('ck_volunteer_activity_needed_min')),
    sa.CheckConstraint('points_per_hour >= 0', name=op.f('ck_volunteer_activity_points_per_hour_not_negative')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_volunteer_activity_closed_by_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_volunteer_activity_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_volunteer_activity_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_activity')),
    sa.UniqueConstraint('token', name=op.f('uq_volunteer_activity_token'))
    )
    with op.batch_alter_table('volunteer_activity', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_activity_community_starts', ['community_id', 'starts_at'], unique=False)

    op.create_table('volunteer_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=20), nullable=False),
    sa.Column('volunteer_name', sa.String(length=40), nullable=False),
    sa.Column('volunteer_number', sa.String(length=20), nullable=False),
    sa.Column('issuer_name', sa.String(length=120), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_until', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_label', sa.String(length=80), nullable=False),
    sa.CheckConstraint('minutes >= 0', name=op.f('ck_volunteer_certificate_minutes_not_negative')),
    sa.CheckConstraint('period_until >= period_from', name=op.f('ck_volunteer_certificate_period_window')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_volunteer_certificate_community_id_community')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_volunteer_certificate_issued_by_id_users')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_volunteer_certificate_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_certificate')),
    sa.UniqueConstraint('serial', name=op.f('uq_volunteer_certificate_serial'))
    )
    with op.batch_alter_table('volunteer_certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_certificate_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_certificate_volunteer_id'), ['volunteer_id'], unique=False)

    op.create_table('volunteer_signup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('signed', 'waiting', 'withdrawn', name='signup_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_by_id', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.CheckConstraint('checked_out_at IS NULL OR checked_in_at IS NOT NULL', name=op.f('ck_volunteer_signup_out_after_in')),
    sa.CheckConstraint('minutes IS NULL OR minutes >= 0', name=op.f('ck_volunteer_signup_minutes_not_negative')),
    sa.CheckConstraint('points IS NULL OR points >= 0', name=op.f('ck_volunteer_signup_points_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['volunteer_activity.id'], name=op.f('fk_volunteer_signup_activity_id_volunteer_activity')),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['users.id'], name=op.f('fk_volunteer_signup_checked_in_by_id_users')),
    sa.ForeignKeyConstraint(['checked_out_by_id'], ['users.id'], name=op.f('fk_volunteer_signup_checked_out_by_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_volunteer_signup_community_id_community')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_volunteer_signup_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_signup')),
    sa.UniqueConstraint('activity_id', 'volunteer_id', name=op.f('uq_volunteer_signup_activity_id_volunteer_id'))
    )
    with op.batch_alter_table('volunteer_signup', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_signup_activity_status', ['activity_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_volunteer_signup_volunteer', ['volunteer_id', 'id'], unique=False)

    op.create_table('volunteer_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=False),
    sa.Column('minutes_before', sa.Integer(), nullable=True),
    sa.Column('minutes_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('minutes_after >= 0', name=op.f('ck_volunteer_correction_minutes_after_not_negative')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_volunteer_correction_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_volunteer_correction_created_by_id_users')),
    sa.ForeignKeyConstraint(['signup_id'], ['volunteer_signup.id'], name=op.f('fk_volunteer_correction_signup_id_volunteer_signup')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_correction'))
    )
    with op.batch_alter_table('volunteer_correction', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_correction_signup', ['signup_id'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE points_entry ADD COLUMN signup_id INTEGER '
            'CONSTRAINT fk_points_entry_signup_id_volunteer_signup '
            'REFERENCES volunteer_signup (id)'
        )
        op.create_index('uq_points_entry_signup_id', 'points_entry', ['signup_id'], unique=True)
    else:
        op.add_column('points_entry', sa.Column('signup_id', sa.Integer(), nullable=True))
        op.create_unique_constraint('uq_points_entry_signup_id', 'points_entry', ['signup_id'])
        op.create_foreign_key(
            'fk_points_entry_signup_id_volunteer_signup', 'points_entry',
            'volunteer_signup', ['signup_id'], ['id'],
        )



def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('uq_points_entry_signup_id', 'points_entry')
    else:
        op.drop_constraint('fk_points_entry_signup_id_volunteer_signup', 'points_entry', type_='foreignkey')
        op.drop_constraint('uq_points_entry_signup_id', 'points_entry', type_='unique')
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_column('signup_id')

    with op.batch_alter_table('volunteer_correction', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_correction_signup')

    op.drop_table('volunteer_correction')
    with op.batch_alter_table('volunteer_signup', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_signup_volunteer')
        batch_op.drop_index('ix_volunteer_signup_activity_status')

    op.drop_table('volunteer_signup')
    with op.batch_alter_table('volunteer_certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_certificate_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_certificate_community_id'))

    op.drop_table('volunteer_certificate')
    with op.batch_alter_table('volunteer_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_activity_community_starts')

    op.drop_table('volunteer_activity')
    with op.batch_alter_table('volunteer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_unit_id'))
        batch_op.drop_index('ix_volunteer_community_status')

    op.drop_table('volunteer')
    with op.batch_alter_table('volunteer_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_unit_community_id'))

    op.drop_table('volunteer_unit')
