"""月报: a community's month, sent up (已报送) with its figures frozen; later changes to the
month show as corrections in the next month; a street's month adds its communities up."""

import io
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from app.clock import LOCAL
from app.models import AuditLog, Card, Funding, MonthlyReport, Redemption, RedemptionStatus
from app.services import reports
from app.services.errors import DomainError
from app.services.redemptions import void_redemption

from . import factories
from .conftest import login

NOW = datetime.combine(date(2026, 11, 20), time(12, 0), tzinfo=LOCAL).astimezone(UTC)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def month(frozen, db, community, other_community, shop):
    """紫荆花 with October's uses (one will be voided later) and two of November; 七里庙."""
    community.households = 1000
    campaign = factories.campaign(community, funding=Funding.COMMUNITY, valid_from=date(2026, 9, 1))
    factories.offer(campaign, shop)
    cards = factories.cards(campaign, 3)
    uses = [
        factories.redemption(cards[0], shop, 10000, 2000, day=date(2026, 10, 3)),
        factories.redemption(cards[1], shop, 5000, 1000, day=date(2026, 10, 15)),
        factories.redemption(cards[2], shop, 8800, 800, day=date(2026, 10, 31), at_hour=20),
        factories.redemption(cards[0], shop, 3000, 600, day=date(2026, 11, 2)),
        factories.redemption(cards[1], shop, 4000, 800, day=date(2026, 11, 18)),
    ]
    for use in uses:  # the factory writes uses without counting them on the card
        use.card.uses_count += 1
        campaign.spent_fen += use.discount_fen
    qilimiao = factories.community("七里庙社区", slug="qilimiao", street="琴断口街")
    db.session.commit()
    return uses, qilimiao


def test_a_report_adds_up_the_month(db, month, community):
    found = reports.report(db.session, community, OCTOBER)
    assert found.sent is None
    assert found.measures["uses"] == 3
    assert found.measures["bills"] == 10000 + 5000 + 8800
    assert found.measures["community_discounts"] == 2000 + 1000 + 800
    assert found.figures["settlement"] == [["邻里互助消费卡", 3, 23800, 3800, 1]]
    assert found.figures["top_shops"] == [["张记热干面", 3, 23800, 3800]]
    november = reports.report(db.session, community, NOVEMBER)
    assert november.previous["uses"] == 3  # October, compared with
    assert november.measures["uses"] == 2


def test_a_sent_report_keeps_its_figures_and_the_next_month_shows_the_correction(
    db, month, community, staff_user
):
    uses, _qilimiao = month
    reports.send(db.session, staff_user, community, OCTOBER)
    db.session.commit()
    sent = db.session.scalar(select(MonthlyReport))
    assert (sent.month, sent.figures["measures"]["uses"]) == (OCTOBER, 3)
    assert sent.street_id == community.street_id and sent.sent_by_label == staff_user.name
    # a use of October is voided after sending (uses are only ever written on their own day)
    void_redemption(db.session, db.session.get(Redemption, uses[1].id), staff_user, "录错了")
    db.session.commit()
    assert db.session.get(Redemption, uses[1].id).status == RedemptionStatus.VOID
    october = reports.report(db.session, community, OCTOBER)
    assert october.sent is not None
    assert october.measures["uses"] == 3  # frozen: as sent
    assert october.measures["bills"] == 23800
    november = reports.report(db.session, community, NOVEMBER)
    assert november.corrected_month == OCTOBER
    assert november.corrections == {"uses": -1, "cards_used": -1, "bills": -5000,
                                    "community_discounts": -1000}  # fmt: skip
    (logged,) = db.session.scalars(select(AuditLog).where(AuditLog.action == "report.send"))
    assert logged.after == {"month": "2026-10", "street": "琴断口街"}


def test_a_month_not_over_or_sent_twice_is_refused(db, month, community, staff_user):
    with pytest.raises(DomainError) as refused:
        reports.send(db.session, staff_user, community, NOVEMBER)
    assert refused.value.code == "month_not_over"
    reports.send(db.session, staff_user, community, OCTOBER)
    with pytest.raises(DomainError) as refused:
        reports.send(db.session, staff_user, community, OCTOBER)
    assert refused.value.code == "already_sent"
    db.session.rollback()


def test_only_the_community_s_staff_send_its_report(
    db, month, community, other_staff_user, street_staff_user
):
    for actor in (other_staff_user, street_staff_user):
        with pytest.raises(DomainError) as refused:
            reports.send(db.session, actor, community, OCTOBER)
        assert refused.value.code == "not_own_community"


def test_staff_send_the_report_from_its_page(frozen, app, db, month, community, staff_user):
    staff = login(app, staff_user)
    page = staff.get("/admin/report?month=2026-10")
    assert "未报送" in page.text and "标记为已报送" in page.text
    response = staff.post(f"/admin/report/{community.id}/2026-10/send")
    assert response.status_code == 302
    page = staff.get("/admin/report?month=2026-10")
    assert "已报送" in page.text and "标记为已报送" not in page.text
    assert db.session.scalar(select(MonthlyReport.month)) == OCTOBER


