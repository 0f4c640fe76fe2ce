"""The card page in a real browser: it works without JavaScript, and with it keeps an offline copy.

Needs Playwright for Python and Debian's Chromium; skipped where either is missing.
"""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from . import factories

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live(app):
    """Serve the test app on a free local port for the length of the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def card(community):
    campaign = factories.campaign(community, name="紫荆花邻里互助消费卡")
    factories.offer(campaign, factories.merchant(community, "张记热干面"), "8折")
    factories.offer(campaign, factories.merchant(community, "丝艺美发", category="美发"), "6折")
    return factories.cards(campaign, 1)[0]


def phone(browser, **options):
    return browser.new_context(viewport={"width": 360, "height": 740}, **options)


def test_the_card_page_works_with_javascript_off(live, browser, card):
    page = phone(browser, java_script_enabled=False).new_page()
    page.goto(f"{live}/C/{card.token}")
    qr = page.locator("svg.qr")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] >= 240  # big enough to scan off the screen
    assert page.locator(".serial").inner_text() == card.serial
    assert page.locator(".state .badge").inner_text() == "可用"
    page.get_by_role("link", name="美发").click()
    assert page.locator(".shop-name").all_inner_texts() == ["丝艺美发"]
    page.get_by_role("link", name="大字").click()
    assert "large" in page.locator("body").get_attribute("class")
    assert page.locator(".shop-name").all_inner_texts() == ["丝艺美发"]  # back where it was


def test_the_last_seen_card_shows_offline_marked_as_an_offline_copy(live, browser, card):
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{live}/C/{card.token}", wait_until="networkidle")
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
    assert kept == [f"{live}/c/{card.token}"]
    context.set_offline(True)
    page.reload()
    notice = page.locator("p.offline")
    assert notice.is_visible()
    assert notice.inner_text().startswith("离线副本，保存于 20")
    assert page.locator(".serial").inner_text() == card.serial
    assert page.locator("svg.qr").is_visible()
    # The stylesheet came from the worker's copy too.
    assert page.locator(".state .badge").evaluate("e => getComputedStyle(e).borderRadius") != "0px"
