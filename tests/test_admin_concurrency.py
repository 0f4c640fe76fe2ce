"""Office writes while tills redeem: a form never fails because a till wrote in between."""

from sqlalchemy import create_engine, select, text

from app.models import Merchant

from . import factories

# What a till writes when it refuses a card: enough to move the database on.
A_TILLS_WRITE = text(
    "INSERT INTO attempt_log (created_at, code, card_ref, channel, ip) "
    "VALUES (CURRENT_TIMESTAMP, 'not_found', 'x', 'web', '')"
)


def test_an_office_form_succeeds_when_a_till_writes_between_its_read_and_its_write(
    app, staff, db, community, monkeypatch
):
    """On SQLite a transaction that read before another connection's commit cannot write.

    The request reads (the signed-in user) before the form is handled; a till commits a
    redemption-sized write right then. The office's write must still go through.
    """
    till = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    import app.admin.merchants as routes

    real = routes.details_of

    def a_till_writes_meanwhile(form):
        with till.begin() as connection:
            connection.execute(A_TILLS_WRITE)
        return real(form)

    monkeypatch.setattr(routes, "details_of", a_till_writes_meanwhile)
    response = staff.post("/admin/merchants/new", data={"name": "鲜果园", "category": "水果生鲜"})
    till.dispose()
    assert response.status_code == 302, response.status_code
    db.session.rollback()
    assert db.session.scalars(select(Merchant.name)).all() == ["鲜果园"]


def test_printing_writes_its_cache_even_when_a_till_wrote_meanwhile(app, staff, db, community):
    campaign = factories.campaign(community)
    factories.cards(campaign, 3, issued=False)
    till = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    import app.admin.cards as cards

    real = cards.where_it_works

    def a_till_writes_meanwhile(session, campaign):
        with till.begin() as connection:
            connection.execute(A_TILLS_WRITE)
        return real(session, campaign)

    try:
        cards.where_it_works = a_till_writes_meanwhile
        response = staff.get("/admin/batches/1/print")
    finally:
        cards.where_it_works = real
        till.dispose()
    assert response.status_code == 200