def test_the_street_sees_who_sent_and_the_sums(frozen, app, db, month, community, staff_user):
    _uses, qilimiao = month
    reports.send(db.session, staff_user, community, OCTOBER)
    db.session.commit()
    street = reports.street_month(db.session, community.street, OCTOBER)
    assert [r.community.name for r in street.reports] == ["七里庙社区", "紫荆花社区"]
    assert street.sent_count == 1 and street.measures["uses"] == 3
    client = login(app, factories.street_staff(community.street, "qinduankou"))
    page = client.get(f"/admin/streets/{community.street_id}/report?month=2026-10")
    assert page.status_code == 200
    assert "2 个社区中已有 1 个报送月报" in page.text
    sheet = client.get(f"/admin/streets/{community.street_id}/report?month=2026-10&export=xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "社区" and {r[0] for r in rows[1:]} >= {"紫荆花社区", "七里庙社区"}
    # a community's report by id from another street is not found
    other = login(app, factories.street_staff(factories.street("江堤街"), "jiangdi"))
    assert other.get(f"/admin/report?community={community.id}").status_code == 404
    assert other.get(f"/admin/streets/{community.street_id}/report").status_code == 404
    assert client.get(f"/admin/report?community={qilimiao.id}&month=2026-10").status_code == 200


def test_each_wave_shows_in_the_month_s_report_and_the_street_s_and_stays_as_sent(
    app, db, month, community, shop, staff_user
):
    """分批发放 in 月报: each wave met by the month, with the cards handed out that month and in
    all, and the month's uses; frozen once sent."""
    from app.services import issuing, waves

    campaign = factories.campaign(
        community, name="爱心卡", code="AX", valid_from=date(2026, 10, 1),
        valid_until=date(2026, 12, 31),
    )  # fmt: skip
    factories.offer(campaign, shop)
    plan = waves.WavePlan(3, 3, date(2026, 10, 5), 28, 50)  # waves open Oct 5, Nov 2, Nov 30
    first, second, third = waves.plan_waves(db.session, staff_user, campaign, plan)
    db.session.commit()
    cards = {b.wave: db.session.scalars(select(Card).where(Card.batch_id == b.id)).all()
             for b in (first, second)}  # fmt: skip
    with time_machine.travel(datetime(2026, 10, 10, 2, 0, tzinfo=UTC), tick=False):
        issuing.issue_card(db.session, staff_user, cards[1][0].serial, "3-2-501")
        db.session.commit()
    issuing.issue_card(db.session, staff_user, cards[1][1].serial, "3-2-502")  # on Nov 20
    issuing.issue_card(db.session, staff_user, cards[2][0].serial, "3-2-503")
    db.session.commit()
    factories.redemption(cards[1][0], shop, 6000, 1200, day=date(2026, 10, 12))
    factories.redemption(cards[1][0], shop, 2000, 400, day=date(2026, 11, 3))
    factories.redemption(cards[2][0], shop, 5000, 1000, day=date(2026, 11, 20))
    db.session.commit()

    october = reports.report(db.session, community, OCTOBER)
    # campaign, wave, valid, cards, handed out in the month, in all, uses, discount
    assert october.figures["waves"] == [["爱心卡", 1, "2026-10-05", "2026-11-23", 3, 1, 1, 1, 1200]]
    november = reports.report(db.session, community, NOVEMBER)
    assert november.figures["waves"] == [
        ["爱心卡", 1, "2026-10-05", "2026-11-23", 3, 1, 2, 1, 400],
        ["爱心卡", 2, "2026-11-02", "2026-12-21", 3, 1, 1, 1, 1000],
        ["爱心卡", 3, "2026-11-30", "2026-12-31", 3, 0, 0, 0, 0],
    ]
    reports.send(db.session, staff_user, community, OCTOBER)
    db.session.commit()
    factories.redemption(cards[1][0], shop, 1000, 200, day=date(2026, 10, 20))  # written late
    db.session.commit()
    assert reports.report(db.session, community, OCTOBER).figures["waves"][0][7:] == [1, 1200]
    street = reports.street_month(db.session, community.street, NOVEMBER)
    assert [row[:3] for row in street.waves] == [["紫荆花社区", "爱心卡", w] for w in (1, 2, 3)]

    staff = login(app, staff_user)
    page = staff.get("/admin/report?month=2026-11")
    assert "分批发放" in page.text and "第 2 批" in page.text and "¥10.00" in page.text
    client = login(app, factories.street_staff(community.street, "qinduankou"))
    page = client.get(f"/admin/streets/{community.street_id}/report?month=2026-11")
    assert "第 3 批" in page.text and "2026-11-30" in page.text
    sheet = client.get(
        f"/admin/streets/{community.street_id}/report?month=2026-11&export=xlsx&table=waves"
    )
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("社区", "活动", "批次")
    assert rows[2][:3] == ("紫荆花社区", "爱心卡", 2) and rows[2][6:] == (1, 1, 1, 10)
    board = staff.get(f"/admin/dashboard?campaign={campaign.id}&from=2026-11-01&to=2026-11-20")
    assert "分批发放" in board.text and "本期发出" in board.text and "第 2 批" in board.text
