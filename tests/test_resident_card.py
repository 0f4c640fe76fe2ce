"""The resident's card page /c/<token>: state in plain words, uses, where it works, history."""

import gzip
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event, select

from app.clock import LOCAL
from app.models import (
    CampaignKind,
    CampaignStatus,
    Card,
    CardStatus,
    MerchantStatus,
    OfferStatus,
    Redemption,
    RedemptionStatus,
)
from app.services import cardview
from app.services.qr import qr_svg
from app.services.redemptions import void_redemption

from . import factories
from .calls import redeem, run

# 2026-06-15 10:00 in Wuhan; the campaign below runs from 2026-05-12 to 2026-12-31.
NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def campaign(community):
    return factories.campaign(
        community,
        name="紫荆花邻里互助消费卡",
        rule="8折",
        valid_from=date(2026, 5, 12),
        valid_until=date(2026, 12, 31),
        uses_per_card=60,
        daily_uses_per_merchant=1,
    )


@pytest.fixture
def offer(campaign, shop):
    return factories.offer(campaign, shop, "8折,最高减20")


@pytest.fixture
def card(campaign, offer):
    return factories.cards(campaign, 1)[0]


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL).astimezone(UTC)


def use(db, card, shop, bill_fen, day=date(2026, 6, 1), key=None):
    """Redeem `card` at `shop` through the real service, on `day`."""
    key = key or f"test-{card.id}-{shop.id}-{day.isoformat()}-{bill_fen}"
    return redeem(db.session, card.token, shop, None, bill_fen, key, now=at(day))


def page_of(client, card, **params):
    response = client.get(f"/c/{card.token}", query_string=params)
    assert response.status_code == 200
    return response.text


# --- the card and its state --------------------------------------------------------------------


def test_card_page_shows_qr_serial_campaign_community_and_state(client, card):
    html = page_of(client, card)
    assert '<svg class="qr"' in html
    assert f'<figcaption class="serial key-figure">{card.serial}</figcaption>' in html
    assert "紫荆花邻里互助消费卡" in html
    assert "紫荆花社区" in html
    assert '<span class="badge key-figure ok">可用</span>' in html
    assert "请把手机屏幕调亮" in html  # the brightness hint
    assert "2026年5月12日 – 2026年12月31日" in html


def test_the_qr_encodes_the_upper_case_card_url_of_this_site(db, client, card):
    html = page_of(client, card)
    assert f"<title>{card.serial}</title>" in html
    page = cardview.card_page(db.session, card.token, "http://localhost")
    assert page.qr_svg == qr_svg(f"HTTP://LOCALHOST/C/{card.token}", label=card.serial)
    assert page.qr_svg in html


STATE_CASES = {
    # state code: (how to put the card in it, the badge, a phrase of the advice)
    "usable": (lambda card, campaign: None, "可用", "给参与商户扫一扫"),
    "used_up": (
        lambda card, campaign: setattr(card, "status", CardStatus.USED_UP),
        "已用完",
        "次数已经用完了",
    ),
    "expired": (
        lambda card, campaign: setattr(campaign, "valid_until", date(2026, 6, 14)),
        "已过期",
        "活动已经结束",
    ),
    "not_issued": (
        lambda card, campaign: setattr(card, "status", CardStatus.NEW),
        "未发放",
        "到社区居委会领取",
    ),
    "void": (lambda card, campaign: setattr(card, "status", CardStatus.VOID), "已作废", "已作废"),
    "not_started": (
        lambda card, campaign: setattr(campaign, "valid_from", date(2026, 6, 16)),
        "未开始",
        "活动还没开始",
    ),
    "campaign_paused": (
        lambda card, campaign: setattr(campaign, "status", CampaignStatus.PAUSED),
        "暂停使用",
        "暂停了这个活动",
    ),
    "budget_exhausted": (
        lambda card, campaign: (
            setattr(campaign, "budget_fen", 10000),
            setattr(campaign, "spent_fen", 10000),
        ),
        "额度已用完",
        "优惠额度已经用完",
    ),
}


