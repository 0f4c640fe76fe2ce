"""The demo's streets (街道): 汉阳区's streets, more communities in 琴断口街 and 江堤街 with
months of activity, and street staff logins, so 互看互比 and the monthly reports have
something to show.

Built through the real services as the district admin and each community's staff would:
streets, communities, staff logins, shops, campaigns, offers, batches, handing cards out and
redeeming them. Redeeming goes through `redemptions.redeem` with the moment it happened
(`now=`), one transaction a use as at a till; handing out is dated back afterwards, since
the office's issuing has no "when" (a demo's past needs one).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import LOCAL
from ..models import Card, Community, Merchant, Redemption, Role, Street, User
from ..rules import parse_rule
from . import campaigns, communities, issuing, merchants, reports, streets, summary
from .cards import generate_batch
from .logins import Login
from .redemptions import RedeemError, TillRequest, redeem, void_redemption

DISTRICT = "汉阳区"
PASSWORD = "linli-demo"  # noqa: S105  # nosec B105 - the demo's published password
# 汉阳区's streets; the demo fills the first two.
STREETS = ["琴断口街", "江堤街", "五里墩街", "建桥街", "永丰街", "四新街"]
SIZES = {"紫荆花社区": (1150, 3260), "江博社区": (980, 2710)}


@dataclass(frozen=True)
class Place:
    """A demo community: who runs it, its size, its shops and how busy its cards are."""

    name: str
    slug: str
    code: str  # of its cards' serials
    street: str
    staff: str
    households: int
    residents: int
    funding: str  # merchant (让利) or community (补贴)
    rule: str
    shops: tuple[tuple[str, str], ...]
    cards: int  # handed out
    uses_a_day: int  # at most, on a busy day


PLACES = [
    Place(
        "陶家岭社区", "taojialing", "TJL", "琴断口街", "周主任", 1620, 4380, "merchant", "9折",
        (("陶家岭热干面", "早点"), ("惠佳超市", "超市副食"), ("康宁药房", "药店"),
         ("阿强理发", "美发"), ("老李修车", "维修")),
        90, 5,
    ),
    Place(
        "十里铺社区", "shilipu", "SLP", "琴断口街", "吴书记", 2040, 5530, "community", "满50减8",
        (("十里铺菜场", "水果生鲜"), ("万家福超市", "超市副食"), ("小陈早点", "早点"),
         ("洁丽干洗", "洗衣")),
        120, 7,
    ),
    Place(
        "琴园社区", "qinyuan", "QY", "琴断口街", "郑主任", 860, 2240, "merchant", "8.5折",
        (("琴园小厨", "餐饮"), ("美丽发屋", "美发"), ("琴园便利店", "超市副食")),
        45, 3,
    ),
    Place(
        "锦绣社区", "jinxiu", "JX", "琴断口街", "冯书记", 1380, 3610, "merchant", "满100减12",
        (("锦绣酒楼", "餐饮"), ("好又多超市", "超市副食"), ("锦绣药店", "药店"),
         ("快修家电", "维修")),
        70, 4,
    ),
    Place(
        "郭茨口社区", "guocikou", "GCK", "琴断口街", "陈主任", 1710, 4720, "community", "立减5元",
        (("郭茨口牛肉粉", "餐饮"), ("鲜果时光", "水果生鲜"), ("平价粮油", "超市副食"),
         ("新新理发", "美发"), ("邻家早点", "早点")),
        140, 6,
    ),
    Place(
        "江欣苑社区", "jiangxinyuan", "JXY", "江堤街", "黄主任", 2210, 6120, "community", "满30减5",
        (("江欣苑早餐", "早点"), ("江欣超市", "超市副食"), ("江欣药房", "药店"),
         ("巧手裁缝", "其他")),
        110, 6,
    ),
    Place(
        "芳草社区", "fangcao", "FC", "江堤街", "林书记", 930, 2480, "merchant", "9折",
        (("芳草面馆", "餐饮"), ("绿叶菜店", "水果生鲜"), ("芳草理发", "美发")),
        50, 3,
    ),
]  # fmt: skip
STREET_LOGINS = [
    ("qinduankou", "周敏", "琴断口街", False),
    ("jiangdi", "陈刚", "江堤街", True),  # 江堤街's staff may register shops for a community
]
MONTHS = 4  # of activity before today
LOGINS = [
    *((f"街道工作人员 ({name}, 互看互比、月报)", login) for login, _p, name, _m in STREET_LOGINS),
    ("社区工作人员 (琴断口街其他社区)", "taojialing … guocikou"),
    ("社区工作人员 (江堤街其他社区)", "jiangxinyuan, fangcao"),
]


def street(session: Session, admin: User, name: str, district: str) -> Street:
    """Return the demo's street of that name, creating it through the streets service."""
    key = streets.street_key(name)
    for found in session.scalars(select(Street).where(Street.district == district)):
        if streets.street_key(found.name) == key:
            return found
    return streets.create(session, admin, streets.StreetDetails(name=name, district=district))


