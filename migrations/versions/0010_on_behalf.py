"""Acting on a resident's behalf (代办): residents without a phone, and who did what for whom.

users gains contact_name and contact_phone: a resident without a phone or login, whom staff
serve at the office, has someone to call instead (a neighbour, a daughter). Such a resident
has no login name, so the CHECK that every user has one is loosened to let a resident with a
contact phone through. On SQLite it is loosened in place, as 0004 does (see its docstring):
rebuilding `users` would need foreign keys off.

help_post gains posted_by_id, done_by_id and cancelled_by_id, points_entry on_behalf_by_id:
the staff member who did that step for the resident, NULL where the resident did it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_LOGIN_NAME = 'username IS NOT NULL OR phone IS NOT NULL'
NEW_LOGIN_NAME = (
    "username IS NOT NULL OR phone IS NOT NULL "
    "OR (role = 'resident' AND contact_phone IS NOT NULL)"
)
STAFF_MARKS = (
    ('help_post', 'posted_by_id'),
    ('help_post', 'done_by_id'),
    ('help_post', 'cancelled_by_id'),
    ('points_entry', 'on_behalf_by_id'),
)


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:  # ADD COLUMN keeps the tables (others point at them); batch mode would copy them
        op.execute('ALTER TABLE users ADD COLUMN contact_name VARCHAR(40) NULL')
        op.execute('ALTER TABLE users ADD COLUMN contact_phone VARCHAR(20) NULL')
        _loosen_sqlite_check('users', OLD_LOGIN_NAME, NEW_LOGIN_NAME)
        for table, column in STAFF_MARKS:
            op.execute(
                f'ALTER TABLE {table} ADD COLUMN {column} INTEGER NULL '
                f'CONSTRAINT fk_{table}_{column}_users REFERENCES users (id)'
            )
    else:
        op.add_column('users', sa.Column('contact_name', sa.String(length=40), nullable=True))
        op.add_column('users', sa.Column('contact_phone', sa.String(length=20), nullable=True))
        op.drop_constraint(op.f('ck_users_has_login_name'), 'users', type_='check')
        op.create_check_constraint(op.f('ck_users_has_login_name'), 'users', NEW_LOGIN_NAME)
        for table, column in STAFF_MARKS:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(
                op.f(f'fk_{table}_{column}_users'), table, 'users', [column], ['id']
            )


def _loosen_sqlite_check(table, old, new):
    """Replace a CHECK text in SQLite's stored CREATE TABLE by a looser one (as 0004 does)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    if f'CHECK ({old})' not in sql:
        raise RuntimeError(f'{table}: expected CHECK ({old}) in its schema')
    sql = sql.replace(f'CHECK ({old})', f'CHECK ({new})')
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar_one()
    bind.exec_driver_sql('PRAGMA writable_schema = ON')
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table)
    )
    bind.exec_driver_sql(f'PRAGMA schema_version = {int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema = OFF')


def downgrade():
    raise NotImplementedError('residents without a login cannot be kept by 0009: restore a backup')