@pytest.mark.parametrize("state", list(STATE_CASES))
def test_every_state_is_said_in_plain_chinese(db, client, card, campaign, state):
    change, label, advice = STATE_CASES[state]
    change(card, campaign)
    db.session.commit()
    html = page_of(client, card)
    tone = cardview.STATES[state].tone
    assert f'<span class="badge key-figure {tone}">{label}</span>' in html
    assert advice in html
    others = {STATE_CASES[s][1] for s in STATE_CASES if s != state} - {label}
    badge = re.search(
        r'<p class="state"><span class="badge key-figure \w+">([^<]+)</span>', html
    ).group(1)
    assert badge == label and badge not in others


@pytest.mark.parametrize("kind", [CampaignKind.CARD, CampaignKind.COUPON])
@pytest.mark.parametrize("state", list(STATE_CASES))
def test_every_state_reads_true_for_a_card_and_a_coupon(db, client, community, shop, state, kind):
    campaign = factories.campaign(
        community,
        kind=kind,
        valid_from=date(2026, 5, 12),
        valid_until=date(2026, 12, 31),
        uses_per_card=1 if kind == CampaignKind.COUPON else 10,
        daily_uses_per_merchant=1,
    )
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    if kind == CampaignKind.CARD:  # a use today: this shop is done for today
        use(db, card, shop, 5000, day=date(2026, 6, 15))
    card, campaign = db.session.get(Card, card.id), db.session.get(type(campaign), campaign.id)
    STATE_CASES[state][0](card, campaign)
    db.session.commit()
    html = page_of(client, card)
    label = "已使用" if (state, kind) == ("used_up", CampaignKind.COUPON) else STATE_CASES[state][1]
    badge = re.search(
        r'<p class="state"><span class="badge key-figure \w+">([^<]+)</span>', html
    ).group(1)
    assert badge == label
    # A coupon is never called a card, nor a card a coupon.
    assert ("这张卡" if kind == CampaignKind.COUPON else "这张券") not in html
    usable = state == "usable"
    assert ("请把手机屏幕调亮" in html) == usable  # the brightness hint invites a scan
    assert ("明天可以再用" in html) == (usable and kind == CampaignKind.CARD)
    final = state in {"used_up", "expired", "void"}
    assert ('<svg class="qr"' in html) == (not final)  # nothing to scan on a card done for
    assert ("<dt>剩余次数</dt>" in html) == (kind == CampaignKind.CARD and not final)
    assert ("像应用一样打开" in html) == (not final)
    assert card.serial in html


@pytest.mark.parametrize("state", list(STATE_CASES))
def test_the_card_page_says_what_the_till_would_say(db, card, campaign, shop, state):
    from app.services import redemptions

    STATE_CASES[state][0](card, campaign)
    db.session.commit()
    assert cardview.card_state(card, campaign, date(2026, 6, 15)).code == state
    if state == "usable":
        redemptions.card_at_till(db.session, shop, card.token)
    else:
        with pytest.raises(redemptions.RedeemError) as till:
            redemptions.card_at_till(db.session, shop, card.token)
        assert till.value.code == state


def test_a_card_whose_last_use_was_taken_reads_used_up_without_a_status_change(
    db, client, card, campaign
):
    card.uses_count = 60  # the limit, while the status still says issued
    db.session.commit()
    assert cardview.card_state(card, campaign, date(2026, 6, 15)).code == "used_up"
    assert "已用完" in page_of(client, card)


def test_ended_campaign_reads_expired_even_within_its_dates(db, client, card, campaign):
    campaign.status = CampaignStatus.ENDED
    db.session.commit()
    assert "已过期" in page_of(client, card)


def test_the_english_page_says_the_state_in_english(client, card):
    client.set_cookie("lang", "en")
    html = page_of(client, card)
    assert '<span class="badge key-figure ok">Usable</span>' in html
    assert "Where it works" in html


# --- uses left and today's ---------------------------------------------------------------------


def test_uses_left_counts_down_from_the_campaign_limit(db, client, card, shop):
    use(db, card, shop, 5000)
    use(db, card, shop, 3000, day=date(2026, 6, 2))
    page = cardview.card_page(db.session, card.token, "http://x")
    assert (page.uses_total, page.uses_left) == (60, 58)
    html = page_of(client, card)
    assert '<strong class="key-figure">58</strong>' in html
    assert "共 60 次" in html


def test_a_campaign_without_a_use_limit_says_no_limit(db, client, community, shop):
    campaign = factories.campaign(community, code="NL", uses_per_card=None)
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    page = cardview.card_page(db.session, card.token, "http://x")
    assert page.uses_left is None
    assert "不限次数" in page_of(client, card)


