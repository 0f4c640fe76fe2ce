"""The main screens, photographed on the demo: the resident's card, the till's bill form and its
success page on a phone; the office's figures and a print sheet at a desk; the help board.

Every run takes them (so a screen that breaks fails here); `make screenshots` keeps them in
docs/screenshots/ (LINLI_SCREENSHOTS=<folder>), where the README shows them.
"""

import pytest
from sqlalchemy import select

from app.models import Card, CardBatch, CardStatus, Community

from .conftest import demo_resident, issued_card, log_in, shoot

# Blueprints that may hold the help board (互助); the first page of the first one found is shot.
HELP_BOARD_BLUEPRINTS = ("aid", "help", "mutual_aid")


def test_screenshots_of_the_main_screens(server, new_context, folder):
    # The resident's card, with a use in its history.
    resident = new_context().new_page()
    with server.db() as session:
        token = session.scalar(
            select(Card.token)
            .join(Community, Card.community_id == Community.id)
            .where(
                Community.slug == "zijinghua",
                Card.status == CardStatus.ISSUED,
                Card.uses_count == 2,
            )
            .order_by(Card.serial)
            .limit(1)
        )
    resident.goto(f"{server.url}/c/{token}")
    shoot(resident, folder, "resident-card")

    # The till of 老王牛肉粉 (8折,最高减20): a card, ¥188.00, the quote, then done.
    card = issued_card(server)
    till = new_context().new_page()
    log_in(till, server, "zjh03")
    till.goto(f"{server.url}/m/card?ref={card.token}")
    till.locator("#bill").fill("188.00")
    shoot(till, folder, "merchant-bill")
    till.locator("form.bill-form button").click()
    till.locator("#quote-pay").wait_for()
    shoot(till, folder, "merchant-redeem")
    till.locator("#confirm").click()
    till.locator("#collect").wait_for()
    shoot(till, folder, "merchant-success")

    # The office at a desk: its figures, and a print sheet.
    desk = new_context(phone=False, viewport={"width": 1280, "height": 900}).new_page()
    log_in(desk, server, "zijinghua")
    desk.goto(f"{server.url}/admin/dashboard")
    shoot(desk, folder, "staff-dashboard", full_page=True)
    with server.db() as session:
        batch_id = session.scalar(
            select(CardBatch.id).order_by(CardBatch.size.desc(), CardBatch.id).limit(1)
        )
    desk.goto(f"{server.url}/admin/batches/{batch_id}/print?first=1&last=1")
    desk.set_viewport_size({"width": 1000, "height": 1200})
    shoot(desk, folder, "print-sheet")


def test_screenshot_of_the_help_board(server, new_context, folder):
    board = help_board_url(server)
    if board is None:
        pytest.skip("no help board yet: no blueprint named " + " / ".join(HELP_BOARD_BLUEPRINTS))
    page = new_context().new_page()
    if resident := demo_resident(server):
        log_in(page, server, resident)
    page.goto(server.url + board)
    shoot(page, folder, "help-board")


def help_board_url(server) -> str | None:
    """The help board's first page: a GET route without arguments of a help blueprint."""
    rules = sorted(
        (rule for rule in server.app.url_map.iter_rules() if "GET" in rule.methods),
        key=lambda rule: (len(rule.rule), rule.rule),
    )
    for name in HELP_BOARD_BLUEPRINTS:
        for rule in rules:
            if rule.endpoint.startswith(name + ".") and not rule.arguments:
                return rule.rule
    return None


def test_screenshots_of_the_office_front_page_and_audit_log(server, new_context, folder):
    """总览 with what needs attention, and the audit log in words, at an office desk."""
    from app.models import Redemption, RedemptionStatus

    desk = new_context(phone=False, viewport={"width": 1366, "height": 900}).new_page()
    log_in(desk, server, "zijinghua")
    desk.goto(f"{server.url}/admin/")
    assert desk.locator(".attention-counts li").count() >= 5
    shoot(desk, folder, "staff-overview", full_page=True)

    # A use voided at the office, so the log shows a change of state and money in words.
    with server.db() as session:
        redemption_id = session.scalar(
            select(Redemption.id)
            .join(Community, Redemption.community_id == Community.id)
            .where(Community.slug == "zijinghua", Redemption.status == RedemptionStatus.OK)
            .order_by(Redemption.id.desc())
            .limit(1)
        )
    desk.goto(f"{server.url}/admin/redemptions/{redemption_id}")
    desk.locator("#reason").fill("商户输错了金额")
    desk.locator("form button.danger").click()
    desk.wait_for_load_state()
    desk.goto(f"{server.url}/admin/audit")
    first = desk.locator("table.audit > tbody > tr").first
    assert "作废核销" in first.inner_text() and "已作废" in first.inner_text()
    shoot(desk, folder, "staff-audit-log")


def test_screenshots_of_a_voided_card_and_a_used_coupon(server, new_context, folder):
    """What a holder sees of a card that can no longer be used: no QR, no uses left to count."""
    from app.models import Campaign, CampaignKind

    with server.db() as session:
        card = session.scalars(
            select(Card)
            .join(Community, Card.community_id == Community.id)
            .where(
                Community.slug == "zijinghua",
                Card.status == CardStatus.ISSUED,
                Card.uses_count == 1,
            )
            .order_by(Card.serial.desc())
            .limit(1)
        ).one()
        card.status = CardStatus.VOID
        void_token = card.token
        coupon = session.scalars(
            select(Card)
            .join(Campaign, Card.campaign_id == Campaign.id)
            .where(Campaign.kind == CampaignKind.COUPON, Card.status == CardStatus.USED_UP)
            .limit(1)
        ).first()
        coupon_token = coupon.token if coupon else None
        session.commit()
    page = new_context().new_page()
    page.goto(f"{server.url}/c/{void_token}")
    assert page.locator(".state .badge").inner_text() == "已作废"
    assert page.locator("svg.qr").count() == 0
    shoot(page, folder, "resident-card-void")
    if coupon_token:
        page.goto(f"{server.url}/c/{coupon_token}")
        assert page.locator(".state .badge").inner_text() == "已使用"
        shoot(page, folder, "resident-coupon-used")
