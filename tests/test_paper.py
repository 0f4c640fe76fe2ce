"""Paper that works: the 爱心存折, a card's statement, the shop sticker and the poster.

Who may print whose (staff only their community's, a resident only their own, a shop only its
own), and that what is printed adds up to the rows: the passbook to the points ledger, the
statement to the card's uses, in points and fen read back from the database.
"""

import re

import pytest
from sqlalchemy import func, select

from app.inputs import one_of
from app.models import PointsEntry, Redemption, RedemptionStatus
from app.services import helpboard, paper, points, redemptions
from app.services.households import household_label

from . import factories
from .calls import redeem, run
from .conftest import login


def cells(html: str, css_class: str) -> list[str]:
    """Return the text of every `<td class="num">` in the table of `css_class`."""
    table = re.search(rf'<table class="{css_class}">(.*?)</table>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)
    ]


@pytest.fixture
def helped_and_helper(db, community, staff_user):
    """王小明 asked for help, 李红 gave it and earned points; the office added and took some."""
    asker = factories.resident(community, "13900000011", "3-2-501", "王小明")
    helper = factories.resident(community, "13900000012", "5-1-302", "李红")
    post = factories.help_post(asker, title="帮忙取降压药")
    run(db, helpboard.take, helper, post)
    run(db, helpboard.mark_done, asker, post)
    run(db, helpboard.confirm, staff_user, post, 90)
    run(db, points.adjust, staff_user, helper, 50, "打扫楼道")
    run(db, points.adjust, staff_user, helper, -7, "重复记分")
    exchange = factories.exchange_campaign(community, price=20)
    run(db, points.exchange, helper, exchange.id)
    db.session.expire_all()
    return asker, helper, post


# --- the passbook ---------------------------------------------------------------------------


def test_the_passbook_lists_the_whole_ledger_and_its_totals_are_the_balance(
    db, staff, helped_and_helper
):
    _asker, helper, post = helped_and_helper
    entries = db.session.scalars(
        select(PointsEntry).where(PointsEntry.user_id == helper.id).order_by(PointsEntry.id)
    ).all()
    book = paper.passbook(db.session, helper)
    assert [line.balance for line in book.lines] == [e.balance_after for e in entries]
    # 90 minutes of shopping earn 15
    assert book.total_in == sum(e.amount for e in entries if e.amount > 0) == 15 + 50
    assert book.total_out == -sum(e.amount for e in entries if e.amount < 0) == 7 + 20
    assert book.balance == helper.points_balance == points.ledger_sum(db.session, helper.id)
    assert book.adds_up
    assert [line.kind.value for line in book.lines] == [
        "helped_others",
        "adjusted_up",
        "adjusted_down",
        "exchanged",
    ]

    page = staff.get(f"/admin/aid/residents/{helper.id}/passbook")
    assert page.status_code == 200
    text = page.text
    assert "爱心存折" in text and "李红" in text and "5栋1单元302室" in text
    assert "帮助邻居" in text and "帮忙取降压药" in text and "兑换消费卡" in text
    assert "社区增加积分" in text and "社区扣减积分" in text and "打扫楼道" in text
    assert cells(text, "totals") == ["65", "27", str(helper.points_balance)]
    assert 'href="/static/css/paper-a5.css' in text


def test_the_passbook_of_the_one_helped_shows_the_help_without_points(
    db, community, helped_and_helper
):
    asker, _helper, post = helped_and_helper
    book = paper.passbook(db.session, asker)
    (line,) = book.lines
    assert line.kind == paper.PassbookKind.WAS_HELPED
    assert (line.what, line.other, line.points_in, line.points_out) == (post.title, "李*", 0, 0)
    assert book.total_in == book.total_out == book.balance == asker.points_balance == 0


def test_a_resident_prints_their_own_passbook_on_a5_or_a4(app, db, helped_and_helper):
    asker, helper, _post = helped_and_helper
    client = login(app, helper)
    page = client.get("/aid/points/passbook")
    assert page.status_code == 200 and "李红" in page.text and "王小明" not in page.text
    assert 'href="/static/css/paper-a5.css' in page.text
    a4 = client.get("/aid/points/passbook?paper=A4")
    assert 'href="/static/css/paper-a4.css' in a4.text
    odd = client.get("/aid/points/passbook?paper=../../a3" + "x" * 5000)
    assert 'href="/static/css/paper-a5.css' in odd.text
    # the points page links to it
    assert 'href="/aid/points/passbook"' in client.get("/aid/points").text