def test_todays_uses_and_the_shops_where_todays_limit_is_reached(
    db, client, card, campaign, shop, community
):
    other = factories.merchant(community, "李妈妈豆皮")
    factories.offer(campaign, other)
    use(db, card, shop, 5000, day=date(2026, 6, 15))
    use(db, card, shop, 5000, day=date(2026, 6, 14))  # yesterday does not count
    page = cardview.card_page(db.session, card.token, "http://x")
    assert page.used_today == 1
    assert page.daily_per_shop == 1
    full = {s.name: s.full_today for _c, shops in page.shops.groups for s in shops}
    assert full == {"张记热干面": True, "李妈妈豆皮": False}
    html = page_of(client, card)
    assert "已用 1 次" in html
    assert "每家店每天最多 1 次" in html
    assert html.count("今天已在这家店用过") == 1


def test_days_left_warns_in_the_last_two_weeks(db, client, card, campaign):
    assert "天到期" not in page_of(client, card)
    campaign.valid_until = date(2026, 6, 24)
    db.session.commit()
    assert "还剩 10 天到期" in page_of(client, card)


# --- where it works ----------------------------------------------------------------------------


def shop_names(html: str) -> list[str]:
    return re.findall(r'<p class="shop-name">([^<]+)</p>', html)


def test_where_it_works_lists_only_active_shops_of_this_campaign(
    db, client, card, campaign, community, other_community
):
    factories.offer(campaign, factories.merchant(community, "丝艺美发", category="美发"), "6折")
    pending = factories.merchant(community, "紫荆花鲜花坊", status=MerchantStatus.PENDING)
    factories.offer(campaign, pending)
    withdrawn = factories.merchant(community, "小陈修鞋", category="维修")
    factories.offer(campaign, withdrawn, status=OfferStatus.WITHDRAWN)
    factories.merchant(community, "不参加的小店")  # in the community, not in the campaign
    other_campaign = factories.campaign(community, name="另一个活动", code="OT")
    factories.offer(other_campaign, factories.merchant(community, "别的活动的店"))
    elsewhere = factories.campaign(other_community, name="江博消费券", code="JB")
    factories.offer(elsewhere, factories.merchant(other_community, "江堤小吃店"))
    html = page_of(client, card)
    assert shop_names(html) == ["张记热干面", "丝艺美发"]


def test_a_suspended_shop_disappears_and_comes_back_when_reactivated(db, client, card, shop):
    assert "张记热干面" in shop_names(page_of(client, card))
    shop.status = MerchantStatus.SUSPENDED
    db.session.commit()
    html = page_of(client, card)
    assert shop_names(html) == []
    assert "还没有商户参加" in html
    shop.status = MerchantStatus.ACTIVE
    db.session.commit()
    assert shop_names(page_of(client, card)) == ["张记热干面"]


def test_each_shop_shows_its_own_rule_address_hours_and_a_tel_link(db, client, card, shop):
    shop.address = "琴断口小区3栋底商"
    shop.hours = "06:00–13:00"
    shop.phone = "027-8001 0037"
    db.session.commit()
    html = page_of(client, card)
    assert "打8折，最多优惠20元" in html  # the shop's own rule, not the campaign's 8折
    assert "琴断口小区3栋底商" in html
    assert "营业时间 06:00–13:00" in html
    assert 'href="tel:02780010037"' in html


def test_the_shop_list_is_said_in_each_language_and_follows_changes(
    db, client, card, campaign, shop
):
    shop.hours = "06:00–13:00"
    db.session.commit()
    other_card = factories.cards(campaign, 1, household_prefix="2-2-")[0]
    assert "营业时间 06:00–13:00" in page_of(client, other_card)
    assert "营业时间 06:00–13:00" in page_of(client, card)  # the same list, on another card
    client.set_cookie("lang", "en")
    assert "Opening hours 06:00–13:00" in page_of(client, card)
    client.delete_cookie("lang")
    shop.hours = "07:00–14:00"
    db.session.commit()
    html = page_of(client, card)
    assert "营业时间 07:00–14:00" in html and "06:00" not in html


