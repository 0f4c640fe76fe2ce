"""The shop's scanner for real: Chromium's fake camera playing a card, and a photo of a card."""

from .conftest import issued_card, launch_with_camera, log_in
from .media import camera_file, png_bytes, qr_image


def card_qr(server, card) -> str:
    return f"{server.url}/C/{card.token}".upper()


def test_the_camera_reads_the_card_and_opens_it_at_the_till(
    server, card, playwright, new_context, tmp_path
):
    video = camera_file(qr_image(card_qr(server, card)), tmp_path / "card.y4m")
    camera = launch_with_camera(playwright, video)
    try:
        page = new_context(browser_=camera).new_page()
        log_in(page, server, "zjh01")
        page.goto(f"{server.url}/m/scan")
        page.wait_for_url("**/m/card?**", timeout=15_000)
        assert page.locator(".serial").inner_text() == card.serial
        assert page.locator("#bill").is_visible()
    finally:
        camera.close()


def test_a_photo_of_the_card_opens_it_at_the_till(server, phone, card):
    log_in(phone, server, "zjh01-cashier")
    phone.goto(f"{server.url}/m/scan")
    photo = {"name": "card.png", "mimeType": "image/png"}
    phone.locator("#photo").set_input_files(
        photo | {"buffer": png_bytes(qr_image(card_qr(server, card)))}
    )
    phone.wait_for_url("**/m/card?**", timeout=15_000)
    assert phone.locator(".serial").inner_text() == card.serial


def test_a_photo_without_a_code_says_so_and_stays(server, phone):
    log_in(phone, server, "zjh01")
    phone.goto(f"{server.url}/m/scan")
    blank = qr_image("x").resize((50, 50)).point(lambda _: 255)
    phone.locator("#photo").set_input_files(
        {"name": "blank.png", "mimeType": "image/png", "buffer": png_bytes(blank)}
    )
    error = phone.locator("#scan-error")
    error.wait_for(state="visible")
    assert "没有找到二维码" in error.inner_text() or "二维码" in error.inner_text()
    assert phone.url.endswith("/m/scan")


def test_a_card_of_another_community_is_refused_at_the_till_saying_whose(server, phone, guard):
    guard.allow(r"status of 409 .*/m/card\?ref=")  # the refusal page answers 409, as it should
    other = issued_card(server, "jiangbo")
    log_in(phone, server, "zjh01")
    phone.goto(f"{server.url}/m/scan")
    phone.locator("#photo").set_input_files(
        {
            "name": "card.png",
            "mimeType": "image/png",
            "buffer": png_bytes(qr_image(card_qr(server, other))),
        }
    )
    phone.wait_for_url("**/m/card?**", timeout=15_000)
    refusal = phone.locator(".refusal-message")
    assert refusal.get_attribute("data-code") == "other_community"
    assert "江博社区" in refusal.inner_text()
    assert phone.locator("#bill").count() == 0
