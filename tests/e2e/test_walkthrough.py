"""The whole story, clicked and typed as people do it, in headless Chromium against gunicorn.

The office of 七里庙社区 (empty but for its staff login) registers a shop, starts a card
campaign with the shop's rule 8折,最高减20, makes 20 cards and prints them; the card's QR on the
print sheet is what everyone uses from then on. A resident opens the card on a phone; the shop
scans it with the phone's camera (Chromium's fake camera playing the card), types ¥188.00, sees
优惠 ¥20.00 实付 ¥168.00 and confirms, once however often the form is sent; the office sees the
use on its figures and in its Excel export; the resident sees it in the card's history.
"""

import re
from datetime import timedelta

import openpyxl
from sqlalchemy import select

from app.clock import local_today
from app.models import Card, Redemption

from .conftest import WALK_PASSWORD, WALK_STAFF, launch_with_camera, log_in
from .media import camera_file, decode, qr_image

SHOP = "七里庙牛肉粉馆"
OWNER_LOGIN, OWNER_PASSWORD = "qlm-niurou", "niurou-2026"
CAMPAIGN = "七里庙邻里互助消费卡"
# An audit action or a state as the code names it (redemption.create, bill_fen), never shown.
RAW_CODE = re.compile(r"\b[a-z]+(?:\.[a-z_]+|_[a-z]+)\b")


