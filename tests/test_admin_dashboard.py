"""Figures: totals, per day, per shop, per category, per community; settlement; misuse."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.clock import utcnow
from app.models import AttemptLog, ClosedDay, Funding, RedemptionDay
from app.services import misuse, summary
from app.services.dashboard import Scope, overview

from . import factories


@pytest.fixture
def world(db, community, other_community):
    """Two communities with uses on known days; one use voided; one outside the period."""
    zjh = factories.campaign(community, rule="8折", code="ZJH", funding=Funding.COMMUNITY)
    noodles = factories.merchant(community, "张记热干面", category="餐饮")
    hair = factories.merchant(community, "丝艺美发", category="美发")
    cards = factories.cards(zjh, 3)
    d1, d2 = factories.a_date(-2), factories.a_date(-1)
    factories.redemption(cards[0], noodles, 10000, 2000, day=d1)
    factories.redemption(cards[1], noodles, 5000, 1000, day=d1, at_hour=11)
    factories.redemption(cards[0], hair, 8000, 3200, day=d2)
    factories.redemption(cards[2], hair, 9900, 3960, day=d2, status="void")
    factories.redemption(cards[2], hair, 100000, 40000, day=factories.a_date(-40))
    jb = factories.campaign(other_community, name="江博消费券", code="JB")
    jb_shop = factories.merchant(other_community, "江堤小吃店")
    (jb_card,) = factories.cards(jb, 1)
    factories.redemption(jb_card, jb_shop, 7000, 1000, day=d2)
    return {"zjh": zjh, "noodles": noodles, "hair": hair, "cards": cards, "d1": d1, "d2": d2,
            "jb": jb, "jb_shop": jb_shop}  # fmt: skip


def period(world):
    return {"from": world["d1"].isoformat(), "to": world["d2"].isoformat()}


def test_totals_count_live_uses_of_the_period_in_fen(db, world, community):
    result = overview(db.session, Scope(community.id, None, world["d1"], world["d2"]))
    assert (result.totals.redemptions, result.totals.bills_fen, result.totals.discounts_fen) == (
        3,
        23000,
        6200,
    )
    assert [(d.day, d.figures.redemptions, d.figures.discounts_fen) for d in result.days] == [
        (world["d1"], 2, 3000),
        (world["d2"], 1, 3200),
    ]
    assert (result.cards_issued, result.cards_used) == (3, 0)  # use counts live on the cards


def test_the_district_sees_every_community_and_per_community_figures(db, world, community):
    result = overview(db.session, Scope(None, None, world["d1"], world["d2"]))
    assert (result.totals.redemptions, result.totals.bills_fen) == (4, 30000)
    assert [(name, f.bills_fen, f.discounts_fen) for _id, name, f in result.by_community] == [
        ("紫荆花社区", 23000, 6200),
        ("江博社区", 7000, 1000),
    ]


def test_the_staff_dashboard_shows_their_community_only(staff, world):
    page = staff.get("/admin/dashboard", query_string=period(world)).text
    assert "¥230.00" in page and "¥62.00" in page
    assert "江堤小吃店" not in page and "¥70.00" not in page
    assert '<svg class="chart"' in page
    assert "张记热干面" in page and "丝艺美发" in page


def test_staff_cannot_look_at_another_community_by_changing_the_address(
    staff, world, other_community
):
    page = staff.get(
        "/admin/dashboard", query_string=period(world) | {"community": other_community.id}
    ).text
    assert "¥230.00" in page and "¥70.00" not in page
    page = staff.get(
        "/admin/dashboard", query_string=period(world) | {"campaign": world["jb"].id}
    ).text
    assert "¥70.00" not in page


def test_the_per_shop_table_sorts_by_any_figure(staff, world):
    args = period(world)
    page = staff.get("/admin/dashboard", query_string=args | {"sort": "-discounts"}).text
    assert page.index("丝艺美发") < page.index("张记热干面")  # ¥32 before ¥30
    page = staff.get("/admin/dashboard", query_string=args | {"sort": "-redemptions"}).text
    assert page.index("张记热干面") < page.index("丝艺美发")  # 2 uses before 1


def test_the_per_shop_export_has_the_figures_in_yuan(staff, world):
    response = staff.get(
        "/admin/dashboard", query_string=period(world) | {"table": "merchants", "export": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["张记热干面"][1:4] == ("餐饮", 2, 2)
    assert Decimal(str(values["张记热干面"][4])) == Decimal("150.00")
    assert Decimal(str(values["张记热干面"][5])) == Decimal("30.00")
    assert Decimal(str(values["丝艺美发"][5])) == Decimal("32.00")


def test_the_per_day_and_per_category_exports_add_up(staff, world):
    days = staff.get(
        "/admin/dashboard", query_string=period(world) | {"table": "days", "export": "csv"}
    )
    text = days.data.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:])))
    assert lines[1] == [world["d1"].isoformat(), "2", "150.00", "30.00"]
    assert lines[2] == [world["d2"].isoformat(), "1", "80.00", "32.00"]
    categories = staff.get(
        "/admin/dashboard", query_string=period(world) | {"table": "categories", "export": "csv"}
    ).data.decode()
    lines = list(csv.reader(io.StringIO(categories[1:])))
    assert lines[1:] == [
        ["餐饮", "1", "2", "150.00", "30.00"],
        ["美发", "1", "1", "80.00", "32.00"],
    ]


def test_the_district_admin_exports_per_community(district_admin, world):
    text = district_admin.get(
        "/admin/dashboard", query_string=period(world) | {"table": "communities", "export": "csv"}
    ).data.decode()
    lines = list(csv.reader(io.StringIO(text[1:])))
    assert lines[1:] == [
        ["紫荆花社区", "3", "230.00", "62.00"],
        ["江博社区", "1", "70.00", "10.00"],
    ]


def test_a_backwards_period_is_refused_in_chinese_and_the_default_shown(staff, world):
    response = staff.get("/admin/dashboard?from=2026-05-12&to=2026-05-01")
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.text


# --- settlement -----------------------------------------------------------------------------


def test_the_settlement_lists_what_the_office_owes_each_shop(staff, world):
    page = staff.get(
        f"/admin/campaigns/{world['zjh'].id}/settlement", query_string=period(world)
    ).text
    assert "张记热干面" in page and "¥30.00" in page
    assert "丝艺美发" in page and "¥32.00" in page
    assert "¥62.00" in page  # the total


def test_a_statement_shows_every_use_behind_the_figure(staff, world):
    page = staff.get(
        f"/admin/campaigns/{world['zjh'].id}/settlement/{world['hair'].id}",
        query_string=period(world),
    ).text
    assert "结算单" in page
    assert page.count("<tr><td>1</td>") == 1 and "<tr><td>2</td>" not in page
    assert "¥32.00" in page
    assert "已作废的核销（不结算）" in page and "¥39.60" in page


def test_a_statement_export_holds_each_use(staff, world):
    response = staff.get(
        f"/admin/campaigns/{world['zjh'].id}/settlement/{world['noodles'].id}",
        query_string=period(world) | {"export": "xlsx"},
    )
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    owed = [Decimal(str(row[3])) for row in rows[1:-1]]
    assert sorted(owed) == [Decimal("10.00"), Decimal("20.00")]
    assert rows[-1][:2] == ("合计", "2 次核销") and Decimal(str(rows[-1][3])) == Decimal("30.00")


def test_the_settlement_export_ends_with_a_totals_row(staff, world):
    url = f"/admin/campaigns/{world['zjh'].id}/settlement"
    response = staff.get(url, query_string=period(world) | {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:-1]} == {"张记热干面", "丝艺美发"}
    total = rows[-1]
    assert total[:2] == ("合计", "2 家商户")
    assert total[2] == sum(row[2] for row in rows[1:-1])
    assert Decimal(str(total[4])) == Decimal("62.00")
    assert sheet.cell(row=len(rows), column=1).font.bold
    text_ = staff.get(url, query_string=period(world) | {"export": "csv"}).data.decode()
    assert text_.strip().splitlines()[-1].startswith("合计,2 家商户,")
    assert text_.strip().endswith(",62.00")


def test_another_communitys_statement_is_404(other_staff, world):
    url = f"/admin/campaigns/{world['zjh'].id}/settlement/{world['noodles'].id}"
    assert other_staff.get(url).status_code == 404
    url = f"/admin/campaigns/{world['jb'].id}/settlement/{world['noodles'].id}"
    assert other_staff.get(url).status_code == 404  # a shop of another community


# --- misuse ---------------------------------------------------------------------------------


def test_the_same_card_at_the_same_shop_again_and_again_is_listed(db, community):
    campaign = factories.campaign(community)
    shops = [factories.merchant(community, f"店{i}") for i in range(4)]
    cards = factories.cards(campaign, 11)
    start = factories.a_date(-20)
    for n, card in enumerate(cards[:10]):  # ten ordinary card-and-shop pairs, one use each
        factories.redemption(card, shops[n % 4], 3000, 600, day=start)
    for day in range(15):
        factories.redemption(cards[10], shops[0], 3000, 600, day=start + timedelta(days=day))
    found = misuse.findings(db.session, Scope(community.id, None, start, factories.a_date()))
    (repeat,) = [f for f in found if f.kind == "repeat_pair"]
    assert repeat.details == {"serial": cards[10].serial, "uses": 15, "shop": "店0", "usual": 2}
    assert repeat.filters["card"] == cards[10].serial and repeat.filters["merchant"] == shops[0].id


def test_bills_bunched_just_over_a_threshold_are_listed(db, community):
    campaign = factories.campaign(community, rule="满100减10")
    shop = factories.merchant(community, "邻家便利超市", category="超市副食")
    honest = factories.merchant(community, "琴断口副食店", category="超市副食")
    cards = factories.cards(campaign, 3)
    day = factories.a_date(-3)
    for n in range(10):
        row = factories.redemption(cards[n % 3], shop, 10000 + n * 10, 1000, day=day, at_hour=8 + n)
        row.rule_text = "满100减10"
    for n in range(10):
        row = factories.redemption(
            cards[n % 3], honest, 10000 + n * 1200, 1000, day=day, at_hour=8 + n
        )
        row.rule_text = "满100减10"
    db.session.commit()
    found = misuse.findings(db.session, Scope(community.id, None, day, day))
    flagged = [f for f in found if f.kind == "threshold"]
    assert [f.details["shop"] for f in flagged] == ["邻家便利超市"]
    assert flagged[0].details["near"] == 10 and flagged[0].filters["bill_min"] == "100.00"


def test_a_shop_at_the_daily_limit_every_day_is_listed(db, community):
    campaign = factories.campaign(community, daily_uses_per_merchant=2)
    shop = factories.merchant(community, "老王牛肉粉")
    (card,) = factories.cards(campaign, 1)
    start = factories.a_date(-10)
    for day in range(6):
        for hour in (8, 18):
            factories.redemption(
                card, shop, 2000, 400, day=start + timedelta(days=day), at_hour=hour
            )
    found = misuse.findings(db.session, Scope(community.id, None, start, factories.a_date()))
    (capped,) = [f for f in found if f.kind == "daily_limit"]
    assert (capped.details["days"], capped.details["total"], capped.details["limit"]) == (6, 6, 2)


def test_bursts_of_refused_attempts_are_listed(db, community):
    shops = [factories.merchant(community, f"店{i}") for i in range(3)]
    now = utcnow() - timedelta(hours=1)

    def attempt(code, shop, ref, at):
        return AttemptLog(
            code=code, community_id=community.id, merchant_id=shop.id, card_ref=ref, created_at=at
        )

    for n in range(12):
        at = now + timedelta(seconds=20 * n)
        db.session.add(attempt("not_found", shops[0], f"ZJH-AAAA-{n:02d}", at))
    for n, shop in enumerate(shops):
        db.session.add(attempt("daily_limit", shop, "ZJH-HOPS-22", now + timedelta(minutes=n)))
    db.session.commit()
    today = factories.a_date()
    found = misuse.findings(db.session, Scope(community.id, None, today - timedelta(days=1), today))
    kinds = {f.kind: f for f in found}
    assert kinds["refusal_burst"].details["count"] == 13
    assert kinds["card_hopping"].details == kinds["card_hopping"].details | {
        "card": "ZJH-HOPS-22",
        "shops": 3,
    }


def test_the_checks_of_many_communities_at_once_find_what_each_finds_alone(
    db, community, other_community
):
    """互看互比 asks for a street's or a district's findings in one go: each community gets
    its own findings, the same as its figures page lists, and none of another's."""
    start = factories.a_date(-10)
    first_shop = {}
    for place, repeats in ((community, 15), (other_community, 9)):
        campaign = factories.campaign(
            place, code=f"M{place.id}", daily_uses_per_merchant=2, rule="满100减10"
        )
        shops = [factories.merchant(place, f"{place.name}店{i}") for i in range(3)]
        first_shop[place.id] = shops[0]
        cards = factories.cards(campaign, 11)
        for n, card in enumerate(cards[:10]):
            row = factories.redemption(card, shops[0], 10_000 + n * 10, 1000, day=start)
            row.rule_text = "满100减10"
        for day in range(repeats):  # twice a day: a repeated pair and a shop at the limit
            for hour in (8, 18):
                factories.redemption(
                    cards[10], shops[1], 2000, 400, day=start + timedelta(days=day), at_hour=hour
                )
    burst = utcnow() - timedelta(hours=1)
    db.session.add_all(  # serials tried at one shop of the first community only
        AttemptLog(
            code="not_found",
            community_id=community.id,
            merchant_id=first_shop[community.id].id,
            card_ref=f"ZJH-AAAA-{n:02d}",
            created_at=burst + timedelta(seconds=20 * n),
        )
        for n in range(12)
    )
    db.session.commit()
    scope = Scope(None, None, start, factories.a_date())
    together = misuse.findings_of(db.session, [community.id, other_community.id], scope)
    for place in (community, other_community):
        alone = misuse.findings(db.session, Scope(place.id, None, start, factories.a_date()))
        assert together[place.id] == alone
        assert {f.kind for f in alone} >= {"repeat_pair", "daily_limit", "threshold"}
        assert ("refusal_burst" in {f.kind for f in alone}) == (place is community)
        shops = {f.details.get("shop") for f in alone} - {None}
        assert shops and all(name.startswith(place.name) for name in shops)
    assert misuse.findings_of(db.session, [], scope) == {}


