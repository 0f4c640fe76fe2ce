"""Campaigns and offers in the office: create, edit, limits, status, shops and their rules."""

from datetime import timedelta

import pytest

from app.clock import local_today
from app.models import (
    AuditLog,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Funding,
    MerchantStatus,
    Offer,
    OfferStatus,
)

from . import factories
from .calls import fresh, rows

# A new campaign may not have ended already: its days are counted from today.
NEW = {
    "name": "紫荆花邻里互助消费卡",
    "code": "zjh",
    "kind": "card",
    "funding": "merchant",
    "valid_from": (local_today() - timedelta(days=30)).isoformat(),
    "valid_until": (local_today() + timedelta(days=200)).isoformat(),
    "uses_per_card": "60",
    "daily_uses_per_merchant": "1",
    "cards_per_household": "2",
    "budget": "",
    "rule": "8折",
    "description": "邻里互助日发放",
}


def form_of(campaign, **changes):
    data = {
        "name": campaign.name,
        "code": campaign.code,
        "kind": campaign.kind.value,
        "funding": campaign.funding.value,
        "valid_from": campaign.valid_from.isoformat(),
        "valid_until": campaign.valid_until.isoformat(),
        "uses_per_card": campaign.uses_per_card or "",
        "daily_uses_per_merchant": campaign.daily_uses_per_merchant or "",
        "cards_per_household": campaign.cards_per_household or "",
        "budget": "" if campaign.budget_fen is None else f"{campaign.budget_fen / 100:.2f}",
        "rule": campaign.default_rule_text,
        "description": campaign.description,
    }
    return data | changes


# --- creating -------------------------------------------------------------------------------


def test_staff_create_a_card_campaign_as_a_draft(staff, db, community, staff_user):
    response = staff.post("/admin/campaigns/new", data=NEW | {"rule": "8折，最高减20"})
    assert response.status_code == 302
    (campaign,) = rows(db, Campaign)
    assert (campaign.community_id, campaign.status, campaign.kind, campaign.code) == (
        community.id,
        CampaignStatus.DRAFT,
        CampaignKind.CARD,
        "ZJH",
    )
    assert (campaign.uses_per_card, campaign.daily_uses_per_merchant, campaign.budget_fen) == (
        60,
        1,
        None,
    )
    assert campaign.default_rule == {"v": 1, "kind": "percent", "pay_permille": 800,
                                     "cap_fen": 2000, "min_bill_fen": None}  # fmt: skip
    assert campaign.default_rule_text == "8折，最高减20"
    assert campaign.created_by_id == staff_user.id
    (logged,) = rows(db, AuditLog)
    assert logged.action == "campaign.create" and logged.after["code"] == "ZJH"


def test_a_community_funded_coupon_campaign_keeps_its_budget_in_fen(staff, db):
    data = NEW | {"kind": "coupon", "funding": "community", "uses_per_card": "", "budget": "20,000"}
    assert "看不懂这个金额" in staff.post("/admin/campaigns/new", data=data).text
    data["budget"] = "20000.50"
    assert staff.post("/admin/campaigns/new", data=data).status_code == 302
    (campaign,) = rows(db, Campaign)
    assert (campaign.kind, campaign.funding, campaign.uses_per_card, campaign.budget_fen) == (
        CampaignKind.COUPON,
        Funding.COMMUNITY,
        1,
        2_000_050,
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"name": ""}, "请输入活动名称"),
        ({"code": "Z"}, "卡号前缀是 2 到 6 个"),
        ({"code": "ZIO"}, "不能用 0、O、1、I"),
        ({"valid_from": ""}, "请填写开始日期和结束日期"),
        ({"valid_until": "2026-05-01"}, "结束日期不能早于开始日期"),
        ({"uses_per_card": "0"}, "限额至少是 1"),
        ({"kind": "coupon", "uses_per_card": "3"}, "消费券只能用一次"),
        ({"rule": ""}, "请填写优惠规则"),
        ({"rule": "满100减"}, "第1个字附近"),
        ({"rule": "8折,9折"}, "一条规则只能有一种优惠"),
        ({"kind": "gift"}, "请选择消费卡或消费券"),
    ],
)
def test_a_bad_campaign_is_refused_in_chinese_and_nothing_is_written(staff, db, change, says):
    response = staff.post("/admin/campaigns/new", data=NEW | change)
    assert response.status_code == 422
    assert says in response.text
    assert rows(db, Campaign) == []