def test_staff_print_only_their_own_communitys_passbooks(
    app, db, other_staff, street_staff, helped_and_helper
):
    _asker, helper, _post = helped_and_helper
    assert other_staff.get(f"/admin/aid/residents/{helper.id}/passbook").status_code == 404
    # street staff read the resident's page but do not print what the office hands over
    assert street_staff.get(f"/admin/aid/residents/{helper.id}/passbook").status_code == 403
    assert "爱心存折" not in street_staff.get(f"/admin/aid/residents/{helper.id}").text


def test_the_paper_choice_is_read_by_a_bounded_parser():
    papers = ("a5", "a4")
    assert one_of("a4", papers, "a5") == "a4"
    assert one_of("A4", papers, "a5") == "a4"
    assert one_of("a3", papers, "a5") == "a5"
    assert one_of(None, papers, "a5") == "a5"
    assert one_of("a4" * 1000, papers, "a5") == "a5"
    assert one_of(["a4"], papers, "a5") == "a5"


# --- the card statement ---------------------------------------------------------------------


@pytest.fixture
def used_card(db, community, shop, cashier_user, staff_user):
    """A card used three times at the shop (8折), one use voided."""
    campaign = factories.campaign(community, budget_fen=1_000_000, uses_per_card=10)
    factories.offer(campaign, shop, "8折")
    card = factories.cards(campaign, 1)[0]
    for n, bill in enumerate((12_345, 10_000, 5_050)):
        redeem(db.session, card.token, shop, cashier_user, bill, f"paper-{n:06d}")
    wrong = db.session.scalar(select(Redemption).where(Redemption.bill_fen == 10_000))
    run(db, redemptions.void_redemption, wrong, staff_user, "输错金额")
    db.session.expire_all()
    return card


def test_the_statement_sums_to_the_cards_uses_and_shows_voids_as_such(db, staff, used_card):
    card = used_card
    counted = db.session.scalars(
        select(Redemption).where(
            Redemption.card_id == card.id, Redemption.status == RedemptionStatus.OK
        )
    ).all()
    st = paper.statement(db.session, card)
    assert len(st.lines) == 3 and [line.void for line in st.lines] == [False, True, False]
    assert st.uses == len(counted) == card.uses_count == 2
    assert st.bill_fen == sum(r.bill_fen for r in counted) == 12_345 + 5_050
    assert st.discount_fen == sum(r.discount_fen for r in counted)
    assert st.paid_fen == sum(r.paid_fen for r in counted) == st.bill_fen - st.discount_fen
    assert st.uses_left == 10 - 2
    assert st.budget_left_fen == card.campaign.budget_fen - card.campaign.spent_fen

    page = staff.get(f"/admin/cards/{card.id}/statement")
    assert page.status_code == 200
    text = page.text
    assert card.serial in text and household_label(card.household) in text
    assert "已作废，不计入" in text and "输错金额" in text
    assert cells(text, "totals") == [
        f"¥{st.bill_fen / 100:,.2f}",
        f"¥{st.discount_fen / 100:,.2f}",
        f"¥{st.paid_fen / 100:,.2f}",
    ]
    assert "剩余" in text and "活动剩余额度" in text
    assert f'href="/admin/cards/{card.id}/statement"' in staff.get(f"/admin/cards/{card.id}").text


def test_the_holder_prints_the_statement_from_the_cards_page_without_the_household(
    client, db, used_card
):
    card = used_card
    assert f'href="/c/{card.token}/statement"' in client.get(f"/c/{card.token}").text
    page = client.get(f"/c/{card.token}/statement")
    assert page.status_code == 200
    assert card.serial in page.text and "已作废，不计入" in page.text
    assert card.household and household_label(card.household) not in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    assert client.get("/c/NOSUCHTOKENNOSUCHTOKEN/statement").status_code == 404


def test_staff_of_another_community_get_no_statement(other_staff, used_card):
    assert other_staff.get(f"/admin/cards/{used_card.id}/statement").status_code == 404


def test_a_replacement_cards_statement_carries_the_lost_cards_uses(
    db, staff_user, used_card, shop, cashier_user
):
    from app.services import issuing

    new = run(db, issuing.replace_card, staff_user, used_card, "丢失")
    db.session.expire_all()
    st = paper.statement(db.session, new)
    assert st.uses == 2 and all(line.lost_card == used_card.serial for line in st.lines)
    assert st.uses_left == 10 - new.uses_count == 8


# --- the sticker and the poster -------------------------------------------------------------


