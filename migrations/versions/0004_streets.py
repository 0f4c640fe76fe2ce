"""Streets (街道) as rows, street staff logins, communities' sizes and monthly reports.

community.street was free text. Each (district, street) pair becomes one street row, merging
spellings that are the same street: full-width and half-width characters, spaces, and the
suffix (琴断口街, 琴断口街道, 琴断口 街道办事处 are one street). The street keeps the spelling
most communities used. community.street_id points at it and the text column goes.

users gets street_id and the role street_staff (街道工作人员), who belongs to a street and to no
community. On SQLite the two CHECKs that name the roles are loosened in place with the
procedure SQLite documents for removing or loosening a CHECK (edit the stored CREATE TABLE
under PRAGMA writable_schema and bump schema_version; every existing row passes the looser
check): rebuilding `users` would need foreign keys off, which cannot be switched inside the
migration's transaction, and dropping a table other tables point at fails once it has rows.

community.households and community.residents hold the community's size, for per-household
figures. monthly_report keeps a month's figures as a community sent them up (已报送).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""
import unicodedata
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('district_admin', 'staff', 'merchant_owner', 'cashier', 'resident')"
NEW_ROLES = (
    "role IN ('district_admin', 'staff', 'street_staff', 'merchant_owner', 'cashier', 'resident')"
)
OLD_COMMUNITY_REQUIRED = "role = 'district_admin' OR community_id IS NOT NULL"
NEW_COMMUNITY_REQUIRED = "role IN ('district_admin', 'street_staff') OR community_id IS NOT NULL"
STREET_REQUIRED = "role <> 'street_staff' OR (street_id IS NOT NULL AND community_id IS NULL)"
SUFFIXES = ('街道办事处', '街道办', '街道', '街')


def street_key(text):
    """Return what two spellings of one street have in common (a copy kept with the migration:
    services.streets.street_key may change later; what this migration merged may not)."""
    text = ''.join(unicodedata.normalize('NFKC', text or '').split())
    for suffix in SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def clean(text):
    return ' '.join(unicodedata.normalize('NFKC', text or '').split())


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.create_table('street',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=False),
    sa.Column('staff_may_act', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_street')),
    sa.UniqueConstraint('district', 'name', name=op.f('uq_street_district'))
    )

    if sqlite:  # ADD COLUMN keeps the table (others point at it); batch mode would copy it
        op.execute(
            'ALTER TABLE community ADD COLUMN street_id INTEGER NULL '
            'CONSTRAINT fk_community_street_id_street REFERENCES street (id)'
        )
        for column in ('households', 'residents'):
            op.execute(
                f'ALTER TABLE community ADD COLUMN {column} INTEGER NULL '
                f'CONSTRAINT ck_community_{column}_not_negative '
                f'CHECK ({column} IS NULL OR {column} >= 0)'
            )
    else:
        op.add_column('community', sa.Column('street_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_community_street_id_street'), 'community', 'street', ['street_id'], ['id']
        )
        for column in ('households', 'residents'):
            op.add_column('community', sa.Column(column, sa.Integer(), nullable=True))
            op.create_check_constraint(
                op.f(f'ck_community_{column}_not_negative'), 'community',
                f'{column} IS NULL OR {column} >= 0',
            )
    op.create_index(op.f('ix_community_street_id'), 'community', ['street_id'], unique=False)

    _streets_from_text()
    op.execute('ALTER TABLE community DROP COLUMN street')

    if sqlite:
        op.execute(
            'ALTER TABLE users ADD COLUMN street_id INTEGER NULL '
            'CONSTRAINT fk_users_street_id_street REFERENCES street (id) '
            f'CONSTRAINT ck_users_street_required CHECK ({STREET_REQUIRED})'
        )
        _loosen_sqlite_checks(
            'users', ((OLD_ROLES, NEW_ROLES), (OLD_COMMUNITY_REQUIRED, NEW_COMMUNITY_REQUIRED))
        )
    else:
        op.add_column('users', sa.Column('street_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_users_street_id_street'), 'users', 'street', ['street_id'], ['id']
        )
        for name, check in (
            ('ck_users_role', NEW_ROLES),
            ('ck_users_community_required', NEW_COMMUNITY_REQUIRED),
        ):
            op.drop_constraint(op.f(name), 'users', type_='check')
            op.create_check_constraint(op.f(name), 'users', check)
        op.create_check_constraint(op.f('ck_users_street_required'), 'users', STREET_REQUIRED)
    op.create_index(op.f('ix_users_street_id'), 'users', ['street_id'], unique=False)

    op.create_table('monthly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_by_label', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_monthly_report_community_id_community')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_monthly_report_sent_by_id_users')),
    sa.ForeignKeyConstraint(['street_id'], ['street.id'], name=op.f('fk_monthly_report_street_id_street')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report')),
    sa.UniqueConstraint('community_id', 'month', name=op.f('uq_monthly_report_community_id'))
    )
    op.create_index(op.f('ix_monthly_report_street_id'), 'monthly_report', ['street_id'], unique=False)


def _streets_from_text():
    """Make one street per (district, street key) and point each community at it."""
    bind = op.get_bind()
    rows = bind.execute(sa.text('SELECT id, street, district FROM community')).all()
    spellings = {}  # (district, key) -> Counter of cleaned spellings
    members = {}
    for ident, street, district in rows:
        if not street_key(street):
            continue  # no street given: the district places the community later
        group = (clean(district), street_key(street))
        spellings.setdefault(group, Counter())[clean(street)] += 1
        members.setdefault(group, []).append(ident)
    now = sa.func.now() if bind.dialect.name != 'sqlite' else sa.text("datetime('now')")
    street = sa.table(
        'street', sa.column('id'), sa.column('name'), sa.column('district'),
        sa.column('staff_may_act'), sa.column('created_at'),
    )
    for group in sorted(spellings):
        district, _key = group
        # the spelling most communities used; on a tie the shorter, then the first in order
        name = min(spellings[group].items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]
        ident = bind.execute(
            sa.insert(street)
            .values(name=name, district=district, staff_may_act=False, created_at=now)
            .returning(street.c.id)
        ).scalar_one()
        bind.execute(
            sa.text('UPDATE community SET street_id = :street WHERE id IN :ids').bindparams(
                sa.bindparam('ids', expanding=True)
            ),
            {'street': ident, 'ids': members[group]},
        )


def _loosen_sqlite_checks(table, replacements):
    """Replace CHECK texts in SQLite's stored CREATE TABLE by looser ones (see the docstring)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    for old, new in replacements:
        if old not in sql:
            raise RuntimeError(f'{table}: expected CHECK ({old}) in its schema')
        sql = sql.replace(old, new)
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar_one()
    bind.exec_driver_sql('PRAGMA writable_schema = ON')
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table)
    )
    bind.exec_driver_sql(f'PRAGMA schema_version = {int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema = OFF')


def downgrade():
    raise NotImplementedError('streets cannot be turned back into text: restore a backup')