# --- editing and limits ---------------------------------------------------------------------


@pytest.fixture
def running(community, shop):
    campaign = factories.campaign(
        community, rule="8折", uses_per_card=10, daily_uses_per_merchant=3, cards_per_household=3,
        budget_fen=100_000,
    )  # fmt: skip
    factories.offer(campaign, shop)
    return campaign


def test_editing_records_only_what_changed(staff, db, running):
    response = staff.post(
        f"/admin/campaigns/{running.id}/edit", data=form_of(running, uses_per_card="12", rule="9折")
    )
    assert response.status_code == 302
    campaign = fresh(db, running)
    assert (campaign.uses_per_card, campaign.default_rule_text) == (12, "9折")
    (logged,) = rows(db, AuditLog, AuditLog.action == "campaign.update")
    assert logged.before == {"uses_per_card": 10, "default_rule_text": "8折"}
    assert logged.after == {"uses_per_card": 12, "default_rule_text": "9折"}


def test_the_budget_cannot_go_below_what_was_already_given(staff, db, running):
    running.spent_fen = 45_000
    db.session.commit()
    response = staff.post(
        f"/admin/campaigns/{running.id}/edit", data=form_of(running, budget="449.99")
    )
    assert response.status_code == 422
    assert "预算不能低于已经优惠出去的 ¥450.00" in response.text
    assert fresh(db, running).budget_fen == 100_000
    ok = staff.post(f"/admin/campaigns/{running.id}/edit", data=form_of(running, budget="450"))
    assert ok.status_code == 302
    assert fresh(db, running).budget_fen == 45_000


def test_uses_per_card_cannot_go_below_the_busiest_card(staff, db, running):
    cards = factories.cards(running, 2)
    cards[0].uses_count = 7
    db.session.commit()
    response = staff.post(
        f"/admin/campaigns/{running.id}/edit", data=form_of(running, uses_per_card="6")
    )
    assert response.status_code == 422
    assert "每张可用次数不能低于 7" in response.text
    assert (
        staff.post(
            f"/admin/campaigns/{running.id}/edit", data=form_of(running, uses_per_card="7")
        ).status_code
        == 302
    )


def test_the_daily_limit_cannot_go_below_todays_busiest_card_and_shop(staff, db, running, shop):
    (card,) = factories.cards(running, 1)
    for hour in (9, 10):
        factories.redemption(card, shop, 1000, 200, at_hour=hour)
    factories.redemption(card, shop, 1000, 200, day=factories.a_date(-1))
    data = form_of(running, daily_uses_per_merchant="1")
    response = staff.post(f"/admin/campaigns/{running.id}/edit", data=data)
    assert response.status_code == 422
    assert "每店每天可用次数不能低于 2" in response.text


def test_cards_per_household_cannot_go_below_the_largest_household(staff, db, running):
    factories.cards(running, 3, household_prefix="3-2-")  # three households, one card each
    cards = factories.cards(running, 2)
    for card in cards:
        card.household = "5-1-101"
    db.session.commit()
    data = form_of(running, cards_per_household="1")
    response = staff.post(f"/admin/campaigns/{running.id}/edit", data=data)
    assert response.status_code == 422
    assert "每户限领不能低于 2 张" in response.text


def test_a_voided_card_does_not_count_for_its_household(staff, db, running):
    cards = factories.cards(running, 2)
    for card in cards:
        card.household = "5-1-101"
    cards[1].status = "void"
    db.session.commit()
    data = form_of(running, cards_per_household="1")
    assert staff.post(f"/admin/campaigns/{running.id}/edit", data=data).status_code == 302


def test_the_window_must_keep_every_day_a_card_was_used(staff, db, running, shop):
    (card,) = factories.cards(running, 1)
    day = factories.a_date(-5)
    factories.redemption(card, shop, 1000, 200, day=day)
    data = form_of(running, valid_from=factories.a_date(-4).isoformat())
    response = staff.post(f"/admin/campaigns/{running.id}/edit", data=data)
    assert response.status_code == 422
    assert (
        f"有效期必须包含所有已核销的日子（{day.isoformat()} 至 {day.isoformat()}）" in response.text
    )


