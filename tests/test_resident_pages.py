"""Residents' other pages: the community's notice-board page, large type, the app manifest and
the service worker."""

import json
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from app.models import CampaignKind, CampaignStatus, MerchantStatus

from . import factories

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Wuhan


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def shop_names(html: str) -> list[str]:
    return re.findall(r'<p class="shop-name">([^<]+)</p>', html)


def campaign_names(html: str) -> list[str]:
    return re.findall(r'<article class="campaign">\s*<h3>([^<]+?) <span', html)


# --- /s/<community> ----------------------------------------------------------------------------


@pytest.fixture
def notice_board(community, other_community, shop):
    card = factories.campaign(
        community,
        name="紫荆花邻里互助消费卡",
        valid_from=date(2026, 5, 12),
        valid_until=date(2026, 12, 31),
    )
    coupon = factories.campaign(
        community,
        name="端午消费券",
        code="DW",
        kind=CampaignKind.COUPON,
        rule="满50减10",
        valid_from=date(2026, 6, 1),
        valid_until=date(2026, 6, 30),
    )
    factories.campaign(community, name="草稿活动", code="CG", status=CampaignStatus.DRAFT)
    factories.campaign(
        community,
        name="去年的活动",
        code="QN",
        valid_from=date(2025, 5, 12),
        valid_until=date(2025, 12, 31),
    )
    factories.offer(card, shop, "8折,最高减20")
    factories.offer(coupon, shop)
    hair = factories.merchant(community, "丝艺美发", category="美发", address="琴断口小区5栋")
    factories.offer(card, hair, "6折")
    factories.merchant(community, "小陈修鞋", category="维修", status=MerchantStatus.SUSPENDED)
    factories.merchant(community, "紫荆花鲜花坊", status=MerchantStatus.PENDING)
    factories.merchant(community, "琴断口副食店", category="超市副食")  # in no campaign
    elsewhere = factories.campaign(other_community, name="江博邻里互助消费券", code="JB")
    factories.offer(elsewhere, factories.merchant(other_community, "江堤小吃店"))
    return community


def test_community_page_lists_current_campaigns_and_active_shops(client, notice_board):
    response = client.get("/s/zijinghua")
    assert response.status_code == 200
    html = response.text
    assert "<h1>紫荆花社区</h1>" in html
    assert "汉阳区 · 琴断口街" in html
    assert campaign_names(html) == ["紫荆花邻里互助消费卡", "端午消费券"]
    assert shop_names(html) == ["张记热干面", "丝艺美发", "琴断口副食店"]
    assert "江博" not in html


def test_community_page_gives_each_shops_rules_and_the_campaigns_summary(client, notice_board):
    html = client.get("/s/zijinghua").text
    assert "紫荆花邻里互助消费卡：</span>打8折，最多优惠20元" in html
    assert "端午消费券：</span>消费满50元减10元" in html
    assert "暂无优惠活动" in html  # 琴断口副食店 takes no card
    summaries = re.findall(
        r"<dt>优惠</dt><dd>([^<]+)</dd></div>\s*<div><dt>商户</dt><dd>([^<]+)</dd>", html
    )
    assert summaries == [("各店优惠不同，见下方。", "2 家商户"), ("消费满50元减10元", "1 家商户")]


def test_community_page_filters_by_category_without_javascript(client, notice_board):
    html = client.get("/s/zijinghua?cat=美发").text
    assert shop_names(html) == ["丝艺美发"]
    assert campaign_names(html) == ["紫荆花邻里互助消费卡", "端午消费券"]


def test_a_paused_campaign_is_listed_as_paused(db, client, notice_board):
    from app.models import Campaign

    campaign = db.session.query(Campaign).filter_by(name="端午消费券").one()
    campaign.status = CampaignStatus.PAUSED
    db.session.commit()
    assert (
        '端午消费券 <span class="badge">消费券</span> <span class="badge warn">暂停使用</span>'
        in (client.get("/s/zijinghua").text)
    )


def test_a_community_with_nothing_running_says_so(client, other_community):
    html = client.get("/s/jiangbo").text
    assert "目前没有正在进行的活动" in html


def test_an_unknown_community_is_a_chinese_404(client, community):
    response = client.get("/s/nowhere")
    assert response.status_code == 404
    assert "页面不存在" in response.text