def test_office_shop_and_resident_do_the_whole_thing(
    server, desk, new_context, playwright, tmp_path, guard
):
    office = desk
    log_in(office, server, WALK_STAFF, WALK_PASSWORD)

    # The office registers the shop, with its owner's login.
    office.goto(f"{server.url}/admin/merchants/new")
    office.locator("#name").fill(SHOP)
    office.locator("#category").select_option("餐饮")
    office.locator("#phone").fill("13800138000")
    office.locator("#hours").fill("06:00–14:00")
    office.locator("#address").fill("七里庙路8号")
    office.locator("#owner_name").fill("王师傅")
    office.locator("#owner_login").fill(OWNER_LOGIN)
    office.locator("#owner_password").fill(OWNER_PASSWORD)
    office.get_by_role("button", name="登记").click()
    assert office.locator("h1").inner_text().startswith(SHOP)

    # A card campaign, then the shop joins it with its own rule.
    office.goto(f"{server.url}/admin/campaigns/new")
    office.locator("#name").fill(CAMPAIGN)
    office.locator("#code").fill("QLM")
    office.locator("input[name=kind][value=card]").check()
    office.locator("input[name=funding][value=merchant]").check()
    today = local_today()
    office.locator("#valid_from").fill(today.isoformat())
    office.locator("#valid_until").fill((today + timedelta(days=60)).isoformat())
    office.locator("#rule").fill("9折")
    office.locator("form.stack button[type=submit]:not(.visually-hidden)").last.click()
    assert office.locator("h1").inner_text().startswith(CAMPAIGN)
    campaign_url = office.url

    office.locator("#offers").get_by_role("link").last.click()
    office.get_by_label(SHOP).check()
    office.locator("#rule").fill("8折,最高减20")
    office.get_by_role("button", name="添加勾选的商户").click()
    offers = office.locator("#offers tbody tr")
    assert offers.count() == 1
    assert SHOP in offers.inner_text() and "8折，最高减20" in offers.inner_text()

    # 20 cards, and their print sheet: 2 A4 sheets of 10.
    office.locator("#size").fill("20")
    office.get_by_role("button", name="生成卡片").click()
    print_link = office.locator("a[href*='/print']").first
    print_link.click()
    office.wait_for_load_state()
    assert office.locator("section.sheet").count() == 2
    assert office.locator("article.card").count() == 20
    first = office.locator("article.card").first
    serial = first.locator(".serial").inner_text()
    card_url = decode(first.locator(".qr-box").screenshot(scale="device"))[0]
    with server.db() as session:
        card = session.scalar(select(Card).where(Card.serial == serial))
        # Upper-cased for the QR's compact alphanumeric mode; a phone opens it as it is.
        assert card_url == f"{server.url}/C/{card.token}".upper()
        card_id = card.id

    # Start the campaign and hand the first card to a household, scanning its QR.
    office.goto(campaign_url)
    office.get_by_role("button", name="开始", exact=True).click()
    office.goto(f"{server.url}/admin/issue")
    office.locator("#serial").fill(card_url)
    office.locator("#household").fill("3栋2单元501")
    office.get_by_role("button", name="发卡", exact=True).click()
    assert serial in office.locator("table").first.inner_text()

    # The resident opens the card from its QR on a phone and sees where it works.
    resident = new_context().new_page()
    resident.goto(card_url)
    assert resident.locator(".serial").inner_text() == serial
    assert resident.locator(".state .badge").inner_text() == "可用"
    assert SHOP in resident.locator(".shop-name").all_inner_texts()

    # The shop signs in on its phone and holds the card up to the camera.
    video = camera_file(qr_image(card_url), tmp_path / "card.y4m")
    camera = launch_with_camera(playwright, video)
    try:
        till = new_context(browser_=camera).new_page()
        # The login name in another case; the password staff set is changed at once.
        log_in(till, server, OWNER_LOGIN.upper(), OWNER_PASSWORD)
        assert till.url.endswith("/account/password")
        till.locator("#current").fill(OWNER_PASSWORD)
        till.locator("#new").fill("our-own-2026")
        till.locator("#confirm").fill("our-own-2026")
        till.get_by_role("button", name="修改密码").click()
        till.wait_for_url("**/m/")
        till.goto(f"{server.url}/m/scan")
        till.wait_for_url("**/m/card?**", timeout=15_000)
        assert till.locator(".serial").inner_text() == serial
        assert "8折" in till.locator(".rule").inner_text()

        till.locator("#bill").fill("188.00")
        till.get_by_role("button", name="计算优惠").click()
        receipt = till.locator(".receipt").inner_text()
        assert "优惠" in receipt and "实付" in receipt
        assert till.locator("#quote-bill").inner_text() == "¥188.00"
        assert till.locator("#quote-discount").inner_text() == "−¥20.00"
        assert till.locator("#quote-pay").inner_text() == "¥168.00"

        # What the confirm form sends, to send it again as a double tap or a retry would.
        form = till.locator("form.confirm-form").evaluate(
            "f => Object.fromEntries(new FormData(f))"
        )
        till.get_by_role("button", name="确认核销").click()
        till.wait_for_url("**/m/r/*")
        assert till.locator("#collect").inner_text() == "¥168.00"
        done_url = till.url
        again = till.request.post(f"{server.url}/m/redeem", form=form, max_redirects=0)
        assert again.status in (302, 303)
        assert again.headers["location"] in (done_url, done_url.removeprefix(server.url))
    finally:
        camera.close()

    with server.db() as session:
        uses = session.scalars(select(Redemption).where(Redemption.card_id == card_id)).all()
        assert [(r.bill_fen, r.discount_fen, r.paid_fen) for r in uses] == [(18800, 2000, 16800)]
        assert session.get(Card, card_id).uses_count == 1

    # The office sees the use on its figures and takes it away in Excel.
    office.goto(f"{server.url}/admin/dashboard")
    shop_row = office.locator("tr", has_text=SHOP)
    assert "¥20.00" in shop_row.inner_text()
    office.goto(f"{server.url}/admin/redemptions")
    row = office.locator("tr", has_text=serial)
    assert "¥188.00" in row.inner_text() and "¥168.00" in row.inner_text()
    with office.expect_download() as download:
        office.get_by_role("link", name="Excel (.xlsx)").click()
    saved = tmp_path / "uses.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(saved).active
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    ours = [r for r in rows if serial in r]
    assert len(ours) == 1, rows
    assert SHOP in ours[0]

    # The resident's card now shows the use.
    resident.reload()
    history = resident.locator("table.history").inner_text()
    assert SHOP in history and "¥20.00" in history

    # The office reads what everyone did in its audit log, in words, and takes it away.
    office.goto(f"{server.url}/admin/audit")
    log = office.locator("main").inner_text()
    for did in ("登记商户", "创建活动", "生成一批卡", "发卡", "核销"):
        assert did in log, did
    assert "¥188.00" in log and serial in log
    assert not RAW_CODE.search(log), RAW_CODE.search(log)
    with office.expect_download() as download:
        office.get_by_role("link", name="Excel (.xlsx)").click()
    saved = tmp_path / "audit.xlsx"
    download.value.save_as(saved)
    cells = [
        str(cell)
        for row in openpyxl.load_workbook(saved).active.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]
    assert any("核销" in cell for cell in cells) and any(SHOP in cell for cell in cells)
    assert not [cell for cell in cells if RAW_CODE.fullmatch(cell)]