def test_kind_prefix_and_funding_are_fixed_once_cards_or_uses_exist(staff, db, running, shop):
    (card,) = factories.cards(running, 1)
    assert (
        "类型就不能再改"
        in staff.post(
            f"/admin/campaigns/{running.id}/edit",
            data=form_of(running, kind="coupon", uses_per_card="1"),
        ).text
    )
    assert (
        "卡号前缀就不能再改"
        in staff.post(f"/admin/campaigns/{running.id}/edit", data=form_of(running, code="NEW")).text
    )
    assert (
        staff.post(
            f"/admin/campaigns/{running.id}/edit", data=form_of(running, funding="community")
        ).status_code
        == 302
    )  # no use yet
    db.session.rollback()  # leave the snapshot the request's write made stale
    factories.redemption(card, shop, 1000, 200)
    response = staff.post(
        f"/admin/campaigns/{running.id}/edit", data=form_of(running, funding="merchant")
    )
    assert "出资方就不能再改" in response.text


# --- status ---------------------------------------------------------------------------------


def test_a_campaign_goes_draft_active_paused_active_ended(staff, db, community):
    campaign = factories.campaign(community, status=CampaignStatus.DRAFT)
    for action, status in [
        ("start", CampaignStatus.ACTIVE),
        ("pause", CampaignStatus.PAUSED),
        ("resume", CampaignStatus.ACTIVE),
        ("end", CampaignStatus.ENDED),
    ]:
        assert staff.post(f"/admin/campaigns/{campaign.id}/{action}").status_code == 302
        assert fresh(db, campaign).status == status
    actions = [a.action for a in rows(db, AuditLog)]
    assert actions == ["campaign.start", "campaign.pause", "campaign.resume", "campaign.end"]


@pytest.mark.parametrize(
    ("status", "action", "says"),
    [
        (CampaignStatus.ACTIVE, "start", "只有草稿状态的活动才能开始"),
        (CampaignStatus.DRAFT, "pause", "只有进行中的活动才能暂停"),
        (CampaignStatus.ACTIVE, "resume", "只有已暂停的活动才能恢复"),
        (CampaignStatus.ENDED, "start", "这个活动已结束，不能再修改"),
        (CampaignStatus.ENDED, "end", "这个活动已结束，不能再修改"),
    ],
)
def test_a_status_change_that_does_not_fit_is_refused(staff, db, community, status, action, says):
    campaign = factories.campaign(community, status=status)
    response = staff.post(f"/admin/campaigns/{campaign.id}/{action}", follow_redirects=True)
    assert says in response.text
    assert fresh(db, campaign).status == status
    assert rows(db, AuditLog) == []


def test_an_ended_campaign_cannot_be_edited(staff, db, community):
    campaign = factories.campaign(community, status=CampaignStatus.ENDED)
    response = staff.post(f"/admin/campaigns/{campaign.id}/edit", data=form_of(campaign, name="x"))
    assert response.status_code == 302
    assert fresh(db, campaign).name != "x"


def test_another_communitys_campaign_is_404(other_staff, community):
    campaign = factories.campaign(community)
    assert other_staff.get(f"/admin/campaigns/{campaign.id}").status_code == 404
    assert other_staff.post(f"/admin/campaigns/{campaign.id}/pause").status_code == 404
    assert other_staff.get(f"/admin/campaigns/{campaign.id}/offers/new").status_code == 404


def test_the_list_shows_own_campaigns_and_exports_them(staff, community, other_community):
    factories.campaign(community, name="紫荆花消费卡", budget_fen=123_456)
    factories.campaign(other_community, name="江博消费券", code="JB")
    page = staff.get("/admin/campaigns").text
    assert "紫荆花消费卡" in page and "江博消费券" not in page
    text = staff.get("/admin/campaigns?export=csv").data.decode()
    assert "紫荆花消费卡" in text and "1234.56" in text and "江博消费券" not in text


# --- offers ---------------------------------------------------------------------------------


def test_staff_add_several_shops_with_one_rule(staff, db, community):
    campaign = factories.campaign(community, rule="8折")
    hair = [
        factories.merchant(community, name, category="美发") for name in ("丝艺美发", "阿芳理发店")
    ]
    factories.merchant(community, "小陈修鞋", status=MerchantStatus.SUSPENDED)
    page = staff.get(f"/admin/campaigns/{campaign.id}/offers/new").text
    assert "丝艺美发" in page and "小陈修鞋" not in page
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/offers/new",
        data={"merchants": [m.id for m in hair], "rule": "6折"},
    )
    assert response.status_code == 302
    offers = rows(db, Offer)
    assert sorted(o.merchant_id for o in offers) == sorted(m.id for m in hair)
    assert {o.rule_text for o in offers} == {"6折"}
    assert {o.rule["pay_permille"] for o in offers} == {600}
    assert [a.action for a in rows(db, AuditLog)] == ["offer.create", "offer.create"]


