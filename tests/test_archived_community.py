"""An archived community stops: its logins are refused at sign-in (and their sessions end), its
tills' keys stop working, and the district's and its street's figures leave it out, saying so.
Bringing it back undoes all of it."""

import csv
import io
import re

import pytest
from sqlalchemy import select

from app.models import Community, MerchantStatus, Role, User
from app.services import apikeys
from app.services.dashboard import Scope, overview

from . import factories
from .calls import run
from .conftest import login

ARCHIVED_SAYS = "该账号所在的社区已归档"


@pytest.fixture
def qilimiao(db, community):
    """七里庙社区 in 紫荆花's street, with a shop, two handed-out cards and a use of ¥77.00."""
    place = factories.community("七里庙社区", slug="qilimiao", street="琴断口街")
    shop = factories.merchant(place, "七里庙面馆")
    factories.merchant(place, "七里庙花店", status=MerchantStatus.PENDING)
    campaign = factories.campaign(place, name="七里庙消费卡", code="QLM")
    factories.offer(campaign, shop)
    cards = factories.cards(campaign, 2)
    factories.redemption(cards[0], shop, 7700, 1540)
    return place


@pytest.fixture
def running(db, community, shop):
    """紫荆花社区 with one handed-out card and a use of ¥100.00."""
    campaign = factories.campaign(community)
    factories.offer(campaign, shop)
    card = factories.cards(campaign, 1)[0]
    factories.redemption(card, shop, 10000, 2000)
    return community


def archive(district_admin, place):
    assert district_admin.post(f"/admin/communities/{place.id}/archive").status_code == 302


def restore(district_admin, place):
    assert district_admin.post(f"/admin/communities/{place.id}/restore").status_code == 302


def sign_in(client, login_name):
    return client.post("/login", data={"login": login_name, "password": factories.PASSWORD})


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "owner", "cashier", "resident"])
def test_an_archived_communitys_logins_are_refused_in_chinese_until_it_is_back(
    app, db, district_admin, community, shop, who
):
    made = {
        "staff": lambda: factories.user(Role.STAFF, community=community, username="zjh-staff"),
        "owner": lambda: factories.user(Role.MERCHANT_OWNER, merchant=shop, username="zjh01"),
        "cashier": lambda: factories.user(Role.CASHIER, merchant=shop, username="zjh01-c"),
        "resident": lambda: factories.resident(community, "13900000001"),
    }[who]()
    archive(district_admin, community)
    client = app.test_client()
    response = sign_in(client, made.login_name)
    assert response.status_code == 200
    assert ARCHIVED_SAYS in response.text
    assert client.get("/admin/").status_code in (302, 403)  # not signed in
    restore(district_admin, community)
    assert sign_in(client, made.login_name).status_code == 302


def test_a_wrong_password_for_an_archived_communitys_login_says_only_that_it_is_wrong(
    app, db, district_admin, community, staff_user
):
    archive(district_admin, community)
    response = app.test_client().post(
        "/login", data={"login": staff_user.username, "password": "not it"}
    )
    assert ARCHIVED_SAYS not in response.text


def test_archiving_ends_the_sessions_of_its_logins_and_no_others(
    app, db, district_admin, community, other_community, staff_user, other_staff_user
):
    staff = login(app, staff_user)
    other = login(app, other_staff_user)
    assert staff.get("/admin/").status_code == 200
    archive(district_admin, community)
    assert staff.get("/admin/").status_code == 302
    assert other.get("/admin/").status_code == 200
    assert district_admin.get("/admin/").status_code == 200


def test_a_till_key_of_an_archived_communitys_shop_stops_and_comes_back(
    db, client, district_admin, community, merchant_user
):
    _row, key = apikeys.create_key(db.session, merchant_user, "前台")
    db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/redemptions", headers=headers).status_code == 200
    archive(district_admin, community)
    assert client.get("/api/v1/redemptions", headers=headers).status_code == 401
    restore(district_admin, community)
    assert client.get("/api/v1/redemptions", headers=headers).status_code == 200


# --- the district's and the street's figures ------------------------------------------------


def figure(page: str, label: str) -> int:
    shown = rf'<span class="value">([\d,]+)</span><span class="label">{label}</span>'
    found = re.search(shown, page)
    assert found, label
    return int(found.group(1).replace(",", ""))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_district_figures_leave_out_an_archived_community_and_say_so(
    db, district_admin, running, qilimiao
):
    def totals():
        db.session.rollback()
        scope = Scope(None, None, factories.a_date(-29), factories.a_date())
        return run(db, overview, scope)

    before = totals()
    assert (before.totals.bills_fen, before.cards_issued) == (17700, 3)
    archive(district_admin, qilimiao)
    after = totals()
    assert (after.totals.bills_fen, after.totals.redemptions, after.cards_issued) == (10000, 1, 1)
    assert [name for _id, name, _f in after.by_community] == ["紫荆花社区"]
    page = district_admin.get("/admin/dashboard").text
    assert "此处不含已归档的社区：七里庙社区" in page
    assert "¥100.00" in page and "¥177.00" not in page
    # the archived community's own figures are still there when it is chosen
    chosen = run(db, overview, Scope(qilimiao.id, None, factories.a_date(-29), factories.a_date()))
    assert chosen.totals.bills_fen == 7700


def test_the_district_overview_leaves_out_an_archived_community_and_says_so(
    district_admin, running, qilimiao
):
    page = district_admin.get("/admin/").text
    assert (figure(page, "已发放卡券"), figure(page, "商户入驻申请")) == (3, 1)
    archive(district_admin, qilimiao)
    page = district_admin.get("/admin/").text
    assert (figure(page, "已发放卡券"), figure(page, "商户入驻申请")) == (1, 0)
    assert "此处不含已归档的社区：七里庙社区" in page
    restore(district_admin, qilimiao)
    page = district_admin.get("/admin/").text
    assert figure(page, "已发放卡券") == 3 and "此处不含" not in page


def test_the_streets_comparison_and_report_leave_out_an_archived_community(
    db, district_admin, street_staff, running, qilimiao
):
    archive(district_admin, qilimiao)
    today = factories.a_date().isoformat()
    rows = csv_rows(street_staff.get(f"/admin/compare?export=csv&from={today}&to={today}"))
    names = [row[0] for row in rows[1:]]
    assert "七里庙社区" not in names and "紫荆花社区" in names
    page = street_staff.get("/admin/compare").text
    assert "此处不含已归档的社区：七里庙社区" in page
    street_id = db.session.scalar(select(Community.street_id).where(Community.id == running.id))
    report = street_staff.get(f"/admin/streets/{street_id}/report").text
    assert "此处不含已归档的社区：七里庙社区" in report
    assert report.count("七里庙社区") == 1  # in the note only


def test_the_district_comparison_of_streets_counts_only_running_communities(
    district_admin, running, qilimiao
):
    def uses_of_the_street():
        today = factories.a_date().isoformat()
        rows = csv_rows(
            district_admin.get(f"/admin/compare/district?export=csv&from={today}&to={today}")
        )
        head = rows[0]
        street = next(row for row in rows[1:] if row[0] == "琴断口街")
        return int(street[head.index("核销次数")])

    assert uses_of_the_street() == 2
    archive(district_admin, qilimiao)
    assert uses_of_the_street() == 1
    assert "此处不含已归档的社区：七里庙社区" in district_admin.get("/admin/compare/district").text


def test_a_user_row_of_an_archived_community_is_kept(db, district_admin, community, staff_user):
    archive(district_admin, community)
    db.session.rollback()
    assert db.session.get(User, staff_user.id).active is True
