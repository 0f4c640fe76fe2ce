"""The longest data the app can hold, made through its own services in a community of its own
(so the demo's figures and screenshots stay as they are): names, addresses, hours and rules as
long as the forms allow, two days of the largest bills a till accepts, and a resident with the
longest name, posts, ledger and cards. The phone layout check signs in as its shop and its
resident, so a page that fits only short data fails there.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from app import till
from app.clock import local_today, utcnow
from app.database import write_transaction
from app.models import Card, Merchant, Redemption, Role, Street, User
from app.rules import MAX_BILL_FEN
from app.services import (
    accounts,
    campaigns,
    cards,
    communities,
    helpboard,
    issuing,
    merchants,
    on_behalf,
    points,
    redemptions,
    residents,
)
from app.services.campaigns import CampaignDetails
from app.services.communities import CommunityDetails
from app.services.logins import Login
from app.services.merchants import MerchantDetails
from app.services.redemptions import TillRequest

PASSWORD = "longest-2026"
SLUG = "longest"
STAFF_LOGIN = "longest-staff"
SHOP_LOGIN = "longest-shop"
RESIDENT_PHONE = "13899999999"
# As long as each field allows (names 80 characters, a person's 40), in words that wrap as
# Chinese does, with the widest digits and Latin letters mixed in.
COMMUNITY_NAME = ("汉阳区琴断口街道紫荆花社区与七里庙社区共建邻里互助示范点（第二网格）" * 3)[:80]
SHOP_NAME = ("紫荆花社区琴断口街七里庙路老王家祖传牛肉粉热干面豆皮烧麦早点铺WWW" * 3)[:80]
PERSON = ("欧阳慕容司马上官诸葛东方皇甫尉迟公孙长孙宇文" * 2)[:40]
CAMPAIGN_NAME = ("二〇二六年紫荆花社区邻里互助日第二期商户让利消费卡活动（超长名称测试）" * 2)[:80]
# A long rule the engine renders back: six tiers and a minimum bill. (Days and hours of use,
# 周一至周五可用 and 每天10:00-14:00, are not read by the engine yet.)
RULE = "满100减10,满200减30,满500减80,满1000减200,满2000减450,满5000减1200,满50可用"
HOUSEHOLD = "1234-12-123456"
BILLS_TODAY = 30
BILLS_YESTERDAY = 12


@dataclass(frozen=True)
class Longest:
    shop_login: str
    resident_login: str
    password: str
    slug: str
    till_card: str  # the token of a card at the shop's longest rule, not used yet
    card: str  # the token of a card at 8折 that the shop has used
    community_id: int
    merchant_id: int
    exchange_id: int  # the campaign the resident exchanges points for
    post_id: int  # one of the resident's posts


def _row(session, model, *conditions):
    return session.scalar(select(model).where(*conditions).limit(1))


def build(session) -> Longest:
    """Add a community with the longest shop and resident; return their logins. Each step is a
    write transaction of its own, as the office's pages and the till open them."""
    with write_transaction(session):
        admin = _row(session, User, User.role == Role.DISTRICT_ADMIN)
        street = _row(session, Street, Street.name == "琴断口街")
        community = communities.create(
            session, admin, CommunityDetails(COMMUNITY_NAME, SLUG, street.id, "汉阳区")
        )
        login = Login(PERSON, STAFF_LOGIN, PASSWORD)
        staff = communities.add_staff(session, admin, community, login)
    merchant_id, till_card, card = _shop(session, community, staff)
    exchange_id, post_id = _resident(session, community, staff)
    return Longest(
        SHOP_LOGIN,
        RESIDENT_PHONE,
        PASSWORD,
        SLUG,
        till_card,
        card,
        community.id,
        merchant_id,
        exchange_id,
        post_id,
    )


def _campaign(session, staff, community, code, funding="merchant", rule_text="8折"):
    today = local_today()
    campaign = campaigns.create(
        session,
        staff,
        community.id,
        CampaignDetails(
            name=CAMPAIGN_NAME[: 80 - len(code)] + code,
            code=code,
            kind="card",
            funding=funding,
            valid_from=today - timedelta(days=30),
            valid_until=today + timedelta(days=365),
            rule_text=rule_text,
        ),
    )
    campaigns.change_status(session, staff, campaign, "start")
    return campaign


