"""The office's start page: what needs attention, with counts and links, and today at a glance."""

import re
from datetime import timedelta

from app.clock import utcnow
from app.models import AttemptLog, CampaignStatus, HelpStatus, MerchantStatus, OfferStatus

from . import factories


def count_of(page: str, label: str) -> tuple[int, str]:
    """Return the count and the link of the tile labelled `label` on the start page."""
    found = re.search(
        rf'<a href="([^"]+)"[^>]*><span class="value">(\d+)</span><span class="label">{label}<',
        page,
    )
    assert found, f"no tile {label}"
    return int(found[2]), found[1].replace("&amp;", "&")


def test_the_start_page_counts_what_needs_attention_and_links_to_it(staff, community, shop):
    factories.merchant(community, "紫荆花鲜花坊", status=MerchantStatus.PENDING)
    draft = factories.campaign(community, name="重阳节消费券", status=CampaignStatus.DRAFT)
    running = factories.campaign(community, name="邻里互助消费卡", code="LL")
    factories.offer(running, factories.merchant(community, "丝艺美发"), status=OfferStatus.PENDING)
    helper = factories.resident(community, "13900000001", "3-2-501", "王秀英")
    helped = factories.resident(community, "13900000002", "3-2-502", "李大爷")
    factories.resident(community, "13900000003", "4-1-101", "赵阿姨", confirmed=False)
    factories.help_post(helped, status=HelpStatus.DONE, taker_id=helper.id)
    factories.help_post(helped, title="陪我去医院", created_at=utcnow() - timedelta(days=2))
    (card,) = factories.cards(running, 1)
    factories.redemption(card, shop, 10000, 2000)
    factories.redemption(card, shop, 5000, 1000, at_hour=12)
    factories.redemption(card, shop, 7000, 1400, day=factories.a_date(-1))
    page = staff.get("/admin/").text
    assert count_of(page, "商户入驻申请") == (1, "/admin/merchants?status=pending")
    assert count_of(page, "申请参加活动的商户")[0] == 1
    assert count_of(page, "待核实的居民") == (1, "/admin/aid/residents?state=pending")
    assert count_of(page, "待确认的互助") == (1, "/admin/aid/posts?status=done")
    assert count_of(page, "超过一天无人接的求助") == (1, "/admin/aid/posts?stale=1")
    assert count_of(page, r"需要留意（近 30 天）") == (0, "/admin/dashboard#misuse")
    assert f"“{draft.name}”还是草稿" in page
    assert "优惠 ¥30.00" in page  # today's two uses, not yesterday's


def test_the_start_page_lists_misuse_findings_with_their_rows(staff, db, community, shop):
    now = utcnow()
    db.session.add_all(
        AttemptLog(code="not_found", community_id=community.id, merchant_id=shop.id,
                   card_ref=f"ZJH-AAAA-{n:02d}", created_at=now - timedelta(seconds=n))
        for n in range(12)
    )  # fmt: skip
    db.session.commit()
    page = staff.get("/admin/").text
    count, _link = count_of(page, r"需要留意（近 30 天）")
    assert count == 1
    assert 'href="/admin/attempts?' in page  # the rows behind the finding


def test_the_start_page_shows_nothing_of_another_community(staff, other_community):
    factories.merchant(other_community, "江堤小吃店", status=MerchantStatus.PENDING)
    factories.campaign(other_community, name="江博消费券", status=CampaignStatus.DRAFT)
    page = staff.get("/admin/").text
    assert count_of(page, "商户入驻申请")[0] == 0 and "江博消费券" not in page


def test_the_start_page_names_the_things_recently_changed(staff, shop):
    staff.post(f"/admin/merchants/{shop.id}/suspend", data={"reason": "装修"})
    page = staff.get("/admin/").text
    assert f'暂停商户 · <a href="/admin/merchants/{shop.id}">张记热干面</a> · 装修' in page
