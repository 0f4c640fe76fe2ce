"""The office's start page: what waits for a decision, and today at a glance."""

from app.models import CampaignStatus, MerchantStatus, OfferStatus

from . import factories


def test_the_start_page_lists_what_waits_and_todays_uses(staff, community, shop):
    factories.merchant(community, "紫荆花鲜花坊", status=MerchantStatus.PENDING)
    draft = factories.campaign(community, name="重阳节消费券", status=CampaignStatus.DRAFT)
    running = factories.campaign(community, name="邻里互助消费卡", code="LL")
    factories.offer(running, factories.merchant(community, "丝艺美发"), status=OfferStatus.PENDING)
    (card,) = factories.cards(running, 1)
    factories.redemption(card, shop, 10000, 2000)
    factories.redemption(card, shop, 5000, 1000, at_hour=12)
    factories.redemption(card, shop, 7000, 1400, day=factories.a_date(-1))
    page = staff.get("/admin/").text
    assert "有 1 家商户等待审核" in page
    assert "有 1 家商户申请参加活动" in page
    assert f"“{draft.name}”还是草稿" in page
    assert "优惠 ¥30.00" in page  # today's two uses, not yesterday's


def test_the_start_page_shows_nothing_of_another_community(staff, other_community):
    factories.merchant(other_community, "江堤小吃店", status=MerchantStatus.PENDING)
    factories.campaign(other_community, name="江博消费券", status=CampaignStatus.DRAFT)
    page = staff.get("/admin/").text
    assert "等待审核" not in page and "江博消费券" not in page
