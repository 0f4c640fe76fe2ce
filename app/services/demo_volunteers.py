"""The demo's volunteers at 紫荆花社区, built through `services.volunteers` as the office would.

Three 共驻共建 units (the district's city-management bureau sends one person a day, as in
宜昌; the power company holds its 主题党日 here; a school sends teachers on holidays), their
cadres and party members, residents of the help board who volunteer, activities that were
held and closed (hours checked in and out on site, one corrected, points credited), an
urgent call (一呼百应) that is filling up now, a clean-up with a waiting list, and a
certificate. `seed(session, today)` is called from the demo; the caller commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import LOCAL, utcnow
from ..models import Community, User, Volunteer
from . import volunteers as service

DEMO_PASSWORD = "linli-demo"  # noqa: S105  # nosec B105 - the demo's published password
CADRE_LOGIN = "13800000021"  # 刘卫东 of 汉阳区城管局, who signs in on the demo

UNITS = [
    ("汉阳区城市管理执法局", "张科长", "027-84845566", date(2020, 3, 10), "每天派一名干部下沉社区"),
    (
        "国网武汉市汉阳区供电公司",
        "李书记",
        "027-84841234",
        date(2020, 4, 2),
        "每月一次主题党日进社区",
    ),
    ("琴断口小学", "王校长", "027-84849876", date(2021, 9, 1), "节假日派教师志愿者"),
]
# name, phone, unit (index), reports as a party member, skills
CADRES = [
    ("刘卫东", CADRE_LOGIN, 0, True, "开车、搬运"),
    ("陈晓红", "13800000022", 1, True, "电工、安全用电宣传"),
    ("黄志强", "13800000023", 1, True, "电工"),
    ("周丽", "13800000024", 2, False, "绘画、带孩子"),
    ("孙建平", "13800000025", 0, True, ""),
    ("郑海燕", "13800000026", 1, True, "急救证"),
]
# residents of the help board (services.demo.ZIJINGHUA_RESIDENTS) who volunteer
RESIDENTS = [
    ("13800000001", "理发、陪老人聊天", "工作日上午"),
    ("13800000002", "修自行车", "周末"),
    ("13800000003", "", "随时"),
    ("13800000004", "开车", "晚上"),
    ("13800000005", "护士（退休）", "周二、周四"),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL).astimezone(UTC)


def seed(session: Session, today: date) -> None:
    """Add the volunteers' demo to 紫荆花社区 (the rest of the demo is already there)."""
    community = session.scalar(select(Community).where(Community.slug == "zijinghua"))
    staff = session.scalar(select(User).where(User.username == "zijinghua"))
    units = [
        service.save_unit(
            session,
            staff,
            community.id,
            service.UnitDetails(
                name=n, contact_name=c, contact_phone=p, agreement_date=d, commitment=what
            ),
        )
        for n, c, p, d, what in UNITS
    ]
    people: list[Volunteer] = []
    for name, phone, unit, party, skills in CADRES:
        details = service.OutsideDetails(name, phone, units[unit].id, party, skills)
        if phone == CADRE_LOGIN:  # registered on their phone; the office confirmed them
            volunteer = service.register_outside(session, community.id, details, DEMO_PASSWORD)
            service.confirm(session, staff, volunteer)
        else:  # the unit sent a list; the office entered it
            volunteer = service.add_outside(session, staff, community.id, details)
        people.append(volunteer)
    waiting = service.OutsideDetails("吴敏", "13800000027", units[2].id, False, "英语")
    service.register_outside(session, community.id, waiting, DEMO_PASSWORD)  # to confirm
    for phone, skills, when in RESIDENTS:
        user = session.scalar(select(User).where(User.phone == phone))
        people.append(service.register_resident(session, user, skills, when))
    # They registered two months ago, when the units sent them, not on the day the demo was made.
    registered = utcnow() - timedelta(days=60)
    for volunteer in people:
        volunteer.created_at = volunteer.confirmed_at = registered
    _held(session, staff, community, people, today)
    _coming(session, staff, community, people, today)


def _publish(session, staff, community, title, kind, place, starts, hours, needed, pph, **f):
    return service.publish(
        session,
        staff,
        community.id,
        service.ActivityDetails(
            title=title,
            kind=kind,
            place=place,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            needed=needed,
            points_per_hour=pph,
            leader=f.pop("leader", "王主任"),
            details=f.pop("details", ""),
            urgent=f.pop("urgent", False),
        ),
    )


