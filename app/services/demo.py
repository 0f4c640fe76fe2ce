"""The demo: 紫荆花社区 and 江博社区 of 汉阳区, Wuhan, as they ran it in 2020, moved to this year.

紫荆花社区 (琴断口街) made 2000 邻里互助消费卡 on its 邻里互助日 (12 May) for its struggling
small shops: 餐饮 8折, 美发 6折, 超市副食 满100减10. 江博社区 (江堤街) had 19 shops launch
邻里互助消费券 together. Everything is drawn from a fixed random seed, so the demo is the same on
every machine.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from .. import models
from ..clock import LOCAL, local_today, utcnow
from ..models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Card,
    CardStatus,
    Community,
    Funding,
    Merchant,
    MerchantStatus,
    Offer,
    OfferStatus,
    Redemption,
    Role,
    User,
)
from ..rules import parse_rule
from . import accounts, audit, cards, demo_households, demo_streets, demo_volunteers

# Printed by `make run`; a demo is only ever seeded into an empty database.
# A published demo login.
DEMO_PASSWORD = "linli-demo"  # noqa: S105  # nosec B105

ZIJINGHUA_SHOPS = [
    # name, category, rule, address, hours
    ("张记热干面", "餐饮", "8折", "琴断口小区3栋底商", "06:00–13:00"),
    ("李妈妈豆皮", "餐饮", "8折", "紫荆花路18号", "06:30–14:00"),
    ("老王牛肉粉", "餐饮", "8折,最高减20", "紫荆花路22号", "07:00–21:00"),
    ("丝艺美发", "美发", "6折", "琴断口小区5栋底商", "09:00–21:00"),
    ("阿芳理发店", "美发", "6折", "七里庙社区菜场旁", "08:30–20:00"),
    ("邻家便利超市", "超市副食", "满100减10", "紫荆花路8号", "07:00–23:00"),
    ("琴断口副食店", "超市副食", "满100减10", "琴断口小区1栋底商", "07:30–22:00"),
    ("康宁大药房", "药店", "满50减5", "紫荆花路30号", "08:00–22:00"),
    ("刘师傅家电维修", "维修", "立减10", "琴断口小区7栋车库", "09:00–18:00"),
    ("洁净干洗店", "洗衣", "8.5折", "紫荆花路12号", "08:00–20:00"),
    ("鲜果园", "水果生鲜", "满30减3", "紫荆花路15号", "07:00–22:00"),
    ("周记包子铺", "早点", "9折", "琴断口小区2栋底商", "05:30–11:00"),
]
JIANGBO_SHOPS = [
    ("江堤小吃店", "餐饮"),
    ("武昌鱼家常菜", "餐饮"),
    ("胖妹烧烤", "餐饮"),
    ("老街面馆", "餐饮"),
    ("江博早餐店", "早点"),
    ("阳光理发", "美发"),
    ("名剪造型", "美发"),
    ("江堤超市", "超市副食"),
    ("惠民粮油店", "超市副食"),
    ("百姓副食", "超市副食"),
    ("仁心药房", "药店"),
    ("顺达电动车维修", "维修"),
    ("张师傅开锁修锁", "维修"),
    ("鲜丰水果", "水果生鲜"),
    ("江滩菜店", "水果生鲜"),
    ("小红干洗", "洗衣"),
    ("快乐文具", "其他"),
    ("江博眼镜店", "其他"),
    ("花样年华鲜花", "其他"),
]
BUILDINGS = range(1, 19)


@dataclass(frozen=True)
class DemoLogin:
    who: str
    login: str
    password: str = DEMO_PASSWORD


DEMO_LOGINS = [
    DemoLogin("区管理员 (汉阳区, 看全部社区)", "hanyang"),
    DemoLogin("社区工作人员 (紫荆花社区)", "zijinghua"),
    DemoLogin("社区工作人员 (江博社区)", "jiangbo"),
    DemoLogin("商户店主 (紫荆花 · 张记热干面)", "zjh01"),
    DemoLogin("收银员 (紫荆花 · 张记热干面)", "zjh01-cashier"),
    DemoLogin("其他紫荆花商户店主", "zjh02 … zjh12"),
    DemoLogin("商户店主 (江博 · 江堤小吃店)", "jb01"),
    DemoLogin("其他江博商户店主", "jb02 … jb19"),
    DemoLogin("居民 (紫荆花 · 王秀英 3-2-501, 邻里互助)", "13800000001"),
    DemoLogin("下沉干部 (紫荆花 · 刘卫东, 汉阳区城市管理执法局, 志愿服务)", "13800000021"),
]
DEMO_LOGINS += [DemoLogin(who, login) for who, login in demo_streets.LOGINS]


def has_demo(session: Session) -> bool:
    return session.scalar(select(Community.id).where(Community.slug == "zijinghua")) is not None


def seed_demo(session: Session, today: date | None = None) -> list[DemoLogin]:
    """Fill an empty database with the demo. The caller commits."""
    models.PUBLISHED_HASHES[DEMO_PASSWORD] = generate_password_hash(
        DEMO_PASSWORD, method=models.PASSWORD_HASH_METHOD
    )
    try:
        return _seed(session, today or local_today())
    finally:
        models.PUBLISHED_HASHES.pop(DEMO_PASSWORD, None)


def _seed(session: Session, today: date) -> list[DemoLogin]:
    # Demo data, not security.
    rng = random.Random(2020_05_12)  # noqa: S311  # nosec B311
    admin = accounts.create_user(
        session,
        None,
        role=Role.DISTRICT_ADMIN,
        name="汉阳区管理员",
        username="hanyang",
        password=DEMO_PASSWORD,
    )
    _zijinghua(session, admin, rng, today)
    _jiangbo(session, admin, rng, today)
    demo_streets.seed(session, admin, today)
    demo_households.seed(session, today)
    demo_volunteers.seed(session, today)
    from . import demo_on_behalf  # 代办: kept apart from the rest of the demo

    demo_on_behalf.seed(session, today)
    demo_streets.send_reports(session, today)
    audit.record(session, admin, "demo.seed", object_type="demo", note="紫荆花社区, 江博社区")
    return DEMO_LOGINS


def _community(
    session, admin, name, slug, street, staff_login, staff_name, staff_phone, office_phone
):
    community = Community(name=name, slug=slug, district="汉阳区", phone=office_phone)
    community.street = demo_streets.street(session, admin, street, "汉阳区")
    session.add(community)
    session.flush()
    audit.record(session, admin, "community.create", community)
    staff = accounts.create_user(
        session,
        admin,
        role=Role.STAFF,
        name=staff_name,
        username=staff_login,
        phone=staff_phone,
        password=DEMO_PASSWORD,
        community_id=community.id,
    )
    return community, staff


def _merchant(session, staff, community, index, prefix, name, category, address="", hours=""):
    merchant = Merchant(
        community_id=community.id,
        name=name,
        category=category,
        address=address,
        phone=f"027-8{index:03d}{index * 37 % 10000:04d}",
        hours=hours,
        status=MerchantStatus.ACTIVE,
    )
    session.add(merchant)
    session.flush()
    audit.record(session, staff, "merchant.create", merchant)
    login = f"{prefix}{index:02d}"
    accounts.create_user(
        session,
        staff,
        role=Role.MERCHANT_OWNER,
        name=f"{name}店主",
        username=login,
        password=DEMO_PASSWORD,
        community_id=community.id,
        merchant_id=merchant.id,
    )
    return merchant, login


def _campaign(session, staff, community, **fields) -> Campaign:
    rule = parse_rule(fields.pop("default_rule"))
    campaign = Campaign(
        community_id=community.id,
        created_by_id=staff.id,
        default_rule=rule.to_dict(),
        default_rule_text=rule.render(),
        **fields,
    )
    session.add(campaign)
    session.flush()
    audit.record(session, staff, "campaign.create", campaign)
    return campaign


def _offer(session, staff, campaign, merchant, rule_text) -> tuple[Offer, object]:
    rule = parse_rule(rule_text)
    offer = Offer(
        community_id=campaign.community_id,
        campaign_id=campaign.id,
        merchant_id=merchant.id,
        rule=rule.to_dict(),
        rule_text=rule.render(),
        status=OfferStatus.ACTIVE,
    )
    session.add(offer)
    session.flush()
    audit.record(session, staff, "offer.create", offer)
    return offer, rule


def _issue(session, staff, campaign, count, rng, since: date, today: date) -> list[Card]:
    """Hand `count` new cards of `campaign` to households, at most two a household."""
    new_cards = session.scalars(
        select(Card).where(Card.campaign_id == campaign.id).order_by(Card.serial).limit(count)
    ).all()
    households = [
        f"{b}-{u}-{f}0{d}"
        for b in BUILDINGS
        for u in (1, 2, 3)
        for f in range(1, 8)
        for d in (1, 2)
    ]
    rng.shuffle(households)
    days = max((today - since).days, 0)
    for card, household in zip(new_cards, households, strict=False):
        card.status = CardStatus.ISSUED
        card.household = household
        card.holder_phone = f"13{rng.randrange(10**9):09d}" if rng.random() < 0.6 else None
        card.issued_at = _moment(since + timedelta(days=rng.randint(0, min(days, 3))), 10, rng)
        card.issued_by_id = staff.id
    audit.record(session, staff, "card.issue_bulk", campaign, after={"count": len(new_cards)})
    return list(new_cards)


def _moment(day: date, hour: int, rng) -> datetime:
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=LOCAL)
    return local.astimezone(UTC)


def _redeem_history(session, campaign, issued, offers, rng, since, today, visits) -> int:
    """Bring `visits` past bills of issued cards to the shops' tills, through the redemption
    service at the moment each happened: the service keeps the campaign's uses, daily limits
    and budget, and writes the audit row, as at a real till."""
    span = (today - since).days - 1  # up to yesterday: today's page starts empty, as at opening
    if span < 0:
        return 0
    done = 0
    for n in range(visits):
        card = rng.choice(issued)
        merchant, rule = rng.choice(offers)
        day = since + timedelta(days=rng.randint(0, span))
        bill = rng.choice([1200, 1500, 1800, 2500, 3200, 4500, 6800, 8800, 10500, 12800, 18800])
        bill += rng.randrange(0, 100) * 10
        moment = _moment(day, rng.choice([7, 8, 11, 12, 17, 18, 19]), rng)
        if moment < card.issued_at or not rule.discount(bill):
            continue  # not handed out yet, or a bill the rule gives nothing for
        cashier = merchant.users[0] if merchant.users else None
        key = f"demo-{campaign.id}-{n:06d}"
        done += demo_streets.use_past(session, merchant, cashier, card.token, bill, key, moment)
    return done


def _zijinghua(session, admin, rng, today) -> None:
    community, staff = _community(
        session,
        admin,
        "紫荆花社区",
        "zijinghua",
        "琴断口街",
        "zijinghua",
        "王主任",
        "13900000001",
        "027-84651000",
    )
    start = (
        date(today.year, 5, 12) if today >= date(today.year, 5, 12) else date(today.year - 1, 5, 12)
    )
    campaign = _campaign(
        session,
        staff,
        community,
        name="紫荆花邻里互助消费卡",
        code="ZJH",
        kind=CampaignKind.CARD,
        status=CampaignStatus.ACTIVE,
        funding=Funding.MERCHANT,
        valid_from=start,
        valid_until=date(start.year, 12, 31) + timedelta(days=365),
        uses_per_card=60,
        daily_uses_per_merchant=1,
        cards_per_household=2,
        default_rule="8折",
        description="邻里互助日发放，凭卡在参与商户享受优惠。",
    )
    offers = []
    for i, (name, category, rule_text, address, hours) in enumerate(ZIJINGHUA_SHOPS, start=1):
        merchant, _login = _merchant(
            session, staff, community, i, "zjh", name, category, address, hours
        )
        if i == 1:
            accounts.create_user(
                session,
                staff,
                role=Role.CASHIER,
                name="张记收银员",
                username="zjh01-cashier",
                password=DEMO_PASSWORD,
                community_id=community.id,
                merchant_id=merchant.id,
            )
        offer, rule = _offer(session, staff, campaign, merchant, rule_text)
        offers.append((merchant, rule))
    pending = Merchant(
        community_id=community.id,
        name="紫荆花鲜花坊",
        category="其他",
        address="紫荆花路40号",
        phone="13900001234",
        status=MerchantStatus.PENDING,
        note="通过 /join 申请加入",
    )
    suspended = Merchant(
        community_id=community.id,
        name="小陈修鞋",
        category="维修",
        address="七里庙菜场门口",
        status=MerchantStatus.SUSPENDED,
        status_reason="店主回老家，暂停营业",
    )
    session.add_all([pending, suspended])
    session.flush()
    cards.generate_batch(session, campaign, 2000, staff, note="邻里互助日首批")
    issued = _issue(session, staff, campaign, 420, rng, start, today)
    _redeem_history(session, campaign, issued, offers, rng, start, today, visits=900)
    _help_board(session, staff, community, [m for m, _rule in offers[:6]], start, today)


def _jiangbo(session, admin, rng, today) -> None:
    community, staff = _community(
        session,
        admin,
        "江博社区",
        "jiangbo",
        "江堤街",
        "jiangbo",
        "李书记",
        "13900000002",
        "027-84662000",
    )
    start = today - timedelta(days=21)
    campaign = _campaign(
        session,
        staff,
        community,
        name="江博邻里互助消费券",
        code="JB",
        kind=CampaignKind.COUPON,
        status=CampaignStatus.ACTIVE,
        funding=Funding.COMMUNITY,
        valid_from=start,
        valid_until=start + timedelta(days=90),
        uses_per_card=1,
        daily_uses_per_merchant=None,
        cards_per_household=1,
        budget_fen=2_000_000,
        default_rule="满50减10",
        description="19家小店联合发放，社区补贴。",
    )
    offers = []
    for i, (name, category) in enumerate(JIANGBO_SHOPS, start=1):
        merchant, _login = _merchant(
            session, staff, community, i, "jb", name, category, f"江堤街{i * 3}号", "08:00–21:00"
        )
        _offer_row, rule = _offer(session, staff, campaign, merchant, "满50减10")
        offers.append((merchant, rule))
    cards.generate_batch(session, campaign, 500, staff, note="首批消费券")
    issued = _issue(session, staff, campaign, 180, rng, start, today)
    _redeem_history(session, campaign, issued, offers, rng, start, today, visits=80)


# Residents of 紫荆花 on the help board: name, phone (their login), household, confirmed.
ZIJINGHUA_RESIDENTS = [
    ("王秀英", "13800000001", "3-2-501", True),
    ("李建国", "13800000002", "5-1-302", True),
    ("张桂兰", "13800000003", "1-3-201", True),
    ("刘志强", "13800000004", "7-2-602", True),
    ("陈美华", "13800000005", "9-1-101", True),
    ("赵小军", "13800000006", "12-2-402", True),
    ("周大爷", "13800000007", "2-1-101", False),
    ("吴阿姨", "13800000008", "4-3-301", False),
]
# author, kind, category, title, details, when, where, state, taker, minutes, hours ago
ZIJINGHUA_POSTS = [
    (
        "王秀英",
        "request",
        "shopping",
        "帮忙买一周的菜和米",
        "腿脚不便，想请邻居帮忙买些青菜、鸡蛋和一袋米，钱当面给。",
        "明天上午",
        "3栋附近",
        "open",
        None,
        None,
        3,
    ),
    (
        "张桂兰",
        "request",
        "medicine",
        "帮忙去社区医院取降压药",
        "药已经开好了，凭医保卡去取，卡可以先给你。",
        "今天",
        "1栋",
        "open",
        None,
        None,
        30,
    ),
    (
        "刘志强",
        "offer",
        "repair",
        "周六上午免费修自行车、换灯泡",
        "自带工具，小毛病当场修好。",
        "每周六 9:00–12:00",
        "7栋车库旁",
        "open",
        None,
        None,
        50,
    ),
    (
        "陈美华",
        "request",
        "escort",
        "周四陪老伴去第五医院复查",
        "需要有人帮忙挂号、推轮椅。",
        "周四上午",
        "9栋",
        "taken",
        "李建国",
        None,
        20,
    ),
    (
        "王秀英",
        "request",
        "care",
        "下午照看孙子两小时",
        "孩子六岁，在家写作业，我去一趟社区医院。",
        "昨天下午",
        "3栋",
        "done",
        "赵小军",
        None,
        26,
    ),
    (
        "张桂兰",
        "request",
        "shopping",
        "封控期间帮忙团购蔬菜",
        "帮整栋楼的老人接龙团购，送到门口。",
        "上周",
        "1栋",
        "confirmed",
        "李建国",
        120,
        200,
    ),
    (
        "陈美华",
        "request",
        "medicine",
        "帮忙送胰岛素",
        "社区医院开的药，冷藏带回。",
        "上周三",
        "9栋",
        "confirmed",
        "王秀英",
        90,
        150,
    ),
    (
        "刘志强",
        "offer",
        "repair",
        "帮忙修水龙头",
        "厨房水龙头漏水，已修好。",
        "上周末",
        "7栋",
        "confirmed",
        "陈美华",
        60,
        120,
    ),
    (
        "赵小军",
        "request",
        "other",
        "借一个梯子用半天",
        "换客厅的灯，用完就还。",
        "周日",
        "12栋",
        "cancelled",
        None,
        None,
        80,
    ),
    ("赵小军", "offer", "other", "出售保健品，包治百病", "", "", "", "hidden", None, None, 10),
]


def _help_board(session, staff, community, shops, start, today) -> None:
    """Residents, posts in every state, points earned and adjusted, and cards for points."""
    from ..models import HelpCategory, HelpKind, HelpPost, HelpStatus, PointsKind
    from .points import points_for, post_entry

    now = utcnow()
    people = {}
    for name, phone, household, confirmed in ZIJINGHUA_RESIDENTS:
        user = accounts.create_user(
            session,
            None,
            role=Role.RESIDENT,
            name=name,
            phone=phone,
            password=DEMO_PASSWORD,
            community_id=community.id,
        )
        user.household = household
        user.confirmed_at = now - timedelta(days=30) if confirmed else None
        people[name] = user
    session.flush()
    for row in ZIJINGHUA_POSTS:
        author, kind, category, title, details, when, where, state, taker, minutes, ago = row
        created = now - timedelta(hours=ago)
        post = HelpPost(
            community_id=community.id,
            author_id=people[author].id,
            kind=HelpKind(kind),
            category=HelpCategory(category),
            title=title,
            details=details,
            when_text=when,
            area=where,
            status=HelpStatus.OPEN if state == "hidden" else HelpStatus(state),
            taker_id=people[taker].id if taker else None,
            created_at=created,
            taken_at=created + timedelta(hours=1) if taker else None,
            hidden=state == "hidden",
            hidden_reason="广告，不属于邻里互助" if state == "hidden" else "",
        )
        if state in ("done", "confirmed"):
            post.done_at = created + timedelta(hours=4)
        if state in ("confirmed", "cancelled"):
            post.closed_at = created + timedelta(hours=6)
        session.add(post)
        session.flush()
        if state == "confirmed":
            post.confirmed_by_id = staff.id
            post.minutes = minutes
            post.points = points_for(post.category, minutes)
            helper = people[taker] if kind == "request" else people[author]
            post_entry(
                session, staff, helper, PointsKind.EARNED, post.points, title, post_id=post.id
            )
    post_entry(session, staff, people["王秀英"], PointsKind.ADJUSTED, 40, "春节楼道大扫除")
    post_entry(session, staff, people["李建国"], PointsKind.ADJUSTED, 30, "疫情期间值守卡点")
    campaign = _campaign(
        session,
        staff,
        community,
        name="互助积分兑换卡",
        code="HZJF",
        kind=CampaignKind.CARD,
        status=CampaignStatus.ACTIVE,
        funding=Funding.COMMUNITY,
        valid_from=start,
        valid_until=date(start.year, 12, 31) + timedelta(days=365),
        uses_per_card=10,
        cards_per_household=1,
        budget_fen=500_000,
        default_rule="满50减10",
        description="帮助邻居攒下的互助积分，可以兑换这张卡，在参与的小店使用。",
        points_price=50,
        points_stock=100,
    )
    for shop in shops:
        _offer(session, staff, campaign, shop, "满50减10")


def demo_counts(session: Session) -> dict[str, int]:
    """Return how many rows the demo holds, for the CLI's summary."""
    return {
        "communities": session.scalar(select(func.count(Community.id))),
        "merchants": session.scalar(select(func.count(Merchant.id))),
        "cards": session.scalar(select(func.count(Card.id))),
        "redemptions": session.scalar(select(func.count(Redemption.id))),
        "users": session.scalar(select(func.count(User.id))),
    }
