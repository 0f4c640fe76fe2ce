"""One-line builders of test objects. Each commits, so HTTP requests see what it made."""

from datetime import date, timedelta

from app.clock import local_today
from app.extensions import db
from app.models import (
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
    Role,
    Street,
    User,
)
from app.rules import parse_rule
from app.services import cards as card_service

PASSWORD = "correct horse"  # noqa: S105


def _save(obj):
    db.session.add(obj)
    db.session.commit()
    return obj


def street(name="琴断口街", district="汉阳区", staff_may_act=False):
    """Return the street of that name in the district, made when there is none yet."""
    return _street(name, district, staff_may_act)


def _street(name, district, staff_may_act=False):
    found = db.session.query(Street).filter_by(name=name, district=district).one_or_none()
    if found is not None:
        if staff_may_act and not found.staff_may_act:
            found.staff_may_act = True
            db.session.commit()
        return found
    return _save(Street(name=name, district=district, staff_may_act=staff_may_act))


def community(
    name="紫荆花社区",
    slug="zijinghua",
    street="琴断口街",
    district="汉阳区",
    households=None,
    residents=None,
):
    placed = _street(street, district) if street else None
    return _save(
        Community(
            name=name,
            slug=slug,
            street_id=placed.id if placed else None,
            district=district,
            households=households,
            residents=residents,
        )
    )


def street_staff(street, username, name=None, password=PASSWORD, active=True):
    """A street staff login (街道工作人员) of `street`."""
    u = User(
        role=Role.STREET_STAFF,
        username=username,
        name=name or username,
        street_id=street.id,
        active=active,
    )
    u.set_password(password)
    return _save(u)


def user(
    role,
    community=None,
    merchant=None,
    username=None,
    phone=None,
    name=None,
    password=PASSWORD,
    active=True,
):
    if merchant is not None and community is None:
        community = merchant.community
    u = User(
        role=role,
        username=username,
        phone=phone,
        name=name or (username or phone or "someone"),
        community_id=community.id if community else None,
        merchant_id=merchant.id if merchant else None,
        active=active,
    )
    u.set_password(password)
    return _save(u)


def merchant(community, name="张记热干面", category="餐饮", status=MerchantStatus.ACTIVE, **fields):
    return _save(
        Merchant(community_id=community.id, name=name, category=category, status=status, **fields)
    )


def campaign(
    community,
    name=None,
    code="ZJH",
    kind=CampaignKind.CARD,
    status=CampaignStatus.ACTIVE,
    funding=Funding.MERCHANT,
    rule="8折",
    valid_from=None,
    valid_until=None,
    **limits,
):
    today = local_today()
    if name is None:  # names are unique in a community: a second one is told by its code
        name = "邻里互助消费卡"
        if db.session.scalar(
            db.select(Campaign.id).where(
                Campaign.community_id == community.id, Campaign.name == name
            )
        ):
            name = f"{name}（{code}）"
    parsed = parse_rule(rule)
    if kind == CampaignKind.COUPON:
        limits.setdefault("uses_per_card", 1)
    return _save(
        Campaign(
            community_id=community.id,
            name=name,
            code=code,
            kind=kind,
            status=status,
            funding=funding,
            valid_from=valid_from or today - timedelta(days=30),
            valid_until=valid_until or today + timedelta(days=60),
            default_rule=parsed.to_dict(),
            default_rule_text=parsed.render(),
            **limits,
        )
    )


def offer(campaign, merchant, rule=None, status=OfferStatus.ACTIVE):
    parsed = parse_rule(rule) if rule else None
    return _save(
        Offer(
            community_id=campaign.community_id,
            campaign_id=campaign.id,
            merchant_id=merchant.id,
            rule=parsed.to_dict() if parsed else None,
            rule_text=parsed.render() if parsed else "",
            status=status,
        )
    )


def cards(campaign, count=3, issued=True, household_prefix="1-1-"):
    """Generate `count` cards of `campaign`, handed to households unless `issued` is False."""
    batch = card_service.generate_batch(db.session, campaign, count, None)
    db.session.flush()
    made = list(
        db.session.scalars(db.select(Card).where(Card.batch_id == batch.id).order_by(Card.id))
    )
    if issued:
        for i, card in enumerate(made, start=1):
            card.status = CardStatus.ISSUED
            card.household = f"{household_prefix}{100 + i}"
    db.session.commit()
    return made


def a_date(days_from_today=0) -> date:
    return local_today() + timedelta(days=days_from_today)