def _turn_out(session, activity, people, stayed_minutes, late_minutes=0):
    """Everyone signs up, checks in on site (a few late) and checks out after `stayed`."""
    signed_up = activity.starts_at - timedelta(days=2)
    for n, volunteer in enumerate(people):
        user = session.get(User, volunteer.user_id)
        service.sign_up(session, user, activity.id, now=signed_up + timedelta(minutes=n))
        arrived = activity.starts_at + timedelta(minutes=(n % 3) * late_minutes)
        service.check_in(session, user, activity.token, now=arrived)
        service.check_out(
            session, user, activity.token, now=arrived + timedelta(minutes=stayed_minutes + n % 4)
        )


def _held(session, staff, community, people, today) -> None:
    """Activities that took place and were closed: hours on the ledger."""
    cadres, residents = people[:6], people[6:]
    day = today - timedelta(days=40)
    party_day = _publish(
        session,
        staff,
        community,
        "主题党日：琴断口小区楼道大扫除",
        "cleanup",
        "琴断口小区 1–7 栋",
        _at(day, 8, 30),
        3,
        30,
        10,
        details="清理楼道堆放杂物、小广告；工具由社区提供，请穿方便干活的衣服。",
    )
    _turn_out(session, party_day, cadres + residents, 175, late_minutes=10)
    service.close(session, staff, party_day, now=party_day.ends_at + timedelta(hours=2))

    day = today - timedelta(days=25)
    flood = _publish(
        session,
        staff,
        community,
        "防汛巡堤（江堤琴断口段）",
        "patrol",
        "江堤 3 号闸口集合",
        _at(day, 20),
        3,
        8,
        15,
        leader="刘卫东",
        details="两人一组巡查堤段，发现管涌、渗水立即报告。请带手电、穿雨靴。",
    )
    _turn_out(session, flood, cadres[:4] + residents[3:4], 180)
    signup = service._signup(session, flood.id, cadres[3].id)
    service.correct_hours(session, staff, signup, 240, "巡堤延长一小时至 24 点，现场负责人确认")
    service.close(session, staff, flood, now=flood.ends_at + timedelta(hours=10))

    day = today - timedelta(days=12)
    haircut = _publish(
        session,
        staff,
        community,
        "重阳节上门理发、陪聊",
        "elderly",
        "独居老人家中（社区统一分派）",
        _at(day, 9),
        2,
        6,
        12,
    )
    _turn_out(session, haircut, residents[:3] + cadres[3:4], 115)
    service.close(session, staff, haircut, now=haircut.ends_at + timedelta(hours=3))

    wang = session.get(Volunteer, residents[0].id)
    service.issue_certificate(session, staff, wang, today - timedelta(days=365), today)


def _coming(session, staff, community, people, today) -> None:
    """What the board shows now: an urgent call filling up, a clean-up with a waiting list."""
    now = utcnow()
    call = _publish(
        session,
        staff,
        community,
        "一呼百应：暴雨后清理小区积水和倒伏树枝",
        "cleanup",
        "琴断口小区中心花园",
        now.replace(second=0, microsecond=0) + timedelta(hours=2),
        3,
        20,
        15,
        urgent=True,
        details="昨夜暴雨，多处积水、树枝倒伏。请带雨靴和手套，社区备有扫帚和编织袋。",
    )
    for volunteer in people[:7]:
        service.sign_up(session, session.get(User, volunteer.user_id), call.id, now=now)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    cleanup = _publish(
        session,
        staff,
        community,
        "周六清扫：7 栋门前绿化带",
        "cleanup",
        "7 栋门前",
        _at(saturday, 9),
        2,
        5,
        10,
    )
    for volunteer in people[:7]:
        service.sign_up(session, session.get(User, volunteer.user_id), cleanup.id, now=now)
    _publish(
        session,
        staff,
        community,
        "义诊进社区：量血压、测血糖",
        "clinic",
        "社区党群服务中心一楼",
        _at(saturday + timedelta(days=1), 9),
        3,
        6,
        10,
        details="汉阳区人民医院医生坐诊，志愿者负责引导排队、登记。",
    )