def test_shops_are_grouped_by_category_in_the_usual_order(db, client, card, campaign, community):
    for name, category in [("鲜果园", "水果生鲜"), ("丝艺美发", "美发"), ("老王牛肉粉", "餐饮")]:
        factories.offer(campaign, factories.merchant(community, name, category=category))
    page = cardview.card_page(db.session, card.token, "http://x")
    assert page.shops.categories == ("餐饮", "美发", "水果生鲜")
    assert [(c, [s.name for s in shops]) for c, shops in page.shops.groups] == [
        ("餐饮", ["张记热干面", "老王牛肉粉"]),
        ("美发", ["丝艺美发"]),
        ("水果生鲜", ["鲜果园"]),
    ]


def test_the_category_filter_is_plain_links_that_work_without_javascript(
    db, client, card, campaign, community
):
    factories.offer(campaign, factories.merchant(community, "丝艺美发", category="美发"), "6折")
    html = page_of(client, card)
    assert 'href="?cat=%E7%BE%8E%E5%8F%91#shops"' in html  # 美发
    filtered = page_of(client, card, cat="美发")
    assert shop_names(filtered) == ["丝艺美发"]
    assert '<a href="?cat=%E7%BE%8E%E5%8F%91#shops" aria-current="true">' in filtered
    assert shop_names(page_of(client, card, cat="不存在")) == ["张记热干面", "丝艺美发"]


def test_one_rule_for_every_shop_is_shown_as_the_cards_discount(db, client, community, shop):
    campaign = factories.campaign(
        community, name="江博消费券", code="JB", kind=CampaignKind.COUPON, rule="满50减10"
    )
    factories.offer(campaign, shop)  # no rule of its own: the campaign's
    factories.offer(campaign, factories.merchant(community, "江堤超市"), "满50减10")
    card = factories.cards(campaign, 1)[0]
    html = page_of(client, card)
    assert "消费券" in html
    assert "<dt>优惠</dt>\n    <dd>消费满50元减10元</dd>" in html


def test_shops_with_different_rules_send_the_reader_to_the_list(client, card, campaign, community):
    factories.offer(campaign, factories.merchant(community, "丝艺美发", category="美发"), "6折")
    assert "各店优惠不同，见下方。" in page_of(client, card)


# --- history and the total saved ---------------------------------------------------------------


def test_history_lists_shop_day_bill_and_saved_and_totals_in_fen(
    db, client, card, campaign, shop, community
):
    other = factories.merchant(community, "李妈妈豆皮")
    factories.offer(campaign, other, "满100减10")
    use(db, card, shop, 4380, day=date(2026, 5, 20))  # 8折: 876 off
    use(db, card, other, 12000, day=date(2026, 6, 3))  # 满100减10: 1000 off
    use(db, card, shop, 18800, day=date(2026, 6, 10))  # 8折 capped at 20: 2000 off
    page = cardview.card_page(db.session, card.token, "http://x")
    assert page.saved_fen == 876 + 1000 + 2000
    assert page.history_count == 3
    assert [(u.shop, u.day, u.bill_fen, u.discount_fen) for u in page.history] == [
        ("张记热干面", date(2026, 6, 10), 18800, 2000),
        ("李妈妈豆皮", date(2026, 6, 3), 12000, 1000),
        ("张记热干面", date(2026, 5, 20), 4380, 876),
    ]
    html = page_of(client, card)
    assert '已为您节省 <strong class="key-figure">¥38.76</strong>' in html
    assert '<td class="num" data-label="消费">¥43.80</td>' in html
    assert '<td class="num" data-label="节省">¥8.76</td>' in html
    assert "2026年6月3日" in html
    assert "共使用 3 次，合计节省" in html


def test_a_voided_use_is_shown_struck_out_and_left_out_of_the_total(
    db, client, card, shop, staff_user
):
    kept = use(db, card, shop, 5000, day=date(2026, 6, 1))
    voided = db.session.get(Redemption, use(db, card, shop, 10000, day=date(2026, 6, 2)).id)
    run(db, void_redemption, voided, staff_user, "收银员输错金额", now=at(date(2026, 6, 2), 13))
    page = cardview.card_page(db.session, card.token, "http://x")
    assert page.saved_fen == kept.discount_fen == 1000
    assert page.history_count == 1
    assert [u.voided for u in page.history] == [True, False]
    html = page_of(client, card)
    assert html.count('<tr class="voided">') == 1
    assert "已作废，次数已退回" in html
    assert '<strong class="key-figure">¥10.00</strong>' in html


