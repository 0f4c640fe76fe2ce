"""The demo's household roster for 紫荆花社区, a card for households in need, its hand-out lists.

Built through the real services: the roster is imported from sheet rows (`roster.apply_import`),
the campaign is limited to groups (`roster.set_campaign_groups`), its cards come in weekly
waves (`waves.plan_waves`) and go out on door-to-door lists (`handout.make_list`,
`record_received`, `close_list`).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Community,
    Funding,
    HouseholdGroup,
    Merchant,
    MerchantStatus,
    Role,
    User,
)
from ..rules import parse_rule
from . import audit, campaigns, handout, roster, waves
from .sheets import SheetRow

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
COMPOUND = ("欧阳", "司马", "诸葛", "上官")
GIVEN = "秀英建国桂兰志强玉珍国华淑芬德明春梅海燕文军丽娟永红振华爱华金凤长生"
NOTES = ("腿脚不便，送到门口", "白天家中无人，晚上七点后", "耳背，请多敲几次门", "", "", "", "")


def _name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND) if rng.random() < 0.04 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _groups(rng: random.Random) -> str:
    found = []
    for word, share in (
        ("低保", 0.06),
        ("特困", 0.02),
        ("高龄", 0.12),
        ("残疾", 0.04),
        ("优抚", 0.02),
        ("独居老人", 0.05),
    ):
        if rng.random() < share:
            found.append(word)
    return "、".join(found)


def seed(session: Session, today: date) -> None:
    """Give 紫荆花社区 its roster, a card for households in need and two hand-out lists."""
    community = session.scalar(select(Community).where(Community.slug == "zijinghua"))
    staff = session.scalar(
        select(User).where(User.community_id == community.id, User.role == Role.STAFF)
    )
    rng = random.Random(2020_02_20)  # noqa: S311  # nosec B311 - demo data
    rows = []
    for building in range(1, 19):
        for unit in (1, 2, 3):
            for floor in range(1, 8):
                for door in (1, 2):
                    people = rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))
                    rows.append(
                        SheetRow(
                            len(rows) + 2,
                            {
                                "address": f"{building}栋{unit}单元{floor}0{door}",
                                "head_name": _name(rng),
                                "phone": f"13{rng.randrange(10**9):09d}"
                                if rng.random() < 0.7
                                else "",
                                "people": str(people),
                                "groups": _groups(rng),
                                "note": rng.choice(NOTES),
                            },
                        )
                    )
    roster.apply_import(session, staff, community.id, rows)
    rule = parse_rule("立减10元")
    campaign = Campaign(
        community_id=community.id,
        created_by_id=staff.id,
        name="困难家庭爱心消费卡",
        code="AX",
        kind=CampaignKind.CARD,
        status=CampaignStatus.ACTIVE,
        funding=Funding.COMMUNITY,
        valid_from=today - timedelta(days=7),
        valid_until=today + timedelta(days=90),
        uses_per_card=10,
        cards_per_household=1,
        default_rule=rule.to_dict(),
        default_rule_text=rule.render(),
        description="社区出资，发给低保、特困家庭和独居老人，上门发放、签字领取。",
    )
    session.add(campaign)
    session.flush()
    audit.record(session, staff, "campaign.create", campaign)
    shops = session.scalars(
        select(Merchant)
        .where(Merchant.community_id == community.id, Merchant.status == MerchantStatus.ACTIVE)
        .order_by(Merchant.id)
        .limit(8)
    ).all()
    campaigns.add_offers(session, staff, campaign, list(shops), "")
    roster.set_campaign_groups(
        session,
        staff,
        campaign,
        {
            HouseholdGroup.LOW_INCOME: 2,
            HouseholdGroup.EXTREME_POVERTY: 2,
            HouseholdGroup.LIVING_ALONE: None,
        },
    )
    waves.plan_waves(
        session,
        staff,
        campaign,
        waves.WavePlan(
            size=60, count=4, first_day=today - timedelta(days=7), every_days=7, valid_days=60
        ),
    )
    first = handout.make_list(session, staff, campaign, ["1", "2", "3"], today - timedelta(days=3))
    signed = [line.id for i, line in enumerate(first.lines) if i % 5 != 4]
    handout.record_received(session, staff, first, signed)
    handout.close_list(session, staff, first)
    handout.make_list(session, staff, campaign, ["4", "5", "6"], today, note="周六上午上门")