def test_the_dashboard_links_each_finding_to_its_rows(staff, db, community):
    campaign = factories.campaign(community)
    shop = factories.merchant(community, "张记热干面")
    cards = factories.cards(campaign, 11)
    start = factories.a_date(-15)
    for other in cards[1:]:
        factories.redemption(other, shop, 3000, 600, day=start)
    card = cards[0]
    for day in range(10):
        factories.redemption(card, shop, 3000, 600, day=start + timedelta(days=day), at_hour=7)
    page = staff.get("/admin/dashboard", query_string={"from": start.isoformat()}).text
    assert f"卡 {card.serial} 在 张记热干面 用了 10 次（一般是 1 次）" in page
    assert f"/admin/redemptions?card={card.serial}&amp;merchant={shop.id}" in page


# --- the daily summary ----------------------------------------------------------------------


@pytest.fixture
def history(db, community, shop):
    """Uses on days 10, 5, 2 and 1 days ago and today, one of them voided."""
    campaign = factories.campaign(community)
    cards = factories.cards(campaign, 2)
    made = {}
    for ago, bill, status in [(10, 1000, "ok"), (5, 2000, "ok"), (5, 4000, "void"),
                              (2, 8000, "ok"), (1, 16000, "ok"), (0, 32000, "ok")]:  # fmt: skip
        made[(ago, bill)] = factories.redemption(
            cards[0], shop, bill, bill // 10, day=factories.a_date(-ago), status=status
        )
    return campaign, cards, made