def test_the_sticker_says_the_shops_rule_and_carries_the_communitys_qr(
    db, staff, merchant, community, shop
):
    campaign = factories.campaign(community)
    factories.offer(campaign, shop, "满100减10")
    for client, url in ((staff, f"/admin/merchants/{shop.id}/sticker"), (merchant, "/m/sticker")):
        page = client.get(url)
        assert page.status_code == 200
        assert shop.name in page.text and "本店接受邻里互助消费卡" in page.text
        assert "满100减10" in page.text and "<svg" in page.text
        assert f"/s/{community.slug}" in page.text
        assert 'href="/static/css/paper-a6.css' in page.text


def test_a_shop_in_no_campaign_gets_a_sticker_that_says_so(staff, shop):
    page = staff.get(f"/admin/merchants/{shop.id}/sticker")
    assert "本店目前没有参加活动" in page.text


def test_a_shop_prints_only_its_own_sticker(db, app, other_community, shop, merchant):
    other_shop = factories.merchant(other_community, "江堤小吃店")
    page = merchant.get("/m/sticker")
    assert shop.name in page.text and other_shop.name not in page.text
    assert merchant.get(f"/admin/merchants/{other_shop.id}/sticker").status_code == 403


def test_staff_print_stickers_only_for_their_communitys_shops(db, other_staff, shop):
    assert other_staff.get(f"/admin/merchants/{shop.id}/sticker").status_code == 404


def test_the_poster_lists_campaigns_shops_rules_qr_and_the_offices_phone(
    db, staff, community, shop, other_staff
):
    community.phone = "027-84651000"
    campaign = factories.campaign(community, name="紫荆花邻里互助消费卡")
    factories.offer(campaign, shop, "8折")
    factories.merchant(community, "不参加的店")
    db.session.commit()
    page = staff.get(f"/admin/poster/{community.id}")
    assert page.status_code == 200
    text = page.text
    assert "紫荆花邻里互助消费卡" in text and shop.name in text and "8折" in text
    assert "不参加的店" not in text
    assert "027-84651000" in text and "<svg" in text and f"/s/{community.slug}" in text
    assert other_staff.get(f"/admin/poster/{community.id}").status_code == 404
    assert f'href="/admin/poster/{community.id}"' in staff.get("/admin/merchants").text


def test_the_poster_names_how_many_shops_did_not_fit(db, community):
    campaign = factories.campaign(community)
    for n in range(paper.POSTER_SHOPS + 3):
        factories.offer(campaign, factories.merchant(community, f"小店{n:02d}"), "9折")
    found = paper.poster(db.session, community)
    assert len(found.rows) == paper.POSTER_SHOPS and found.more == 3
    assert {row.rules for row in found.rows} == {("9折",)}


def test_the_district_admin_sets_the_offices_phone_and_it_is_audited(db, district_admin, community):
    from app.models import AuditLog

    form = {
        "name": community.name,
        "slug": community.slug,
        "street": community.street_id,
        "district": community.district,
        "phone": "027-8465 1000",
    }
    done = district_admin.post(f"/admin/communities/{community.id}/edit", data=form)
    assert done.status_code == 302
    db.session.refresh(community)
    assert community.phone == "027-8465 1000"
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "community.update").order_by(AuditLog.id.desc())
    )
    assert row.after == {"phone": "027-8465 1000"}
    bad = district_admin.post(
        f"/admin/communities/{community.id}/edit", data={**form, "phone": "call me"}
    )
    assert bad.status_code == 422 and "社区电话请用数字填写" in bad.text
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "community.update")
        )
        == 1
    )


def test_staff_set_their_offices_phone_from_the_poster_and_it_is_audited(
    db, staff, other_staff, street_staff, community
):
    from app.models import AuditLog

    url = f"/admin/poster/{community.id}/phone"
    assert staff.post(url, data={"phone": "027-8465 1000"}).status_code == 302
    db.session.refresh(community)
    assert community.phone == "027-8465 1000"
    assert "027-8465 1000" in staff.get(f"/admin/poster/{community.id}").text
    (row,) = db.session.scalars(select(AuditLog).where(AuditLog.action == "community.update"))
    assert (row.before, row.after) == ({"phone": ""}, {"phone": "027-8465 1000"})
    bad = staff.post(url, data={"phone": "call me"})
    assert bad.status_code == 422 and "社区电话请用数字填写" in bad.text
    assert other_staff.post(url, data={"phone": "110"}).status_code == 404
    assert street_staff.post(url, data={"phone": "110"}).status_code == 403
    db.session.refresh(community)
    assert community.phone == "027-8465 1000"
