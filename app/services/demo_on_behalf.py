"""The demo's 代办: two residents of 紫荆花 without a phone, served by the office.

王素珍 (王奶奶, 4-1-201; her daughter 李红 is the one to call) asked by phone for medicine to be
fetched (open on the board), was taken to her check-up by 李建国 (the office said for her that it
was done, then confirmed it), and had her points exchanged for a card printed at the office.
刘德福 (8-2-101, a landline) asked for a bulb to be changed; 刘志强 took it on, and the office
waits for 刘德福 to say it was done. Everything goes through the services, so it is audited as
the office would have done it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import local_today, utcnow
from ..models import Campaign, Community, HelpPost, User
from . import helpboard, on_behalf, points
from .helpboard import PostDetails

GRANDMA = ("王素珍", "4-1-201", "李红（女儿）", "13800000091")
GRANDPA = ("刘德福", "8-2-101", "本人（座机）", "027-84650101")
MEDICINE = PostDetails(
    "request",
    "medicine",
    "帮王奶奶去药店取降压药",
    "社区卫生服务站开的药，取好送到4-1-201。老人腿脚不便，请先打电话给她女儿。",
    "明天上午",
    "4栋附近",
)
CHECKUP = PostDetails(
    "request", "escort", "陪王奶奶去医院复查", "汉阳医院心内科，挂了9点的号。", "周三上午", "4栋"
)
BULB = PostDetails(
    "request",
    "repair",
    "厨房灯泡坏了，帮忙换一个",
    "灯泡已经买好了，需要踩梯子。",
    "这两天都行",
    "8栋",
)


def _ago(post: HelpPost, hours: int) -> None:
    """Date a post's steps back, as if it had been posted `hours` ago."""
    created = utcnow() - timedelta(hours=hours)
    post.created_at = created
    if post.taken_at is not None:
        post.taken_at = created + timedelta(hours=1)
    if post.done_at is not None:
        post.done_at = created + timedelta(hours=5)
    if post.closed_at is not None:
        post.closed_at = created + timedelta(hours=6)


def seed(session: Session, today: date) -> None:
    """Add the residents without a phone and what the office did for them to 紫荆花社区."""
    community = session.scalar(select(Community).where(Community.slug == "zijinghua"))
    staff = session.scalar(select(User).where(User.username == "zijinghua"))
    grandma = on_behalf.add_resident(session, staff, *GRANDMA)
    grandpa = on_behalf.add_resident(session, staff, *GRANDPA)
    helper = session.scalar(select(User).where(User.phone == "13800000002"))  # 李建国
    neighbour = session.scalar(select(User).where(User.phone == "13800000004"))  # 刘志强

    checkup = on_behalf.post_for(session, staff, grandma, CHECKUP)
    helpboard.take(session, helper, checkup)
    on_behalf.done_for(session, staff, checkup)
    helpboard.confirm(session, staff, checkup, 150)
    _ago(checkup, 24 * 6)

    bulb = on_behalf.post_for(session, staff, grandpa, BULB)
    helpboard.take(session, neighbour, bulb)
    _ago(bulb, 26)

    _ago(on_behalf.post_for(session, staff, grandma, MEDICINE), 3)

    points.adjust(session, staff, grandma, 60, "重阳节为社区老人活动剪窗花")
    campaign = session.scalar(
        select(Campaign).where(Campaign.community_id == community.id, Campaign.code == "HZJF")
    )
    # the exchange checks the real day, whatever day the demo was made for
    if campaign is not None and campaign.valid_from <= local_today() <= campaign.valid_until:
        on_behalf.exchange_for(session, staff, grandma, campaign.id)