def test_old_days_are_summarised_once_and_the_figures_match_the_uses(db, community, history):
    scope = Scope(community.id, None, factories.a_date(-12), factories.a_date())
    result = overview(db.session, scope)
    assert (result.totals.redemptions, result.totals.bills_fen, result.totals.discounts_fen) == (
        5,
        59000,
        5900,
    )
    assert {d.day: d.figures.bills_fen for d in result.days if d.figures.redemptions} == {
        factories.a_date(-10): 1000,
        factories.a_date(-5): 2000,
        factories.a_date(-2): 8000,
        factories.a_date(-1): 16000,
        factories.a_date(): 32000,
    }
    closed = db.session.scalars(select(ClosedDay.local_day)).all()
    assert sorted(closed) == [factories.a_date(-n) for n in range(12, 1, -1)]  # up to 2 days ago
    stored = {
        (r.local_day, r.redemptions, r.bills_fen) for r in db.session.scalars(select(RedemptionDay))
    }
    assert stored == {(factories.a_date(-10), 1, 1000), (factories.a_date(-5), 1, 2000),
                       (factories.a_date(-2), 1, 8000)}  # fmt: skip
    assert summary.close_days(db.session, factories.a_date(-12), factories.a_date(-2)) == 0


def test_a_summarised_day_is_read_from_the_summary_until_it_is_refreshed(
    db, community, history, shop
):
    campaign, cards, _made = history
    scope = Scope(community.id, None, factories.a_date(-12), factories.a_date())
    overview(db.session, scope)
    late = factories.redemption(cards[1], shop, 500, 50, day=factories.a_date(-5))
    assert overview(db.session, scope).totals.bills_fen == 59000  # the summary, not the uses
    summary.refresh_day(db.session, campaign.id, late.local_day)
    db.session.commit()
    assert overview(db.session, scope).totals.bills_fen == 59500