def test_a_shop_without_its_own_rule_uses_the_campaigns(staff, db, community, shop):
    campaign = factories.campaign(community, rule="8折")
    staff.post(
        f"/admin/campaigns/{campaign.id}/offers/new", data={"merchants": [shop.id], "rule": ""}
    )
    (offer,) = rows(db, Offer)
    assert (offer.rule, offer.rule_text) == (None, "")


def test_adding_no_shop_or_a_bad_rule_is_refused(staff, db, community, shop):
    campaign = factories.campaign(community)
    response = staff.post(f"/admin/campaigns/{campaign.id}/offers/new", data={"rule": "8折"})
    assert response.status_code == 422 and "请至少选择一家商户" in response.text
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/offers/new",
        data={"merchants": [shop.id], "rule": "满100减"},
    )
    assert response.status_code == 422
    assert rows(db, Offer) == []


def test_a_shop_of_another_community_cannot_be_added(staff, db, community, other_community):
    campaign = factories.campaign(community)
    theirs = factories.merchant(other_community, "江堤小吃店")
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/offers/new", data={"merchants": [theirs.id], "rule": ""}
    )
    assert response.status_code == 404
    assert rows(db, Offer) == []


def test_a_shops_rule_is_changed_and_audited(staff, db, community, shop):
    campaign = factories.campaign(community)
    offer = factories.offer(campaign, shop, "8折")
    staff.post(f"/admin/offers/{offer.id}/edit", data={"rule": "满100减10,满200减30"})
    offer = fresh(db, offer)
    assert offer.rule_text == "满100减10，满200减30"
    assert offer.rule["tiers"][1] == {"threshold_fen": 20000, "off_fen": 3000}
    (logged,) = rows(db, AuditLog, AuditLog.action == "offer.update")
    assert (logged.before, logged.after) == (
        {"rule_text": "8折"},
        {"rule_text": "满100减10，满200减30"},
    )


def test_a_shop_is_withdrawn_taken_back_and_an_application_accepted(staff, db, community, shop):
    campaign = factories.campaign(community)
    offer = factories.offer(campaign, shop)
    staff.post(f"/admin/offers/{offer.id}/withdraw")
    assert fresh(db, offer).status == OfferStatus.WITHDRAWN
    staff.post(f"/admin/offers/{offer.id}/rejoin")
    assert fresh(db, offer).status == OfferStatus.ACTIVE
    applied = factories.offer(
        campaign,
        factories.merchant(community, "丝艺美发", category="美发"),
        status=OfferStatus.PENDING,
    )
    staff.post(f"/admin/offers/{applied.id}/accept")
    assert fresh(db, applied).status == OfferStatus.ACTIVE
    response = staff.post(f"/admin/offers/{applied.id}/accept", follow_redirects=True)
    assert "只有提出申请的商户才能接受" in response.text


def test_a_withdrawn_shop_added_again_rejoins_with_the_new_rule(staff, db, community, shop):
    campaign = factories.campaign(community)
    offer = factories.offer(campaign, shop, "9折", status=OfferStatus.WITHDRAWN)
    staff.post(
        f"/admin/campaigns/{campaign.id}/offers/new", data={"merchants": [shop.id], "rule": "7折"}
    )
    offer = fresh(db, offer)
    assert (offer.status, offer.rule_text) == (OfferStatus.ACTIVE, "7折")
    assert len(rows(db, Offer)) == 1


def test_a_new_campaign_form_starts_as_a_card_given_by_shops(staff):
    page = staff.get("/admin/campaigns/new").text
    assert 'checked id="kind-0" name="kind" type="radio" value="card"' in page
    assert 'checked id="funding-0" name="funding" type="radio" value="merchant"' in page


def test_the_campaign_page_shows_shops_rules_cards_and_budget(staff, db, community, shop):
    campaign = factories.campaign(community, rule="8折", budget_fen=2_000_000)
    factories.offer(campaign, shop, "满100减10")
    factories.cards(campaign, 4)
    page = staff.get(f"/admin/campaigns/{campaign.id}").text
    assert "张记热干面" in page and "满100减10" in page
    assert "¥0.00 / ¥20000.00" in page
    assert "已发放" in page


