"""Every refusal of the office has a Chinese message, and each is given where it should be."""

import re

import pytest
from flask_babel import force_locale, gettext

from app.models import CampaignStatus, CardStatus, MerchantStatus, OfferStatus
from app.services import campaigns, communities, issuing, logins, merchants
from app.services.campaigns import CampaignError
from app.services.communities import CommunityError
from app.services.dashboard import DashboardError, Scope
from app.services.households import HouseholdError
from app.services.issuing import IssueError
from app.services.logins import LoginError
from app.services.merchants import MerchantError
from app.services.sheets import SheetError

from . import factories

HAN = re.compile(r"[\u4e00-\u9fff]")
ERRORS = [
    MerchantError,
    CampaignError,
    IssueError,
    CommunityError,
    SheetError,
    DashboardError,
    LoginError,
    HouseholdError,
]


@pytest.mark.parametrize(
    ("error_class", "code"),
    [(cls, code) for cls in ERRORS for code in cls.messages],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_every_refusal_reads_in_chinese(app, error_class, code):
    details = {
        "name": "张记热干面",
        "spent": "1.00",
        "used": 2,
        "issued": 2,
        "first": "2026-05-12",
        "last": "2026-05-13",
        "household": "3栋2单元501室",
        "until": "2026-12-31",
        "count": 2,
        "serial": "ZJH-7K3M-Q9",
        "columns": "名称",
        "most": 1000,
        "years": 3,
        "list": 3,
        "wave": 2,
        "day": "2026-05-19",
        "line": 2,
    }
    error = error_class(code)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        text = gettext(error.message, **details)
    assert HAN.search(text), text
    assert text != error.message


def refused(code, call, *args, **kwargs):
    with pytest.raises((MerchantError, CampaignError, IssueError, CommunityError, LoginError)) as e:
        call(*args, **kwargs)
    assert e.value.code == code


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "店" * 81, "name_too_long"),
        ("category", "类" * 21, "category_too_long"),
        ("address", "路" * 201, "address_too_long"),
        ("hours", "时" * 81, "hours_too_long"),
    ],
)
def test_shop_details_longer_than_their_columns_are_refused(
    db, community, staff_user, field, value, code
):
    details = merchants.MerchantDetails(name="鲜果园", category="水果生鲜")
    setattr(details, field, value)
    refused(code, merchants.register, db.session, staff_user, community.id, details)


def test_status_changes_that_do_not_fit_are_refused(db, shop, staff_user, community, cashier_user):
    refused("not_suspended", merchants.reactivate, db.session, staff_user, shop, "再开")
    other = factories.merchant(community, "丝艺美发", category="美发")
    refused(
        "not_merchant_login",
        merchants.set_login_active,
        db.session,
        staff_user,
        other,
        cashier_user,
        False,
    )


def test_a_login_needs_the_persons_name():
    with pytest.raises(LoginError) as e:
        logins.Login("", "13912345678", "long-enough").fields()
    assert e.value.code == "owner_name_required"


def test_offer_refusals(db, community, shop, staff_user):
    campaign = factories.campaign(community)
    suspended = factories.merchant(community, "小陈修鞋", status=MerchantStatus.SUSPENDED)
    refused(
        "merchant_not_active",
        campaigns.add_offers,
        db.session,
        staff_user,
        campaign,
        [suspended],
        "",
    )
    offer = factories.offer(campaign, shop)
    refused("offer_exists", campaigns.add_offers, db.session, staff_user, campaign, [shop], "")
    refused(
        "offer_not_withdrawn", campaigns.set_offer_status, db.session, staff_user, offer, "rejoin"
    )
    offer.status = OfferStatus.WITHDRAWN
    db.session.commit()
    refused(
        "offer_not_active", campaigns.set_offer_status, db.session, staff_user, offer, "withdraw"
    )
    details = campaigns.CampaignDetails(
        name="x", code="ZJH", kind="card", funding="nobody", valid_from=factories.a_date(),
        valid_until=factories.a_date(9), rule_text="8折",
    )  # fmt: skip
    refused("funding_invalid", campaigns.create, db.session, staff_user, community.id, details)
    refused("community_required", campaigns.create, db.session, staff_user, None, details)


def test_hand_out_refusals(db, community, staff_user):
    over = factories.campaign(
        community, valid_from=factories.a_date(-30), valid_until=factories.a_date(-1)
    )
    (card,) = factories.cards(over, 1, issued=False)
    refused("campaign_over", issuing.issue_card, db.session, staff_user, card.serial, "3-2-501")
    db.session.rollback()
    running = factories.campaign(community, name="另一个", code="LL", status=CampaignStatus.ACTIVE)
    (void,) = factories.cards(running, 1, issued=False)
    void.status = CardStatus.VOID
    db.session.commit()
    refused("card_void", issuing.issue_card, db.session, staff_user, void.serial, "3-2-501")


def test_a_community_needs_its_district(db, district_admin_user):
    details = communities.CommunityDetails(
        name="七里庙社区", slug="qilimiao", street_id=factories.street().id, district=""
    )
    refused("district_required", communities.create, db.session, district_admin_user, details)


def test_a_period_longer_than_three_years_is_refused():
    with pytest.raises(DashboardError) as e:
        Scope(1, None, factories.a_date(-3 * 366 - 1), factories.a_date())
    assert e.value.code == "period_too_long"
    assert (
        Scope(1, None, factories.a_date(-3 * 366), factories.a_date()).days[-1]
        == factories.a_date()
    )