def redemption(card, merchant, bill_fen, discount_fen, day=None, status="ok", at_hour=10, key=None):
    """Write a redemption row as it was on `day` (default today), without the redeem service.

    For figures: the card's use count and the campaign's spent sum are left as they are.
    """
    from datetime import datetime, time

    from app.clock import LOCAL
    from app.models import Redemption, RedemptionStatus

    day = day or local_today()
    moment = datetime.combine(day, time(at_hour, 0), tzinfo=LOCAL)
    return _save(
        Redemption(
            community_id=card.community_id,
            campaign_id=card.campaign_id,
            card_id=card.id,
            merchant_id=merchant.id,
            bill_fen=bill_fen,
            discount_fen=discount_fen,
            paid_fen=bill_fen - discount_fen,
            rule_text="8折",
            created_at=moment,
            local_day=day,
            idempotency_key=key or f"test-{card.id}-{merchant.id}-{day}-{at_hour}-{bill_fen}",
            status=RedemptionStatus(status),
        )
    )


def resident(community, phone="13900000001", household="3-2-501", name="王小明", confirmed=True):
    """A resident's login, confirmed by staff unless `confirmed` is False."""
    from app.clock import utcnow
    from app.models import Role

    u = User(
        role=Role.RESIDENT,
        phone=phone,
        name=name,
        community_id=community.id,
        household=household,
        confirmed_at=utcnow() if confirmed else None,
    )
    u.set_password(PASSWORD)
    return _save(u)


def help_post(author, kind="request", category="shopping", title="帮忙买菜", **fields):
    """An open post on the board by `author` (no audit row: for tests of what follows)."""
    from app.models import HelpCategory, HelpKind, HelpPost, HelpStatus

    return _save(
        HelpPost(
            community_id=author.community_id,
            author_id=author.id,
            kind=HelpKind(kind),
            category=HelpCategory(category),
            title=title,
            details=fields.pop("details", "两斤西红柿,一把青菜"),
            when_text=fields.pop("when_text", "明天上午"),
            area=fields.pop("area", "3栋附近"),
            status=fields.pop("status", HelpStatus.OPEN),
            **fields,
        )
    )


def exchange_campaign(community, price=100, stock=None, **limits):
    """A running community-funded card campaign exchangeable for `price` points."""
    limits.setdefault("code", "HZJF")
    limits.setdefault("name", "互助积分兑换卡")
    return campaign(
        community,
        funding=Funding.COMMUNITY,
        points_price=price,
        points_stock=stock,
        **limits,
    )


def unit(community, name="汉阳区城管局", commitment="每天派一人"):
    """A 共驻共建 unit of `community`."""
    from app.models import VolunteerUnit

    return _save(VolunteerUnit(community_id=community.id, name=name, commitment=commitment))


def volunteer(community, phone="13900000101", name="李志远", unit=None, status="confirmed"):
    """A volunteer: a confirmed resident of the help board, or a cadre of `unit` when given."""
    from app.clock import utcnow
    from app.models import Volunteer, VolunteerOrigin, VolunteerStatus

    login = resident(community, phone, None if unit else "5-1-302", name)
    return _save(
        Volunteer(
            community_id=community.id,
            user_id=login.id,
            origin=VolunteerOrigin.UNIT if unit else VolunteerOrigin.RESIDENT,
            unit_id=unit.id if unit else None,
            status=VolunteerStatus(status),
            confirmed_at=utcnow() if status == "confirmed" else None,
        )
    )


def activity(community, starts_in=timedelta(hours=1), hours=2, needed=5, points_per_hour=10, **f):
    """An open activity of `community` starting `starts_in` from now and lasting `hours`."""
    from app.clock import utcnow
    from app.models import ActivityKind, VolunteerActivity
    from app.services.volunteers import new_token

    starts = utcnow().replace(microsecond=0) + starts_in
    return _save(
        VolunteerActivity(
            community_id=community.id,
            title=f.pop("title", "琴断口小区大扫除"),
            kind=ActivityKind(f.pop("kind", "cleanup")),
            place=f.pop("place", "3栋楼下"),
            leader=f.pop("leader", "王芳"),
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            needed=needed,
            points_per_hour=points_per_hour,
            token=new_token(),
            **f,
        )
    )


def certificate(volunteer, minutes=120):
    """A certificate of `volunteer` as issued (no audit row: for tests of who may see it)."""
    from app.models import VolunteerCertificate
    from app.services.volunteers import new_certificate_serial

    today = local_today()
    return _save(
        VolunteerCertificate(
            community_id=volunteer.community_id,
            volunteer_id=volunteer.id,
            serial=new_certificate_serial(),
            volunteer_name=volunteer.user.name,
            volunteer_number=volunteer.number,
            issuer_name="汉阳区琴断口街紫荆花社区居民委员会",
            period_from=today,
            period_until=today,
            minutes=minutes,
            activities=1,
            lines=[],
            issued_by_label="本人自助打印",
        )
    )


def signup(activity, volunteer, status="signed"):
    """`volunteer` on `activity`'s list (no audit row)."""
    from app.clock import utcnow
    from app.models import SignupStatus, VolunteerSignup

    return _save(
        VolunteerSignup(
            community_id=activity.community_id,
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            status=SignupStatus(status),
            created_at=utcnow(),
        )
    )