def test_adding_a_second_shop_says_how_many_take_part_in_all(staff, db, community, shop):
    campaign = factories.campaign(community, rule="8折")
    factories.offer(campaign, shop)
    second = factories.merchant(community, "丝艺美发", category="美发")
    response = staff.post(
        f"/admin/campaigns/{campaign.id}/offers/new",
        data={"merchants": [second.id], "rule": ""},
        follow_redirects=True,
    )
    assert "已加入 1 家商户，本活动现有 2 家商户参加。" in response.text


# --- bounds, every error at once, unique names, deleting a draft ---------------------------------


def test_every_wrong_field_of_a_campaign_is_said_at_once(staff, db, community):
    response = staff.post(
        "/admin/campaigns/new",
        data=NEW
        | {
            "name": "",
            "code": "O0",
            "uses_per_card": "99999999999",
            "daily_uses_per_merchant": "0",
            "budget": "999999999",
            "rule": "",
        },
    )
    assert response.status_code == 422
    page = response.text
    for text in (
        "请输入活动名称",
        "卡号前缀",
        "每张卡最多可用 1000 次",
        "限额至少是 1",
        "金额不能超过1000000元",
    ):
        assert text in page, text
    assert page.count('class="errors"') >= 5
    assert not rows(db, Campaign)


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"valid_from": "2026-06-01", "valid_until": "2026-05-01"}, "结束日期不能早于开始日期"),
        ({"valid_from": "2019-01-01", "valid_until": "2020-12-31"}, "结束日期已经过去"),
        ({"valid_until": "2150-01-01"}, "活动日期要在 2000 年到 2099 年之间"),
        ({"valid_until": (local_today() + timedelta(days=4 * 365)).isoformat()}, "最长 3 年"),
        ({"cards_per_household": "101"}, "每户限领张数最多 100"),
        ({"daily_uses_per_merchant": "101"}, "每张卡每店每天最多 100 次"),
    ],
)
def test_absurd_campaign_values_are_refused_with_the_bound(staff, db, community, changes, shown):
    response = staff.post("/admin/campaigns/new", data=NEW | changes)
    assert response.status_code == 422
    assert shown in response.text
    assert not rows(db, Campaign)


def test_names_and_serial_prefixes_are_unique_within_a_community(
    staff, other_staff, db, community, other_community
):
    factories.campaign(community, name=NEW["name"], code="ZJH")
    response = staff.post("/admin/campaigns/new", data=NEW)
    assert response.status_code == 422
    assert "本社区已有同名的活动" in response.text
    assert "本社区已有活动使用这个卡号前缀" in response.text
    # Another community may use both.
    assert other_staff.post("/admin/campaigns/new", data=NEW).status_code == 302


def test_a_draft_without_cards_can_be_deleted_and_the_log_keeps_it(staff, db, community, shop):
    draft = factories.campaign(community, name="写错的活动", status=CampaignStatus.DRAFT)
    factories.offer(draft, shop)
    page = staff.get(f"/admin/campaigns/{draft.id}").text
    assert "删除草稿" in page
    response = staff.post(f"/admin/campaigns/{draft.id}/delete", follow_redirects=True)
    assert "草稿“写错的活动”已删除" in response.text
    assert not rows(db, Campaign) and not rows(db, Offer)
    (row,) = rows(db, AuditLog, AuditLog.action == "campaign.delete")
    assert row.before["name"] == "写错的活动"
    assert "活动 写错的活动" in staff.get("/admin/audit?export=csv").data.decode()


@pytest.mark.parametrize("what", ["running", "has_cards"])
def test_a_campaign_that_ran_or_has_cards_cannot_be_deleted(staff, db, community, what):
    status = CampaignStatus.ACTIVE if what == "running" else CampaignStatus.DRAFT
    campaign = factories.campaign(community, status=status)
    if what == "has_cards":
        factories.cards(campaign, 1, issued=False)
    assert "删除草稿" not in staff.get(f"/admin/campaigns/{campaign.id}").text
    page = staff.post(f"/admin/campaigns/{campaign.id}/delete", follow_redirects=True).text
    assert "只有草稿可以删除" in page or "不能删除" in page
    assert fresh(db, campaign) is not None