def test_a_card_never_used_says_so_and_has_saved_nothing(client, card):
    html = page_of(client, card)
    assert "还没有使用过" in html
    assert '<strong class="key-figure">¥0.00</strong>' in html


def test_history_shows_the_newest_fifty_but_totals_every_use(db, card, shop):
    start = date(2026, 5, 12)
    rows = [
        Redemption(
            community_id=card.community_id,
            campaign_id=card.campaign_id,
            card_id=card.id,
            merchant_id=shop.id,
            bill_fen=1000,
            discount_fen=200,
            paid_fen=800,
            rule_text="8折",
            created_at=at(start + timedelta(days=i)),
            local_day=start + timedelta(days=i),
            idempotency_key=f"history-{i}",
        )
        for i in range(cardview.HISTORY_LIMIT + 3)
    ]
    db.session.add_all(rows)
    db.session.commit()
    page = cardview.card_page(db.session, card.token, "http://x")
    assert len(page.history) == cardview.HISTORY_LIMIT
    assert not page.history_complete
    assert page.history[0].day == start + timedelta(days=cardview.HISTORY_LIMIT + 2)
    assert page.history_count == cardview.HISTORY_LIMIT + 3
    assert page.saved_fen == 200 * (cardview.HISTORY_LIMIT + 3)


def test_a_card_used_more_often_than_shown_counts_totals_and_todays_uses_in_the_database(
    db, card, shop, community, campaign
):
    other = factories.merchant(community, "李妈妈豆皮")
    factories.offer(campaign, other)
    today = date(2026, 6, 15)
    start = today - timedelta(days=cardview.HISTORY_LIMIT + 5)
    days = [start + timedelta(days=i) for i in range(cardview.HISTORY_LIMIT + 5)] + [today]
    db.session.add_all(
        Redemption(
            community_id=card.community_id,
            campaign_id=card.campaign_id,
            card_id=card.id,
            merchant_id=shop.id if day == today else other.id,
            bill_fen=1000,
            discount_fen=200,
            paid_fen=800,
            rule_text="8折",
            status=RedemptionStatus.VOID if i == 0 else RedemptionStatus.OK,  # the oldest
            created_at=at(day),
            local_day=day,
            idempotency_key=f"many-{i}",
        )
        for i, day in enumerate(days)
    )
    db.session.commit()
    page = cardview.card_page(db.session, card.token, "http://x")
    assert len(page.history) == cardview.HISTORY_LIMIT and not page.history_complete
    assert page.history_count == cardview.HISTORY_LIMIT + 5  # the voided one left out
    assert page.saved_fen == 200 * (cardview.HISTORY_LIMIT + 5)
    assert page.used_today == 1
    full = {s.name: s.full_today for _c, shops in page.shops.groups for s in shops}
    assert full == {"张记热干面": True, "李妈妈豆皮": False}


def test_a_replacement_card_shows_the_lost_cards_history_too(db, client, campaign, shop, offer):
    lost, replacement = factories.cards(campaign, 2)
    use(db, lost, shop, 5000, day=date(2026, 5, 20))
    lost = db.session.get(Card, lost.id)
    lost.status = CardStatus.VOID
    replacement = db.session.get(Card, replacement.id)
    replacement.replaces_id = lost.id
    replacement.uses_count = lost.uses_count
    db.session.commit()
    use(db, replacement, shop, 2500, day=date(2026, 6, 1))
    page = cardview.card_page(db.session, replacement.token, "http://x")
    assert page.saved_fen == 1000 + 500
    assert [u.bill_fen for u in page.history] == [2500, 5000]
    assert page.uses_left == 58


# --- unknown tokens ----------------------------------------------------------------------------


def count_selects(client, path) -> tuple[int, str]:
    from app.extensions import db

    statements = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 404
    return len(statements), response.text


def test_unknown_tokens_get_one_and_the_same_404_after_the_same_lookup(client, card):
    near_miss = card.token[:-1] + ("A" if card.token[-1] != "A" else "B")
    answers = [
        count_selects(client, f"/c/{token}")
        for token in (near_miss, "NOSUCHTOKENATALL234567ABCD", "x", "%E4%BD%A0" * 30)
    ]
    assert {queries for queries, _ in answers} == {1}
    assert len({html for _, html in answers}) == 1
    assert "页面不存在" in answers[0][1]
    assert card.token[:-1] not in answers[0][1]