def test_voiding_a_use_of_a_summarised_day_takes_it_out_of_the_figures(
    staff, db, community, history
):
    campaign, cards, made = history
    cards[0].uses_count = 5  # the factory writes uses without counting them on the card
    campaign.spent_fen = 5900
    db.session.commit()
    period = {"from": factories.a_date(-12).isoformat(), "to": factories.a_date().isoformat()}
    assert "¥590.00" in staff.get("/admin/dashboard", query_string=period).text
    old = made[(5, 2000)]
    response = staff.post(f"/admin/redemptions/{old.id}/void", data={"reason": "输错金额"})
    assert response.status_code == 302
    assert "¥570.00" in staff.get("/admin/dashboard", query_string=period).text
    db.session.rollback()
    row = db.session.get(RedemptionDay, (old.local_day, old.campaign_id))
    assert (row.redemptions, row.bills_fen) == (0, 0)


def test_refreshing_a_closed_day_twice_gives_the_same_row(db, community, history):
    campaign, _cards, made = history
    day = factories.a_date(-5)
    summary.close_days(db.session, day, day)
    for _ in range(2):
        summary.refresh_day(db.session, campaign.id, day)
        db.session.commit()
    (row,) = db.session.scalars(select(RedemptionDay)).all()
    assert (row.local_day, row.redemptions, row.bills_fen, row.discounts_fen) == (day, 1, 2000, 200)


