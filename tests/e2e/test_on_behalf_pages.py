"""代办 in the browser: the office desk (1366 × 900) adds a resident without a phone, posts for
them and exchanges a resident's points for a card it prints on the batch's sheet; the
resident's own ledger on a phone (360 × 740) says 由工作人员代办. Screenshots as in
test_screenshots (LINLI_SCREENSHOTS=<folder> keeps them)."""

import re

from sqlalchemy import select

from app.database import write_transaction
from app.models import Card, Community, HelpPost, User
from app.services import points, residents

from .conftest import DEMO_PASSWORD, log_in, shoot

DESK = {"width": 1366, "height": 900}
CALLER = ("孙秀兰", "13800000098", "10-1-101")  # phones the office; has a login of her own


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def caller_with_points(server) -> User:
    with server.db() as session:
        community = session.scalar(select(Community).where(Community.slug == "zijinghua"))
        staff = session.scalar(select(User).where(User.username == "zijinghua"))
        with write_transaction(session):
            user = residents.join(session, community.id, *CALLER, DEMO_PASSWORD)
            residents.confirm(session, staff, user)
            points.adjust(session, staff, user, 80, "社区清洁日")
        return user.id


def test_the_desk_acts_for_residents_and_their_ledger_says_so(server, new_context, folder):
    desk = new_context(phone=False, viewport=DESK).new_page()
    log_in(desk, server, "zijinghua")

    # A neighbour without a phone, added at the desk.
    desk.goto(f"{server.url}/admin/aid/residents/new")
    desk.locator("#name").fill("赵淑芬")
    desk.locator("#household").fill("11栋2单元301")
    desk.locator("#contact_name").fill("钱卫国（邻居，住11-2-302）")
    desk.locator("#contact_phone").fill("138 0000 0097")
    shoot(desk, folder, "on-behalf-new")
    desk.locator("form.stack button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/admin/aid/residents/\d+$"))
    assert desk.get_by_text("没有手机，由社区代办").first.is_visible()
    no_sideways_scroll(desk)
    shoot(desk, folder, "on-behalf-resident", full_page=True)

    # Her request, posted after she phoned.
    desk.get_by_role("link", name="代发求助").click()
    desk.locator("#category").select_option("shopping")
    desk.locator("#title").fill("帮赵奶奶买一袋米和一桶油")
    desk.locator("#details").fill("米要东北大米，送到11-2-301，钱请找她邻居钱卫国先垫付")
    desk.locator("#when_text").fill("周六上午")
    shoot(desk, folder, "on-behalf-post-form")
    desk.locator("form.stack button[type=submit]").click()
    desk.wait_for_url(re.compile(r".*/admin/aid/posts/\d+$"))
    assert desk.get_by_text("由王主任代办发布").is_visible()
    shoot(desk, folder, "on-behalf-post", full_page=True)

    # The demo's 刘德福: taken on by a neighbour; he phones to say it was done.
    with server.db() as session:
        bulb = session.scalar(select(HelpPost.id).where(HelpPost.title.startswith("厨房灯泡")))
    desk.goto(f"{server.url}/admin/aid/posts/{bulb}")
    shoot(desk, folder, "on-behalf-done-button", full_page=True)

    # A resident with a login phones: her points for a card, printed on the spot.
    caller = caller_with_points(server)
    desk.goto(f"{server.url}/admin/aid/residents/{caller}")
    desk.on("dialog", lambda dialog: dialog.accept())
    desk.locator("#on-behalf form button").first.click()
    desk.wait_for_url(re.compile(r".*/admin/cards/\d+/print$"))
    with server.db() as session:
        card = session.scalar(select(Card).where(Card.household == CALLER[2]))
        serial, pin = card.serial, card.pin
    sheet = desk.locator("section.sheet")
    assert sheet.count() == 1 and sheet.locator("article.card").count() == 1
    assert sheet.locator(".serial").inner_text() == serial
    assert sheet.locator(".pin strong").inner_text() == pin
    assert sheet.locator(".qr-box svg").count() == 1
    desk.set_viewport_size({"width": 1000, "height": 1200})
    shoot(desk, folder, "on-behalf-print")

    # Her own ledger, on her phone.
    phone = new_context().new_page()
    log_in(phone, server, CALLER[1])
    phone.goto(f"{server.url}/aid/points")
    marks = phone.get_by_text("由工作人员代办")
    assert marks.count() == 2  # the card from points, and the exchange's line
    assert phone.get_by_text(serial).first.is_visible()
    no_sideways_scroll(phone)
    shoot(phone, folder, "on-behalf-ledger", full_page=True)