def test_a_404_is_not_kept_offline_or_cached(client, card):
    response = client.get("/c/NOSUCHTOKENATALL234567ABCD")
    assert response.status_code == 404
    assert "X-Offline-Copy" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_guessing_tokens_is_stopped_with_a_chinese_429_while_holders_are_not_counted(
    make_app, db, community
):
    app = make_app(CARD_MISS_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        campaign = factories.campaign(community)
        token = factories.cards(campaign, 1)[0].token
    for _ in range(5):  # a holder opening their card again and again is not a guesser
        assert client.get(f"/c/{token}").status_code == 200
    assert [client.get(f"/c/GUESS{i}").status_code for i in range(4)] == [404, 404, 404, 429]
    refused = client.get(f"/c/{token}")
    assert refused.status_code == 429
    assert "尝试次数过多" in refused.text
    other_address = client.get(f"/c/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200


def test_tokens_carry_at_least_96_bits(db, campaign):
    tokens = [c.token for c in factories.cards(campaign, 50)]
    # base32: 5 bits a character
    assert all(len(t) * 5 >= 96 and re.fullmatch(r"[A-Z2-7]+", t) for t in tokens)
    assert len(set(tokens)) == 50
    assert db.session.scalar(select(Card).where(Card.token == tokens[0].lower())) is None


# --- how the page travels ----------------------------------------------------------------------


def test_the_page_is_private_revalidated_and_a_repeat_visit_costs_a_304(client, card):
    first = client.get(f"/c/{card.token}", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers["Content-Encoding"] == "gzip"
    assert "Cookie" in first.headers["Vary"] and "Accept-Encoding" in first.headers["Vary"]
    assert first.headers["X-Robots-Tag"] == "noindex, nofollow"
    html = gzip.decompress(first.data).decode()
    assert card.serial in html
    again = client.get(
        f"/c/{card.token}",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.data == b""


def test_a_browser_that_asks_for_no_compression_gets_its_304_too(client, card):
    first = client.get(f"/c/{card.token}")
    assert "Content-Encoding" not in first.headers
    again = client.get(f"/c/{card.token}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_use_changes_the_etag_so_the_holder_sees_it(db, client, card, shop):
    before = client.get(f"/c/{card.token}").headers["ETag"]
    use(db, card, shop, 5000)
    after = client.get(f"/c/{card.token}", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_the_page_needs_no_javascript_and_no_session(client, card):
    response = client.get(f"/c/{card.token}")
    html = response.text
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == [
        re.search(r'<script src="/static/js/card\.js\?v=[0-9a-f]{10}" defer>', html)[0]
    ]
    # What the page is for is in the HTML itself: the QR, the state, the shops, the history.
    for part in ('<svg class="qr"', "可用", 'id="shops"', 'id="history"', "已为您节省"):
        assert part in html
    assert response.headers.get("Set-Cookie") is None


def test_the_page_offers_an_offline_copy_marked_as_such(client, card):
    response = client.get(f"/c/{card.token}")
    assert response.headers["X-Offline-Copy"] == "allow"
    assert (
        '<p class="offline" hidden>离线副本，保存于 <time class="saved-at"></time>。'
        in response.text
    )
    assert f'<link rel="manifest" href="/c/{card.token}/manifest.webmanifest">' in response.text


def test_the_page_and_its_stylesheet_fit_the_first_visit_budget(client, card):
    page = client.get(f"/c/{card.token}", headers={"Accept-Encoding": "gzip"})
    total = len(page.data)
    for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', gzip.decompress(page.data).decode()):
        with client.get(url, headers={"Accept-Encoding": "gzip"}) as asset:
            assert asset.status_code == 200
            total += len(asset.get_data())
    assert total <= 30 * 1024


# --- a repeat visit: 304 before anything is made, and never hiding a change ---------------------


def etag_of(client, card, **headers) -> str:
    response = client.get(f"/c/{card.token}", headers=headers)
    assert response.status_code == 200
    return response.headers["ETag"]


def test_a_repeat_visit_is_answered_before_any_template_is_rendered(app, client, card):
    from flask import template_rendered

    etag = etag_of(client, card)
    rendered = []
    template_rendered.connect(lambda sender, template, context: rendered.append(template.name))
    try:
        again = client.get(f"/c/{card.token}", headers={"If-None-Match": etag})
    finally:
        template_rendered.receivers.clear()
    assert again.status_code == 304 and again.data == b""
    assert rendered == []
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert again.headers["X-Offline-Copy"] == "allow"


def test_the_etag_is_the_same_on_every_worker(make_app, db, card):
    """Digests, not Python's per-process hash(): another worker answers the same repeat 304."""
    first = make_app().test_client().get(f"/c/{card.token}").headers["ETag"]
    second = make_app().test_client().get(f"/c/{card.token}").headers["ETag"]
    assert first == second


def _void_last_use(db, card, campaign, shop):
    from app.models import User

    staff = db.session.scalar(select(User).where(User.community_id == card.community_id))
    last = db.session.scalar(select(Redemption).where(Redemption.card_id == card.id))
    run(db, void_redemption, last, staff, "输错了金额")


def _edit_rule(db, card, campaign, shop):
    from app.models import Offer
    from app.rules import parse_rule

    offer = db.session.scalar(select(Offer).where(Offer.merchant_id == shop.id))
    offer.rule = parse_rule("7折").to_dict()
    db.session.commit()


def _set(db, obj, **values):
    for name, value in values.items():
        setattr(obj, name, value)
    db.session.commit()


CHANGES = {
    "a use": lambda db, card, campaign, shop: use(db, card, shop, 3000, day=date(2026, 6, 15)),
    "a void": _void_last_use,
    "a shop suspended": lambda db, card, campaign, shop: _set(
        db, shop, status=MerchantStatus.SUSPENDED
    ),
    "a shop's details": lambda db, card, campaign, shop: _set(db, shop, hours="7:00-20:00"),
    "a shop's rule edited": _edit_rule,
    "the campaign paused": lambda db, card, campaign, shop: _set(
        db, campaign, status=CampaignStatus.PAUSED
    ),
    "the campaign ended": lambda db, card, campaign, shop: _set(
        db, campaign, status=CampaignStatus.ENDED
    ),
    "the card voided": lambda db, card, campaign, shop: _set(db, card, status=CardStatus.VOID),
    "the card handed out": lambda db, card, campaign, shop: _set(
        db, card, status=CardStatus.ISSUED, household="3-2-502"
    ),
    "the budget used up": lambda db, card, campaign, shop: _set(
        db, campaign, budget_fen=campaign.spent_fen
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_that_alters_the_page_gives_a_new_etag(
    db, client, card, campaign, shop, staff_user, change
):
    use(db, card, shop, 5000)  # one use to void
    before = etag_of(client, card)
    CHANGES[change](db, db.session.get(Card, card.id), campaign, shop)
    after = client.get(f"/c/{card.token}", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_a_new_day_gives_a_new_etag(client, card):
    before = etag_of(client, card)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        after = client.get(f"/c/{card.token}", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


def test_the_language_large_type_and_the_filter_give_new_etags(client, card):
    plain = etag_of(client, card)
    client.set_cookie("lang", "en")
    english = etag_of(client, card, **{"If-None-Match": plain})
    client.set_cookie("large", "1")
    large = etag_of(client, card, **{"If-None-Match": english})
    filtered = client.get(f"/c/{card.token}?cat=餐饮", headers={"If-None-Match": large})
    assert filtered.status_code == 200
    assert len({plain, english, large, filtered.headers["ETag"]}) == 4


def test_another_cards_use_leaves_this_cards_page_unchanged(db, client, campaign, card, shop):
    other = factories.cards(campaign, 1, household_prefix="2-1-")[0]
    before = etag_of(client, card)
    use(db, other, shop, 5000)
    again = client.get(f"/c/{card.token}", headers={"If-None-Match": before})
    assert again.status_code == 304


def test_a_limited_card_page_says_when_to_come_back(make_app, db, community):
    app = make_app(CARD_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        token = factories.cards(factories.campaign(community), 1)[0].token
    assert [client.get(f"/c/{token}").status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get(f"/c/{token}")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert "尝试次数过多" in refused.text