def test_refreshing_a_day_not_yet_closed_leaves_it_to_be_summarised(db, community, history):
    campaign, _cards, _made = history
    summary.refresh_day(db.session, campaign.id, factories.a_date(-5))
    db.session.commit()
    assert db.session.scalars(select(RedemptionDay)).all() == []


def test_forgotten_days_are_read_again_from_the_uses(db, community, history, shop):
    _campaign, cards, _made = history
    scope = Scope(community.id, None, factories.a_date(-12), factories.a_date())
    overview(db.session, scope)
    factories.redemption(cards[1], shop, 700, 70, day=factories.a_date(-10))
    summary.forget_days(db.session, factories.a_date(-12), factories.a_date(-2))
    db.session.commit()
    assert overview(db.session, scope).totals.bills_fen == 59700


def test_the_district_overview_adds_summary_and_recent_days_per_community(db, world):
    result = overview(db.session, Scope(None, None, factories.a_date(-60), factories.a_date()))
    assert [(name, f.redemptions, f.bills_fen) for _id, name, f in result.by_community] == [
        ("紫荆花社区", 4, 123000),
        ("江博社区", 1, 7000),
    ]


def test_the_close_days_command_summarises_what_is_not_yet(app, db, community, history):
    result = app.test_cli_runner().invoke(args=["admin", "close-days", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "已汇总 30 天" in result.output
    assert len(db.session.scalars(select(ClosedDay)).all()) == 30
    again = app.test_cli_runner().invoke(args=["admin", "close-days", "--days", "30"])
    assert "已汇总 0 天" in again.output


def test_the_figures_page_title_is_plain_text(staff, world):
    page = staff.get("/admin/dashboard", query_string=period(world)).text
    title = re.search(r"<head>.*?<title>(.*?)</title>", page, re.S).group(1)
    assert title.strip() == "数据 · 邻里"


def test_voiding_a_use_of_today_does_not_freeze_todays_figures(staff, db, community, shop):
    """A void of a day not yet summarised must not leave a row that hides later uses."""
    import time_machine

    from app.clock import utcnow

    from .calls import redeem

    campaign = factories.campaign(community, rule="立减5")
    factories.offer(campaign, shop)
    first, second = factories.cards(campaign, 2)
    made = redeem(db.session, first.token, shop, None, 3000, "summary-void-1")
    response = staff.post(f"/admin/redemptions/{made.id}/void", data={"reason": "试一下"})
    assert response.headers["Location"] == f"/admin/redemptions/{made.id}"
    redeem(db.session, second.token, shop, None, 4000, "summary-later-1")
    day = made.local_day
    with time_machine.travel(utcnow() + timedelta(days=3), tick=False):
        figures = overview(db.session, Scope(community.id, None, day, day)).totals
    assert (figures.redemptions, figures.bills_fen, figures.discounts_fen) == (1, 4000, 500)