def test_community_page_is_public_and_revalidated(client, notice_board):
    response = client.get("/s/zijinghua", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert response.headers["Content-Encoding"] == "gzip"
    assert "X-Offline-Copy" not in response.headers
    again = client.get(
        "/s/zijinghua",
        headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


# --- large type --------------------------------------------------------------------------------


def test_large_type_is_remembered_in_a_cookie_and_switched_off_again(client, community):
    on = client.get("/large-type/on?next=/s/zijinghua")
    assert on.status_code == 302
    assert on.headers["Location"] == "/s/zijinghua"
    cookie = client.get_cookie("large")
    assert cookie.value == "1" and cookie.http_only
    html = client.get("/s/zijinghua").text
    assert '<body class="r large">' in html
    assert "标准字" in html
    client.get("/large-type/off?next=/s/zijinghua")
    cookie = client.get_cookie("large")
    assert cookie.value == "0" and cookie.http_only  # a choice too, kept for a year
    html = client.get("/s/zijinghua").text
    assert '<body class="r">' in html
    assert ">大字</a>" in html
    assert "offer-large" not in html  # not offered again


def test_a_first_visit_is_offered_large_type_plainly_until_it_chooses(client, community):
    first = client.get("/s/zijinghua").text
    assert '<aside class="offer-large"' in first
    assert 'href="/large-type/on?next=/s/zijinghua">长辈版（大字）</a>' in first
    assert 'href="/large-type/off?next=/s/zijinghua">保持标准字</a>' in first
    client.get("/large-type/on?next=/s/zijinghua")
    assert "offer-large" not in client.get("/s/zijinghua").text


def test_the_first_visit_offer_has_an_etag_of_its_own(client, community):
    card = factories.cards(factories.campaign(community), 1)[0]
    first = client.get(f"/c/{card.token}")
    assert "offer-large" in first.text
    client.set_cookie("large", "0")
    chosen = client.get(f"/c/{card.token}", headers={"If-None-Match": first.headers["ETag"]})
    assert chosen.status_code == 200 and "offer-large" not in chosen.text
    assert "Cookie" in chosen.headers["Vary"]


def test_the_large_type_switch_leads_back_to_the_page_it_was_pressed_on(client, community):
    html = client.get("/s/zijinghua?cat=餐饮").text
    assert (
        'href="/large-type/on?next=/s/zijinghua?cat%3D%E9%A4%90%E9%A5%AE"' in html
        or 'href="/large-type/on?next=/s/zijinghua%3Fcat%3D%E9%A4%90%E9%A5%AE"' in html
    )


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "\\\\evil"])
def test_the_large_type_switch_never_leads_off_the_site(client, target):
    response = client.get("/large-type/on", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_an_unknown_type_size_is_a_404(client):
    assert client.get("/large-type/huge?next=/").status_code == 404


def test_large_type_changes_the_card_page_etag(client, community):
    card = factories.cards(factories.campaign(community), 1)[0]
    normal = client.get(f"/c/{card.token}").headers["ETag"]
    client.set_cookie("large", "1")
    large = client.get(f"/c/{card.token}", headers={"If-None-Match": normal})
    assert large.status_code == 200
    assert '<body class="r large">' in large.text


def test_the_stylesheet_sizes_in_em_so_large_type_and_phone_font_scaling_work(app):
    from pathlib import Path

    css = (Path(app.static_folder) / "css" / "card.css").read_text()
    assert re.search(r"body\.large \{ font-size: 1\.\d+em", css)
    # Fonts are never fixed in pixels (a 16px floor on inputs keeps phones from zooming).
    sizes = re.findall(r"font-size: ([^;}]+)", css)
    assert sizes and all("px" not in s or s.startswith("max(") for s in sizes)
    assert "user-scalable" not in (Path(app.template_folder) / "resident/layout.html").read_text()


# --- add to home screen ------------------------------------------------------------------------


def test_the_manifest_opens_this_card_like_an_app(client, community):
    card = factories.cards(factories.campaign(community), 1)[0]
    response = client.get(f"/C/{card.token}/manifest.webmanifest".replace("/C/", "/c/"))
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["start_url"] == manifest["id"] == f"/c/{card.token}"
    assert manifest["display"] == "standalone"
    assert manifest["short_name"] == "邻里卡"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200
            assert image.mimetype == icon["type"]


def test_the_manifest_answers_any_well_formed_token_without_a_lookup(client):
    assert client.get("/c/ABCDEFGHIJKLMNOPQRSTUVWXYZ/manifest.webmanifest").status_code == 200
    assert client.get("/c/not-a-token!/manifest.webmanifest").status_code == 404


def test_the_service_worker_is_served_from_the_root_and_always_rechecked(client):
    response = client.get("/sw.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Encoding"] == "gzip"
    again = client.get(
        "/sw.js", headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_the_service_worker_keeps_only_pages_that_allow_it(app):
    from pathlib import Path

    script = (Path(app.static_folder) / "js" / "sw.js").read_text()
    assert 'response.headers.get("X-Offline-Copy") === "allow"' in script
    assert '"<p class="offline" hidden>"' not in script  # it reveals the page's own notice:
    assert "'<p class=\"offline\" hidden>', '<p class=\"offline\">'" in script
    page = (Path(app.static_folder) / "js" / "card.js").read_text()
    assert '["/c/", "/C/"]' in page  # registered for the card pages only


def test_signed_in_staff_pages_never_allow_an_offline_copy(staff, merchant, app):
    for client in (staff, merchant):
        for path in ("/admin/", "/m/", "/account/password"):
            response = client.get(path)
            assert "X-Offline-Copy" not in response.headers


def test_pages_with_a_form_are_not_compressed(client):
    # A page holding a CSRF token next to text the visitor typed must not be compressed (BREACH).
    response = client.post(
        "/card", data={"serial": "ZJH-AAAA-AA", "pin": "1234"}, headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert (
        "Content-Encoding" not in client.get("/login", headers={"Accept-Encoding": "gzip"}).headers
    )


def test_the_offline_page_says_what_to_do_and_the_worker_keeps_it(client, app):
    from pathlib import Path

    response = client.get("/offline")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert "<h1>没有网络</h1>" in response.text
    assert "卡上印的卡号和密码" in response.text
    script = (Path(app.static_folder) / "js" / "sw.js").read_text()
    assert 'var OFFLINE_PAGE = "/offline";' in script
    assert "return copy || offlinePage();" in script  # not the browser's own error page