def _shop(session, community, staff) -> tuple[int, str, str]:
    with write_transaction(session):
        merchant_id, till_token, tokens = _shop_and_cards(session, community, staff)
    merchant = session.get(Merchant, merchant_id)
    owner = _row(session, User, User.username == SHOP_LOGIN)
    now = utcnow()
    for n, token in enumerate(tokens):
        yesterday = n >= BILLS_TODAY
        at = now - timedelta(days=1) if yesterday else now - timedelta(minutes=BILLS_TODAY - n)
        asked = TillRequest(token, MAX_BILL_FEN, f"longest-{n:04d}")
        with till.transaction(session):
            receipt = redemptions.redeem(session, merchant, owner, asked, now=at)
        if n in (0, BILLS_TODAY):  # a voided one on each day
            with write_transaction(session):
                row = session.get(Redemption, receipt.id)
                reason = "收银员输错金额，顾客要求重新结账" * 5
                redemptions.void_redemption(session, row, staff, reason)
    return merchant_id, till_token, tokens[-1]


def _shop_and_cards(session, community, staff) -> tuple[int, str, list[str]]:
    details = MerchantDetails(
        name=SHOP_NAME,
        category="超市副食",
        address=("武汉市汉阳区琴断口街七里庙路八号紫荆花小区东门旁边" * 8)[:200],
        phone="027-84651234",
        hours=("周一至周五 06:00–14:00，17:00–21:30；周末及法定节假日 07:00–22:00 " * 2)[:80],
    )
    merchant = merchants.register(
        session, staff, community.id, details, Login(PERSON, SHOP_LOGIN, "from-the-office")
    )
    owner = _row(session, User, User.username == SHOP_LOGIN)
    accounts.change_password(session, owner, "from-the-office", PASSWORD)
    campaign = _campaign(session, staff, community, "ZJHHZK")  # the longest code: serials
    campaigns.add_offers(session, staff, campaign, [merchant], "8折")
    # A second campaign where the shop gives the longest rule the engine renders back.
    ruled = _campaign(session, staff, community, "ZJHHZL", rule_text=RULE)
    campaigns.add_offers(session, staff, ruled, [merchant], RULE)
    batch = cards.generate_batch(session, ruled, 1, staff)
    till_card = session.scalar(select(Card).where(Card.batch_id == batch.id))
    issuing.issue_card(session, staff, till_card.serial, HOUSEHOLD)
    till_token = till_card.token
    batch = cards.generate_batch(session, campaign, BILLS_TODAY + BILLS_YESTERDAY, staff)
    made = session.scalars(select(Card).where(Card.batch_id == batch.id).order_by(Card.id)).all()
    for n, card in enumerate(made):
        issuing.issue_card(session, staff, card.serial, f"{HOUSEHOLD[:-3]}{n:03d}")
    return merchant.id, till_token, [card.token for card in made]


def _resident(session, community, staff) -> tuple[int, int]:
    with write_transaction(session):
        exchange = _campaign(session, staff, community, "ZJHJF", funding="community")
        points.set_exchange(session, staff, exchange, 10000, None)
        resident = residents.join(
            session, community.id, PERSON, RESIDENT_PHONE, HOUSEHOLD, PASSWORD
        )
        session.flush()
        residents.confirm(session, staff, resident)
        for _ in range(8):
            reason = ("打扫楼道、照看独居老人、帮邻居代买药品" * 6)[:200]
            points.adjust(session, staff, resident, 10000, reason)
    post_id = None
    for kind in ("request", "offer", "request"):
        with write_transaction(session):
            # The last request the office posts for the resident (代办): its page says so.
            post_for = (
                partial(on_behalf.post_for, session, staff)
                if kind == "request" and post_id
                else partial(helpboard.create_post, session)
            )
            post = post_for(
                resident,
                helpboard.PostDetails(
                    kind=kind,
                    category="medicine",
                    title=("请帮忙到社区卫生服务中心代取降压药和胰岛素，电话13899999999" * 2)[:80],
                    details=("送到1234栋12单元123456室，到了打 138-9999-9999。" * 40)[:1000],
                    when_text=("二〇二六年十二月五日星期六上午九点到十一点半之间都可以" * 3)[:80],
                    area=("紫荆花小区东门进去第三栋楼和第四栋楼之间的小花园旁边" * 3)[:80],
                ),
            )
        post_id = post.id
    for _ in range(3):
        with write_transaction(session):
            points.exchange(session, resident, exchange.id)
    with write_transaction(session):  # and one card the office exchanged for them (代办)
        on_behalf.exchange_for(session, staff, resident, exchange.id)
    return exchange.id, post_id
