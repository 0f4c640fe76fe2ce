"""The till's confirm button under a hurried thumb: a double tap records one redemption."""

from sqlalchemy import select

from app.models import Card, Redemption

from .conftest import log_in


def test_a_double_tap_on_confirm_records_one_redemption(server, phone, card):
    log_in(phone, server, "zjh03")  # 老王牛肉粉: 8折,最高减20
    phone.goto(f"{server.url}/m/card?ref={card.token}")
    phone.locator("#bill").fill("188")
    phone.locator("form.bill-form button").click()
    assert phone.locator("#quote-pay").inner_text() == "¥168.00"
    # Chromium sends the second tap's post or drops it; either way one use is recorded (the
    # walkthrough sends the same form twice for certain).
    phone.locator("#confirm").dblclick()
    phone.wait_for_url("**/m/r/*")
    assert phone.locator("#collect").inner_text() == "¥168.00"
    with server.db() as session:
        card_id = session.scalar(select(Card.id).where(Card.serial == card.serial))
        uses = session.scalars(select(Redemption).where(Redemption.card_id == card_id)).all()
        assert [(r.bill_fen, r.discount_fen, r.paid_fen) for r in uses] == [(18800, 2000, 16800)]
