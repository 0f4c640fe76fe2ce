"""The card page in a real browser: it works without JavaScript, and keeps an offline copy."""

from .conftest import PHONE, issued_card


def test_the_card_page_works_with_javascript_off(server, new_context, card):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"{server.url}/C/{card.token}")
    qr = page.locator("svg.qr")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] >= 240  # big enough to scan off the screen
    assert page.locator(".serial").inner_text() == card.serial
    assert page.locator(".state .badge").inner_text() == "可用"
    page.get_by_role("link", name="美发").click()
    assert set(page.locator(".shop-name").all_inner_texts()) == {"丝艺美发", "阿芳理发店"}
    # A first visit is offered 大字 (长辈版) plainly; the choice is kept, the filter too.
    page.locator(".offer-large").get_by_role("link", name="长辈版").click()
    assert "large" in page.locator("body").get_attribute("class")
    assert not page.locator(".offer-large").count()
    assert set(page.locator(".shop-name").all_inner_texts()) == {"丝艺美发", "阿芳理发店"}
    page.get_by_role("link", name="标准字", exact=True).click()
    assert "large" not in page.locator("body").get_attribute("class")
    assert not page.locator(".offer-large").count()  # not offered again once chosen


def test_the_last_seen_card_shows_offline_marked_as_an_offline_copy(server, new_context, card):
    context = new_context()
    page = context.new_page()
    assert page.viewport_size == PHONE
    page.goto(f"{server.url}/C/{card.token}", wait_until="networkidle")
    assert not page.locator("p.offline").is_visible()
    kept = page.evaluate(
        """async () => {
            for (let i = 0; i < 100; i++) {
                const keys = await (await caches.open('linli-cards-v1')).keys();
                if (keys.length) return keys.map(k => k.url);
                await new Promise(r => setTimeout(r, 50));
            }
            return [];
        }"""
    )
    assert kept == [f"{server.url}/c/{card.token}"]
    context.set_offline(True)
    page.reload()
    notice = page.locator("p.offline")
    assert notice.is_visible()
    assert notice.inner_text().startswith("离线副本，保存于 20")
    assert page.locator(".serial").inner_text() == card.serial
    assert page.locator("svg.qr").is_visible()
    # The stylesheet came from the worker's copy too.
    assert page.locator(".state .badge").evaluate("e => getComputedStyle(e).borderRadius") != "0px"


def test_a_card_never_opened_here_shows_the_sites_offline_page(server, new_context, card):
    context = new_context()
    page = context.new_page()
    page.goto(f"{server.url}/C/{card.token}", wait_until="networkidle")
    kept = page.evaluate(
        """async () => {
            for (let i = 0; i < 100; i++) {
                if (await (await caches.open('linli-offline-v1')).match('/offline')) return true;
                await new Promise(r => setTimeout(r, 50));
            }
            return false;
        }"""
    )
    assert kept
    other = issued_card(server)
    context.set_offline(True)
    page.goto(f"{server.url}/C/{other.token}")
    assert page.locator("h1").inner_text() == "没有网络"
    assert "卡号和密码" in page.locator("main").inner_text()
    # It looks like the site's pages: the stylesheet was kept with it.
    assert page.locator("header.bar").evaluate("e => getComputedStyle(e).display") == "flex"
