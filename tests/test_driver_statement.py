"""database.DriverStatement gives the rows SQLAlchemy would give, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from sqlalchemy import Text, bindparam, cast, event, select

from app.database import DriverStatement
from app.models import Campaign, Card, CardStatus, Redemption, RedemptionStatus

from . import factories

STATEMENT = (
    select(
        Redemption.id,
        Redemption.local_day,  # a date: text in SQLite
        Redemption.created_at,  # UTC, given back its zone
        Redemption.status,  # an enum
        Redemption.bill_fen,
        Card.status,
        cast(Campaign.default_rule, Text).label("rule"),
    )
    .join(Card, Card.id == Redemption.card_id)
    .join(Campaign, Campaign.id == Card.campaign_id)
    .where(Redemption.card_id == bindparam("card"), Redemption.status == bindparam("status"))
    .order_by(Redemption.id)
)
OF_MANY = (
    select(Redemption.id, Redemption.local_day)
    .where(Redemption.card_id.in_(bindparam("cards", expanding=True)))
    .order_by(Redemption.id)
)


def used_card(community, uses=3, name="张记热干面", code="ZJ"):
    shop = factories.merchant(community, name)
    campaign = factories.campaign(community, code=code, rule="8折")
    card = factories.cards(campaign, 1)[0]
    for i in range(uses):
        factories.redemption(card, shop, 1000 * (i + 1), 200, at_hour=9 + i)
    return card


def test_rows_are_what_sqlalchemy_gives_dates_enums_and_utc_times_included(db, community):
    card = used_card(community)
    params = {"card": card.id, "status": RedemptionStatus.OK}
    expected = [tuple(row) for row in db.session.execute(STATEMENT, params)]
    rows = DriverStatement(STATEMENT).all(db.session.connection(), params)
    assert [tuple(row) for row in rows] == expected
    assert len(rows) == 3
    first = rows[0]
    assert first.local_day == expected[0][1] and first.status is RedemptionStatus.OK
    assert first.created_at.tzinfo is not None
    assert first.created_at.astimezone(UTC) == expected[0][2]
    assert first.bill_fen == 1000
    assert rows[0][5] is CardStatus.ISSUED  # a repeated column name is still there by place
    assert isinstance(first.rule, str)


def test_a_parameter_goes_in_through_its_type_and_nothing_matches_nothing(db, community):
    card = used_card(community)
    statement = DriverStatement(STATEMENT)
    connection = db.session.connection()
    assert statement.all(connection, {"card": card.id, "status": RedemptionStatus.VOID}) == []
    assert statement.first(connection, {"card": card.id + 1000, "status": "ok"}) is None


def test_rows_are_hashable_and_equal_from_one_read_to_the_next(db, community):
    card = used_card(community, uses=2)
    statement = DriverStatement(STATEMENT)
    params = {"card": card.id, "status": RedemptionStatus.OK}
    first = tuple(statement.all(db.session.connection(), params))
    again = tuple(statement.all(db.session.connection(), params))
    assert first == again and hash(first) == hash(again)


def test_a_list_parameter_runs_through_sqlalchemy_with_the_same_rows(db, community):
    one = used_card(community, uses=1)
    other = used_card(community, uses=2, name="李妈妈豆皮", code="LM")
    rows = DriverStatement(OF_MANY).all(db.session.connection(), {"cards": [one.id, other.id]})
    assert len(rows) == 3
    assert all(row.local_day == rows[0].local_day for row in rows)
    assert rows[0]._fields == ("id", "local_day")


def test_listeners_see_every_statement(db, community):
    card = used_card(community, uses=1)
    seen = []

    def listen(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        rows = DriverStatement(STATEMENT).all(
            db.session.connection(), {"card": card.id, "status": RedemptionStatus.OK}
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert len(rows) == 1
    assert any("FROM redemption" in statement for statement in seen)


def test_reads_in_the_callers_transaction(db, community):
    card = used_card(community, uses=1)
    shop = factories.merchant(community, "李妈妈豆皮")
    db.session.add(
        Redemption(
            community_id=card.community_id,
            campaign_id=card.campaign_id,
            card_id=card.id,
            merchant_id=shop.id,
            bill_fen=500,
            discount_fen=100,
            paid_fen=400,
            rule_text="8折",
            created_at=datetime(2026, 6, 1, 4, tzinfo=UTC),
            local_day=datetime(2026, 6, 1).date(),
            idempotency_key="not-committed",
        )
    )
    db.session.flush()  # written in this transaction, not committed
    rows = DriverStatement(STATEMENT).all(
        db.session.connection(), {"card": card.id, "status": RedemptionStatus.OK}
    )
    assert sorted(row.bill_fen for row in rows) == [500, 1000]
    db.session.rollback()
