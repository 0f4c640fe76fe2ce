"""The shop's pages: look a card up, quote, confirm once, see it, void it, history, keys."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import local_today, utcnow
from app.models import (
    ApiKey,
    AttemptLog,
    CampaignStatus,
    CardStatus,
    MerchantStatus,
    Redemption,
    RedemptionStatus,
    Role,
)

from . import factories
from .conftest import login


@pytest.fixture
def campaign(community):
    return factories.campaign(community, rule="8折")


@pytest.fixture
def card(campaign, shop):
    factories.offer(campaign, shop, "8折,最高减20")
    return factories.cards(campaign, 1)[0]


def hidden(page, name):
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


def quote_page(client, ref, bill="188.00", pin=""):
    return client.post("/m/quote", data={"ref": ref, "pin": pin, "bill": bill})


def confirm_fields(page):
    return {name: hidden(page, name) for name in ("ref", "pin", "bill_fen", "key")}


def test_the_card_page_shows_the_shops_rule_and_what_is_left(cashier, card):
    page = cashier.get(f"/m/card?ref={card.token}")
    assert page.status_code == 200
    assert card.serial in page.text
    assert "8折，最高减20" in page.text
    assert 'inputmode="decimal"' in page.text


def test_quote_then_confirm_records_one_redemption_and_shows_what_to_collect(cashier, card, db):
    quoted = quote_page(cashier, card.token)
    assert quoted.status_code == 200
    assert "¥188.00" in quoted.text and "¥20.00" in quoted.text and "¥168.00" in quoted.text
    fields = confirm_fields(quoted.text)
    assert fields["bill_fen"] == "18800"
    done = cashier.post("/m/redeem", data=fields)
    assert done.status_code == 302
    success = cashier.get(done.headers["Location"])
    assert "¥168.00" in success.text
    db.session.rollback()
    row = db.session.scalar(select(Redemption))
    assert (row.bill_fen, row.discount_fen, row.paid_fen) == (18800, 2000, 16800)


def test_a_second_confirm_of_the_same_form_does_not_redeem_twice(cashier, card, db):
    fields = confirm_fields(quote_page(cashier, card.token).text)
    first = cashier.post("/m/redeem", data=fields)
    second = cashier.post("/m/redeem", data=fields)
    assert first.headers["Location"] == second.headers["Location"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Redemption.id))) == 1


@pytest.mark.parametrize("bill", ["abc", "-5", "1.234", "", "99999999", "0"])
def test_a_bad_bill_gets_a_chinese_message_and_writes_nothing(cashier, card, db, bill):
    response = quote_page(cashier, card.token, bill=bill)
    assert response.status_code == 400
    assert re.search(r'class="errors"><li>[^<]*[\u4e00-\u9fff]', response.text)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


def test_a_tampered_confirm_form_is_refused_and_writes_nothing(cashier, card, db):
    fields = confirm_fields(quote_page(cashier, card.token).text)
    assert cashier.post("/m/redeem", data=fields | {"bill_fen": "-100"}).status_code == 400
    assert cashier.post("/m/redeem", data=fields | {"key": "x"}).status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(Redemption.id))) == 0


REFUSALS = {
    "not_found": "找不到这张卡",
    "not_issued": "尚未发放",
    "expired": "已过期",
    "not_started": "还没有开始",
    "used_up": "次数已用完",
    "daily_limit": "今天在本店的使用次数已达上限",
    "budget_exhausted": "活动预算已用完",
    "merchant_not_in_campaign": "本店没有参加",
    "merchant_suspended": "本店已被暂停",
    "void": "已作废",
    "campaign_paused": "活动已暂停",
}


def arrange(code, db, community, shop, campaign, card):
    """Put the card, campaign or shop into the state that gives refusal `code`."""
    if code == "not_issued":
        card.status = CardStatus.NEW
    elif code == "expired":
        campaign.valid_until = local_today() - timedelta(days=1)
    elif code == "not_started":
        campaign.valid_from = local_today() + timedelta(days=1)
    elif code == "used_up":
        campaign.uses_per_card = 1
        card.uses_count = 1
    elif code == "daily_limit":
        campaign.daily_uses_per_merchant = 1
        db.session.add(
            Redemption(
                community_id=community.id,
                campaign_id=campaign.id,
                card_id=card.id,
                merchant_id=shop.id,
                bill_fen=1000,
                discount_fen=200,
                paid_fen=800,
                rule_text="8折",
                local_day=local_today(),
                idempotency_key="earlier-today",
            )
        )
    elif code == "budget_exhausted":
        campaign.budget_fen = 100
        campaign.spent_fen = 100
    elif code == "merchant_not_in_campaign":
        for offer in shop.offers:
            db.session.delete(offer)
    elif code == "merchant_suspended":
        shop.status = MerchantStatus.SUSPENDED
    elif code == "void":
        card.status = CardStatus.VOID
    elif code == "campaign_paused":
        campaign.status = CampaignStatus.PAUSED
    db.session.commit()


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_every_refusal_reaches_the_shop_in_chinese_and_is_logged(
    code, db, cashier, community, shop, campaign, card
):
    arrange(code, db, community, shop, campaign, card)
    ref = "NO-SUCH-CARD" if code == "not_found" else card.token
    page = cashier.get(f"/m/card?ref={ref}")
    assert page.status_code == (404 if code == "not_found" else 409)
    assert f'data-code="{code}"' in page.text
    assert REFUSALS[code] in page.text
    # confirming a form made earlier is refused the same way
    confirm = cashier.post(
        "/m/redeem", data={"ref": ref, "pin": "", "bill_fen": "18800", "key": f"late-{code}"}
    )
    assert f'data-code="{code}"' in confirm.text
    db.session.rollback()
    assert db.session.scalar(select(func.count(AttemptLog.id)).where(AttemptLog.code == code)) == 2
    assert (
        db.session.scalar(
            select(func.count(Redemption.id)).where(Redemption.idempotency_key.like("late-%"))
        )
        == 0
    )


def test_a_typed_serial_with_its_pin_opens_the_card(cashier, card):
    typed = card.serial.lower().replace("-", " ")
    page = cashier.post("/m/card", data={"serial": typed, "pin": card.pin})
    assert page.status_code == 200 and card.serial in page.text
    wrong = cashier.post("/m/card", data={"serial": card.serial, "pin": "9999x"})
    assert wrong.status_code == 403
    assert "卡号和密码对不上" in wrong.text


def test_a_pin_in_the_address_is_never_read(cashier, card):
    page = cashier.get("/m/card", query_string={"serial": card.serial, "pin": card.pin})
    assert page.status_code == 400 and 'data-code="pin_required"' in page.text
    assert 'class="stack typed-card"' in page.text and 'method="post"' in page.text


def test_a_merchant_of_another_community_is_told_whose_card_it_is_and_nothing_more(
    app, db, card, other_community
):
    theirs = factories.merchant(other_community, "江堤小吃店")
    client = login(app, factories.user(Role.MERCHANT_OWNER, merchant=theirs, username="jb01"))
    response = client.get(f"/m/card?ref={card.token}")
    assert response.status_code == 409
    assert "紫荆花社区" in response.text and card.serial not in response.text


def test_a_shop_sees_only_its_own_redemptions(app, db, cashier, card, community):
    fields = confirm_fields(quote_page(cashier, card.token).text)
    redemption_url = cashier.post("/m/redeem", data=fields).headers["Location"]
    neighbour = factories.merchant(community, "隔壁超市")
    other = login(app, factories.user(Role.CASHIER, merchant=neighbour, username="gebi"))
    assert other.get(redemption_url).status_code == 404
    assert other.post(redemption_url + "/void", data={"reason": ""}).status_code == 404
    assert card.serial not in other.get("/m/").text


def test_the_shop_voids_its_own_redemption_from_the_success_page(cashier, card, db):
    fields = confirm_fields(quote_page(cashier, card.token).text)
    url = cashier.post("/m/redeem", data=fields).headers["Location"]
    assert "作废这笔核销" in cashier.get(url).text
    response = cashier.post(url + "/void", data={"reason": "输错金额"})
    assert response.status_code == 302
    db.session.rollback()
    row = db.session.scalar(select(Redemption))
    assert row.status == RedemptionStatus.VOID and row.void_reason == "输错金额"


def test_after_ten_minutes_the_void_button_is_gone_and_voiding_is_refused(cashier, card, db):
    fields = confirm_fields(quote_page(cashier, card.token).text)
    url = cashier.post("/m/redeem", data=fields).headers["Location"]
    db.session.rollback()
    row = db.session.scalar(select(Redemption))
    row.created_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    assert "作废这笔核销" not in cashier.get(url).text
    cashier.post(url + "/void", data={"reason": ""})
    db.session.rollback()
    assert db.session.scalar(select(Redemption)).status == RedemptionStatus.OK


def test_today_adds_up_the_live_redemptions(cashier, card, db, campaign, shop):
    other = factories.cards(campaign, 1, household_prefix="2-1-")[0]
    for c, bill in ((card, "188.00"), (other, "50.00")):
        cashier.post("/m/redeem", data=confirm_fields(quote_page(cashier, c.token, bill).text))
    page = cashier.get("/m/").text
    # 188 - 20 = 168 and 50 - 10 = 40
    assert "¥208.00" in page and "¥238.00" in page and "¥30.00" in page


def test_history_shows_a_chosen_day_and_refuses_nonsense_dates_kindly(cashier, card):
    assert cashier.get("/m/history?date=2026-05-12").status_code == 200
    for nonsense in ("not-a-date", "0001-01-01", "9999-12-31", "²０２６-05-12"):
        page = cashier.get(f"/m/history?date={nonsense}")
        assert page.status_code == 200 and "日期请写成" in page.text


def test_the_scan_page_loads_the_decoder_and_allows_wasm_only_there(cashier):
    page = cashier.get("/m/scan")
    assert "vendor/zxing-wasm-3.1.3/zxing_reader.wasm" in page.text
    assert 'capture="environment"' in page.text
    assert "'wasm-unsafe-eval'" in page.headers["Content-Security-Policy"]
    assert "wasm-unsafe-eval" not in cashier.get("/m/").headers["Content-Security-Policy"]


def test_the_scan_page_explains_that_the_camera_needs_https(cashier):
    assert 'id="https-needed"' not in cashier.get("/m/scan").text  # localhost counts as secure
    session = cashier.get_cookie("session").value
    cashier.set_cookie("session", session, domain="192.168.1.5")
    page = cashier.get("/m/scan", base_url="http://192.168.1.5:5000")
    assert 'id="https-needed"' in page.text
    https = cashier.get("/m/scan", base_url="https://192.168.1.5")
    assert 'id="https-needed"' not in https.text


def test_the_owner_creates_a_key_that_is_shown_once_and_stored_hashed(merchant, db):
    page = merchant.post("/m/keys", data={"name": "前台收银机"})
    key = re.search(r'id="new-key">(lk_[^<]+)<', page.text).group(1)
    db.session.rollback()
    stored = db.session.scalar(select(ApiKey))
    assert stored.name == "前台收银机"
    assert key.split("_")[2] not in stored.key_hash
    assert key not in merchant.get("/m/keys").text


def test_a_cashier_cannot_manage_keys(cashier):
    assert cashier.get("/m/keys").status_code == 403


def test_a_shop_opening_the_card_url_gets_the_till_not_the_resident_view(cashier, card, client):
    scanned = cashier.get(f"/C/{card.token}")
    assert scanned.status_code == 302
    assert scanned.headers["Location"] == f"/m/card?ref={card.token}"
    till = cashier.get(scanned.headers["Location"])
    assert 'inputmode="decimal"' in till.text and card.serial in till.text
    resident_view = client.get(f"/c/{card.token}")
    assert resident_view.status_code == 200 and 'inputmode="decimal"' not in resident_view.text


def test_a_shop_remembered_on_its_phone_gets_the_till_from_the_card_url(app, cashier_user, card):
    phone = app.test_client()
    signed_in = phone.post(
        "/login",
        data={"login": cashier_user.username, "password": factories.PASSWORD, "remember": "y"},
    )
    assert signed_in.status_code == 302
    phone.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # the browser was closed
    assert phone.get_cookie("remember_token") is not None
    scanned = phone.get(f"/C/{card.token}")
    assert scanned.status_code == 302
    assert scanned.headers["Location"] == f"/m/card?ref={card.token}"


def test_an_owner_applies_to_join_a_campaign_and_staff_accept_it(
    merchant, staff, db, community, shop
):
    from app.models import AuditLog, Offer, OfferStatus

    other = factories.campaign(community, name="江堤消费券", code="JD")
    page = merchant.get("/m/campaigns").text
    assert "江堤消费券" in page and "申请参加" in page
    response = merchant.post(f"/m/campaigns/{other.id}/apply")
    assert response.status_code == 302
    offer = db.session.scalar(select(Offer).where(Offer.campaign_id == other.id))
    assert offer.status == OfferStatus.PENDING and offer.merchant_id == shop.id
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "offer.apply"))
    again = merchant.post(f"/m/campaigns/{other.id}/apply", follow_redirects=True)
    assert "已经申请" in again.text
    assert staff.post(f"/admin/offers/{offer.id}/accept").status_code == 302
    db.session.refresh(offer)
    assert offer.status == OfferStatus.ACTIVE
    assert "参加中" in merchant.get("/m/campaigns").text


def test_a_cashier_cannot_apply_and_another_communitys_campaign_is_404(
    cashier, merchant, db, other_community
):
    theirs = factories.campaign(other_community, code="JB")
    assert merchant.post(f"/m/campaigns/{theirs.id}/apply").status_code == 404
    assert "江博" not in merchant.get("/m/campaigns").text
    assert cashier.post(f"/m/campaigns/{theirs.id}/apply").status_code == 403