def seed(session: Session, admin: User, today: date) -> None:
    """Add the streets, their communities with months of uses, and the street staff logins."""
    rng = random.Random(2023)  # noqa: S311  # nosec B311 - demo data
    for name in STREETS:
        street(session, admin, name, DISTRICT)
    for name, (households, residents) in SIZES.items():
        community = session.scalar(select(Community).where(Community.name == name))
        if community is not None:
            _set_size(session, admin, community, households, residents)
    for login, person, street_name, may_act in STREET_LOGINS:
        place = street(session, admin, street_name, DISTRICT)
        if may_act:
            streets.update(
                session,
                admin,
                place,
                streets.StreetDetails(place.name, place.district, staff_may_act=True),
            )
        streets.add_staff(session, admin, place, Login(person, login, PASSWORD))
    start = today - timedelta(days=30 * MONTHS)
    for place in PLACES:
        _community(session, admin, place, rng, start, today)
    summary.forget_days(session, start, today)


def _set_size(session, admin, community: Community, households: int, residents: int) -> None:
    communities.update(
        session,
        admin,
        community,
        communities.CommunityDetails(
            name=community.name,
            slug=community.slug,
            street_id=community.street_id,
            district=community.district,
            households=households,
            residents=residents,
        ),
    )


def _community(session, admin, place: Place, rng, start: date, today: date) -> None:
    community = communities.create(
        session,
        admin,
        communities.CommunityDetails(
            name=place.name,
            slug=place.slug,
            street_id=street(session, admin, place.street, DISTRICT).id,
            district=DISTRICT,
            households=place.households,
            residents=place.residents,
        ),
    )
    staff = communities.add_staff(
        session, admin, community, Login(place.staff, place.slug, PASSWORD)
    )
    shops = [
        merchants.register(
            session,
            staff,
            community.id,
            merchants.MerchantDetails(name=name, category=category, address=f"{place.name}附近"),
            Login(f"{name}店主", f"{place.code.lower()}{n:02d}", PASSWORD),
        )
        for n, (name, category) in enumerate(place.shops, start=1)
    ]
    campaign = campaigns.create(
        session,
        staff,
        community.id,
        campaigns.CampaignDetails(
            name=f"{place.name[:-2]}邻里互助消费卡",
            code=place.code,
            kind="card",
            funding=place.funding,
            valid_from=start,
            valid_until=today + timedelta(days=90),
            daily_uses_per_merchant=2,
            rule_text=place.rule,
        ),
    )
    campaigns.add_offers(session, staff, campaign, shops, "")
    campaigns.change_status(session, staff, campaign, "start")
    batch = generate_batch(session, campaign, place.cards + 20, staff)
    session.flush()
    cards = session.scalars(
        select(Card).where(Card.batch_id == batch.id).order_by(Card.id).limit(place.cards)
    ).all()
    days = (today - start).days
    handed = []
    for n, card in enumerate(cards):
        building, unit, room = 1 + n % 9, 1 + n // 9 % 3, 101 + n // 27 * 100 + n % 4
        issued = issuing.issue_card(session, staff, card.serial, f"{building}-{unit}-{room}")
        # handed out over the first weeks, as door-to-door rounds go
        when = start + timedelta(days=min(days - 1, n * 45 // max(place.cards, 1)))
        issued.issued_at = _moment(when, 10, rng)
        handed.append(issued)
    _uses(session, campaign, handed, shops, place, rng, start, today)


def _uses(session, campaign, cards, shops, place: Place, rng, start: date, today: date) -> None:
    """Redeem cards on past days through the redemption service, at the moment they were used."""
    tokens = [(c.token, c.issued_at) for c in cards]
    tills = [(s.id, s.users[0].id) for s in shops]  # each shop's owner works its till
    rule = parse_rule(place.rule)
    n = 0
    day = start
    while day < today:
        busy = place.uses_a_day if day.weekday() >= 5 else max(place.uses_a_day - 2, 1)
        seen = set()  # a card at most once a shop a day: the demo's tills are never refused
        for _use in range(rng.randint(0, busy)):
            token, issued_at = rng.choice(tokens)
            shop_id, owner_id = rng.choice(tills)
            moment = _moment(day, rng.choice([7, 8, 11, 12, 17, 18, 19]), rng)
            if moment < issued_at or (token, shop_id) in seen:
                continue
            seen.add((token, shop_id))
            shop, owner = session.get(Merchant, shop_id), session.get(User, owner_id)
            bill = rng.choice([1500, 2800, 3600, 5200, 6800, 8800, 10800, 12500, 16800])
            bill += rng.randrange(0, 50) * 10
            if not rule.discount(bill):
                continue  # a bill the rule gives nothing for is not brought to the till
            n += 1
            use_past(
                session, shop, owner, token, bill, f"demo-street-{campaign.id}-{n:06d}", moment
            )
        day += timedelta(days=1)


def use_past(session, shop, cashier, token, bill_fen, key, moment) -> bool:
    """Redeem a card at `shop`'s till at a past `moment`, through the redemption service (the
    demo's one way to write a use); False when the till would refuse it (used up, the shop's
    daily limit, the budget), and then nothing is written."""
    try:
        with session.begin_nested():  # one use, as at a till: a refusal undoes only it
            redeem(session, shop, cashier, TillRequest(token, bill_fen, key), now=moment)
    except RedeemError:
        return False
    return True


def send_reports(session: Session, today: date) -> None:
    """The street's communities sent the month before last (已报送), about half sent last
    month; a use of a sent month voided afterwards shows as a correction. Run last, once every
    other part of the demo is in: a part seeded after sending would show as a correction."""
    last = reports.previous_month(today.replace(day=1))
    before = reports.previous_month(last)
    places = session.scalars(
        select(Community).join(Street).where(Street.name.in_(["琴断口街", "江堤街"]))
    ).all()
    for n, place in enumerate(sorted(places, key=lambda c: c.id)):
        staff = session.scalar(
            select(User).where(User.community_id == place.id, User.role == Role.STAFF)
        )
        for month in (before, last) if n % 2 == 0 else (before,):
            reports.send(session, staff, place, month)
    shilipu = session.scalar(select(Community).where(Community.slug == "shilipu"))
    staff = session.scalar(select(User).where(User.community_id == shilipu.id))
    wrong = session.scalar(
        select(Redemption)
        .where(Redemption.community_id == shilipu.id, Redemption.local_day >= before)
        .where(Redemption.local_day < last)
        .order_by(Redemption.id)
        .limit(1)
    )
    if wrong is not None:
        void_redemption(session, wrong, staff, "收银员按错了金额，已当面退回")


def _moment(day: date, hour: int, rng) -> datetime:
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=LOCAL)
    return local.astimezone(UTC)
